namespace Locksmith.Generators.Guarded.Models;

/// <summary>How an async wrapper awaits its lock and its body (present only for bodies that get async wrappers).</summary>
/// <param name="ResultType">The <c>T</c> of <c>Task&lt;T&gt;</c>/<c>ValueTask&lt;T&gt;</c> as C# text, or null for <c>Task</c>/<c>ValueTask</c>.</param>
/// <param name="Token">The token the acquisition observes: the body's own parameter, the added one, or null (none).</param>
/// <param name="AddsToken">Whether the wrappers add <c>CancellationToken {Token} = default</c> as their last parameter.</param>
/// <param name="TaskMayBeNull">
/// Whether the body's declared task may be null (<c>Task?</c>, <c>[return: MaybeNull]</c>): the wrappers await it with
/// <c>!</c>, as a caller awaiting it would have to.
/// </param>
/// <param name="AwaitsDispose">
/// Whether the throwing wrapper releases with <c>await using</c>: the scope's release is a round trip of its own (a
/// distributed lock's, or a scope that is only <c>IAsyncDisposable</c>), not the in-process scopes' synchronous release,
/// so it is awaited rather than blocking a thread.
/// </param>
/// <param name="TimedAwaitsDispose">The same for the timed form, whose scope may be of another type.</param>
internal sealed record AsyncModel(
    string? ResultType, string? Token, bool AddsToken, bool TaskMayBeNull, bool AwaitsDispose = false, bool TimedAwaitsDispose = false);
