namespace Locksmith.Testing;

/// <summary>One line of a controlled run's trace: which flow did what to which lock, in the order it happened.</summary>
/// <param name="Step">The scheduling step at which it happened.</param>
/// <param name="Flow">The flow's name, as the scenario gave it.</param>
/// <param name="Operation">What it did: <c>acquire</c>, <c>release</c>, <c>blocked</c>, <c>wait</c>, <c>notify</c>, <c>arrive</c>, …</param>
/// <param name="Target">The lock, condition, barrier or counter, by name (empty for flow events).</param>
public readonly record struct TraceEntry(int Step, string Flow, string Operation, string Target)
{
    /// <inheritdoc/>
    public override string ToString() => Target.Length == 0 ? $"{Step,5}  {Flow}: {Operation}" : $"{Step,5}  {Flow}: {Operation} {Target}";
}
