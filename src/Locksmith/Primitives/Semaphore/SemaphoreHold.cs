using System;
using System.Threading;

namespace Locksmith;

/// <summary>
/// One async hold of <see cref="CountingSemaphore"/> permits: what its <see cref="AsyncLockScope"/> releases through.
/// A permit has no owner, so the hold itself remembers whether it was released: its generation is odd while held and
/// moves on at the release, so a second dispose of the scope (or of a copy) finds a stale token and throws instead of
/// giving the permits back twice.
/// </summary>
/// <remarks>
/// Holds belong to one semaphore (messages name it) and are reused: a released hold goes to the releasing thread's
/// spare slot, or to its semaphore's, so a steady stream of acquisitions allocates nothing.
/// </remarks>
internal sealed class SemaphoreHold : IAsyncScopeReleaser
{
    [ThreadStatic]
    private static SemaphoreHold? t_spare;

    private int _generation;

    // The flow of the current generation's hold; kept after the release, so a second release before the hold serves
    // another acquisition still names it.
    private LockOwner? _owner;

    private SemaphoreHold(CountingSemaphore semaphore) => Semaphore = semaphore;

    /// <summary>The semaphore whose permits the hold gives back.</summary>
    public CountingSemaphore Semaphore { get; }

    /// <summary>A free hold of <paramref name="semaphore"/>: this thread's spare, the semaphore's, or a new one.</summary>
    public static SemaphoreHold Rent(CountingSemaphore semaphore)
    {
        var spare = t_spare;
        if (spare is not null && ReferenceEquals(spare.Semaphore, semaphore))
        {
            t_spare = null;
            return spare;
        }

        return semaphore.TakeSpareHold() ?? new SemaphoreHold(semaphore);
    }

    /// <summary>Starts a hold of <paramref name="owner"/> (the renter owns the object alone here); returns the scope's token.</summary>
    public int Begin(LockOwner owner)
    {
        _owner = owner;
        int generation = _generation + 1;
        Volatile.Write(ref _generation, generation);
        return generation;
    }

    public AsyncLockScope ScopeFor(LockOwner owner, int token, int tag) => AsyncLockScope.ForSemaphoreHold(this, token, tag);

    public void ReleaseScope(int token, int extra)
    {
        // Read before the swap: once it wins, the hold may serve another acquisition (this thread's spare) at any time.
        var owner = _owner!;

        // Exactly one release of a generation wins; a copy of the scope disposed again finds it moved on.
        if (Interlocked.CompareExchange(ref _generation, token + 1, token) != token)
        {
            // The flow is known only while the hold has not been taken again since (one generation on).
            int? scopeOwnerId = Volatile.Read(ref _generation) == token + 1 ? Volatile.Read(ref _owner)?.OwnerId : null;
            ThrowHelper.ThrowSemaphoreHoldReleasedTwice(Semaphore, scopeOwnerId, extra);
        }

        var semaphore = Semaphore;
        if (t_spare is null)
        {
            t_spare = this;
        }
        else
        {
            semaphore.KeepSpareHold(this);
        }

        semaphore.ReleaseAsyncHold(owner, extra);
    }
}
