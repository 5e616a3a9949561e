using System.Collections.Immutable;
using Locksmith.Generators.Diagnostics.Analyzers.Support;
using Locksmith.Generators.Symbols;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace Locksmith.Generators.Diagnostics.Analyzers;

/// <summary>LSM0020: a <c>[Guarded]</c> field or property read or written by code that does not hold its lock.</summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class GuardedMemberAccessAnalyzer : DiagnosticAnalyzer
{
    /// <inheritdoc/>
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } =
        ImmutableArray.Create(DiagnosticDescriptors.GuardedMemberAccessedWithoutLock);

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
        var access = (IMemberReferenceOperation)context.Operation;
        if (facts.GuardOf(access.Member) is not { } guard ||
            OperationFacts.IsInNameof(access) ||
            HeldLocks.IsHeld(access, guard, context.ContainingSymbol, facts))
        {
            return;
        }

        context.ReportDiagnostic(Diagnostic.Create(
            DiagnosticDescriptors.GuardedMemberAccessedWithoutLock,
            access.Syntax.GetLocation(),
            access.Member.Name,
            guard.LockMember.Name,
            OperationFacts.IsWrite(access) ? "written" : "read",
            guard.Capabilities.SuggestedAcquire(),
            guard.Capabilities.SuggestedAwait()));
    }
}
