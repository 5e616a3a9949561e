namespace Locksmith;

/// <summary>
/// Marks a whole lock that <see cref="LockSet"/> can take together with others: <see cref="ExclusiveLock"/>,
/// <see cref="ReentrantLock"/>, <see cref="SpinGate"/>, <see cref="ReadWriteLock"/> (its write lock) and
/// <see cref="CountingSemaphore"/> (one permit).
/// </summary>
/// <remarks>
/// <para>Striped locks (<see cref="StripedLock{TKey}"/>, <see cref="StripedReadWriteLock{TKey}"/>) do not implement
/// it, so passing one to <see cref="LockSet"/> is a compile-time error rather than a failure at run time: a striped
/// lock is taken by key, through its own <c>AcquireMany</c> / <c>AcquireManyWrite</c>.</para>
/// <para>Only Locksmith's own locks implement it; <see cref="LockSet"/> rejects any other implementation with
/// <see cref="System.ArgumentException"/>. Like the other capability markers it declares no members (see
/// <see cref="IExclusiveAccessLock"/>).</para>
/// </remarks>
public interface ILockSetMember
{
}
