using System.Collections.Immutable;
using Locksmith.Generators.Diagnostics.Analyzers.Support;
using Locksmith.Generators.Symbols;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace Locksmith.Generators.Diagnostics.Analyzers;

/// <summary>LSM0021: a method guarded with <c>Access = LockAccess.Read</c> that writes state guarded by the same lock.</summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class ReadAccessWriteAnalyzer : DiagnosticAnalyzer
{
    /// <inheritdoc/>
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } =
        ImmutableArray.Create(DiagnosticDescriptors.ReadAccessWritesGuardedMember);

    /// <inheritdoc/>
    public override void Initialize(AnalysisContext context)
    {
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.EnableConcurrentExecution();
        LockFacts.RegisterWhereLocksExist(context, static (start, facts) =>
        {
            start.RegisterOperationAction(
                operation => Analyze(operation, facts),
                OperationKind.FieldReference,
                OperationKind.PropertyReference);
        });
    }

    private static void Analyze(OperationAnalysisContext context, LockFacts facts)
    {
        if (context.ContainingSymbol is not IMethodSymbol method ||
            facts.GuardOf(method) is not { IsRead: true } methodGuard)
        {
            return;
        }

        var access = (IMemberReferenceOperation)context.Operation;
        if (facts.GuardOf(access.Member) is not { } guard ||
            !SymbolEqualityComparer.Default.Equals(guard.LockMember.OriginalDefinition, methodGuard.LockMember.OriginalDefinition) ||
            !OperationFacts.IsWriteOrMutation(access))
        {
            return;
        }

        context.ReportDiagnostic(Diagnostic.Create(
            DiagnosticDescriptors.ReadAccessWritesGuardedMember,
            access.Syntax.GetLocation(),
            SymbolNames.Display(method),
            guard.LockMember.Name,
            access.Member.Name));
    }
}
