using System.Collections.Immutable;
using Locksmith.Generators.Diagnostics.Analyzers.Support;
using Locksmith.Generators.Symbols;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace Locksmith.Generators.Diagnostics.Analyzers;

/// <summary>
/// LSM0057: a field or property guarded by a keyed lock (<c>StripedLock&lt;TKey&gt;</c>, <c>StripedReadWriteLock&lt;TKey&gt;</c>,
/// <c>AsyncStripedLock&lt;TKey&gt;</c>, a keyed lock of one's own) written where the lock is held: a hold of a keyed lock is
/// the stripes of some keys only, so code holding another key's stripe writes the same member at the same time. LSM0020
/// counts such a hold as holding the member, which made a shared <c>Dictionary</c> under a <c>StripeBy</c> core compile
/// cleanly and lose updates. Writes through <c>Interlocked</c>/<c>Volatile</c>, an array's elements (one per stripe is a
/// sound layout), constructors, and a read core or read scope of the lock (LSM0021 reports that) are left alone.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class KeyedHoldWriteAnalyzer : DiagnosticAnalyzer
{
    /// <inheritdoc/>
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } =
        ImmutableArray.Create(DiagnosticDescriptors.GuardedStateWrittenUnderAKeyedHold);

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
            (guard.Capabilities & LockCapabilities.Keyed) == 0 ||
            context.ContainingSymbol is IMethodSymbol { MethodKind: MethodKind.Constructor or MethodKind.StaticConstructor } ||
            access.Parent is IArrayElementReferenceOperation element && element.ArrayReference == access ||
            ParallelBodies.WriteOf(access) is not { } written ||
            ParallelBodies.IsAtomic(access))
        {
            return;
        }

        // A read core or read scope of the lock that writes is LSM0021's, whose error comes first; one report is enough.
        if (context.ContainingSymbol is IMethodSymbol method &&
            (facts.GuardOf(method) is { IsRead: true } methodGuard &&
                SymbolEqualityComparer.Default.Equals(guard.LockMember.OriginalDefinition, methodGuard.LockMember.OriginalDefinition) ||
             ReadAccessWriteAnalyzer.ReadScopeAround(access, guard, method, facts) is not null))
        {
            return;
        }

        // Only where the lock is held: elsewhere the write is LSM0020's.
        if (!HeldLocks.HeldByMethodOrScopeAt(access, guard, access.Member.IsStatic ? null : access.Instance, context.ContainingSymbol, facts))
        {
            return;
        }

        bool async = guard.Capabilities.IsAsync();
        context.ReportDiagnostic(Diagnostic.Create(
            DiagnosticDescriptors.GuardedStateWrittenUnderAKeyedHold,
            access.Syntax.GetLocation(),
            access.Member.Name,
            guard.LockMember.Name,
            written,
            async ? "an AsyncExclusiveLock or AsyncReadWriteLock" : "an ExclusiveLock or ReadWriteLock"));
    }
}
