using System.Collections.Immutable;
using Locksmith.Generators.Diagnostics.Analyzers.Support;
using Locksmith.Generators.Symbols;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace Locksmith.Generators.Diagnostics.Analyzers;

/// <summary>
/// LSM0021: state guarded by a read-write lock written where that lock is held for reading only: in a method guarded with
/// <c>Access = LockAccess.Read</c>, or in a read scope of the lock (<c>using var scope = _lock.AcquireRead();</c>,
/// <c>AcquireReadAsync</c>, a checked <c>TryAcquireRead…</c>, a read lock released in a <c>finally</c>).
/// </summary>
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
        var access = (IMemberReferenceOperation)context.Operation;
        if (context.ContainingSymbol is not IMethodSymbol method ||
            facts.GuardOf(access.Member) is not { } guard ||
            !OperationFacts.IsWriteOrMutation(access) ||
            // Interlocked/Volatile on it is atomic: readers holding the lock together do not lose each other's updates.
            ParallelBodies.IsAtomic(access) ||
            GuardedMemberAccessAnalyzer.DroppedWorkUnderAHold(access, guard, context.ContainingSymbol, facts) is not null ||
            GuardedMemberAccessAnalyzer.StoredOutsideItsHold(access, guard, context.ContainingSymbol, facts) is not null)
        {
            // Work the hold does not wait for, or a lambda stored to run later, holds no lock at all: LSM0020 says so, and
            // taking the write lock would not help.
            return;
        }

        string display = SymbolNames.Display(method);
        if (facts.GuardOf(method) is { IsRead: true } methodGuard &&
            SymbolEqualityComparer.Default.Equals(guard.LockMember.OriginalDefinition, methodGuard.LockMember.OriginalDefinition))
        {
            Report(context, access, display, guard, string.Empty, "use Access = LockAccess.Write");
            return;
        }

        if (ReadScopeAround(access, guard, method, facts) is not { } acquire ||
            ReadAcquisition(acquire.TargetMethod.Name) is not { } writeName)
        {
            return;
        }

        Report(
            context,
            access,
            display,
            guard,
            $" (in the scope of '{acquire.TargetMethod.Name}')",
            $"take it with '{writeName}' where this code writes (a read lock does not upgrade)");
    }

    /// <summary>
    /// The read acquisition (<c>AcquireRead</c>, <c>TryAcquireRead…</c>) of the scope around <paramref name="access"/>, a
    /// write of state its read-write lock guards, which this rule reports (LSM0057 leaves it here: one report for one
    /// mistake); null otherwise. As a read core, unless the method holds the lock itself (a write core, whose read scope
    /// would throw anyway) or builds the object.
    /// </summary>
    internal static IInvocationOperation? ReadScopeAround(IMemberReferenceOperation access, Guard guard, IMethodSymbol method, LockFacts facts) =>
        (guard.Capabilities & LockCapabilities.ReadWrite) == 0 ||
        method.MethodKind is MethodKind.Constructor or MethodKind.StaticConstructor ||
        !OperationFacts.IsWriteOrMutation(access) ||
        HeldLocks.HeldByMethod(method, guard, access.Instance, facts) ||
        HeldLocks.ScopeAcquisition(access, guard.LockMember, access.Instance) is not { } acquire ||
        ReadAcquisition(acquire.TargetMethod.Name) is null
            ? null
            : acquire;

    /// <summary>For a read acquisition (<c>AcquireRead</c>, <c>TryAcquireReadAsync</c>, …), the name of its write form; else null.</summary>
    private static string? ReadAcquisition(string name)
    {
        foreach (string prefix in new[] { KnownNames.Acquire + "Read", KnownNames.TryAcquire + "Read" })
        {
            if (name.StartsWith(prefix, System.StringComparison.Ordinal))
            {
                return prefix.Substring(0, prefix.Length - "Read".Length) + "Write" + name.Substring(prefix.Length);
            }
        }

        return null;
    }

    private static void Report(OperationAnalysisContext context, IMemberReferenceOperation access, string holder, Guard guard, string how, string fix) =>
        context.ReportDiagnostic(Diagnostic.Create(
            DiagnosticDescriptors.ReadAccessWritesGuardedMember,
            access.Syntax.GetLocation(),
            holder,
            guard.LockMember.Name,
            how,
            access.Member.Name,
            fix));
}
