namespace Locksmith;

/// <summary>
/// Marks a lock that its owner may acquire again without deadlocking, so a guarded method calling another
/// wrapper of the same lock is not a self-deadlock.
/// </summary>
public interface IReentrantAccessLock
{
}
