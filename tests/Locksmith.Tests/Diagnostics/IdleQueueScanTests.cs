using System;
using System.Threading;
using System.Threading.Tasks;
using Xunit;

namespace Locksmith.Tests.Diagnostics;

/// <summary>
/// A scan reads each async lock's queued waits under the queue's gate; a lock whose queue is empty has none to read, so
/// the scan must not take its gate (every lock ever contended keeps one, and the watchdog scans every few seconds).
/// Shown by holding an idle lock's gate on this thread while another thread scans: before, the scan waited for it.
/// </summary>
public sealed class IdleQueueScanTests
{
    private static readonly TimeSpan s_hangGuard = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task AScan_DoesNotEnterTheGateOfAnExclusiveLockWithNoWaiters()
    {
        var idle = new AsyncExclusiveLock("iqs-exclusive");
        await ContendOnce(() => idle.AcquireAsync(s_hangGuard), () => idle.WaitingCount);

        ScanWhileHolding(((IAsyncWaitHost)idle).Gate);
    }

    [Fact]
    public async Task AScan_DoesNotEnterTheGateOfAReadWriteLockWithNoWaiters()
    {
        var idle = new AsyncReadWriteLock("iqs-read-write");
        await ContendOnce(() => idle.AcquireWriteAsync(s_hangGuard), () => idle.WaitingCount);

        Assert.True(idle.QueueGateForTests is not null, "the contended lock made no gate");
        ScanWhileHolding(idle.QueueGateForTests!);
    }

    /// <summary>One acquisition waits and is granted, so the lock's queue has its gate, and ends empty.</summary>
    private static async Task ContendOnce(Func<ValueTask<AsyncLockScope>> acquire, Func<int> waitingCount)
    {
        var first = await acquire();
        Task second;
        using (ExecutionContext.SuppressFlow())
        {
            second = Task.Run(async () =>
            {
                using var scope = await acquire();
            });
        }

        Testing.Support.Guard.SpinUntil(() => waitingCount() == 1);
        first.Dispose();
        await second.WaitAsync(s_hangGuard);
        Assert.Equal(0, waitingCount());
    }

    private static void ScanWhileHolding(Lock gate)
    {
        using (gate.EnterScope())
        {
            var scan = Task.Run(() => DeadlockDetector.CurrentWaits().Count + DeadlockDetector.FindCycles().Count);
            Assert.True(scan.Wait(s_hangGuard), "the scan waited for the gate of a lock that has no waiters");
        }
    }
}
