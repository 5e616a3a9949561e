using System;
using System.Collections.Generic;
using System.Threading;
using Xunit;

namespace Locksmith.Tests.Composite;

/// <summary>
/// A sync set's exception names the holder its member's timeout event named, even when that event's handler waits on
/// the same lock itself and times out too (a probe, a log helper taking the lock): the handler's own report, made on
/// the set's thread, must not become the set's.
/// </summary>
public sealed class LockSetNestedTimeoutReportTests
{
    private static readonly TimeSpan s_hangLimit = TimeSpan.FromSeconds(30);

    [Fact]
    public void AHandlerTimingOutOnTheSameMember_DoesNotChangeWhomTheSetsExceptionNames()
    {
        using var policy = Support.PolicyScope.Capture();
        var gate = new ExclusiveLock("nested-report-gate");
        var other = new ExclusiveLock("nested-report-other");
        using var first = new Holder(gate, "Holder-1");
        using var second = new Holder(gate, "Holder-2", start: false);

        var events = new List<LockTimeoutEvent>();
        int setThread = Environment.CurrentManagedThreadId;
        LocksmithPolicy.TimeoutOccurred = e =>
        {
            if (e.LockName != gate.Name || Environment.CurrentManagedThreadId != setThread)
            {
                return;
            }

            events.Add(e);
            if (events.Count == 1)
            {
                // The set's wait timed out naming Holder-1. Holder-1 leaves, Holder-2 takes the gate, and the handler's
                // own try times out naming Holder-2, on the set's thread, before the set builds its exception.
                first.Release();
                second.Start();
                Assert.False(gate.TryAcquire(TimeSpan.FromMilliseconds(1), out _));
            }
        };

        var ex = Assert.Throws<LockTimeoutException>(() => LockSet.Acquire(TimeSpan.FromMilliseconds(50), gate, other).Dispose());

        Assert.Equal(2, events.Count);
        Assert.Equal("Holder-1", events[0].OwnerThreadName);
        Assert.Equal("Holder-2", events[1].OwnerThreadName);
        Assert.Equal(events[0].OwnerThreadName, ex.OwnerThreadName);
        Assert.Equal(events[0].OwnerThreadId, ex.OwnerThreadId);
        Assert.False(other.IsHeld);
    }

    /// <summary>A named thread that holds a lock until released.</summary>
    private sealed class Holder : IDisposable
    {
        private readonly ManualResetEventSlim _holds = new();
        private readonly ManualResetEventSlim _release = new();
        private readonly Thread _thread;

        public Holder(ExclusiveLock gate, string name, bool start = true)
        {
            _thread = new Thread(() =>
            {
                using (gate.Acquire(s_hangLimit))
                {
                    _holds.Set();
                    _release.Wait(s_hangLimit);
                }
            })
            { IsBackground = true, Name = name };
            if (start)
            {
                Start();
            }
        }

        public void Start()
        {
            _thread.Start();
            Assert.True(_holds.Wait(s_hangLimit), $"{_thread.Name} never took the lock");
        }

        public void Release() => _release.Set();

        public void Dispose()
        {
            Release();
            if (_thread.ThreadState != ThreadState.Unstarted)
            {
                Assert.True(_thread.Join(s_hangLimit), $"{_thread.Name} did not end");
            }

            _holds.Dispose();
            _release.Dispose();
        }
    }
}
