using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics.Metrics;
using System.Threading.Tasks;

namespace Locksmith.Postgres.Tests;

/// <summary>
/// An order violation of a distributed read-write lock's read is counted with <c>lock.mode=read</c>, as its other
/// instruments tag a read, alone and as a lock set's lowest member; a write is counted as a write. Before, every
/// PostgreSQL violation was counted as a write (and earlier as exclusive).
/// </summary>
public sealed class PostgresOrderViolationModeTests
{
    [Fact]
    public async Task ARead_AloneOrAsASetsLowestMember_IsCountedAsARead_AndAWriteAsAWrite()
    {
        await using var provider = PostgresServer.Provider();
        var high = provider.CreateExclusiveLock(PostgresServer.Unique("omode_high"), level: 20);
        string lowName = PostgresServer.Unique("omode_low");
        var low = provider.CreateReadWriteLock(lowName, level: 10);
        var other = provider.CreateExclusiveLock(PostgresServer.Unique("omode_other"), level: 15);
        using var recorder = new ViolationRecorder(lowName);

        await using (await high.AcquireAsync())
        {
            Assert.Throws<LockOrderViolationException>(() => { _ = low.AcquireReadAsync(); });
            Assert.Throws<LockOrderViolationException>(() => { _ = low.AcquireWriteAsync(); });
            await Assert.ThrowsAsync<LockOrderViolationException>(async () =>
            {
                await using var set = await PostgresLockSet.AcquireAsync(low.ReadRequest(), other.Request());
            });
        }

        Assert.Equal(["read", "write", "read"], recorder.Modes);
        Assert.Equal(0, provider.ConnectionsInUse);
    }

    /// <summary>The <c>lock.mode</c> of each order violation counted for one lock name, in order.</summary>
    private sealed class ViolationRecorder : IDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly ConcurrentQueue<string?> _modes = new();

        public ViolationRecorder(string lockName)
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == LocksmithMetrics.MeterName && instrument.Name == "locksmith.lock.order_violations")
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<long>((_, _, tags, _) =>
            {
                string? name = null, mode = null;
                foreach (var tag in tags)
                {
                    if (tag.Key == "lock.name")
                    {
                        name = tag.Value as string;
                    }
                    else if (tag.Key == "lock.mode")
                    {
                        mode = tag.Value as string;
                    }
                }

                if (name == lockName)
                {
                    _modes.Enqueue(mode);
                }
            });
            _listener.Start();
        }

        public List<string?> Modes => [.. _modes];

        public void Dispose() => _listener.Dispose();
    }
}
