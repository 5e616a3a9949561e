using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Threading;
using Locksmith.Tests.Support;

namespace Locksmith.Tests.Metrics;

/// <summary>
/// <c>locksmith.lock.hold.duration</c>: one measurement per exclusive hold, in seconds, tagged like every instrument;
/// nothing stamped or recorded while no listener enables it.
/// </summary>
public sealed class HoldDurationTests
{
    private const string HoldDuration = "locksmith.lock.hold.duration";

    private readonly record struct Hold(double Seconds, string? Name, string? Kind, string? Mode);

    /// <summary>Listens to the Locksmith instruments in <paramref name="instruments"/> and keeps the holds of one lock name.</summary>
    private sealed class HoldRecorder : IDisposable
    {
        private readonly MeterListener _listener = new();

        public HoldRecorder(string lockName, params string[] instruments)
        {
            string[] enabled = instruments.Length == 0 ? [HoldDuration] : instruments;
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == LocksmithMetrics.MeterName && Array.IndexOf(enabled, instrument.Name) >= 0)
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) =>
            {
                var hold = Read(value, tags);
                if (instrument.Name == HoldDuration && hold.Name == lockName)
                {
                    Holds.Enqueue(hold);
                }
            });
            _listener.Start();
        }

        public ConcurrentQueue<Hold> Holds { get; } = new();

        private static Hold Read(double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
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

            return new Hold(value, name, kind, mode);
        }

        public void Dispose() => _listener.Dispose();
    }

    /// <summary>
    /// One hold with the tags, whose duration lies within the time since <paramref name="before"/> (taken before the
    /// acquisition): both come from the same clock, so this checks the measurement, not how fast the machine is.
    /// </summary>
    private static void AssertOneHold(HoldRecorder recorder, string name, string kind, string mode, long before)
    {
        double window = Stopwatch.GetElapsedTime(before).TotalSeconds;
        var hold = Assert.Single(recorder.Holds);
        Assert.Equal(name, hold.Name);
        Assert.Equal(kind, hold.Kind);
        Assert.Equal(mode, hold.Mode);
        Assert.InRange(hold.Seconds, 0, window);
    }

    [Fact]
    public void ExclusiveLock_Hold_RecordsOneMeasurement_WithTheThreeTags()
    {
        var gate = new ExclusiveLock("hold-exclusive");
        using var recorder = new HoldRecorder("hold-exclusive");
        long before = Stopwatch.GetTimestamp();

        using (gate.Acquire())
        {
            Assert.NotEqual(0, gate.HoldStart);
        }

        AssertOneHold(recorder, "hold-exclusive", "exclusive", "exclusive", before);
        Assert.Equal(0, gate.HoldStart);
    }

    [Fact]
    public void OrderedExclusiveLock_Hold_IsRecorded()
    {
        var gate = new ExclusiveLock("hold-ordered", level: 7);
        using var recorder = new HoldRecorder("hold-ordered");
        long before = Stopwatch.GetTimestamp();

        using (gate.Acquire())
        {
            Assert.NotEqual(0, gate.HoldStart);
        }

        AssertOneHold(recorder, "hold-ordered", "exclusive", "exclusive", before);
    }

    [Fact]
    public void ReentrantLock_NestedAcquisitions_AreOneHold()
    {
        var gate = new ReentrantLock("hold-reentrant");
        using var recorder = new HoldRecorder("hold-reentrant");
        long before = Stopwatch.GetTimestamp();

        using (gate.Acquire())
        {
            using (gate.Acquire())
            {
                Assert.NotEqual(0, gate.HoldStart);
            }

            Assert.Empty(recorder.Holds);
        }

        AssertOneHold(recorder, "hold-reentrant", "reentrant", "exclusive", before);
    }

    [Fact]
    public void SpinGate_Hold_IsRecorded()
    {
        var gate = new SpinGate("hold-spin");
        using var recorder = new HoldRecorder("hold-spin");
        long before = Stopwatch.GetTimestamp();

        using (gate.Acquire())
        {
            Assert.NotEqual(0, gate.HoldStart);
        }

        AssertOneHold(recorder, "hold-spin", "spin", "exclusive", before);
    }

    [Fact]
    public void ReadWriteLock_WriteHold_IsRecorded_ReadHoldIsNot()
    {
        var rw = new ReadWriteLock("hold-rw");
        using var recorder = new HoldRecorder("hold-rw");

        using (rw.AcquireRead())
        {
        }

        long before = Stopwatch.GetTimestamp();
        using (rw.AcquireWrite())
        {
            Assert.NotEqual(0, rw.HoldStart);
        }

        AssertOneHold(recorder, "hold-rw", "read_write", "write", before);
    }

    [Fact]
    public void NoListener_StampsNothing_AndRecordsNothing()
    {
        var gate = new ExclusiveLock("hold-unheard");
        var rw = new ReadWriteLock("hold-unheard-rw");

        // No listener: the acquisition reads no clock and writes no start.
        using (gate.Acquire())
        using (rw.AcquireWrite())
        {
            Assert.Equal(0, gate.HoldStart);
            Assert.Equal(0, rw.HoldStart);
        }

        // A listener that arrives during a hold gets nothing for it: its start was never stamped.
        var scope = gate.Acquire();
        using (var recorder = new HoldRecorder("hold-unheard"))
        {
            scope.Dispose();
            Assert.Empty(recorder.Holds);
        }
    }

    [Fact]
    public void ListenerOfOtherInstrumentsOnly_StampsNoHold()
    {
        var gate = new ExclusiveLock("hold-acquisitions-only");
        using var recorder = new HoldRecorder("hold-acquisitions-only", "locksmith.lock.acquisitions");

        using (gate.Acquire())
        {
            Assert.Equal(0, gate.HoldStart);
        }

        Assert.Empty(recorder.Holds);
    }

    [Fact]
    public void ListenerGoneDuringTheHold_GetsNothing_AndTheLockIsCleanAfter()
    {
        var gate = new ExclusiveLock("hold-listener-gone");
        var recorder = new HoldRecorder("hold-listener-gone");
        var scope = gate.Acquire();
        Assert.NotEqual(0, gate.HoldStart);
        recorder.Dispose();
        scope.Dispose();

        Assert.Empty(recorder.Holds);
        Assert.Equal(0, gate.HoldStart);
        Assert.False(gate.IsHeld);
    }

    [Fact]
    public void ReleaseByAnotherThread_FailsWithoutTakingTheOwnersStart()
    {
        var gate = new ExclusiveLock("hold-foreign-release");
        using var recorder = new HoldRecorder("hold-foreign-release");
        long before = Stopwatch.GetTimestamp();
        using (gate.Acquire())
        {
            long start = gate.HoldStart;
            Exception? failure = null;
            var other = new Thread(() => failure = Record.Exception(gate.Release)) { IsBackground = true };
            other.Start();
            other.JoinGuarded();

            Assert.IsType<SynchronizationLockException>(failure);
            Assert.Equal(start, gate.HoldStart);
        }

        AssertOneHold(recorder, "hold-foreign-release", "exclusive", "exclusive", before);
    }
}
