using System.Collections.Generic;

namespace Locksmith;

// For the deadlock detector: each queued writer's and reader's wait, as its node keeps it.
public sealed partial class AsyncReadWriteLock : IAcquisitionWaits
{
    void IAcquisitionWaits.AddWaits(List<AcquisitionWait> waits)
    {
        if (_readers.GateOrNull is not { } gate)
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
