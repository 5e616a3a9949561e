namespace Locksmith.Testing;

/// <summary>
/// One line of a controlled run's trace: which flow did what to which lock, in the order it happened. Each entry is
/// logged where its effect falls: an acquire attempt, a counter read or update and a barrier arrival when the flow gets
/// its turn to do it, a release or notify once it was done.
/// </summary>
/// <param name="Step">The scheduling step at which it happened.</param>
/// <param name="Flow">The flow's name, as the scenario gave it.</param>
/// <param name="Operation">
/// What it did: <c>acquire</c> (the attempt; <c>blocked on</c> follows if the lock was taken; <c>acquire read</c> and
/// <c>acquire write</c> on a read-write lock), <c>release</c>, <c>blocked on</c>, <c>wakes on</c>, <c>times out on</c>,
/// <c>waits on</c> and <c>notify</c> / <c>notify all</c> (a condition), <c>arrive at</c> and <c>waits at</c> (a barrier),
/// <c>read</c> and <c>update</c> (a counter), <c>interleave</c>, <c>resumes on a pool thread</c> (a continuation of an async flow that the
/// thread pool picked up, run as that flow); and the flow's own events <c>start</c>, <c>awaits</c>
/// (an async flow with nothing to run), <c>finish</c> and <c>throws</c> (the target is the exception's type).
/// </param>
/// <param name="Target">The lock, condition, barrier or counter, by name (empty for flow events).</param>
public readonly record struct TraceEntry(int Step, string Flow, string Operation, string Target)
{
    /// <inheritdoc/>
    public override string ToString() => Target.Length == 0 ? $"{Step,5}  {Flow}: {Operation}" : $"{Step,5}  {Flow}: {Operation} {Target}";
}
