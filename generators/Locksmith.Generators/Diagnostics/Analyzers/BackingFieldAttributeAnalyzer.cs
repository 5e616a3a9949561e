using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Locksmith.Generators.Diagnostics.Analyzers;

/// <summary>
/// LSM0054: <c>[field: LockOrder(5)]</c> or <c>[field: Guarded(…)]</c> on a property. The attribute goes to the
/// compiler's backing field, which neither the generator nor the analyzers read (they read the property), so the
/// lock's level or the guard is silently lost; written on the property itself, it works. The same on a record's
/// positional parameter, whose property takes <c>property:</c> attributes.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class BackingFieldAttributeAnalyzer : DiagnosticAnalyzer
{
    /// <inheritdoc/>
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } =
        ImmutableArray.Create(DiagnosticDescriptors.AttributeOnBackingField);

    /// <inheritdoc/>
    public override void Initialize(AnalysisContext context)
    {
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.EnableConcurrentExecution();
        context.RegisterCompilationStartAction(static start =>
        {
            var guarded = start.Compilation.GetTypeByMetadataName(KnownNames.GuardedAttribute);
            var lockOrder = start.Compilation.GetTypeByMetadataName(KnownNames.LockOrderAttribute);
            if (guarded is null && lockOrder is null)
            {
                return;
            }

            start.RegisterSyntaxNodeAction(node => Analyze(node, guarded, lockOrder), SyntaxKind.AttributeList);
        });
    }

    private static void Analyze(SyntaxNodeAnalysisContext context, INamedTypeSymbol? guarded, INamedTypeSymbol? lockOrder)
    {
        var list = (AttributeListSyntax)context.Node;
        if (list.Target is not { Identifier: var target } || !target.IsKind(SyntaxKind.FieldKeyword))
        {
            return;
        }

        string name;
        bool positional;
        if (list.Parent is PropertyDeclarationSyntax property)
        {
            name = property.Identifier.ValueText;
            positional = false;
        }
        else if (list.Parent is ParameterSyntax parameter && IsPositionalPropertyParameter(parameter, context))
        {
            // The compiler makes a property of a record's positional parameter; 'property:' is the target that reaches it.
            name = parameter.Identifier.ValueText;
            positional = true;
        }
        else
        {
            return;
        }

        foreach (var attribute in list.Attributes)
        {
            var type = context.SemanticModel.GetSymbolInfo(attribute, context.CancellationToken).Symbol?.ContainingType;
            string? effect =
                type is null ? null
                : SymbolEqualityComparer.Default.Equals(type, lockOrder) ? "the lock's level is lost: its wrappers and the lock-order manifest see none"
                : SymbolEqualityComparer.Default.Equals(type, guarded) ? "the property is not guarded: no wrappers, and no LSM0020 where it is used without the lock"
                : null;
            if (effect is not null)
            {
                string shortName = type!.Name.Replace("Attribute", string.Empty);
                string fix = positional
                    ? $"write [property: {shortName}(…)] on the parameter, whose property the compiler makes"
                    : $"write [{shortName}(…)] on the property itself, without 'field:'";
                context.ReportDiagnostic(Diagnostic.Create(
                    DiagnosticDescriptors.AttributeOnBackingField, attribute.GetLocation(), shortName, name, effect, fix));
            }
        }
    }

    /// <summary>
    /// Whether <paramref name="parameter"/> is a record's positional parameter that the compiler makes a property of (not
    /// one the record declares itself, which takes no attribute from the parameter).
    /// </summary>
    private static bool IsPositionalPropertyParameter(ParameterSyntax parameter, SyntaxNodeAnalysisContext context)
    {
        if (parameter.Parent is not ParameterListSyntax { Parent: RecordDeclarationSyntax record })
        {
            return false;
        }

        if (context.SemanticModel.GetDeclaredSymbol(record, context.CancellationToken) is not { } type)
        {
            return false;
        }

        foreach (var member in type.GetMembers(parameter.Identifier.ValueText))
        {
            if (member is IPropertySymbol && member.DeclaringSyntaxReferences.Any(r => r.SyntaxTree == parameter.SyntaxTree && r.Span == parameter.Span))
            {
                return true;
            }
        }

        return false;
    }
}
