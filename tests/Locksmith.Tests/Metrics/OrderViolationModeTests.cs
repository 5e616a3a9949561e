using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics.Metrics;
using System.Threading.Tasks;
using Locksmith.Tests.Support;
using Xunit;

namespace Locksmith.Tests.Metrics;

/// <summary>
/// <c>locksmith.lock.order_violations</c> was always tagged <c>lock.mode=exclusive</c>, so a read of a read-write lock
/// against the order made a (name, read_write, exclusive) series its other instruments never use (they tag reads
/// <c>read</c>), and a semaphore's violation was not tagged <c>permit</c> (found by a hosting trial). It now carries the
/// requested acquisition's mode.
/// </summary>
public sealed class OrderViolationModeTests
{
    private const string Violations = "locksmith.lock.order_violations";

    [Fact]
    public void ReadWriteLock_ARead_IsCountedAsARead_AndAWriteAsAWrite()
    {
        using var policy = PolicyScope.OrderViolations(OrderViolationAction.Throw);
        var outer = new ExclusiveLock("omode-rw-outer", level: 20);
        var ledger = new ReadWriteLock("omode-rw", level: 10);
        using var recorder = new ViolationRecorder("omode-rw");

        using (outer.Acquire())
        {
            Assert.Throws<LockOrderViolationException>(() => ledger.AcquireRead().Dispose());
            Assert.Equal([("read_write", "read")], recorder.Seen);
            Assert.Throws<LockOrderViolationException>(() => ledger.AcquireWrite().Dispose());
        }

        Assert.Equal([("read_write", "read"), ("read_write", "write")], recorder.Seen);
        Assert.Equal(0, ledger.CurrentReaderCount);
    }

    [Fact]
    public async Task ReadWriteLock_ASyncReadInAFlowHoldingAnAsyncLock_IsCountedAsARead()
    {
        using var policy = PolicyScope.OrderViolations(OrderViolationAction.Throw);
        var outer = new AsyncExclusiveLock("omode-rw-flow-outer", level: 20);
        var ledger = new ReadWriteLock("omode-rw-flow", level: 10);
        using var recorder = new ViolationRecorder("omode-rw-flow");

        await Task.Run(async () =>
        {
            using (await outer.AcquireAsync())
            {
                Assert.Throws<LockOrderViolationException>(() => ledger.AcquireRead().Dispose());
            }
        });

        Assert.Equal([("read_write", "read")], recorder.Seen);
    }

    [Fact]
    public async Task AsyncReadWriteLock_ARead_IsCountedAsARead_AndAWriteAsAWrite()
    {
        using var policy = PolicyScope.OrderViolations(OrderViolationAction.Throw);
        var outer = new AsyncExclusiveLock("omode-arw-outer", level: 20);
        var outbox = new AsyncReadWriteLock("omode-arw", level: 10);
        using var recorder = new ViolationRecorder("omode-arw");

        await Task.Run(async () =>
        {
            using (await outer.AcquireAsync())
            {
                await Assert.ThrowsAsync<LockOrderViolationException>(async () => (await outbox.AcquireReadAsync()).Dispose());
                await Assert.ThrowsAsync<LockOrderViolationException>(async () => (await outbox.AcquireWriteAsync()).Dispose());
            }
        });

        Assert.Equal([("async_read_write", "read"), ("async_read_write", "write")], recorder.Seen);
        Assert.Equal(0, outbox.CurrentReaderCount);
        Assert.False(outbox.IsWriteHeld);
    }

    [Fact]
    public async Task CountingSemaphore_SyncAndAsync_AreCountedAsPermits()
    {
        using var policy = PolicyScope.OrderViolations(OrderViolationAction.Throw);
        var outer = new ExclusiveLock("omode-sem-outer", level: 20);
        var asyncOuter = new AsyncExclusiveLock("omode-sem-async-outer", level: 20);
        var pool = new CountingSemaphore(2, 2, "omode-sem", level: 10);
        using var recorder = new ViolationRecorder("omode-sem");

        using (outer.Acquire())
        {
            Assert.Throws<LockOrderViolationException>(() => pool.Acquire().Dispose());
        }

        Assert.Equal([("semaphore", "permit")], recorder.Seen);
        await Task.Run(async () =>
        {
            using (await asyncOuter.AcquireAsync())
            {
                await Assert.ThrowsAsync<LockOrderViolationException>(async () => (await pool.AcquireAsync()).Dispose());
            }
        });

        Assert.Equal([("semaphore", "permit"), ("semaphore", "permit")], recorder.Seen);
        Assert.Equal(2, pool.CurrentCount);
    }

    [Fact]
    public void ExclusiveLock_IsStillCountedAsExclusive()
    {
        using var policy = PolicyScope.OrderViolations(OrderViolationAction.Throw);
        var outer = new ExclusiveLock("omode-ex-outer", level: 20);
        var gate = new ExclusiveLock("omode-ex", level: 10);
        using var recorder = new ViolationRecorder("omode-ex");

        using (outer.Acquire())
        {
            Assert.Throws<LockOrderViolationException>(() => gate.Acquire().Dispose());
        }

        Assert.Equal([("exclusive", "exclusive")], recorder.Seen);
    }

    /// <summary>The (kind, mode) tags of each order violation counted for one lock name, in order.</summary>
    private sealed class ViolationRecorder : IDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly string _lockName;
        private readonly ConcurrentQueue<(string? Kind, string? Mode)> _seen = new();

        public ViolationRecorder(string lockName)
        {
            _lockName = lockName;
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == LocksmithMetrics.MeterName && instrument.Name == Violations)
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<long>((_, _, tags, _) => Record(tags));
            _listener.Start();
        }

        public List<(string? Kind, string? Mode)> Seen => [.. _seen];

        private void Record(ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            string? name = null, kind = null, mode = null;
            foreach (var tag in tags)
            {
                switch (tag.Key)
                {
                    case "lock.name": name = tag.Value as string; break;
                    case "lock.kind": kind = tag.Value as string; break;
                    case "lock.mode": mode = tag.Value as string; break;
                }
            }

            if (name == _lockName)
            {
                _seen.Enqueue((kind, mode));
            }
        }

        public void Dispose() => _listener.Dispose();
    }
}
