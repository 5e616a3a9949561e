namespace Locksmith;

/// <summary>An async primitive whose waiter can take what it queued for itself as it queues (see <see cref="AsyncWaitNode.TookAtOnce"/>).</summary>
internal interface IAsyncTakeAtOnce
{
    /// <summary>
    /// Records the hold <paramref name="flow"/> just took as it queued and returns its scope; <paramref name="request"/> is
    /// what the primitive needs to know of it (a token, a reader's slot, a permit count).
    /// </summary>
    AsyncLockScope TookAtOnce(LockOwner flow, int request);
}
