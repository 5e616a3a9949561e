using System;
using System.Threading.Tasks;

namespace Locksmith;

/// <summary>
/// A hold on an async lock (any mode) that an <c>AcquireAsync</c> returned; disposing it releases the hold.
/// A struct, so acquiring allocates nothing. Use <c>using var scope = await myLock.AcquireAsync(token);</c>.
/// </summary>
/// <remarks>
/// Disposing a scope releases exactly the hold it was returned for: a second dispose (of it or of a copy) throws
/// <see cref="System.Threading.SynchronizationLockException"/> naming the lock, instead of releasing a later owner's hold.
/// The default scope (from a <c>TryAcquireAsync</c> that timed out) holds nothing, and disposing it does nothing.
/// </remarks>
public readonly struct AsyncLockScope : IDisposable, IAsyncDisposable
{
    private readonly IAsyncScopeReleaser? _releaser;
    private readonly LockOwner? _owner;
    private readonly int _token;
    private readonly int _tag;

    internal AsyncLockScope(IAsyncScopeReleaser releaser, LockOwner owner, int token, int tag)
    {
        _releaser = releaser;
        _owner = owner;
        _token = token;
        _tag = tag;
    }

    /// <summary>Whether this scope holds the lock (false for a <c>TryAcquireAsync</c> that timed out).</summary>
    public bool IsAcquired => _releaser is not null;

    /// <summary>Releases the hold.</summary>
    /// <exception cref="System.Threading.SynchronizationLockException">The hold was already released.</exception>
    public void Dispose()
    {
        // Type tests, then direct calls: whether an interface call got devirtualized was up to profile-guided
        // optimization, and uncontended timings differed from one process to the next with it.
        var releaser = _releaser;
        if (releaser is AsyncExclusiveLock exclusive)
        {
            exclusive.ReleaseScope(_owner!, _token);
        }
        else if (releaser is AsyncReadWriteLock readWrite)
        {
            readWrite.ReleaseScope(_owner!, _token, _tag);
        }
        else
        {
            releaser?.ReleaseScope(_owner!, _token, _tag);
        }
    }

    /// <summary>Releases the hold; completes at once (for <c>await using</c>).</summary>
    /// <exception cref="System.Threading.SynchronizationLockException">The hold was already released.</exception>
    public ValueTask DisposeAsync()
    {
        Dispose();
        return default;
    }
}
