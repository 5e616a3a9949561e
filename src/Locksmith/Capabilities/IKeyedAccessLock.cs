namespace Locksmith;

/// <summary>
/// Marks a lock made of stripes chosen by a key, taken through <c>Acquire(TKey key)</c> (with <c>TimeSpan</c> and
/// <c>CancellationToken</c> overloads) and <c>TryAcquire(TKey key, TimeSpan timeout, out scope)</c>.
/// </summary>
/// <remarks>See <see cref="IExclusiveAccessLock"/> for why the markers have no members.</remarks>
public interface IKeyedAccessLock
{
}
