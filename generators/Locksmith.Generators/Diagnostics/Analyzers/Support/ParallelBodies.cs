using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Operations;

namespace Locksmith.Generators.Diagnostics.Analyzers.Support;

/// <summary>
/// Bodies of <c>Parallel.For</c>, <c>ForEach</c>, <c>ForAsync</c>, <c>ForEachAsync</c> and <c>Invoke</c>, which run on several threads at
/// once, and the writes of guarded state in them that race each other: LSM0056 under a caller's hold, LSM0020 in a
/// constructor (which holds the object's state only for its own thread).
/// </summary>
internal static class ParallelBodies
{
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
    public static string? WriteOf(IMemberReferenceOperation access)
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

    // Interlocked.Increment(ref _n), Volatile.Write(ref _n, v): atomic, so bodies do not lose each other's updates.
    public static bool IsAtomic(IOperation access)
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

    /// <summary>
    /// The parallel loop whose body runs <paramref name="at"/>, whoever holds what: a lambda or anonymous method given to it
    /// (also through lambdas run inline in it), or a local function given to it by name or called from such a body (a few
    /// deep: it may call itself); null past a lambda that may run elsewhere.
    /// </summary>
    public static IInvocationOperation? LoopAround(IOperation at, int depth = 0)
    {
        for (var parent = at.Parent; parent is not null; parent = parent.Parent)
        {
            if (parent is ILocalFunctionOperation local)
            {
                if (depth >= 3)
                {
                    return null;
                }

                foreach (var use in OperationFacts.Root(local).Descendants())
                {
                    if (local.Syntax.Span.Contains(use.Syntax.Span))
                    {
                        continue;
                    }

                    if (use is IMethodReferenceOperation reference && SymbolEqualityComparer.Default.Equals(reference.Method.OriginalDefinition, local.Symbol.OriginalDefinition) &&
                        InlineDelegates.ParallelCallOf(reference) is { } loop)
                    {
                        return loop;
                    }

                    if (use is IInvocationOperation call && SymbolEqualityComparer.Default.Equals(call.TargetMethod.OriginalDefinition, local.Symbol.OriginalDefinition) &&
                        LoopAround(call, depth + 1) is { } around)
                    {
                        return around;
                    }
                }

                return null;
            }

            if (parent is not IAnonymousFunctionOperation function)
            {
                continue;
            }

            if (InlineDelegates.ParallelCallOf(function) is { } parallel)
            {
                return parallel;
            }

            if (InlineDelegates.RunOf(function, out _) != DelegateRun.Inline)
            {
                return null;
            }
        }

        return null;
    }

    /// <summary>
    /// The parallel loop whose bodies race each other over <paramref name="access"/> while a constructor or initializer
    /// builds the object: a write as <see cref="WriteOf"/> counts it, not atomic, in a body of one (<see cref="LoopAround"/>).
    /// An element of an array written (<c>_slots[i] = …</c>) is left out: bodies usually fill their own.
    /// </summary>
    public static IInvocationOperation? RacingInConstruction(IMemberReferenceOperation access) =>
        (access.Parent is IArrayElementReferenceOperation element && element.ArrayReference == access) ||
        WriteOf(access) is null || IsAtomic(access)
            ? null
            : LoopAround(access);
}
