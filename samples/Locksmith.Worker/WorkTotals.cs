namespace Locksmith.Worker;

/// <summary>
/// What producers and consumers report when they finish (counts and checksums), guarded by its own lock: a thread adds
/// its local totals once, so the lock is taken once per thread, not once per item.
/// </summary>
public sealed partial class WorkTotals(ExclusiveLock totalsLock)
{
    [LockOrder(WorkerRegistration.TotalsLevel)]
    private readonly ExclusiveLock _lock = totalsLock;

    [Guarded(Lock = nameof(_lock))]
    private long _produced;

    [Guarded(Lock = nameof(_lock))]
    private long _producedChecksum;

    [Guarded(Lock = nameof(_lock))]
    private long _consumed;

    [Guarded(Lock = nameof(_lock))]
    private long _consumedChecksum;

    /// <summary>Adds one producer's count and checksum.</summary>
    [Guarded(Lock = nameof(_lock))]
    private void AddProducedCore(long count, long checksum)
    {
        _produced += count;
        _producedChecksum = unchecked(_producedChecksum + checksum);
    }

    /// <summary>Adds one consumer's count and checksum.</summary>
    [Guarded(Lock = nameof(_lock))]
    private void AddConsumedCore(long count, long checksum)
    {
        _consumed += count;
        _consumedChecksum = unchecked(_consumedChecksum + checksum);
    }

    /// <summary>The totals so far.</summary>
    [Guarded(Lock = nameof(_lock), WrapperName = "Read")]
    private (long Produced, long ProducedChecksum, long Consumed, long ConsumedChecksum) ReadTotals() =>
        (_produced, _producedChecksum, _consumed, _consumedChecksum);
}
