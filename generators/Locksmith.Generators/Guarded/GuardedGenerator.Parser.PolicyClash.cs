using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Locksmith.Generators.Diagnostics;
using Locksmith.Generators.Helpers;
using Locksmith.Generators.Symbols;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Operations;

namespace Locksmith.Generators.Guarded;

public sealed partial class GuardedGenerator
{
    internal static partial class Parser
    {
        /// <summary>The policy a lock built without one has, and one built with it gives way to the declared one.</summary>
        private const string DefaultReadWritePolicy = "WriterPreferred";

        /// <summary>
        /// LSM0051: a read-write lock of the <c>[ReadMostly]</c> type whose initializer, or an assignment in one of its
        /// constructors, builds it with a constant policy other than the default and the attribute's. The runtime keeps a
        /// policy given at construction, so the first wrapper that declares the attribute's throws
        /// (ThrowPolicyDeclaredTwice). A policy that is not a constant, or a lock assigned elsewhere, is left to the runtime.
        /// </summary>
        /// <returns>The members reported, so LSM0050 does not repeat a fix this error already gives.</returns>
        private static HashSet<ISymbol> CheckPolicyBuiltInInitializer(
            GeneratorAttributeSyntaxContext context, INamedTypeSymbol type, ReadMostlyAttributeData data, List<DiagnosticInfo> diagnostics, CancellationToken token)
        {
            var reported = new HashSet<ISymbol>(SymbolEqualityComparer.Default);

            // An undefined attribute value is LSM0032 already; no second message about it.
            if (data.Policy is { Member: null })
            {
                return reported;
            }

            string declared = data.Policy?.Member?.Name ?? DefaultReadWritePolicy;
            string defaultNote = data.Policy is null ? " (the default: Policy is not set)" : string.Empty;
            foreach (var member in type.GetMembers())
            {
                token.ThrowIfCancellationRequested();

                // A virtual or abstract property's lock may be an override's: its wrappers leave the policy to that one.
                if (member.IsImplicitlyDeclared || member is not (IFieldSymbol or IPropertySymbol) || LockMembers.MayBeSuppliedElsewhere(member) ||
                    LockMembers.TypeOf(member) is not { } lockType ||
                    (LockCapabilitiesReader.Of(lockType) & LockCapabilities.ReadWrite) == 0 ||
                    PolicyTypeOf(lockType) is not { } policyType ||
                    BuiltPolicies(context, member, policyType, token)
                        .FirstOrDefault(b => b.Name != declared && b.Name != DefaultReadWritePolicy) is not { Name: not null } built)
                {
                    continue;
                }

                reported.Add(member);
                diagnostics.Add(DiagnosticInfo.Create(
                    DiagnosticDescriptors.ReadMostlyPolicyClashesWithInitializer,
                    built.Location,
                    SymbolNames.TypeName(type),
                    declared,
                    defaultNote,
                    DisplayName(member),
                    built.Where,
                    built.Name));
            }

            return reported;
        }

        /// <summary>
        /// The policies the member's lock is built with (<c>new ReadWriteLock(…, policy: P)</c>, target-typed <c>new(…)</c>
        /// too), by the enum member's name, with the argument's location and where the message says it is built: by its
        /// initializer, then by each assignment to it (<c>_lock = …</c>, <c>this._lock = …</c>) in the type's constructors,
        /// as LSM0050 reads them. One that builds no lock, passes no policy, or a policy that is not a constant naming a
        /// member of the enum gives nothing.
        /// </summary>
        private static IEnumerable<(string Name, Location Location, string Where)> BuiltPolicies(
            GeneratorAttributeSyntaxContext context, ISymbol member, INamedTypeSymbol policyType, CancellationToken token)
        {
            foreach (var reference in member.DeclaringSyntaxReferences)
            {
                var initializer = reference.GetSyntax(token) switch
                {
                    PropertyDeclarationSyntax { Initializer.Value: { } expression } => expression,
                    VariableDeclaratorSyntax { Initializer.Value: { } expression } => expression,
                    _ => null,
                };
                if (initializer is not null &&
                    BuiltPolicy(ModelFor(context, initializer.SyntaxTree).GetOperation(initializer, token), policyType) is { } built)
                {
                    yield return (built.Name, built.Location, "is initialized with");
                }
            }

            // Any constructor that builds it with the policy makes the wrappers of the objects it constructs throw.
            foreach (var constructor in member.IsStatic ? member.ContainingType.StaticConstructors : member.ContainingType.InstanceConstructors)
            {
                foreach (var reference in constructor.DeclaringSyntaxReferences)
                {
                    if (reference.GetSyntax(token) is not ConstructorDeclarationSyntax declaration ||
                        ModelFor(context, declaration.SyntaxTree).GetOperation(declaration, token) is not IConstructorBodyOperation body)
                    {
                        continue;
                    }

                    // Not "initialized": the reader looks for the assignment in this constructor, not at the declaration.
                    string where = constructor.MethodKind == MethodKind.StaticConstructor
                        ? "is assigned, in the static constructor,"
                        : "is assigned, in the constructor '" + constructor.ToDisplayString(s_constructorFormat) + "',";
                    foreach (var assignment in body.Descendants().OfType<ISimpleAssignmentOperation>())
                    {
                        token.ThrowIfCancellationRequested();
                        if (Assigns(assignment, member) && BuiltPolicy(assignment.Value, policyType) is { } built)
                        {
                            yield return (built.Name, built.Location, where);
                        }
                    }
                }
            }
        }

        /// <summary>A constructor as its declaration names it: <c>Cache(int)</c>.</summary>
        private static readonly SymbolDisplayFormat s_constructorFormat = new(
            memberOptions: SymbolDisplayMemberOptions.IncludeParameters,
            parameterOptions: SymbolDisplayParameterOptions.IncludeType,
            miscellaneousOptions: SymbolDisplayMiscellaneousOptions.UseSpecialTypes);

        /// <summary>The constant policy an operation constructs a lock with, by its enum member's name, with the argument's location.</summary>
        private static (string Name, Location Location)? BuiltPolicy(IOperation? operation, INamedTypeSymbol policyType)
        {
            while (operation is IConversionOperation conversion)
            {
                operation = conversion.Operand;
            }

            if (operation is not IObjectCreationOperation creation)
            {
                return null;
            }

            foreach (var argument in creation.Arguments)
            {
                if (argument.ArgumentKind != ArgumentKind.DefaultValue &&
                    SymbolEqualityComparer.Default.Equals(argument.Parameter?.Type, policyType) &&
                    argument.Value.ConstantValue is { HasValue: true, Value: { } value })
                {
                    var name = policyType.GetMembers().OfType<IFieldSymbol>()
                        .FirstOrDefault(f => f.HasConstantValue && Equals(f.ConstantValue, value))?.Name;
                    return name is null ? null : (name, argument.Syntax.GetLocation());
                }
            }

            return null;
        }
    }
}
