namespace Locksmith;

/// <summary>What an <see cref="AsyncLockScope"/> calls to give back what it holds, and what makes a queued waiter's scope.</summary>
internal interface IAsyncScopeReleaser
{
    /// <summary>
    /// Releases the hold that <paramref name="token"/> names; throws <see cref="System.Threading.SynchronizationLockException"/>
    /// naming the lock and the flow when it is not held under that token (released twice, or never held).
    /// </summary>
    /// <param name="token">The scope's token.</param>
    /// <param name="extra">What the scope carries besides (see <see cref="ScopeFor"/>).</param>
    void ReleaseScope(int token, int extra);

    /// <summary>The scope of a hold granted to a queued waiter of <paramref name="owner"/>, with the token and tag of its grant.</summary>
    AsyncLockScope ScopeFor(LockOwner owner, int token, int tag);
}
