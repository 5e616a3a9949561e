using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics.Metrics;
using Locksmith.Tests.Support;

namespace Locksmith.Tests.Metrics;

public sealed class LocksmithMetricsTests
{
    /// <summary>Collects Locksmith measurements for one lock name (tests in this assembly run one at a time).</summary>
    private sealed class Recorder : IDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly string _lockName;

        public Recorder(string lockName)
        {
            _lockName = lockName;
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == LocksmithMetrics.MeterName)
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<long>((i, value, tags, _) => Record(i, value, tags));
            _listener.SetMeasurementEventCallback<double>((i, value, tags, _) => Record(i, value, tags));
            _listener.Start();
        }

        public ConcurrentDictionary<string, double> Totals { get; } = new();

        public ConcurrentDictionary<string, int> Counts { get; } = new();

        public ConcurrentBag<string> Modes { get; } = new();

        public ConcurrentQueue<string> Problems { get; } = new();

        private void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            string? name = null, mode = null, kind = null;
            foreach (var tag in tags)
            {
                switch (tag.Key)
                {
                    case "lock.name": name = tag.Value as string; break;
                    case "lock.mode": mode = tag.Value as string; break;
                    case "lock.kind": kind = tag.Value as string; break;
                }
            }

            if (name != _lockName)
            {
                return;
            }

            // Measurements arrive on whichever thread recorded them (a holder thread too): never assert here, where a
            // failure would escape into that thread's lock call; the test asserts on the collected problems.
            if (kind is null)
            {
                Problems.Enqueue($"{instrument.Name} recorded without a lock.kind tag");
            }

            Modes.Add(mode!);
            Totals.AddOrUpdate(instrument.Name, value, (_, old) => old + value);
            Counts.AddOrUpdate(instrument.Name, 1, (_, old) => old + 1);
        }

        public double Total(string instrument) => Totals.TryGetValue(instrument, out var v) ? v : 0;

        public void Dispose() => _listener.Dispose();
    }

    [Fact]
    public void Counts_MatchWhatTheTestDid()
    {
        using var policy = PolicyScope.OrderViolations(OrderViolationAction.Throw);
        var gate = new ExclusiveLock("metrics-gate", level: 1);
        var higher = new ExclusiveLock("metrics-higher", level: 2);
        using var recorder = new Recorder("metrics-gate");

        for (int i = 0; i < 5; i++)
        {
            using var scope = gate.Acquire();
        }

        using (var holder = new HeldOnOtherThread("holder", release =>
        {
            using var scope = gate.Acquire();
            release.Wait();
        }))
        {
            holder.WaitUntilHeld(() => gate.IsHeld);
            for (int i = 0; i < 3; i++)
            {
                Assert.False(gate.TryAcquire(TimeSpan.FromMilliseconds(10), out _));
            }
        }

        using (higher.Acquire())
        {
            Assert.Throws<LockOrderViolationException>(() => gate.Acquire());
        }

        Assert.Equal(6, recorder.Total("locksmith.lock.acquisitions"));   // 5 here + 1 by the holder
        Assert.Equal(3, recorder.Total("locksmith.lock.timeouts"));
        Assert.Equal(1, recorder.Total("locksmith.lock.order_violations"));
        Assert.Equal(3, recorder.Total("locksmith.lock.contentions"));
        // Three waits were recorded; how long each took is the clock's business (a coarse timer may say 0 s).
        Assert.Equal(3, recorder.Counts["locksmith.lock.wait.duration"]);
        Assert.Contains("exclusive", recorder.Modes);
        Assert.Empty(recorder.Problems);
    }

    [Fact]
    public void InstrumentNames_AndUnits_FollowTheConvention()
    {
        // The instruments come into being with the runtime's metrics class, on first use: use a lock here, so the test
        // does not depend on another test having used one before it (the order of test classes is not fixed).
        new ExclusiveLock("instruments").Acquire().Dispose();
        var seen = new Dictionary<string, string?>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, _) =>
            {
                if (instrument.Meter.Name == "Locksmith")
                {
                    seen[instrument.Name] = instrument.Unit;
                }
            },
        };
        listener.Start();

        Assert.Equal("{acquisition}", seen["locksmith.lock.acquisitions"]);
        Assert.Equal("{contention}", seen["locksmith.lock.contentions"]);
        Assert.Equal("s", seen["locksmith.lock.wait.duration"]);
        Assert.Equal("s", seen["locksmith.lock.hold.duration"]);
        Assert.Equal("{timeout}", seen["locksmith.lock.timeouts"]);
        Assert.Equal("{violation}", seen["locksmith.lock.order_violations"]);
    }

    [Fact]
    public void TimeoutAndLongWaitCallbacks_Fire()
    {
        using var policy = PolicyScope.Capture();
        var timeouts = new ConcurrentQueue<LockTimeoutEvent>();
        var longWaits = new ConcurrentQueue<LongWaitEvent>();
        LocksmithPolicy.TimeoutOccurred = timeouts.Enqueue;
        LocksmithPolicy.LongWaitOccurred = longWaits.Enqueue;
        LocksmithPolicy.LongWaitThreshold = TimeSpan.Zero;
        var gate = new ExclusiveLock("callbacks");

        var holder = new HeldOnOtherThread("holder", release =>
        {
            using var scope = gate.Acquire();
            release.Wait();
        });
        holder.WaitUntilHeld(() => gate.IsHeld);
        Assert.False(gate.TryAcquire(TimeSpan.FromMilliseconds(10), out _));
        var timeout = Assert.Single(timeouts, t => t.LockName == "callbacks");
        Assert.Equal("callbacks", timeout.LockName);
        Assert.Equal(holder.ThreadId, timeout.OwnerThreadId);

        var waiter = Concurrently.Start("waiter", () => gate.Acquire(TimeSpan.FromSeconds(60)).Dispose());
        Blocked.OnLock(gate);
        holder.Release();
        waiter.JoinGuarded();
        var longWait = Assert.Single(longWaits, w => w.LockName == "callbacks");
        Assert.Equal(LockMode.Exclusive, longWait.Mode);
    }
}
