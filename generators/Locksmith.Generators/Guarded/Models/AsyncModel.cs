namespace Locksmith.Generators.Guarded.Models;

/// <summary>How an async wrapper awaits its lock and its body (present only for bodies that get async wrappers).</summary>
/// <param name="ResultType">The <c>T</c> of <c>Task&lt;T&gt;</c>/<c>ValueTask&lt;T&gt;</c> as C# text, or null for <c>Task</c>/<c>ValueTask</c>.</param>
/// <param name="TimedResultType">
/// The <c>Result</c> element of the timed form's tuple, which is <c>default</c> when the lock was not acquired: the
/// <see cref="ResultType"/> with <c>?</c> where that default is null and the type does not say so (see
/// <c>Parser.TimedResultType</c>).
/// </param>
/// <param name="TimedDefaultSuppressed">
/// Whether that <c>default</c> is written <c>default!</c>: only for a type parameter that C# 8 cannot write <c>T?</c> for.
/// </param>
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
    string? ResultType, string? TimedResultType, bool TimedDefaultSuppressed, string? Token, bool AddsToken, bool TaskMayBeNull, bool AwaitsDispose = false, bool TimedAwaitsDispose = false);
