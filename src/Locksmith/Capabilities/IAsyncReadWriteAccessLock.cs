namespace Locksmith;

/// <summary>
/// Marks an async lock with a shared read mode and an exclusive write mode, taken through
/// <c>AcquireReadAsync</c> / <c>AcquireWriteAsync</c> (with <c>TimeSpan</c> and <c>CancellationToken</c> overloads) and
/// <c>TryAcquireReadAsync</c> / <c>TryAcquireWriteAsync(TimeSpan, CancellationToken)</c>, each returning a
/// <see cref="System.Threading.Tasks.ValueTask{TResult}"/> of <see cref="AsyncLockScope"/>.
/// </summary>
/// <remarks>The source generator recognises async read-write locks by this marker; it declares no members.</remarks>
public interface IAsyncReadWriteAccessLock
{
}
