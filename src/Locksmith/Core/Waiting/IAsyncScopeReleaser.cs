namespace Locksmith;

/// <summary>What an <see cref="AsyncLockScope"/> calls to give back what it holds.</summary>
internal interface IAsyncScopeReleaser
{
    /// <summary>
    /// Releases the hold that <paramref name="token"/> names; throws <see cref="System.Threading.SynchronizationLockException"/>
    /// naming the lock and the flow when it is not held under that token (released twice, or never held).
    /// </summary>
    void ReleaseScope(LockOwner owner, int token, int tag);
}
