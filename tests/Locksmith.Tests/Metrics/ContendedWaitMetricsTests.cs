using System;
using System.Collections.Generic;
using System.Diagnostics.Metrics;
using System.Threading;
using System.Threading.Tasks;

namespace Locksmith.Tests.Metrics;

public sealed class ContendedWaitMetricsTests
{
    /// <summary>Counts one lock's contentions and wait-duration measurements (tests in this assembly run one at a time).</summary>
    private sealed class WaitCounts : IDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly string _lockName;
        private int _contentions;
        private int _waits;

        public WaitCounts(string lockName)
        {
            _lockName = lockName;
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == LocksmithMetrics.MeterName)
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<long>((instrument, _, tags, _) =>
            {
                if (instrument.Name == "locksmith.lock.contentions" && IsMine(tags))
                {
                    Interlocked.Increment(ref _contentions);
                }
            });
            _listener.SetMeasurementEventCallback<double>((instrument, _, tags, _) =>
            {
                if (instrument.Name == "locksmith.lock.wait.duration" && IsMine(tags))
                {
                    Interlocked.Increment(ref _waits);
                }
            });
            _listener.Start();
        }

        public int Contentions => Volatile.Read(ref _contentions);

        public int Waits => Volatile.Read(ref _waits);

        public void Dispose() => _listener.Dispose();

        private bool IsMine(ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            foreach (var tag in tags)
            {
                if (tag.Key == "lock.name")
                {
                    return (string?)tag.Value == _lockName;
                }
            }

            return false;
        }
    }

    public static TheoryData<string> Locks => ["exclusive", "semaphore", "write", "read"];

    [Theory]
    [MemberData(nameof(Locks))]
    public async Task AnAsyncWaiterThatTakesTheLockAsItQueues_RecordsItsWait_OneWaitPerContention(string kind)
    {
        // The flow found the lock taken (a contention), and by the time it had queued under the gate the holder had left
        // without the gate (nobody was queued yet): its re-test took the lock. Its wait went unrecorded, so the wait
        // histogram counted fewer waits than contentions, where a thread's wait records one per contention.
        string name = $"took-as-it-queued-{kind}";
        var exclusive = new AsyncExclusiveLock(name);
        var semaphore = new CountingSemaphore(1, 1, name);
        var readWrite = new AsyncReadWriteLock(name);
        using var counts = new WaitCounts(name);
        IAsyncWaitHost host = kind switch
        {
            "exclusive" => exclusive,
            "semaphore" => semaphore,
            _ => readWrite,
        };

        var held = kind switch
        {
            "exclusive" => await exclusive.AcquireAsync(),
            "semaphore" => await semaphore.AcquireAsync(),
            _ => await readWrite.AcquireWriteAsync(),
        };

        var gateHolder = HeldOnOtherThread.Hold("queue-gate-holder", release =>
        {
            lock (host.Gate)
            {
                release.Wait();
            }
        });

        Task<bool> asker;
        try
        {
            // Under SuppressFlow: a flow of its own, not one sharing this test's hold.
            using (ExecutionContext.SuppressFlow())
            {
                asker = Task.Run(async () =>
                {
                    var ask = kind switch
                    {
                        "exclusive" => exclusive.AcquireAsync(),
                        "semaphore" => semaphore.AcquireAsync(),
                        "write" => readWrite.AcquireWriteAsync(),
                        _ => readWrite.AcquireReadAsync(),
                    };
                    using var scope = await ask;
                    return scope.IsAcquired;
                });
            }

            // Counted before it enters the gate the other thread holds; the release needs no gate, nobody being queued.
            Guard.SpinUntil(() => counts.Contentions == 1);
            held.Dispose();
        }
        finally
        {
            gateHolder.Release();
        }

        Assert.True(await asker);
        Assert.Equal(1, counts.Contentions);
        Assert.Equal(1, counts.Waits);
    }

    [Fact]
    public async Task AnAsyncWaiterRefusedAsItQueues_ForALockItsFlowTookMeanwhile_RecordsItsWait_OneWaitPerContention()
    {
        // A task of the flow found the lock held by another flow (a contention) and, by the time it had queued under the
        // gate, its own flow had taken the lock: refused with LockRecursionException, its node was recycled without a
        // wait measurement, so the histogram counted fewer waits than contentions.
        const string name = "refused-as-it-queued";
        var gate = new AsyncExclusiveLock(name);
        var outer = new AsyncExclusiveLock("refused-as-it-queued-outer");
        using var counts = new WaitCounts(name);

        Task<AsyncLockScope> other;
        using (ExecutionContext.SuppressFlow())
        {
            other = Task.Run(async () => await gate.AcquireAsync());   // a flow of its own holds the lock
        }

        var heldByOther = await other;
        using var outerScope = await outer.AcquireAsync();   // this flow holds a lock: tasks it starts share its holds
        var gateHolder = HeldOnOtherThread.Hold("queue-gate-holder", release =>
        {
            lock (((IAsyncWaitHost)gate).Gate)
            {
                release.Wait();
            }
        });

        Task asker;
        AsyncLockScope mine;
        try
        {
            asker = Task.Run(async () =>
            {
                using var scope = await gate.AcquireAsync(TimeSpan.FromSeconds(30));
            });

            // Counted before it enters the gate the other thread holds; the other flow leaves (no gate: nobody queued)
            // and this flow takes the lock, so the task meets its own flow's hold as it queues.
            Guard.SpinUntil(() => counts.Contentions == 1);
            heldByOther.Dispose();
            mine = await gate.AcquireAsync();
        }
        finally
        {
            gateHolder.Release();
        }

        await Assert.ThrowsAsync<LockRecursionException>(() => asker);
        mine.Dispose();
        Assert.Equal(1, counts.Contentions);
        Assert.Equal(1, counts.Waits);
    }
}
