namespace Locksmith.Testing;

/// <summary>One edge of a deadlock: a flow waits for a resource that another flow holds.</summary>
/// <param name="Flow">The waiting flow.</param>
/// <param name="Resource">The lock, condition or barrier it waits for.</param>
/// <param name="Holder">
/// The flow that holds the lock; for a semaphore, the live flows holding its permits (<c>a, c</c>); null when none does
/// (a condition, a barrier, permits no live flow holds).
/// </param>
public readonly record struct WaitForEdge(string Flow, string Resource, string? Holder)
{
    /// <inheritdoc/>
    public override string ToString() => Holder is null ? $"{Flow} waits for '{Resource}'" : $"{Flow} waits for '{Resource}' held by {Holder}";
}
