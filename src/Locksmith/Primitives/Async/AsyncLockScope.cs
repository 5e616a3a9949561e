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
    // Two fields, not four: a ValueTask of a scope this small is kept in registers through an await that completed at
    // once, where a larger one was copied on the stack right after being written (a stalled load on every acquisition).
    // That also needs each AcquireAsync's inlined part to make one call only (see AsyncExclusiveLock.EnterOffFastPath).
    // The holder is the lock (exclusive, write), the reading flow's record (read) or the semaphore hold; the ticket is
    // the token (low half) and what the holder's release needs besides (high half, see each Scope method).
    private readonly object? _holder;
    private readonly long _ticket;

    private AsyncLockScope(object holder, int token, int extra)
    {
        _holder = holder;
        _ticket = (uint)token | ((long)extra << 32);
    }

    /// <summary>A scope of an exclusive or write hold: <paramref name="ownerId"/> names the acquiring flow if the scope goes stale.</summary>
    internal static AsyncLockScope ForOwnedHold(IAsyncScopeReleaser releaser, int token, int ownerId) => new(releaser, token, ownerId);

    /// <summary>A scope of a read hold: the flow's record finds the lock by <paramref name="token"/> among its reads.</summary>
    internal static AsyncLockScope ForRead(LockOwner flow, int token, int readTag) => new(flow, token, readTag);

    /// <summary>A scope of a semaphore hold, which knows its flow; <paramref name="count"/> is the permits it gives back.</summary>
    internal static AsyncLockScope ForSemaphoreHold(SemaphoreHold hold, int token, int count) => new(hold, token, count);

    /// <summary>Whether this scope holds the lock (false for a <c>TryAcquireAsync</c> that timed out).</summary>
    public bool IsAcquired => _holder is not null;

    /// <summary>Releases the hold.</summary>
    /// <exception cref="System.Threading.SynchronizationLockException">The hold was already released.</exception>
    public void Dispose()
    {
        // Type tests, then direct calls: whether an interface call got devirtualized was up to profile-guided
        // optimization, and uncontended timings differed from one process to the next with it.
        var holder = _holder;
        if (holder is AsyncExclusiveLock exclusive)
        {
            exclusive.ReleaseScope((int)_ticket, (int)(_ticket >> 32));
        }
        else if (holder is LockOwner reader)
        {
            AsyncReadWriteLock.ReleaseReadScope(reader, (int)_ticket, (int)(_ticket >> 32));
        }
        else if (holder is AsyncReadWriteLock writeLock)
        {
            writeLock.ReleaseWriteScope((int)_ticket, (int)(_ticket >> 32));
        }
        else if (holder is IAsyncScopeReleaser releaser)
        {
            releaser.ReleaseScope((int)_ticket, (int)(_ticket >> 32));
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
