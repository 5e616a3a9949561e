using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Locksmith.Generators.Diagnostics.Analyzers;

/// <summary>
/// LSM0054: <c>[field: LockOrder(5)]</c> or <c>[field: Guarded(…)]</c> on a property. The attribute goes to the
/// compiler's backing field, which neither the generator nor the analyzers read (they read the property), so the
/// lock's level or the guard is silently lost; written on the property itself, it works.
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
        if (list.Target is not { Identifier: var target } || !target.IsKind(SyntaxKind.FieldKeyword) || list.Parent is not PropertyDeclarationSyntax property)
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
                context.ReportDiagnostic(Diagnostic.Create(
                    DiagnosticDescriptors.AttributeOnBackingField, attribute.GetLocation(), type!.Name.Replace("Attribute", string.Empty), property.Identifier.ValueText, effect));
            }
        }
    }
}
