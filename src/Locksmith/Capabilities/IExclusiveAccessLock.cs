namespace Locksmith;

/// <summary>
/// Marks a lock that is taken in one exclusive mode through <c>Acquire()</c>, <c>Acquire(TimeSpan, CancellationToken)</c>
/// and <c>TryAcquire(TimeSpan, out Scope)</c>, returning a disposable scope.
/// </summary>
/// <remarks>
/// The source generator recognises a lock by these marker interfaces, not by a list of type names, so a new
/// kind of lock plugs in by implementing them. They declare no members: the emitted code calls the concrete
/// type, so the fast path has no interface dispatch.
/// </remarks>
public interface IExclusiveAccessLock
{
}
