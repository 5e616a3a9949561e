using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Threading;
using System.Xml;
using System.Xml.Linq;
using Locksmith.Generators.Guarded.Models;
using Locksmith.Generators.Helpers;
using Locksmith.Generators.Symbols;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Locksmith.Generators.Guarded;

public sealed partial class GuardedGenerator
{
    internal static partial class Parser
    {
        private static readonly SymbolDisplayFormat s_typeFormat = SymbolDisplayFormat.FullyQualifiedFormat
            .AddMiscellaneousOptions(SymbolDisplayMiscellaneousOptions.IncludeNullableReferenceTypeModifier);

        private static readonly SymbolDisplayFormat s_namespaceFormat = SymbolDisplayFormat.FullyQualifiedFormat
            .WithGlobalNamespaceStyle(SymbolDisplayGlobalNamespaceStyle.Omitted);

        /// <summary>Builds the wrapper model: the method's signature and docs as text.</summary>
        /// <param name="lockSymbols">What the throwing (or async) wrapper names to take the lock(s) (see <see cref="LockSymbols"/>), for <see cref="EchoedWarnings"/>.</param>
        /// <param name="timedLockSymbols">What the timed wrapper names to take them.</param>
        private static WrapperModel BuildWrapper(
            GeneratorAttributeSyntaxContext context,
            IMethodSymbol method,
            MethodFacts facts,
            AcquisitionModel acquisition,
            IEnumerable<ISymbol> lockSymbols,
            IEnumerable<ISymbol> timedLockSymbols,
            CancellationToken token)
        {
            bool oblivious = NullableAnnotationsDisabled(context, method, token);
            AsyncModel? asyncModel = null;
            if (facts.IsAsync && AsyncWrappers.IsTaskType(method.ReturnType, out var result))
            {
                bool addsToken = AsyncWrappers.AddsToken(method);
                string? tokenName = AsyncWrappers.TokenParameter(method) is { } own ? Escape(own.Name)
                    : addsToken ? UniqueName("cancellationToken", method)
                    : null;
                bool taskMayBeNull = method.ReturnType.NullableAnnotation == NullableAnnotation.Annotated ||
                    method.GetReturnTypeAttributes().Any(static a => FlowName(a) == "MaybeNullAttribute");
                var (timedResult, suppressed) = result is null ? (null, false) : TimedResultType(result, oblivious, context.SemanticModel.Compilation);
                asyncModel = new AsyncModel(result?.ToDisplayString(s_typeFormat), timedResult, suppressed, tokenName, addsToken, taskMayBeNull);
            }

            bool isAsync = asyncModel is not null;
            var parameters = method.Parameters.Select(p => ParameterOf(method, p, isAsync, token)).ToEquatableArray();
            var typeParameters = method.TypeParameters.Select(static p => Escape(p.Name)).ToEquatableArray();

            // The trim analyzer checks a type parameter's [DynamicallyAccessedMembers] on every call that passes it on
            // (IL2091): the wrappers' own type parameters, which they pass to the body, need the body's.
            var typeParameterAttributes = method.TypeParameters
                .Select(static p => string.Concat(p.GetAttributes().Where(IsCarriedTypeParameterAttribute).Select(a => Render(a) + " ")))
                .ToEquatableArray();
            var constraints = method.TypeParameters.Select(ConstraintClause).Where(static c => c is not null).Select(static c => c!).ToEquatableArray();
            string modifiers = (method.IsStatic ? "static " : string.Empty) + (UsesPointers(method) ? "unsafe " : string.Empty);
            // An async wrapper's task is never null, whatever the body's says: a 'Task<T>?' there would make every
            // caller's await a CS8602.
            string returnType = method.ReturnsVoid ? "void"
                : isAsync ? method.ReturnType.WithNullableAnnotation(NullableAnnotation.NotAnnotated).ToDisplayString(s_typeFormat)
                : method.ReturnType.ToDisplayString(s_typeFormat);
            var carried = method.GetAttributes().Where(a => IsCarriedMethodAttribute(a) && NamesExist(a, method)).ToList();
            if (isAsync)
            {
                // An async wrapper returns its task at its first await: what the body promises about members or about
                // not returning holds for the body's completion, not for the wrapper's return (CS8774, CS8763).
                carried.RemoveAll(static a => FlowName(a) is "MemberNotNullAttribute" or "MemberNotNullWhenAttribute" or "DoesNotReturnAttribute" or "DoesNotReturnIfAttribute");
            }

            var methodAttributes = carried.Select(Render).ToEquatableArray();
            var timedMethodAttributes = isAsync ? methodAttributes : TimedMethodAttributes(carried).ToEquatableArray();

            // An async wrapper's task is never null, whatever the body's says.
            var returnAttributes = isAsync ? EquatableArray<string>.Empty : method.GetReturnTypeAttributes()
                .Where(a => IsWellFormed(a) && IsInNamespace(a, "System.Diagnostics.CodeAnalysis") && NamesExist(a, method))
                .Select(Render)
                .ToEquatableArray();
            token.ThrowIfCancellationRequested();
            return new WrapperModel(
                facts.Type,
                Escape(method.Name),
                facts.WrapperName,
                facts.TryName,
                facts.Accessibility,
                modifiers,
                returnType,
                typeParameters,
                typeParameterAttributes,
                constraints,
                parameters,
                methodAttributes,
                timedMethodAttributes,
                returnAttributes,
                ResultAttributes(method),
                DocLines(DocumentedDeclaration(context.TargetNode, method, token), method, context.SemanticModel, token),
                acquisition,
                EchoedWarnings(method, lockSymbols, withDefaults: true, oblivious),
                // The timed synchronous form copies no defaults; the timed async form does.
                EchoedWarnings(method, timedLockSymbols, withDefaults: isAsync, oblivious),
                asyncModel,
                oblivious,
                carried.Any(static a => FlowName(a) == "DoesNotReturnAttribute"));
        }

        /// <summary>
        /// The <c>Result</c> element of the timed async form's <c>(bool Acquired, T Result)</c>, which is <c>default</c>
        /// when the lock was not acquired. A tuple element cannot be <c>[MaybeNullWhen(false)]</c> as the synchronous
        /// form's <c>out</c> result is, so a type whose default is null says so itself: <c>string?</c>, <c>T?</c>. Value
        /// types (their default is a real value), types already annotated, oblivious ones (where <c>?</c> is CS8632) and
        /// error types keep theirs. C# 8 has no <c>T?</c> for a type parameter not known to be a non-nullable reference
        /// type (CS8627): that one keeps <c>T</c> with <c>default!</c>, as before.
        /// </summary>
        private static (string Type, bool DefaultSuppressed) TimedResultType(ITypeSymbol result, bool oblivious, Compilation compilation)
        {
            string type = result.ToDisplayString(s_typeFormat);
            if (oblivious || result.IsValueType || result.TypeKind == TypeKind.Error || result.NullableAnnotation != NullableAnnotation.NotAnnotated)
            {
                return (type, false);
            }

            if (result is ITypeParameterSymbol parameter &&
                compilation is CSharpCompilation { LanguageVersion: < LanguageVersion.CSharp9 } &&
                !(parameter.HasReferenceTypeConstraint && parameter.ReferenceTypeConstraintNullableAnnotation == NullableAnnotation.NotAnnotated))
            {
                return (type, true);
            }

            return (result.WithNullableAnnotation(NullableAnnotation.Annotated).ToDisplayString(s_typeFormat), false);
        }

        /// <summary>
        /// The declaration whose doc comment the wrappers carry: the attributed one when it has a comment; else, for a
        /// partial method, the other declaration's (the defining one's names are the wrappers', and a comment naming
        /// other parameters is not carried, see <see cref="DocLines"/>).
        /// </summary>
        private static SyntaxNode DocumentedDeclaration(SyntaxNode node, IMethodSymbol method, CancellationToken token)
        {
            if (HasDocComment(node) || (method.PartialImplementationPart ?? method.PartialDefinitionPart) is not { } other)
            {
                return node;
            }

            foreach (var reference in method.DeclaringSyntaxReferences.Concat(other.DeclaringSyntaxReferences))
            {
                if (reference.GetSyntax(token) is BaseMethodDeclarationSyntax declaration && declaration != node &&
                    declaration.SyntaxTree == node.SyntaxTree && HasDocComment(declaration))
                {
                    return declaration;
                }
            }

            return node;
        }

        private static bool HasDocComment(SyntaxNode node) =>
            node.GetLeadingTrivia().Any(static t => t.IsKind(SyntaxKind.SingleLineDocumentationCommentTrivia) || t.IsKind(SyntaxKind.MultiLineDocumentationCommentTrivia));

        /// <summary>
        /// Whether the signature's types are oblivious: nullable annotations are disabled where the method is declared
        /// (for a partial method, at its defining declaration, whose types the wrappers take).
        /// </summary>
        private static bool NullableAnnotationsDisabled(GeneratorAttributeSyntaxContext context, IMethodSymbol method, CancellationToken token)
        {
            var model = context.SemanticModel;
            int position = NameLocation(context.TargetNode, method).SourceSpan.Start;
            if (method.PartialImplementationPart is not null &&
                method.DeclaringSyntaxReferences.FirstOrDefault()?.GetSyntax(token) is MethodDeclarationSyntax definition && definition != context.TargetNode)
            {
                model = definition.SyntaxTree == context.TargetNode.SyntaxTree ? model : model.Compilation.GetSemanticModel(definition.SyntaxTree);
                position = definition.Identifier.SpanStart;
            }

            return (model.GetNullableContext(position) & NullableContext.AnnotationsEnabled) == 0;
        }

        /// <summary><paramref name="name"/>, or it with a number appended, so it clashes with no parameter or type parameter.</summary>
        private static string UniqueName(string name, IMethodSymbol method)
        {
            string candidate = name;
            for (int i = 1; method.Parameters.Any(p => p.Name == candidate) || method.TypeParameters.Any(p => p.Name == candidate); i++)
            {
                candidate = name + i.ToString(System.Globalization.CultureInfo.InvariantCulture);
            }

            return candidate;
        }

        private static ParameterModel ParameterOf(IMethodSymbol method, IParameterSymbol parameter, bool isAsync, CancellationToken token)
        {
            string modifiers = string.Empty;
            if (method.IsExtensionMethod && parameter.Ordinal == 0)
            {
                modifiers += "this ";
            }

            if (HasScopedKeyword(parameter, token))
            {
                modifiers += "scoped ";
            }

            modifiers += parameter.RefKind switch
            {
                RefKind.Ref => "ref ",
                RefKind.Out => "out ",
                RefKind.In => "in ",
                RefKind.RefReadOnlyParameter => "ref readonly ",
                _ => string.Empty,
            };
            string argumentPrefix = parameter.RefKind switch
            {
                RefKind.Ref => "ref ",
                RefKind.Out => "out ",
                RefKind.In or RefKind.RefReadOnlyParameter => "in ",

                // A dynamic argument would make the call dynamically bound: at run time it could pick another overload
                // (guarded by another lock), and a span argument beside it would not compile (CS1978).
                _ when parameter.Type.TypeKind == TypeKind.Dynamic =>
                    parameter.NullableAnnotation == NullableAnnotation.Annotated ? "(object?)" : "(object)",
                _ => string.Empty,
            };
            var attributes = parameter.GetAttributes().Where(a => IsCarriedParameterAttribute(a) && NamesExist(a, method)).ToList();

            // A default written as attributes ([Optional], [DefaultParameterValue("x")] on an object, [DateTimeConstant])
            // may be one C# cannot write (CS1763, no DateTime literal): the wrappers carry the attributes, as the body does.
            string defaults = string.Concat(parameter.GetAttributes().Where(IsDefaultValueAttribute).Select(a => Render(a) + " "));
            return new ParameterModel(
                Escape(parameter.Name),
                parameter.Type.ToDisplayString(s_typeFormat),
                modifiers,
                argumentPrefix,
                parameter.RefKind == RefKind.Out,
                parameter.IsParams,
                defaults.Length > 0 ? null : DefaultValueOf(AsDeclared(parameter)),
                defaults + string.Concat(attributes.Select(a => Render(a) + " ")),
                isAsync
                    ? defaults + string.Concat(attributes.Where(static a => !IsPostCondition(a)).Select(a => Render(a) + " "))
                    : TimedParameterAttributes(parameter, attributes));
        }

        /// <summary>
        /// The parameter as callers of the body see it. A partial method's default written <c>= value</c> counts only on
        /// its defining declaration (on the implementing one it is ignored, CS1066), so a body guarded on its implementing
        /// declaration takes its defaults from the defining one. Attributes need no such care: the compiler merges those
        /// of both declarations (<c>[Optional, DefaultParameterValue]</c> on either is the parameter's), and so do the symbols.
        /// </summary>
        private static IParameterSymbol AsDeclared(IParameterSymbol parameter) =>
            parameter.ContainingSymbol is IMethodSymbol { PartialDefinitionPart: { } definition } && parameter.Ordinal < definition.Parameters.Length
                ? definition.Parameters[parameter.Ordinal]
                : parameter;

        /// <summary>
        /// An attribute that makes a parameter optional or gives its default: <c>[Optional]</c>,
        /// <c>[DefaultParameterValue]</c>, <c>[DateTimeConstant]</c>, <c>[DecimalConstant]</c>,
        /// <c>[IDispatchConstant]</c>, <c>[IUnknownConstant]</c>. Only written ones: a C# default (<c>= value</c>) adds none.
        /// </summary>
        private static bool IsDefaultValueAttribute(AttributeData attribute) =>
            IsWellFormed(attribute) && attribute.AttributeClass?.Name switch
            {
                "OptionalAttribute" or "DefaultParameterValueAttribute" => IsInNamespace(attribute, "System.Runtime.InteropServices"),
                "DateTimeConstantAttribute" or "DecimalConstantAttribute" or "IDispatchConstantAttribute" or "IUnknownConstantAttribute" =>
                    IsInNamespace(attribute, "System.Runtime.CompilerServices"),
                _ => false,
            };

        private static bool IsPostCondition(AttributeData attribute) =>
            FlowName(attribute) is "NotNullAttribute" or "MaybeNullAttribute" or "NotNullWhenAttribute" or "MaybeNullWhenAttribute" or
                "NotNullIfNotNullAttribute" or "DoesNotReturnIfAttribute";

        private static bool HasScopedKeyword(IParameterSymbol parameter, CancellationToken token) =>
            parameter.DeclaringSyntaxReferences.Any(r => r.GetSyntax(token) is ParameterSyntax syntax && syntax.Modifiers.Any(SyntaxKind.ScopedKeyword));

        private static string? ConstraintClause(ITypeParameterSymbol parameter)
        {
            var parts = new List<string>();
            if (parameter.HasReferenceTypeConstraint)
            {
                parts.Add(parameter.ReferenceTypeConstraintNullableAnnotation == NullableAnnotation.Annotated ? "class?" : "class");
            }
            else if (parameter.HasUnmanagedTypeConstraint)
            {
                parts.Add("unmanaged");
            }
            else if (parameter.HasValueTypeConstraint)
            {
                parts.Add("struct");
            }
            else if (parameter.HasNotNullConstraint)
            {
                parts.Add("notnull");
            }

            parts.AddRange(parameter.ConstraintTypes.Select(static t => t.ToDisplayString(s_typeFormat)));
            if (parameter.HasConstructorConstraint && !parameter.HasValueTypeConstraint)
            {
                parts.Add("new()");
            }

            if (parameter.AllowsRefLikeType)
            {
                parts.Add("allows ref struct");
            }

            return parts.Count == 0 ? null : "where " + Escape(parameter.Name) + " : " + string.Join(", ", parts);
        }

        private static bool UsesPointers(IMethodSymbol method) =>
            IsPointerLike(method.ReturnType) || method.Parameters.Any(static p => IsPointerLike(p.Type));

        private static bool IsPointerLike(ITypeSymbol type) => type switch
        {
            IPointerTypeSymbol or IFunctionPointerTypeSymbol => true,
            IArrayTypeSymbol array => IsPointerLike(array.ElementType),
            _ => false,
        };

        private static bool IsCarriedMethodAttribute(AttributeData attribute) =>
            IsWellFormed(attribute) &&
            (IsInNamespace(attribute, "System.Diagnostics.CodeAnalysis") ||
             (attribute.AttributeClass is { Name: "ObsoleteAttribute" } && IsInNamespace(attribute, "System")) ||
             IsPlatformContract(attribute));

        /// <summary>
        /// Where and how the body may be called, which its wrappers pass on: the platforms it runs on (CA1416 skips
        /// generated code, so without them a wrapper would let any platform call a Windows-only body unwarned) and
        /// preview features (CA2252, an error, on the generated call otherwise). Not the guard attributes, which describe a
        /// method's own answer, and the timed form's answer is another.
        /// </summary>
        private static bool IsPlatformContract(AttributeData attribute) =>
            attribute.AttributeClass?.Name is "SupportedOSPlatformAttribute" or "UnsupportedOSPlatformAttribute" or
                "ObsoletedOSPlatformAttribute" or "RequiresPreviewFeaturesAttribute" &&
            IsInNamespace(attribute, "System.Runtime.Versioning");

        private static bool IsCarriedTypeParameterAttribute(AttributeData attribute) =>
            IsWellFormed(attribute) && IsInNamespace(attribute, "System.Diagnostics.CodeAnalysis");

        private static bool IsCarriedParameterAttribute(AttributeData attribute) =>
            IsWellFormed(attribute) &&
            (IsInNamespace(attribute, "System.Diagnostics.CodeAnalysis") ||
             (attribute.AttributeClass?.Name.StartsWith("Caller", StringComparison.Ordinal) == true &&
              IsInNamespace(attribute, "System.Runtime.CompilerServices")));

        /// <summary>
        /// Whether the member and parameter names a nullable-analysis attribute carries exist (<c>MemberNotNull</c>: a
        /// field or property the type itself declares; <c>NotNullIfNotNull</c>: a parameter). A wrong name is a warning on the body
        /// (CS8776, CS8965); the wrappers do not copy the attribute rather than repeat it.
        /// </summary>
        private static bool NamesExist(AttributeData attribute, IMethodSymbol method)
        {
            var names = attribute.ConstructorArguments
                .SelectMany(AttributeArguments.Items)
                .Where(static a => a.Type?.SpecialType == SpecialType.System_String)
                .Select(static a => a.Value as string);
            switch (attribute.AttributeClass?.Name)
            {
                case "MemberNotNullAttribute" or "MemberNotNullWhenAttribute":
                    // Only the type's own fields and properties: a base type's is CS8776 there, as on the body.
                    return names.All(n => n is not null && LockMembers.Find(method.ContainingType, n) is { } member &&
                        SymbolEqualityComparer.Default.Equals(member.ContainingType.OriginalDefinition, method.ContainingType.OriginalDefinition) &&
                        (member.IsStatic || !method.IsStatic));
                case "NotNullIfNotNullAttribute":
                    return names.All(n => method.Parameters.Any(p => p.Name == n));
                default:
                    return true;
            }
        }

        /// <summary>Whether the attribute bound to a constructor with valid arguments (a broken one is the user's error; it is not copied).</summary>
        private static bool IsWellFormed(AttributeData attribute) =>
            attribute.AttributeConstructor is not null &&
            !attribute.ConstructorArguments.Any(static a => a.Kind == TypedConstantKind.Error) &&
            !attribute.NamedArguments.Any(static a => a.Value.Kind == TypedConstantKind.Error);

        private static bool IsInNamespace(AttributeData attribute, string ns) =>
            attribute.AttributeClass is { TypeKind: not TypeKind.Error } type && type.ContainingNamespace?.ToDisplayString() == ns;

        private static string Render(AttributeData attribute)
        {
            var arguments = attribute.ConstructorArguments.Select(Constant)
                .Concat(attribute.NamedArguments.Select(static n => n.Key + " = " + Constant(n.Value)))
                .ToList();
            string name = attribute.AttributeClass!.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat);
            if (name.EndsWith("Attribute", StringComparison.Ordinal))
            {
                name = name.Substring(0, name.Length - "Attribute".Length);
            }

            return arguments.Count == 0 ? "[" + name + "]" : "[" + name + "(" + string.Join(", ", arguments) + ")]";
        }

        private static string Constant(TypedConstant constant) => constant.Kind switch
        {
            _ when constant.IsNull => "null",
            TypedConstantKind.Array => "new " + constant.Type!.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat) + " { " + string.Join(", ", constant.Values.Select(Constant)) + " }",
            TypedConstantKind.Type => "typeof(" + ((ITypeSymbol)constant.Value!).ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat) + ")",
            _ => Literal(constant.Value, constant.Type) ?? "default",
        };

        private static string? DefaultValueOf(IParameterSymbol parameter)
        {
            if (!parameter.HasExplicitDefaultValue)
            {
                return null;
            }

            object? value = parameter.ExplicitDefaultValue;
            if (value is null)
            {
                // `null!` / `default!` keep a non-nullable reference or type parameter warning-free (the body's `default!`).
                if (parameter.Type.IsValueType || parameter.Type.NullableAnnotation == NullableAnnotation.Annotated)
                {
                    return "default";
                }

                return parameter.Type.IsReferenceType ? "null!" : "default!";
            }

            return Literal(value, parameter.Type) ?? "default";
        }

        /// <summary>A constant as C# text of the given type (enums cast, suffixes for float, double, decimal and the wide integers).</summary>
        private static string? Literal(object? value, ITypeSymbol? type)
        {
            if (value is null)
            {
                return "null";
            }

            if (type is INamedTypeSymbol { OriginalDefinition.SpecialType: SpecialType.System_Nullable_T } nullable)
            {
                type = nullable.TypeArguments[0];
            }

            if (type is { TypeKind: TypeKind.Enum })
            {
                string enumType = type.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat);
                var member = type.GetMembers().OfType<IFieldSymbol>().FirstOrDefault(f => f.HasConstantValue && Equals(f.ConstantValue, value));
                return member is not null ? enumType + "." + Escape(member.Name) : "(" + enumType + ")(" + Literal(value, null) + ")";
            }

            return value switch
            {
                string text => SymbolDisplay.FormatLiteral(text, quote: true),
                char character => SymbolDisplay.FormatLiteral(character, quote: true),
                bool flag => flag ? "true" : "false",
                float single => float.IsNaN(single) ? "float.NaN"
                    : float.IsPositiveInfinity(single) ? "float.PositiveInfinity"
                    : float.IsNegativeInfinity(single) ? "float.NegativeInfinity"
                    : single.ToString("R", CultureInfo.InvariantCulture) + "F",
                double number => double.IsNaN(number) ? "double.NaN"
                    : double.IsPositiveInfinity(number) ? "double.PositiveInfinity"
                    : double.IsNegativeInfinity(number) ? "double.NegativeInfinity"
                    : number.ToString("R", CultureInfo.InvariantCulture) + "D",
                decimal money => money.ToString(CultureInfo.InvariantCulture) + "M",
                // No literal has these types: a cast keeps an attribute argument's type ([DefaultParameterValue((short)3)] on an object).
                byte small => "(byte)" + small.ToString(CultureInfo.InvariantCulture),
                sbyte small => "(sbyte)" + small.ToString(CultureInfo.InvariantCulture),
                short small => "(short)" + small.ToString(CultureInfo.InvariantCulture),
                ushort small => "(ushort)" + small.ToString(CultureInfo.InvariantCulture),
                long wide => wide.ToString(CultureInfo.InvariantCulture) + "L",
                ulong wide => wide.ToString(CultureInfo.InvariantCulture) + "UL",
                uint unsigned => unsigned.ToString(CultureInfo.InvariantCulture) + "U",
                IFormattable formattable => formattable.ToString(null, CultureInfo.InvariantCulture),
                _ => null,
            };
        }

        /// <summary>The lines of the doc comment above <paramref name="node"/>, without their <c>///</c>.</summary>
        private static EquatableArray<string> DocLines(SyntaxNode node, IMethodSymbol method, SemanticModel semanticModel, CancellationToken token)
        {
            var lines = new List<string>();
            foreach (var trivia in node.GetLeadingTrivia())
            {
                bool isDoc = trivia.IsKind(SyntaxKind.SingleLineDocumentationCommentTrivia) ||
                    (trivia.IsKind(SyntaxKind.SingleLineCommentTrivia) && trivia.ToString().StartsWith("///", StringComparison.Ordinal));
                if (!isDoc)
                {
                    continue;
                }

                // A comment with a warning on the body (malformed XML, a param tag that names no parameter, a cref that
                // does not resolve) would repeat it on the wrappers: they get the generated summary instead.
                if (trivia.ContainsDiagnostics)
                {
                    return EquatableArray<string>.Empty;
                }

                // An <include> copied as written would name a file beside the generated one, which is not there (CS1589):
                // the wrappers get the comment as the compiler expands it.
                if (trivia.GetStructure() is DocumentationCommentTriviaSyntax comment)
                {
                    if (HasInclude(comment))
                    {
                        return ExpandedDocLines(node, method, token);
                    }

                    if (!DocCommentIsClean(comment, method, semanticModel, token))
                    {
                        return EquatableArray<string>.Empty;
                    }
                }

                string text = trivia.GetStructure() is DocumentationCommentTriviaSyntax doc
                    ? WithCrefsAsIds(doc, trivia.ToFullString(), trivia.FullSpan.Start, semanticModel, token)
                    : trivia.ToFullString();
                foreach (string raw in text.Split('\n'))
                {
                    string line = raw.Trim();
                    if (line.StartsWith("///", StringComparison.Ordinal))
                    {
                        lines.Add(line.Substring(3));
                    }
                }
            }

            return lines.ToEquatableArray();
        }

        /// <summary>
        /// The doc comment above <paramref name="node"/> with its includes expanded by the compiler (crefs come back as
        /// ids), as lines; empty, so the wrappers get the generated summary, when an include could not be expanded (no
        /// resolver, a missing file, no matching element: CS1589 is the body's) or the result would warn on the wrappers.
        /// </summary>
        private static EquatableArray<string> ExpandedDocLines(SyntaxNode node, IMethodSymbol method, CancellationToken token)
        {
            // The part declared by the node: each part of a partial method has its own comment.
            var declared = new[] { method, method.PartialImplementationPart, method.PartialDefinitionPart }
                .FirstOrDefault(part => part is not null && part.DeclaringSyntaxReferences.Any(r => r.SyntaxTree == node.SyntaxTree && r.Span == node.Span));
            string xml = declared?.GetDocumentationCommentXml(expandIncludes: true, cancellationToken: token) ?? string.Empty;
            XElement member;
            try
            {
                member = XElement.Parse(xml, LoadOptions.PreserveWhitespace);
            }
            catch (XmlException)
            {
                return EquatableArray<string>.Empty;
            }

            // The compiler leaves an include it could not expand in place, after a comment saying so (any XML comment is
            // taken as that sign: the generated summary is the safe side).
            var elements = member.Descendants().ToList();
            if (member.DescendantNodes().OfType<XComment>().Any() ||
                elements.Any(static e => e.Name.LocalName == "include") ||
                elements.Any(static e => e.Attribute("cref")?.Value.StartsWith("!:", StringComparison.Ordinal) == true) ||
                !NamesAreClean(
                    elements
                        .Where(static e => e.Name.LocalName is "param" or "paramref" or "typeparam" or "typeparamref")
                        .Select(static e => (e.Name.LocalName, e.Attribute("name")?.Value ?? string.Empty)),
                    method))
            {
                return EquatableArray<string>.Empty;
            }

            var lines = string.Concat(member.Nodes().Select(static n => n.ToString(SaveOptions.DisableFormatting)))
                .Split('\n')
                .Select(static l => l.TrimEnd())
                .ToList();
            int indent = lines.Where(static l => l.Length > 0).Select(static l => l.Length - l.TrimStart().Length).DefaultIfEmpty(0).Min();
            var trimmed = lines.Select(l => l.Length == 0 ? string.Empty : " " + l.Substring(indent)).ToList();
            int first = trimmed.FindIndex(static l => l.Length > 0);
            int last = trimmed.FindLastIndex(static l => l.Length > 0);
            return first < 0 ? EquatableArray<string>.Empty : trimmed.GetRange(first, last - first + 1).ToEquatableArray();
        }

        private static bool HasInclude(DocumentationCommentTriviaSyntax comment) =>
            comment.DescendantNodes().Any(static n => n switch
            {
                XmlEmptyElementSyntax empty => empty.Name.LocalName.ValueText == "include",
                XmlElementSyntax element => element.StartTag.Name.LocalName.ValueText == "include",
                _ => false,
            });

        /// <summary>
        /// The comment's text with each cref written as its documentation id (<c>T:System.Collections.Generic.List`1</c>):
        /// the generated file has none of the source file's usings, and the compiler takes an id as it is.
        /// </summary>
        private static string WithCrefsAsIds(DocumentationCommentTriviaSyntax comment, string text, int offset, SemanticModel semanticModel, CancellationToken token)
        {
            var edits = new List<(int Start, int Length, string Id)>();
            foreach (var attribute in comment.DescendantNodes().OfType<XmlCrefAttributeSyntax>())
            {
                if (DocumentationId(semanticModel.GetSymbolInfo(attribute.Cref, token).Symbol) is { } id)
                {
                    edits.Add((attribute.Cref.SpanStart - offset, attribute.Cref.Span.Length, id));
                }
            }

            for (int i = edits.Count - 1; i >= 0; i--)
            {
                var (start, length, id) = edits[i];
                if (start >= 0 && start + length <= text.Length)
                {
                    text = text.Substring(0, start) + id + text.Substring(start + length);
                }
            }

            return text;
        }

        /// <summary>
        /// A cref's documentation id, or null: of the definition, since a cref like <c>List{T}</c> binds to a type built on
        /// cref-only type parameters that Roslyn cannot write an id for.
        /// </summary>
        private static string? DocumentationId(ISymbol? symbol)
        {
            try
            {
                return symbol?.OriginalDefinition.GetDocumentationCommentId();
            }
            catch (NullReferenceException)
            {
                return null;
            }
        }

        /// <summary>
        /// Whether the compiler would find nothing to warn about in the doc comment of <paramref name="method"/>:
        /// param and typeparam tags name each parameter once (all or none of them), references name parameters, crefs resolve.
        /// </summary>
        private static bool DocCommentIsClean(DocumentationCommentTriviaSyntax comment, IMethodSymbol method, SemanticModel semanticModel, CancellationToken token)
        {
            var names = comment.DescendantNodes().OfType<XmlNameAttributeSyntax>().Select(static attribute => (
                attribute.Parent switch
                {
                    XmlElementStartTagSyntax start => start.Name.LocalName.ValueText,
                    XmlEmptyElementSyntax empty => empty.Name.LocalName.ValueText,
                    _ => string.Empty,
                },
                attribute.Identifier.Identifier.ValueText));
            if (!NamesAreClean(names, method))
            {
                return false;
            }

            foreach (var cref in comment.DescendantNodes().OfType<XmlCrefAttributeSyntax>())
            {
                token.ThrowIfCancellationRequested();
                var info = semanticModel.GetSymbolInfo(cref.Cref, token);
                if (info.Symbol is null)
                {
                    return false;
                }
            }

            return true;
        }

        /// <summary>
        /// Whether the param, paramref, typeparam and typeparamref tags (element, name) name the method's parameters,
        /// and document each once, all or none of them (else CS1572, CS1573, CS1571, CS1711, CS1712, CS1734, CS1735).
        /// </summary>
        private static bool NamesAreClean(IEnumerable<(string Element, string Name)> names, IMethodSymbol method)
        {
            var parameters = new HashSet<string>(method.Parameters.Select(static p => p.Name));
            var typeParameters = new HashSet<string>(method.TypeParameters.Select(static p => p.Name));
            var outerTypeParameters = new HashSet<string>(typeParameters);
            for (var type = method.ContainingType; type is not null; type = type.ContainingType)
            {
                outerTypeParameters.UnionWith(type.TypeParameters.Select(static p => p.Name));
            }

            var documented = new List<string>();
            var documentedTypes = new List<string>();
            foreach (var (element, name) in names)
            {
                bool known = element switch
                {
                    "param" or "paramref" => parameters.Contains(name),
                    "typeparam" => typeParameters.Contains(name),
                    "typeparamref" => outerTypeParameters.Contains(name),
                    _ => true,
                };
                if (!known)
                {
                    return false;
                }

                if (element == "param")
                {
                    documented.Add(name);
                }
                else if (element == "typeparam")
                {
                    documentedTypes.Add(name);
                }
            }

            return Complete(documented, parameters) && Complete(documentedTypes, typeParameters);

            static bool Complete(List<string> documented, HashSet<string> all) =>
                documented.Count == 0 || (documented.Count == all.Count && documented.Distinct().Count() == all.Count);
        }

        private static string DisplayName(ISymbol symbol) => Symbols.SymbolNames.Display(symbol);

        private static string QualifiedName(INamedTypeSymbol type) => type.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat);

        private static string Escape(string name) => WrapperNaming.Escape(name);

        private static Location? AttributeLocation(AttributeData attribute, CancellationToken token) =>
            attribute.ApplicationSyntaxReference?.GetSyntax(token).GetLocation();

        /// <summary>The named argument <c>name = …</c> of the attribute, else the whole attribute.</summary>
        private static Location? ArgumentLocation(AttributeData attribute, string name, CancellationToken token)
        {
            if (attribute.ApplicationSyntaxReference?.GetSyntax(token) is not AttributeSyntax syntax)
            {
                return null;
            }

            foreach (var argument in syntax.ArgumentList?.Arguments ?? default)
            {
                if (argument.NameEquals?.Name.Identifier.ValueText == name)
                {
                    return argument.GetLocation();
                }
            }

            return syntax.GetLocation();
        }

        private static Location NameLocation(SyntaxNode node, ISymbol symbol) => node switch
        {
            MethodDeclarationSyntax method => method.Identifier.GetLocation(),
            LocalFunctionStatementSyntax local => local.Identifier.GetLocation(),
            VariableDeclaratorSyntax variable => variable.Identifier.GetLocation(),
            PropertyDeclarationSyntax property => property.Identifier.GetLocation(),
            ParameterSyntax parameter => parameter.Identifier.GetLocation(),
            _ => symbol.Locations.FirstOrDefault() ?? node.GetLocation(),
        };
    }
}
