namespace Locksmith;

/// <summary>
/// Marks an async lock taken in one exclusive mode through <c>AcquireAsync(CancellationToken)</c>,
/// <c>AcquireAsync(TimeSpan, CancellationToken)</c> and <c>TryAcquireAsync(TimeSpan, CancellationToken)</c>, each
/// returning a <see cref="System.Threading.Tasks.ValueTask{TResult}"/> of <see cref="AsyncLockScope"/>.
/// </summary>
/// <remarks>The source generator recognises async locks by this marker; it declares no members.</remarks>
public interface IAsyncExclusiveAccessLock
{
}
