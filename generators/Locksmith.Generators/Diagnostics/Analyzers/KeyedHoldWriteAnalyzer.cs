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
/// sound layout), a concurrent collection's slots, constructors, a read core or read scope of the lock (LSM0021 reports
/// that), and a parallel body in work the hold does not wait for (LSM0020 reports that) are left alone; a parallel body
/// under the hold is this rule's, not LSM0056's.
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
            WrittenUnderAHold(access, guard, context.ContainingSymbol, facts) is not { } written ||
            ParallelBodyWriteAnalyzer.StartedUnwaited(access, guard, context.ContainingSymbol, facts) ||
            GuardedMemberAccessAnalyzer.DroppedWorkUnderAHold(access, guard, context.ContainingSymbol, facts) is not null ||
            GuardedMemberAccessAnalyzer.StoredOutsideItsHold(access, guard, context.ContainingSymbol, facts) is not null)
        {
            // In a parallel body or other work that may run after the hold, or a lambda stored to run later, the write is
            // LSM0020's, which says so.
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

    /// <summary>
    /// How <paramref name="access"/> writes state its keyed lock guards where that lock is held (<c>written</c>,
    /// <c>changed by 'Add'</c>), which this rule reports (and LSM0056 leaves to it); null for a lock that is not keyed, an
    /// atomic write, an array's element or a concurrent collection's slot, a constructor, no hold, or a read core or read
    /// scope of the lock, which is LSM0021's, whose error comes first: one report is enough.
    /// </summary>
    internal static string? WrittenUnderAHold(IMemberReferenceOperation access, Guard guard, ISymbol containingSymbol, LockFacts facts)
    {
        if ((guard.Capabilities & LockCapabilities.Keyed) == 0 ||
            containingSymbol is IMethodSymbol { MethodKind: MethodKind.Constructor or MethodKind.StaticConstructor } ||
            access.Parent is IArrayElementReferenceOperation element && element.ArrayReference == access ||
            ParallelBodies.WriteOf(access) is not { } written ||
            ParallelBodies.IsAtomic(access))
        {
            return null;
        }

        if (containingSymbol is IMethodSymbol method &&
            (facts.GuardOf(method) is { IsRead: true } methodGuard &&
                SymbolEqualityComparer.Default.Equals(guard.LockMember.OriginalDefinition, methodGuard.LockMember.OriginalDefinition) ||
             ReadAccessWriteAnalyzer.ReadScopeAround(access, guard, method, facts) is not null))
        {
            return null;
        }

        // Only where the lock is held: elsewhere the write is LSM0020's.
        return HeldLocks.HeldByMethodOrScopeAt(access, guard, access.Member.IsStatic ? null : access.Instance, containingSymbol, facts)
            ? written
            : null;
    }
}
