using System.Collections.Generic;

namespace Locksmith;

// For the deadlock detector: each queued writer's and reader's wait, as its node keeps it.
public sealed partial class AsyncReadWriteLock : IAcquisitionWaits
{
    /// <summary>The gate both queues share, once a wait made it (for tests).</summary>
    internal System.Threading.Lock? QueueGateForTests => _readers.GateOrNull;

    void IAcquisitionWaits.AddWaits(List<AcquisitionWait> waits)
    {
        // Empty queues have no waits to read: their gate is left to the lock (see AcquisitionWaits.AddQueued).
        if ((_readers.Count | _writers.Count) == 0 || _readers.GateOrNull is not { } gate)
        {
            return;
        }

        using (GateEntry.Enter(gate))
        {
            AcquisitionWaits.AddQueued(this, _writers.Head, waits);
            AcquisitionWaits.AddQueued(this, _readers.Head, waits);
        }
    }
}
