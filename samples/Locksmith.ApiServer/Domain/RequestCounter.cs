using System.Threading;
using Microsoft.Extensions.DependencyInjection;

namespace Locksmith.ApiServer;

/// <summary>
/// The seed's request counter, exact: hits add to a <see cref="StripedCounter"/> (cells on their own cache lines, so
/// concurrent hits rarely collide) under the shared mode of the <c>hits</c> lock, and a snapshot or reset takes the
/// exclusive mode, so it sees no hit half-way. The generator writes <c>Hit</c>, <c>Total</c> and <c>Reset</c>.
/// </summary>
public sealed partial class RequestCounter([FromKeyedServices(ApiServerLocks.Hits)] ReadWriteLock hitsLock)
{
    [LockOrder(ApiServerLocks.HitsLevel)]
    private readonly ReadWriteLock _lock = hitsLock;

    // Adds from many threads at once are safe on a StripedCounter: shared mode only keeps them away from a reset.
    private readonly StripedCounter _hits = new(ApiServerLocks.Hits);

    [Guarded(Lock = nameof(_lock), Access = LockAccess.Read)]
    private void HitCore() => _hits.Increment();

    [Guarded(Lock = nameof(_lock), WrapperName = "Total")]
    private long ReadTotal() => _hits.Sum();

    [Guarded(Lock = nameof(_lock))]
    private long ResetCore() => _hits.SumThenReset();
}

/// <summary>
/// The same counter without any lock, kept on purpose: two requests that read the same value both write it plus one,
/// and one hit is lost. Compare <c>/totals</c>' <c>guardedHits</c> with <c>unguardedHits</c>.
/// </summary>
public sealed class UnguardedCounter
{
    private long _count;

    /// <summary>
    /// <c>_count++</c> spelled out as the three steps it is (read, add, write), with a short spin in between where a
    /// real handler would do work: on a 2-core machine a bare <c>++</c> loses only a handful of updates per 10,000,
    /// this loses many, which is the point of the sample.
    /// </summary>
    public void Hit()
    {
        long seen = _count;
        Thread.SpinWait(50);
        _count = seen + 1;
    }

    /// <summary>The count as it stands (torn reads cannot happen on 64-bit).</summary>
    public long Total => Volatile.Read(ref _count);

    /// <summary>Back to 0 for a fresh run.</summary>
    public void Reset() => Volatile.Write(ref _count, 0);
}
