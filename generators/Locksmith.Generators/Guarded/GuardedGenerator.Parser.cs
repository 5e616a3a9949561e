using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Locksmith.Generators.Diagnostics;
using Locksmith.Generators.Guarded.Models;
using Locksmith.Generators.Helpers;
using Locksmith.Generators.Symbols;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Operations;

namespace Locksmith.Generators.Guarded;

public sealed partial class GuardedGenerator
{
    /// <summary>
    /// Turns attributed symbols into <see cref="ParsedMember"/> models and diagnostics. It never throws: an
    /// unexpected failure becomes an LSM0099 diagnostic on the member instead of a CS8785 that hides every wrapper.
    /// </summary>
    internal static partial class Parser
    {
        public static ParsedMember ParseGuarded(GeneratorAttributeSyntaxContext context, CancellationToken token)
        {
            var diagnostics = new List<DiagnosticInfo>();
            try
            {
                var data = new GuardedAttributeData(context.Attributes[0]);
                if (RefusedInExtensionBlock(context, "Guarded", diagnostics))
                {
                    return Result(null, diagnostics);
                }

                ReportUndefinedEnums(context.TargetSymbol, data.Attribute, data.InvalidArguments, diagnostics, token);
                var wrapper = context.TargetSymbol is IMethodSymbol method
                    ? ParseGuardedMethod(context, CallersView(method), data, diagnostics, token)
                    : CheckGuardedState(context.TargetSymbol, data, diagnostics, token);
                return Result(UnlessLanguageTooOld(context, wrapper, diagnostics), diagnostics);
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                return Failure(context, exception);
            }
        }

        public static ParsedMember ParseAcquiresLocksOf(GeneratorAttributeSyntaxContext context, CancellationToken token)
        {
            var diagnostics = new List<DiagnosticInfo>();
            try
            {
                var data = new AcquiresLocksOfAttributeData(context.Attributes[0]);
                if (RefusedInExtensionBlock(context, "AcquiresLocksOf", diagnostics))
                {
                    return Result(null, diagnostics);
                }

                ReportUndefinedEnums(context.TargetSymbol, data.Attribute, data.InvalidArguments, diagnostics, token);
                var wrapper = context.TargetSymbol is IMethodSymbol method
                    ? ParseLockSetMethod(context, CallersView(method), data, diagnostics, token)
                    : null;
                return Result(UnlessLanguageTooOld(context, wrapper, diagnostics), diagnostics);
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                return Failure(context, exception);
            }
        }

        /// <summary>
        /// The method as its callers, and so its wrappers, see it: a partial method's defining declaration, whichever
        /// declaration carries the attribute. The two may differ in parameter names and nullable annotations (CS8826,
        /// CS8611, CS8819 on the user's code); calls bind to the defining one, and the attribute's <c>nameof</c> names
        /// its parameters too, so wrappers built from the implementing one would pass null where the body's callers may
        /// not, or return null where they promise not to.
        /// </summary>
        internal static IMethodSymbol CallersView(IMethodSymbol method) => PartialParts.Definition(method);

        public static ParsedLockOrder ParseLockOrder(GeneratorAttributeSyntaxContext context, CancellationToken token) =>
            ParseLockOrder(context.TargetSymbol, context.Attributes[0], context.TargetNode, token);

        /// <summary>The <c>[LockOrder]</c> <paramref name="attribute"/> on <paramref name="member"/>, declared by <paramref name="node"/>.</summary>
        internal static ParsedLockOrder ParseLockOrder(ISymbol member, AttributeData attribute, SyntaxNode node, CancellationToken token)
        {
            try
            {
                var data = new LockOrderAttributeData(attribute);
                var refusal = new List<DiagnosticInfo>();
                if (RefusedInExtensionBlock(member, node, "LockOrder", refusal))
                {
                    return new ParsedLockOrder(null, refusal.ToEquatableArray());
                }

                var type = LockMembers.TypeOf(member);
                var location = NameLocation(node, member);
                var capabilities = LockCapabilitiesReader.Of(type);
                if (!capabilities.IsLock())
                {
                    var diagnostic = DiagnosticInfo.Create(
                        DiagnosticDescriptors.LockOrderOnNonLock, location, DisplayName(member), type?.ToDisplayString() ?? member.Kind.ToString());
                    return new ParsedLockOrder(null, new EquatableArray<DiagnosticInfo>([diagnostic]));
                }

                token.ThrowIfCancellationRequested();
                var level = data.Level;
                // A property that returns a lock field is that field's lock: its entry names the field, so the two share
                // one level without a clash (LSM0012), and the manifest lists the lock once.
                var lockMember = LockMembers.ForwardedTo(member) ?? member;
                var entry = level is { } value && lockMember.ContainingType is { } containing
                    ? new LockOrderEntry(containing.ToDisplayString(), lockMember.Name, value, LockKinds.Of(type, capabilities), LocationInfo.From(location))
                    : null;

                // One lock, two levels: wrappers reaching it through either member would declare their own, and the
                // first to run would decide the lock's level.
                var clashes = new List<DiagnosticInfo>();
                if (level is { } own)
                {
                    foreach (var (above, declared) in LockMembers.DeclaredLevelsAbove(member))
                    {
                        if (declared != own)
                        {
                            clashes.Add(DiagnosticInfo.Create(
                                DiagnosticDescriptors.LockLevelDiffersFromImplementedMember,
                                location,
                                DisplayName(member),
                                own.ToString(System.Globalization.CultureInfo.InvariantCulture),
                                DisplayName(above),
                                declared.ToString(System.Globalization.CultureInfo.InvariantCulture)));
                            break;
                        }
                    }
                }

                // A level below a member without one reaches only the implementing type's wrappers, not those that take
                // the lock through that member: they cannot know which implementation they hold, so they do not declare it.
                if (level is { } below && clashes.Count == 0)
                {
                    foreach (var above in LockMembers.UndeclaredMembersAbove(member))
                    {
                        clashes.Add(DiagnosticInfo.Create(
                            DiagnosticDescriptors.LockLevelMissingOnImplementedMember,
                            location,
                            DisplayName(member),
                            below.ToString(System.Globalization.CultureInfo.InvariantCulture),
                            DisplayName(above),
                            SymbolNames.TypeName(member.ContainingType)));
                    }
                }

                if (level is { } forwarded && ForwardingClash(member, forwarded) is { } reason)
                {
                    clashes.Add(DiagnosticInfo.Create(
                        DiagnosticDescriptors.LockLevelOnPropertyReturningLock,
                        location,
                        DisplayName(member),
                        forwarded.ToString(System.Globalization.CultureInfo.InvariantCulture),
                        DisplayName(LockMembers.ForwardedTo(member)!),
                        reason));
                }

                return new ParsedLockOrder(entry, clashes.ToEquatableArray());
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                return new ParsedLockOrder(null, Failure(member, node, exception).Diagnostics);
            }
        }

        /// <summary>
        /// Why a level on a property that returns a lock member (<see cref="LockMembers.ForwardedTo"/>) would not be the
        /// lock's one level (LSM0048), or null: the member declares another, another property of its type returning it
        /// does, or the member is a base type's, whose own wrappers do not see this property's level.
        /// </summary>
        private static string? ForwardingClash(ISymbol property, int level)
        {
            if (LockMembers.ForwardedTo(property) is not { } target)
            {
                return null;
            }

            string Level(int value) => "[LockOrder(" + value.ToString(System.Globalization.CultureInfo.InvariantCulture) + ")]";
            if (LockOrderAttributeData.Of(target)?.Level is { } own)
            {
                return own == level ? null : "which declares " + Level(own);
            }

            foreach (var (other, otherLevel) in LockMembers.ForwardersWithLevels(target))
            {
                if (otherLevel != level)
                {
                    return "which '" + DisplayName(other) + "' also returns, declaring " + Level(otherLevel);
                }
            }

            return SymbolEqualityComparer.Default.Equals(target.ContainingType, property.ContainingType)
                ? null
                : "a member of '" + SymbolNames.TypeName(target.ContainingType) + "', whose own wrappers do not see this property's level";
        }

        /// <summary>LSM0025: a <c>[ReadMostly]</c> type must declare a read-write lock for the attribute to mean anything.</summary>
        public static EquatableArray<DiagnosticInfo> CheckReadMostly(GeneratorAttributeSyntaxContext context, CancellationToken token)
        {
            try
            {
                if (context.TargetSymbol is not INamedTypeSymbol type)
                {
                    return EquatableArray<DiagnosticInfo>.Empty;
                }

                var data = new ReadMostlyAttributeData(context.Attributes[0]);
                var diagnostics = new List<DiagnosticInfo>();
                ReportUndefinedEnums(type, data.Attribute, data.InvalidArguments, diagnostics, token);
                var clashing = CheckPolicyBuiltInInitializer(context, type, data, diagnostics, token);
                CheckPolicyReachedAbove(context, type, data, clashing, diagnostics, token);
                bool asyncLocks = false;
                bool syncLocks = false;
                for (var current = type; current is not null; current = current.BaseType)
                {
                    token.ThrowIfCancellationRequested();
                    foreach (var member in current.GetMembers())
                    {
                        var capabilities = LockCapabilitiesReader.Of(LockMembers.TypeOf(member));
                        if ((capabilities & LockCapabilities.ReadWrite) != 0)
                        {
                            return diagnostics.ToEquatableArray();
                        }

                        asyncLocks |= capabilities.IsLock() && capabilities.IsAsync();
                        syncLocks |= capabilities.IsLock() && !capabilities.IsAsync();
                    }
                }

                // The lock to suggest is of the kind the type already uses (an async one for async locks); either when it has none or both.
                string suggested = asyncLocks == syncLocks
                    ? "a ReadWriteLock (an AsyncReadWriteLock for async code)"
                    : LockCapabilitiesReader.ReadWriteLockFor(asyncLocks);
                diagnostics.Add(DiagnosticInfo.Create(
                    DiagnosticDescriptors.ReadMostlyWithoutReadWriteLock, AttributeLocation(data.Attribute, token), DisplayName(type), suggested));
                return diagnostics.ToEquatableArray();
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                return Failure(context, exception).Diagnostics;
            }
        }

        /// <summary>
        /// LSM0050: a policy other than the default, on a read-write lock that wrappers may take through an interface or
        /// base member. Those wrappers do not apply it, and if they hold the lock when the type's first wrapper runs, that
        /// wrapper cannot switch the lock in use and throws; a lock constructed with the policy needs no switch.
        /// </summary>
        private static void CheckPolicyReachedAbove(
            GeneratorAttributeSyntaxContext context, INamedTypeSymbol type, ReadMostlyAttributeData data, HashSet<ISymbol> clashing,
            List<DiagnosticInfo> diagnostics, CancellationToken token)
        {
            if (data.Policy is not { Member: { Name: not "WriterPreferred" } policy })
            {
                return;
            }

            // A lock built with another policy is LSM0051 already (an error with the same fix); one message is enough.
            foreach (var member in type.GetMembers())
            {
                token.ThrowIfCancellationRequested();
                if (member is not IPropertySymbol property || !LockMembers.IsReachableAbove(property) ||
                    (LockCapabilitiesReader.Of(property.Type) & LockCapabilities.ReadWrite) == 0 ||
                    PolicyTypeOf(property.Type) is not { } policyType ||
                    clashing.Contains(LockMembers.ForwardedTo(property) ?? property) ||
                    ConstructedWith(context, LockMembers.ForwardedTo(property) ?? property, policyType, data.Policy.Value, token))
                {
                    continue;
                }

                string above = DisplayName(property.OverriddenProperty ?? property.ExplicitInterfaceImplementations.FirstOrDefault() ?? (ISymbol)AnyImplemented(property));
                diagnostics.Add(DiagnosticInfo.Create(
                    DiagnosticDescriptors.ReadMostlyPolicyNotAppliedAbove,
                    property.Locations.FirstOrDefault(),
                    DisplayName(property),
                    above,
                    policyType.Name + "." + policy.Name,
                    SymbolNames.TypeName(type)));
            }
        }

        private static IPropertySymbol AnyImplemented(IPropertySymbol property)
        {
            foreach (var @interface in property.ContainingType.AllInterfaces)
            {
                foreach (var candidate in @interface.GetMembers(property.Name).OfType<IPropertySymbol>())
                {
                    if (SymbolEqualityComparer.Default.Equals(property.ContainingType.FindImplementationForInterfaceMember(candidate), property))
                    {
                        return candidate;
                    }
                }
            }

            return property;
        }

        /// <summary>
        /// Whether the lock of <paramref name="member"/> (a property, or the field or property one merely returns) is surely
        /// constructed with the policy <paramref name="value"/>: by its initializer, or by every constructor of its type
        /// (a constructor that chains with <c>: this(…)</c> through the one it calls).
        /// </summary>
        private static bool ConstructedWith(GeneratorAttributeSyntaxContext context, ISymbol member, INamedTypeSymbol policyType, object value, CancellationToken token)
        {
            foreach (var reference in member.DeclaringSyntaxReferences)
            {
                var initializer = reference.GetSyntax(token) switch
                {
                    Microsoft.CodeAnalysis.CSharp.Syntax.PropertyDeclarationSyntax { Initializer.Value: { } expression } => expression,
                    Microsoft.CodeAnalysis.CSharp.Syntax.VariableDeclaratorSyntax { Initializer.Value: { } expression } => expression,
                    _ => null,
                };
                if (initializer is not null)
                {
                    return BuildsWith(ModelFor(context, initializer.SyntaxTree).GetOperation(initializer, token), policyType, value);
                }
            }

            // No initializer: an implicit constructor builds nothing, so there must be declared constructors, all building it.
            if (member is not (IPropertySymbol or IFieldSymbol) || member.ContainingType is not { } type)
            {
                return false;
            }

            var constructors = member.IsStatic ? type.StaticConstructors : type.InstanceConstructors;
            return constructors.Length > 0 && constructors.All(c => ConstructorBuilds(context, c, member, policyType, value, 0, token));
        }

        /// <summary>
        /// Whether a constructor assigns the member a lock built with the policy in a statement of its own body, or
        /// calls one that does with <c>: this(…)</c>; any assignment of another value to the member in it, even in a
        /// branch, means no.
        /// </summary>
        private static bool ConstructorBuilds(
            GeneratorAttributeSyntaxContext context, IMethodSymbol constructor, ISymbol member, INamedTypeSymbol policyType, object value, int depth, CancellationToken token)
        {
            // The compiler refuses a cycle of ': this(…)' calls; the bound keeps a broken one from looping anyway.
            if (depth > 16 || constructor.DeclaringSyntaxReferences.Length != 1 ||
                constructor.DeclaringSyntaxReferences[0].GetSyntax(token) is not Microsoft.CodeAnalysis.CSharp.Syntax.ConstructorDeclarationSyntax declaration ||
                ModelFor(context, declaration.SyntaxTree).GetOperation(declaration, token) is not IConstructorBodyOperation body)
            {
                return false;
            }

            foreach (var assignment in body.Descendants().OfType<ISimpleAssignmentOperation>())
            {
                if (Assigns(assignment, member) && !BuildsWith(assignment.Value, policyType, value))
                {
                    return false;
                }
            }

            // Every assignment builds it with the policy; one of them must surely run (a statement of the body, or all branches of an if).
            if (SurelyAssigns(body.BlockBody, member, 0) || SurelyAssigns(body.ExpressionBody, member, 0))
            {
                return true;
            }

            var chained = body.Initializer?.DescendantsAndSelf().OfType<IInvocationOperation>()
                .FirstOrDefault(static i => i.TargetMethod.MethodKind == MethodKind.Constructor);
            return chained is not null &&
                SymbolEqualityComparer.Default.Equals(chained.TargetMethod.ContainingType.OriginalDefinition, constructor.ContainingType.OriginalDefinition) &&
                ConstructorBuilds(context, chained.TargetMethod, member, policyType, value, depth + 1, token);
        }

        /// <summary>Whether an assignment sets <paramref name="member"/> of the object under construction (or the static one).</summary>
        private static bool Assigns(ISimpleAssignmentOperation assignment, ISymbol member) =>
            assignment.Target is IMemberReferenceOperation target &&
            SymbolEqualityComparer.Default.Equals(target.Member.OriginalDefinition, member.OriginalDefinition) &&
            (member.IsStatic || target.Instance is IInstanceReferenceOperation);

        /// <summary>
        /// Whether a statement assigns <paramref name="member"/> on every path through it: an assignment statement, a block
        /// with such a statement, or an <c>if</c> whose branches, <c>else</c> included, all do. Anything else (a loop, a
        /// try, an <c>if</c> without <c>else</c>) counts as maybe not.
        /// </summary>
        private static bool SurelyAssigns(IOperation? statement, ISymbol member, int depth) => depth <= 32 && statement switch
        {
            IExpressionStatementOperation { Operation: ISimpleAssignmentOperation assignment } => Assigns(assignment, member),
            IBlockOperation block => block.Operations.Any(s => SurelyAssigns(s, member, depth + 1)),
            IConditionalOperation { WhenFalse: { } otherwise } branches =>
                SurelyAssigns(branches.WhenTrue, member, depth + 1) && SurelyAssigns(otherwise, member, depth + 1),
            _ => false,
        };

        /// <summary>Whether an operation constructs a lock with the policy <paramref name="value"/> given as an argument.</summary>
        private static bool BuildsWith(IOperation? operation, INamedTypeSymbol policyType, object value)
        {
            while (operation is IConversionOperation conversion)
            {
                operation = conversion.Operand;
            }

            return operation is IObjectCreationOperation creation &&
                creation.Arguments.Any(a =>
                    a.ArgumentKind != ArgumentKind.DefaultValue &&
                    SymbolEqualityComparer.Default.Equals(a.Parameter?.Type, policyType) &&
                    a.Value.ConstantValue is { HasValue: true } constant && Equals(constant.Value, value));
        }

        private static SemanticModel ModelFor(GeneratorAttributeSyntaxContext context, SyntaxTree tree) =>
            tree == context.SemanticModel.SyntaxTree ? context.SemanticModel : context.SemanticModel.Compilation.GetSemanticModel(tree);

        private static ParsedMember Result(WrapperModel? wrapper, List<DiagnosticInfo> diagnostics)
        {
            // A declaration with an error gets no wrapper: the error says why, and half-right code would add noise.
            bool hasError = diagnostics.Any(static d => d.Descriptor.DefaultSeverity == DiagnosticSeverity.Error);
            return new ParsedMember(hasError ? null : wrapper, diagnostics.ToEquatableArray());
        }

        /// <summary>
        /// LSM0055: the wrappers are C# 8 (using declarations, nullable annotations); under C# 7.3 they would be a page of
        /// CS8370 errors in generated code, so the method gets none and one error that says which setting to change.
        /// </summary>
        private static WrapperModel? UnlessLanguageTooOld(GeneratorAttributeSyntaxContext context, WrapperModel? wrapper, List<DiagnosticInfo> diagnostics)
        {
            if (wrapper is null ||
                context.SemanticModel.Compilation is not CSharpCompilation { LanguageVersion: < LanguageVersion.CSharp8 and var version })
            {
                return wrapper;
            }

            diagnostics.Add(DiagnosticInfo.Create(
                DiagnosticDescriptors.LanguageVersionTooOld,
                NameLocation(context.TargetNode, context.TargetSymbol),
                DisplayName(context.TargetSymbol),
                version.ToDisplayString()));
            return null;
        }

        private static ParsedMember Failure(GeneratorAttributeSyntaxContext context, Exception exception) =>
            Failure(context.TargetSymbol, context.TargetNode, exception);

        private static ParsedMember Failure(ISymbol member, SyntaxNode node, Exception exception)
        {
            var diagnostic = DiagnosticInfo.Create(
                DiagnosticDescriptors.GeneratorFailure,
                node.GetLocation(),
                DisplayName(member),
                exception.GetType().Name + ": " + exception.Message);
            return new ParsedMember(null, new EquatableArray<DiagnosticInfo>([diagnostic]));
        }

        /// <summary>
        /// LSM0030: members of a C# 14 extension block take no Locksmith attribute (their containing "type" has no
        /// name, no fields and no partial declarations). Reported first, so no later message names the unnamed type.
        /// </summary>
        private static bool RefusedInExtensionBlock(GeneratorAttributeSyntaxContext context, string attributeName, List<DiagnosticInfo> diagnostics) =>
            RefusedInExtensionBlock(context.TargetSymbol, context.TargetNode, attributeName, diagnostics);

        private static bool RefusedInExtensionBlock(ISymbol member, SyntaxNode node, string attributeName, List<DiagnosticInfo> diagnostics)
        {
            if (SymbolNames.ExtensionBlockOf(member) is not { } extension)
            {
                return false;
            }

            diagnostics.Add(DiagnosticInfo.Create(
                DiagnosticDescriptors.ExtensionBlockMember,
                NameLocation(node, member),
                DisplayName(member),
                attributeName,
                SymbolNames.TypeName(extension)));
            return true;
        }

        /// <summary>LSM0032: an enum argument cast from a number that names none of the enum's members.</summary>
        private static void ReportUndefinedEnums(
            ISymbol target, AttributeData attribute, IReadOnlyList<EnumArgument> invalid, List<DiagnosticInfo> diagnostics, CancellationToken token)
        {
            foreach (var argument in invalid)
            {
                diagnostics.Add(DiagnosticInfo.Create(
                    DiagnosticDescriptors.EnumArgumentOutOfRange,
                    ArgumentLocation(attribute, argument.Name, token),
                    DisplayName(target),
                    argument.Name,
                    argument.ValueText,
                    argument.EnumType.Name,
                    argument.ValidMembers));
            }
        }

        /// <summary>Checks a guarded field or property; they get no wrapper (the analyzers check their uses).</summary>
        private static WrapperModel? CheckGuardedState(
            ISymbol member, GuardedAttributeData data, List<DiagnosticInfo> diagnostics, CancellationToken token)
        {
            var attributeLocation = AttributeLocation(data.Attribute, token);
            if (member.ContainingType is { } type &&
                ResolveLock(type, data.Lock, member, attributeLocation, diagnostics) is { } lockInfo &&
                member.IsStatic && !lockInfo.Member.IsStatic)
            {
                diagnostics.Add(DiagnosticInfo.Create(
                    DiagnosticDescriptors.StaticMemberGuardedByInstanceLock, attributeLocation, DisplayName(member), lockInfo.Member.Name));
            }

            return null;
        }
    }
}
