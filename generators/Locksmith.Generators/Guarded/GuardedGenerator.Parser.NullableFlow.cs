using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using Locksmith.Generators.Helpers;
using Locksmith.Generators.Symbols;
using Microsoft.CodeAnalysis;

namespace Locksmith.Generators.Guarded;

public sealed partial class GuardedGenerator
{
    // The nullable-flow attributes of the timed form. Its 'bool' means "the lock was taken", not the body's own
    // answer, and when it is false the body did not run (its 'out' parameters and the result
    // are default, its 'ref' parameters untouched). So each attribute is rewritten for what
    // holds on each path: '[NotNull]' becomes '[NotNullWhen(true)]', '[MemberNotNull]' becomes
    // '[MemberNotNullWhen(true, …)]'; attributes tied to the body's own 'bool' ('NotNullWhen',
    // 'MaybeNullWhen', 'MemberNotNullWhen', 'DoesNotReturnIf') or to an argument
    // ('NotNullIfNotNull') and '[DoesNotReturn]' are dropped or weakened; value types get none.
    internal static partial class Parser
    {
        private const string CodeAnalysisNamespace = "global::System.Diagnostics.CodeAnalysis.";

        private enum NullState
        {
            NotNull,
            MaybeNull,
        }

        /// <summary>The method attributes of the timed form.</summary>
        private static IEnumerable<string> TimedMethodAttributes(IEnumerable<AttributeData> carried)
        {
            foreach (var attribute in carried)
            {
                switch (FlowName(attribute))
                {
                    case "MemberNotNullAttribute":
                        var members = attribute.ConstructorArguments.SelectMany(AttributeArguments.Items)
                            .Select(static a => a.Value as string)
                            .Where(static m => m is not null)
                            .Select(static m => Microsoft.CodeAnalysis.CSharp.SymbolDisplay.FormatLiteral(m!, quote: true))
                            .ToList();
                        if (members.Count > 0)
                        {
                            yield return "[" + CodeAnalysisNamespace + "MemberNotNullWhen(true, " + string.Join(", ", members) + ")]";
                        }

                        break;
                    case "MemberNotNullWhenAttribute" or "DoesNotReturnAttribute":
                        break;
                    default:
                        yield return Render(attribute);
                        break;
                }
            }
        }

        /// <summary>The attributes of one parameter in the timed form, as C# text with a trailing space each.</summary>
        private static string TimedParameterAttributes(IParameterSymbol parameter, List<AttributeData> carried)
        {
            var kept = new List<string>();
            bool notNull = false, maybeNull = false, conditional = false, allowNull = false;
            foreach (var attribute in carried)
            {
                string? name = FlowName(attribute);
                switch (name)
                {
                    case "NotNullAttribute":
                        notNull = true;
                        break;
                    case "MaybeNullAttribute":
                        maybeNull = true;
                        break;
                    case "NotNullWhenAttribute" or "MaybeNullWhenAttribute":
                        conditional = true;
                        break;
                    case "NotNullIfNotNullAttribute" or "DoesNotReturnIfAttribute":
                        break;
                    case "AllowNullAttribute":
                        allowNull = true;
                        kept.Add(Render(attribute));
                        break;
                    default:
                        if (attribute.AttributeClass?.Name.StartsWith("Caller", StringComparison.Ordinal) != true)
                        {
                            kept.Add(Render(attribute));
                        }

                        break;
                }
            }

            string? flow = null;
            var type = parameter.Type;
            if (CanBeNull(type))
            {
                // What holds when the lock was taken (the body ran), and when it was not.
                var whenTaken = notNull ? NullState.NotNull : maybeNull || conditional ? NullState.MaybeNull : Declared(type);
                var whenNotTaken = parameter.RefKind switch
                {
                    RefKind.Out => NullState.MaybeNull,
                    RefKind.Ref => allowNull ? NullState.MaybeNull : Declared(type),
                    _ => (NullState?)null,
                };
                flow = whenNotTaken is { } notTaken
                    ? FlowAttribute(Declared(type), whenTaken, notTaken)
                    : notNull ? "NotNullWhen(true)" : null;
            }

            if (flow is not null)
            {
                kept.Insert(0, "[" + CodeAnalysisNamespace + flow + "]");
            }

            return string.Concat(kept.Select(static a => a + " "));
        }

        /// <summary>The attributes of the timed form's <c>out</c> result, as C# text with a trailing space, or empty.</summary>
        private static string ResultAttributes(IMethodSymbol method)
        {
            if (method.ReturnsVoid || !CanBeNull(method.ReturnType))
            {
                return string.Empty;
            }

            var names = method.GetReturnTypeAttributes().Select(FlowName).ToList();
            var whenTaken = names.Contains("NotNullAttribute") ? NullState.NotNull
                : names.Contains("MaybeNullAttribute") ? NullState.MaybeNull
                : Declared(method.ReturnType);
            string? flow = FlowAttribute(Declared(method.ReturnType), whenTaken, NullState.MaybeNull);
            return flow is null ? string.Empty : "[" + CodeAnalysisNamespace + flow + "] ";
        }

        /// <summary>The one attribute that says what holds on each path, given what the declared type says; null when the type says it.</summary>
        private static string? FlowAttribute(NullState declared, NullState whenTaken, NullState whenNotTaken) => (declared, whenTaken, whenNotTaken) switch
        {
            (NullState.MaybeNull, NullState.NotNull, NullState.NotNull) => "NotNull",
            (NullState.MaybeNull, NullState.NotNull, NullState.MaybeNull) => "NotNullWhen(true)",
            (NullState.MaybeNull, NullState.MaybeNull, NullState.NotNull) => "NotNullWhen(false)",
            (NullState.NotNull, NullState.NotNull, NullState.MaybeNull) => "MaybeNullWhen(false)",
            (NullState.NotNull, NullState.MaybeNull, NullState.NotNull) => "MaybeNullWhen(true)",
            (NullState.NotNull, NullState.MaybeNull, NullState.MaybeNull) => "MaybeNull",
            _ => null,
        };

        /// <summary>Whether a value of the type can be null: not for a non-nullable value type (nor a type parameter constrained to one).</summary>
        private static bool CanBeNull(ITypeSymbol type) =>
            !type.IsValueType || type is INamedTypeSymbol { OriginalDefinition.SpecialType: SpecialType.System_Nullable_T };

        /// <summary>What the declared type says: annotated (<c>string?</c>, <c>T?</c>, <c>int?</c>) is maybe-null.</summary>
        private static NullState Declared(ITypeSymbol type) =>
            type.NullableAnnotation == NullableAnnotation.Annotated ||
            type is INamedTypeSymbol { OriginalDefinition.SpecialType: SpecialType.System_Nullable_T }
                ? NullState.MaybeNull
                : NullState.NotNull;

        /// <summary>
        /// Warnings the body's own declaration already carries and one wrapper would repeat, which the emitter
        /// suppresses around that wrapper: a method type parameter named like one of a containing type (CS0693) or in lower-case
        /// ASCII letters only (CS8981), and obsolete or experimental types in the signature and, when the wrapper copies
        /// the defaults (<paramref name="withDefaults"/>), enum members its defaults name (CS0612, CS0618 or the attribute's
        /// diagnostic id). The user sees each on the body, where it can be fixed; repeated in generated code it could not
        /// be. So are those of what the wrapper names to take the lock (<paramref name="lockSymbols"/>: an obsolete or
        /// experimental lock member or getter, a static lock's obsolete declaring type, the obsolete <c>Acquire</c> of a
        /// lock type of the user's that it calls), which the user declared or silenced where they wrote it. Nothing else:
        /// an obsolete overload the wrapper does not call, or a form of the pair that names no obsolete symbol, is not
        /// wrapped in a suppression, so it hides no warning of its own.
        /// </summary>
        private static EquatableArray<string> EchoedWarnings(IMethodSymbol method, IEnumerable<ISymbol> lockSymbols, bool withDefaults, bool oblivious)
        {
            var ids = new SortedSet<string>(StringComparer.Ordinal);
            var outer = new HashSet<string>();
            for (var type = method.ContainingType; type is not null; type = type.ContainingType)
            {
                outer.UnionWith(type.TypeParameters.Select(static p => p.Name));
            }

            if (method.TypeParameters.Any(p => outer.Contains(p.Name)))
            {
                ids.Add("CS0693");
            }

            if (method.TypeParameters.Any(static p => WrapperNaming.IsLowerCaseName(p.Name)))
            {
                ids.Add("CS8981");
            }

            // A '?' on a reference type where annotations are disabled (CS8632 on the body, which the user may silence): the
            // wrapper, written under '#nullable disable' too, keeps it so that its signature stays the body's, and repeats it as CS8669.
            if (oblivious && SignatureHasObliviousAnnotation(method))
            {
                ids.Add("CS8669");
            }

            // A 'ref readonly' parameter with a default (CS9200 on the body): a wrapper that repeats the default repeats it.
            if (withDefaults && method.Parameters.Select(AsDeclared).Any(static p => p.RefKind == RefKind.RefReadOnlyParameter && p.HasExplicitDefaultValue))
            {
                ids.Add("CS9200");
            }

            var symbols = new List<ISymbol>(WrapperAccessibility.NamedTypes(WrapperAccessibility.SignatureTypes(method)));
            foreach (var parameter in (withDefaults ? method.Parameters : []).Select(AsDeclared))
            {
                var type = parameter.Type is INamedTypeSymbol { OriginalDefinition.SpecialType: SpecialType.System_Nullable_T } nullable
                    ? nullable.TypeArguments[0]
                    : parameter.Type;
                if (parameter.HasExplicitDefaultValue && type is { TypeKind: TypeKind.Enum } enumType)
                {
                    symbols.AddRange(enumType.GetMembers().OfType<IFieldSymbol>().Where(f => f.HasConstantValue && Equals(f.ConstantValue, parameter.ExplicitDefaultValue)));
                }
            }

            symbols.AddRange(lockSymbols);
            foreach (var symbol in symbols)
            {
                foreach (var attribute in symbol.GetAttributes())
                {
                    string? id = attribute.AttributeClass switch
                    {
                        { Name: "ObsoleteAttribute" } when IsInNamespace(attribute, "System") => ObsoleteId(attribute),
                        { Name: "ExperimentalAttribute" } when IsInNamespace(attribute, "System.Diagnostics.CodeAnalysis") =>
                            attribute.ConstructorArguments.FirstOrDefault().Value as string,
                        _ => null,
                    };
                    if (id is { Length: > 0 } && Microsoft.CodeAnalysis.CSharp.SyntaxFacts.IsValidIdentifier(id))
                    {
                        ids.Add(id);
                    }
                }
            }

            return ids.ToEquatableArray();
        }

        /// <summary>Whether the signature writes <c>?</c> on a reference type or type parameter, its constraints included.</summary>
        private static bool SignatureHasObliviousAnnotation(IMethodSymbol method) =>
            HasReferenceAnnotation(method.ReturnType) ||
            method.Parameters.Any(static p => HasReferenceAnnotation(p.Type)) ||
            method.TypeParameters.Any(static t =>
                t.ReferenceTypeConstraintNullableAnnotation == NullableAnnotation.Annotated || t.ConstraintTypes.Any(HasReferenceAnnotation));

        private static bool HasReferenceAnnotation(ITypeSymbol type) => type switch
        {
            { NullableAnnotation: NullableAnnotation.Annotated, IsValueType: false } => true,
            IArrayTypeSymbol array => HasReferenceAnnotation(array.ElementType),
            INamedTypeSymbol named => named.TypeArguments.Any(HasReferenceAnnotation),
            _ => false,
        };

        /// <summary>
        /// What one wrapper names to take a lock: the member, its getter, the types that qualify a static member, the lock
        /// type's <c>EnsureDeclared</c>, the <paramref name="acquisitions"/> its call may bind to (see
        /// <see cref="LockContract.Calls"/>; none for a lock set, whose wrappers call <c>LockSet</c>) and their scopes'
        /// <c>Dispose</c>, <c>DisposeAsync</c> and <c>IsAcquired</c>.
        /// </summary>
        private static IEnumerable<ISymbol> LockSymbols(ISymbol member, ITypeSymbol lockType, IEnumerable<IMethodSymbol> acquisitions)
        {
            foreach (var symbol in MemberPath(member))
            {
                yield return symbol;
            }

            for (var type = lockType; type is not null && type.SpecialType != SpecialType.System_Object; type = type.BaseType)
            {
                foreach (var ensure in type.GetMembers(KnownNames.EnsureDeclared))
                {
                    yield return ensure;
                }
            }

            foreach (var acquisition in acquisitions)
            {
                yield return acquisition;
                var scopes = acquisition.Parameters.Where(static p => p.RefKind == RefKind.Out).Select(static p => (ITypeSymbol?)p.Type).ToList();
                scopes.Add(AsyncWrappers.IsTaskType(acquisition.ReturnType, out var result) ? result : acquisition.ReturnType);
                foreach (var scope in scopes)
                {
                    foreach (var scopeMember in scope?.GetMembers() ?? ImmutableArray<ISymbol>.Empty)
                    {
                        if (scopeMember.Name is "Dispose" or "DisposeAsync" or "IsAcquired")
                        {
                            yield return scopeMember;
                        }
                    }
                }
            }
        }

        /// <summary>
        /// The first symbol the wrappers name to reach a lock (the member, its getter, the types that qualify a static one)
        /// that is <c>[Obsolete]</c> as an error, with the attribute's message; null if none. The lock type's acquisitions
        /// are not among them: <see cref="LockContract"/> does not count an obsolete-as-error one as callable (LSM0044).
        /// </summary>
        private static (ISymbol Symbol, string Message)? ObsoleteAsError(ISymbol member)
        {
            foreach (var symbol in MemberPath(member))
            {
                if (LockContract.ObsoleteAsError(symbol) is { } message)
                {
                    return (symbol, message);
                }
            }

            return null;
        }

        /// <summary>What the wrappers name to reach a lock member: the member, its getter, the types that qualify a static one.</summary>
        private static IEnumerable<ISymbol> MemberPath(ISymbol member)
        {
            yield return member;
            if (member is IPropertySymbol { GetMethod: { } getter })
            {
                yield return getter;
            }

            for (var type = member.IsStatic ? member.ContainingType : null; type is not null; type = type.ContainingType)
            {
                yield return type;
            }
        }

        private static string ObsoleteId(AttributeData attribute)
        {
            foreach (var argument in attribute.NamedArguments)
            {
                if (argument.Key == "DiagnosticId" && argument.Value.Value is string id)
                {
                    return id;
                }
            }

            return attribute.ConstructorArguments.Length > 0 ? "CS0618" : "CS0612";
        }

        /// <summary>The name of a nullable-analysis attribute of System.Diagnostics.CodeAnalysis, else null.</summary>
        private static string? FlowName(AttributeData attribute) =>
            IsInNamespace(attribute, "System.Diagnostics.CodeAnalysis") ? attribute.AttributeClass!.Name : null;
    }
}
