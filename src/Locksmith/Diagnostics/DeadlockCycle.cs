using System.Collections.Generic;

namespace Locksmith;

/// <summary>A cycle in the wait-for graph: each thread waits for a lock held by the next, the last by the first.</summary>
/// <param name="Edges">The cycle's steps, starting at the thread with the lowest id.</param>
public sealed record DeadlockCycle(IReadOnlyList<DeadlockEdge> Edges)
{
    /// <summary>The whole cycle as one sentence, for logs.</summary>
    public override string ToString() => "Deadlock: " + string.Join("; ", Edges) + ".";
}
