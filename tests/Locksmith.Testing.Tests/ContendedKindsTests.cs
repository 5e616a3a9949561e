using System;
using System.Threading.Tasks;

namespace Locksmith.Testing.Tests;

/// <summary>
/// Two flows contending for one primitive of each kind, with counter operations before and inside the hold so the
/// scheduler really makes one wait: every run must end (no false deadlock) with every update counted. A release that
/// forgot to tell the scheduler would leave the waiter enlisted and show up here as a Deadlock.
/// </summary>
public sealed class ContendedKindsTests
{
    private const int Iterations = 200;

    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (var kind in new[]
        {
            "read-write", "read-write-reader", "reentrant", "spin", "striped-read-write", "semaphore",
            "async-read-write", "async-read-write-reader", "async-semaphore", "condition", "barrier",
        })
        {
            data.Add(kind, "random");
            data.Add(kind, "pct");
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void TwoFlowsContendingNeverDeadlockFalsely(string kind, string strategy)
    {
        var options = new ControlledTestOptions
        {
            Seed = 1,
            Iterations = Iterations,
            Strategy = strategy == "pct" ? SchedulingStrategy.Pct() : SchedulingStrategy.Random,
        };
        var result = ControlledTest.Run(scenario => Build(kind, scenario), options);
        Assert.True(result.Passed, result.ToString());
        Assert.Equal(Iterations, result.IterationsRun);
    }

    /// <summary>The reviewer's repro, seed 1 as reported: b waits for the write lock a holds.</summary>
    [Fact]
    public void ReportedWriteLockReproPasses()
    {
        var result = ControlledTest.Run(
            scenario =>
            {
                var rw = new ReadWriteLock("prices.rw");
                var c = new AtomicCounter("c");
                scenario.Thread("a", () =>
                {
                    using (rw.AcquireWrite())
                    {
                        c.Increment();
                        c.Increment();
                    }
                });
                scenario.Thread("b", () =>
                {
                    c.Increment();
                    using (rw.AcquireWrite())
                    {
                        c.Increment();
                    }
                });
                scenario.Finally(() => Assert.Equal(4, c.Value));
            },
            new ControlledTestOptions { Seed = 1, Iterations = Iterations });
        Assert.True(result.Passed, result.ToString());
    }

    private static void Build(string kind, Scenario scenario)
    {
        var c = new AtomicCounter("c");
        switch (kind)
        {
            case "read-write":
            {
                var l = new ReadWriteLock("rw");
                Both(scenario, c, 4, () => { using (l.AcquireWrite()) { c.Increment(); c.Increment(); } });
                break;
            }

            case "read-write-reader":
            {
                var l = new ReadWriteLock("rw");
                scenario.Thread("a", () => { using (l.AcquireWrite()) { c.Increment(); c.Increment(); } });
                scenario.Thread("b", () => { c.Increment(); using (l.AcquireRead()) { c.Increment(); } });
                scenario.Finally(() => Assert.Equal(4, c.Value));
                break;
            }

            case "reentrant":
            {
                var l = new ReentrantLock("re");
                Both(scenario, c, 4, () => { using (l.Acquire()) { c.Increment(); using (l.Acquire()) { c.Increment(); } } });
                break;
            }

            case "spin":
            {
                var l = new SpinGate("spin");
                Both(scenario, c, 4, () => { using (l.Acquire()) { c.Increment(); c.Increment(); } });
                break;
            }

            case "striped-read-write":
            {
                var l = new StripedReadWriteLock<int>(4, "striped");
                Both(scenario, c, 4, () => { using (l.AcquireWrite(7)) { c.Increment(); c.Increment(); } });
                break;
            }

            case "semaphore":
            {
                var l = new CountingSemaphore(1, 1, "sem");
                Both(scenario, c, 4, () => { using (l.Acquire()) { c.Increment(); c.Increment(); } });
                break;
            }

            case "async-read-write":
            {
                var l = new AsyncReadWriteLock("arw");
                BothAsync(scenario, c, async () => { using (await l.AcquireWriteAsync()) { c.Increment(); c.Increment(); } });
                break;
            }

            case "async-read-write-reader":
            {
                var l = new AsyncReadWriteLock("arw");
                scenario.Flow("a", async () => { using (await l.AcquireWriteAsync()) { c.Increment(); c.Increment(); } });
                scenario.Flow("b", async () => { c.Increment(); using (await l.AcquireReadAsync()) { c.Increment(); } });
                scenario.Finally(() => Assert.Equal(4, c.Value));
                break;
            }

            case "async-semaphore":
            {
                var l = new CountingSemaphore(1, 1, "asem");
                BothAsync(scenario, c, async () => { using (await l.AcquireAsync()) { c.Increment(); c.Increment(); } });
                break;
            }

            case "condition":
            {
                var l = new ExclusiveLock("cv.lock");
                var cv = new ConditionVariable(l, "cv");
                bool ready = false;
                scenario.Thread("consumer", () =>
                {
                    using (l.Acquire())
                    {
                        cv.WaitUntil(() => ready);
                        c.Increment();
                    }
                });
                scenario.Thread("producer", () =>
                {
                    c.Increment();
                    using (l.Acquire())
                    {
                        ready = true;
                        cv.Notify();
                    }
                });
                scenario.Finally(() => Assert.Equal(2, c.Value));
                break;
            }

            case "barrier":
            {
                var b = new PhaseBarrier(2, name: "phase");
                Both(scenario, c, 4, () => { c.Increment(); b.SignalAndWait(); c.Increment(); b.SignalAndWait(); });
                scenario.Finally(() => Assert.Equal(2, b.CurrentPhase));
                break;
            }

            default:
                throw new ArgumentOutOfRangeException(nameof(kind));
        }
    }

    // a starts inside the hold; b does one update first, so under most schedules one of them really waits.
    private static void Both(Scenario scenario, AtomicCounter c, long expected, Action body)
    {
        scenario.Thread("a", body);
        scenario.Thread("b", () => { c.Increment(); body(); c.Decrement(); });
        scenario.Finally(() => Assert.Equal(expected, c.Value));
    }

    private static void BothAsync(Scenario scenario, AtomicCounter c, Func<Task> body)
    {
        scenario.Flow("a", body);
        scenario.Flow("b", async () => { c.Increment(); await body(); c.Decrement(); });
        scenario.Finally(() => Assert.Equal(4, c.Value));
    }
}
