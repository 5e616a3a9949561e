namespace Locksmith;

/// <summary>
/// Marks an async lock made of stripes chosen by a key, taken through <c>AcquireAsync(TKey key, CancellationToken)</c>,
/// <c>AcquireAsync(TKey key, TimeSpan, CancellationToken)</c> and <c>TryAcquireAsync(TKey key, TimeSpan, CancellationToken)</c>,
/// each returning a <see cref="System.Threading.Tasks.ValueTask{TResult}"/> of <see cref="AsyncLockScope"/>.
/// </summary>
/// <remarks>See <see cref="IExclusiveAccessLock"/> for why the markers have no members.</remarks>
public interface IAsyncKeyedAccessLock
{
}
