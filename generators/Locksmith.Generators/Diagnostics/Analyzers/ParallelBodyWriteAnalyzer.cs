using System.Collections.Immutable;
using Locksmith.Generators.Diagnostics.Analyzers.Support;
using Locksmith.Generators.Symbols;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace Locksmith.Generators.Diagnostics.Analyzers;

/// <summary>
/// LSM0056: guarded state written (as LSM0021 counts writes, or changed by a call such as <c>_items.Add(i)</c> on a
/// System.Collections.Generic collection) in a lambda or anonymous method given to
/// <c>Parallel.For</c>, <c>ForEach</c>, <c>ForEachAsync</c> or <c>Invoke</c>, where the lock is held around the loop (a
/// scope, a guarded method): LSM0020 counts the body as holding it, but its runs race each other. A body that takes the
/// lock itself, a write through <c>Interlocked</c> or <c>Volatile</c>, and a constructor's loop (which holds no lock; the
/// object under construction is what LSM0020 lets it write) are not reported.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class ParallelBodyWriteAnalyzer : DiagnosticAnalyzer
{
    /// <inheritdoc/>
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } =
        ImmutableArray.Create(DiagnosticDescriptors.GuardedStateWrittenInAParallelBody);

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
            WriteOf(access) is not { } written ||
            IsAtomic(access) ||
            ParallelBodyAround(access, out var body) is not { } loop ||
            HeldLocks.HeldByScopeInside(access, guard.LockMember, access.Instance, body!) ||
            !HeldLocks.HeldByMethodOrScope(access, guard, context.ContainingSymbol, facts))
        {
            return;
        }

        context.ReportDiagnostic(Diagnostic.Create(
            DiagnosticDescriptors.GuardedStateWrittenInAParallelBody,
            access.Syntax.GetLocation(),
            access.Member.Name,
            loop.TargetMethod.ContainingType.Name + "." + loop.TargetMethod.Name,
            guard.LockMember.Name,
            guard.Capabilities.SuggestedAwait(),
            guard.Capabilities.SuggestedAcquire(),
            written));
    }

    // What changes a System.Collections.Generic collection in place: such calls from several bodies at once corrupt it.
    private static readonly ImmutableHashSet<string> s_collectionChanges = ImmutableHashSet.Create(
        "Add", "AddRange", "Insert", "InsertRange", "Remove", "RemoveAt", "RemoveAll", "RemoveRange", "RemoveWhere", "Clear",
        "Enqueue", "Dequeue", "TryDequeue", "Push", "Pop", "TryPop", "TryAdd", "Sort", "Reverse", "UnionWith", "IntersectWith",
        "ExceptWith", "SymmetricExceptWith", "AddFirst", "AddLast", "AddBefore", "AddAfter", "RemoveFirst", "RemoveLast");

    /// <summary>
    /// How the access writes the member, as the message says it: "written" (<see cref="OperationFacts.IsWriteOrMutation"/>),
    /// "changed by 'Add'" (the receiver of a call that changes a System.Collections.Generic collection; concurrent
    /// collections are made for this), or null when it only reads.
    /// </summary>
    private static string? WriteOf(IMemberReferenceOperation access)
    {
        if (OperationFacts.IsWriteOrMutation(access))
        {
            return "written";
        }

        var receiver = access.Parent is IConversionOperation { IsImplicit: true } conversion ? conversion : (IOperation)access;
        return receiver.Parent is IInvocationOperation call && call.Instance == receiver &&
            s_collectionChanges.Contains(call.TargetMethod.Name) &&
            call.TargetMethod.ContainingType.ContainingNamespace?.ToDisplayString() == "System.Collections.Generic"
            ? "changed by '" + call.TargetMethod.Name + "'"
            : null;
    }

    /// <summary>
    /// The <c>Parallel</c> call whose delegate contains <paramref name="access"/> (also through lambdas run inline in it:
    /// <c>items.ForEach(…)</c> in the body), with that delegate; null past a local function or a lambda that may run
    /// elsewhere.
    /// </summary>
    private static IInvocationOperation? ParallelBodyAround(IOperation access, out IOperation? body)
    {
        body = null;
        for (var parent = access.Parent; parent is not null; parent = parent.Parent)
        {
            if (parent is ILocalFunctionOperation)
            {
                return null;
            }

            if (parent is not IAnonymousFunctionOperation function)
            {
                continue;
            }

            if (InlineDelegates.ParallelCallOf(function) is { } loop)
            {
                body = function;
                return loop;
            }

            if (InlineDelegates.RunOf(function, out _) != DelegateRun.Inline)
            {
                return null;
            }
        }

        return null;
    }

    // Interlocked.Increment(ref _n), Volatile.Write(ref _n, v): atomic, so bodies do not lose each other's updates.
    private static bool IsAtomic(IOperation access)
    {
        IOperation node = access;
        while (node.Parent is IArrayElementReferenceOperation or IFieldReferenceOperation or IConversionOperation or IParenthesizedOperation)
        {
            node = node.Parent;
        }

        return node.Parent is IArgumentOperation { Parent: IInvocationOperation call } &&
            call.TargetMethod.ContainingType is { ContainingNamespace: { } ns } type &&
            ns.ToDisplayString() == "System.Threading" && type.Name is "Interlocked" or "Volatile";
    }
}
