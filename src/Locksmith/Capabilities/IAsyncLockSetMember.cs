namespace Locksmith;

/// <summary>
/// Marks an async lock that the async forms of <see cref="LockSet"/> (<c>LockSet.AcquireAsync</c>) can take together
/// with others: <see cref="AsyncExclusiveLock"/>, <see cref="AsyncReadWriteLock"/> (write mode) and <see cref="CountingSemaphore"/> (one permit).
/// </summary>
/// <remarks>
/// Only Locksmith's own locks implement it; <see cref="LockSet"/> rejects any other implementation with
/// <see cref="System.ArgumentException"/>. Like the other capability markers it declares no members (see
/// <see cref="IExclusiveAccessLock"/>).
/// </remarks>
public interface IAsyncLockSetMember
{
}
