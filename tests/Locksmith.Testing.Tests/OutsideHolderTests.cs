using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;
using Locksmith.Testing.Engine;

namespace Locksmith.Testing.Tests;

/// <summary>
/// A lock of the run taken by a thread that is not a flow (a <c>Task.Run</c> or <c>Parallel.For</c> body, a timer's
/// callback) is held outside the scheduler's hands, and that thread releases it in real time. A flow blocked on it with
/// every other flow blocked too was reported as a <c>Deadlock</c> at once, with no holder ("t waits for 'l'"), although the
/// holder was about to release it (a trial's <c>Parallel.For</c> inside a flow failed every run so). Now the run waits
/// for that release, as for an async flow's await, and reports <c>Stuck</c> after <c>IdleTimeout</c> naming the holder
/// if it never comes.
/// </summary>
public sealed class OutsideHolderTests
{
    // The idle period of the runs that end Stuck: it also bounds the pool thread's start (after the thread pool injects a
    // thread on a busy machine) and its reach of the lock, which at 1 s could pass first, so the run named the flow's
    // block on something outside Locksmith instead.
    private static readonly TimeSpan s_stuckIdle = TimeSpan.FromSeconds(5);

    [Fact]
    public void AFlowBlockedOnALockThatAThreadOutsideTheRunHolds_WaitsForItsRelease_NotADeadlock()
    {
        var result = RunReleasedOnceTheRunIsIdle(ExclusiveJournal, (outside, inside) => Assert.Equal(2, outside + inside));

        Assert.True(result.Passed, result.ToString());
    }

    [Fact]
    public void AFlowBlockedOnALockThatAThreadOutsideTheRunKeeps_IsStuck_NamingThatThread()
    {
        var result = RunKeptOutside(ExclusiveJournal);

        var report = Assert.IsType<ControlledTestReport>(result.Failure);
        Assert.True(report.Kind == ControlledFailureKind.Stuck && report.Flow == "writer", report.ToString());
        Assert.Contains("flow 'writer' waits for 'journal', held by a thread that is not a flow of this run", report.Summary, StringComparison.Ordinal);
        Assert.Contains(new WaitForEdge("writer", "journal", null), report.Waits);
    }

    /// <summary>
    /// A read lock held outside the run is no exclusive hold: the lock records readers as counts, not owners, and the run
    /// took a flow's write wait behind it for a deadlock naming no holder. It counts the reads its flows' threads hold
    /// now, and a reader beyond those is outside the run: the write waits for its release as for an exclusive holder.
    /// </summary>
    [Fact]
    public void AFlowWritingBehindAReadThatAThreadOutsideTheRunHolds_WaitsForItsRelease_NotADeadlock()
    {
        var result = RunReleasedOnceTheRunIsIdle(ReadWritePrices, (reads, writes) => Assert.Equal((1, 1), (reads, writes)));

        Assert.True(result.Passed, result.ToString());
    }

    /// <summary>
    /// The summary said "held by a thread that is not a flow of this run" and named neither that thread nor that it
    /// reads: it names the reading thread and says read access.
    /// </summary>
    [Fact]
    public void AFlowWritingBehindAReadThatAThreadOutsideTheRunKeeps_IsStuck_NamingTheLockAndTheReadingThread()
    {
        var holderName = new StrongBox<string?>();
        var result = RunKeptOutside(ReadWritePrices, holderName);

        var report = Assert.IsType<ControlledTestReport>(result.Failure);
        Assert.True(report.Kind == ControlledFailureKind.Stuck && report.Flow == "writer", report.ToString());
        Assert.False(string.IsNullOrEmpty(holderName.Value));
        Assert.Contains(
            $"flow 'writer' waits for 'prices', held for reading by a thread that is not a flow of this run ('{holderName.Value}'), which did not release its read access for 5 s",
            report.Summary,
            StringComparison.Ordinal);
    }

    /// <summary>
    /// A lock the builder leaves held belongs to the thread that runs the scenario, which waits in the run for its end
    /// and so can never release it. The run took it for a holder outside the run and waited the whole
    /// <c>IdleTimeout</c> (30 s by default) before reporting <c>Stuck</c>; it is a deadlock, reported at once naming the
    /// lock and that thread. The idle period here is ten minutes: the run must not wait for any of it (no idle wait at
    /// all), and the guard only keeps a regression from hanging the test run.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AFlowBlockedOnALockTheBuilderLeftHeld_IsADeadlockAtOnce_NamingTheThreadRunningTheScenario(bool read)
    {
        int idleWaits = 0;
        var running = Task.Run(() =>
        {
            ControlledRun.IdleWaitObserver = _ => idleWaits++;
            try
            {
                return ControlledTest.Run(
                    scenario =>
                    {
                        var journal = new ReadWriteLock("journal");
                        var ledger = new ExclusiveLock("ledger");
                        if (read)
                        {
                            _ = journal.AcquireRead();
                        }
                        else
                        {
                            _ = ledger.Acquire();
                        }

                        scenario.Thread("writer", () =>
                        {
                            if (read)
                            {
                                using (journal.AcquireWrite())
                                {
                                }
                            }
                            else
                            {
                                using (ledger.Acquire())
                                {
                                }
                            }
                        });
                    },
                    new ControlledTestOptions { Iterations = 1, Strategy = SchedulingStrategy.Random, IdleTimeout = TimeSpan.FromMinutes(10) });
            }
            finally
            {
                ControlledRun.IdleWaitObserver = null;
            }
        });

        // A guard, not a measure: a run that waits for the builder's thread would otherwise hang the test for ten minutes.
        var result = await running.WaitAsync(TimeSpan.FromMinutes(2), TestContext.Current.CancellationToken);
        var report = Assert.IsType<ControlledTestReport>(result.Failure);
        string target = read ? "journal" : "ledger";
        Assert.True(report.Kind == ControlledFailureKind.Deadlock, report.ToString());
        Assert.Equal(0, idleWaits);
        Assert.Contains(
            $"flow 'writer' waits for '{target}', held{(read ? " for reading" : string.Empty)} by the thread running the scenario", report.Summary, StringComparison.Ordinal);
        Assert.Contains("release it in the builder", report.Summary, StringComparison.Ordinal);
        Assert.Contains(new WaitForEdge("writer", target, null), report.Waits);
    }

    /// <summary>
    /// An async lock the builder takes and keeps is held by the builder's flow record, and the flows were started with
    /// the builder's context, so they shared that record: a flow taking the lock threw <c>LockRecursionException</c>
    /// saying it already held it. The flows now start as flows of their own, and the flow waiting for the lock is a
    /// deadlock at once (the code holding it waits for the run's end), naming the lock and that the code running the
    /// scenario holds it. The idle period is ten minutes: the run must not wait for any of it, and the guard only keeps
    /// a regression from hanging the test run.
    /// </summary>
    [Theory]
    [InlineData("exclusive", false)]
    [InlineData("exclusive", true)]
    [InlineData("write", true)]
    [InlineData("read", false)]
    [InlineData("read", true)]
    public async Task AFlowBlockedOnAnAsyncLockTheBuilderLeftHeld_IsADeadlockAtOnce_NamingTheCodeRunningTheScenario(string held, bool asyncFlow)
    {
        int idleWaits = 0;
        var running = Task.Run(() =>
        {
            var kept = new List<AsyncLockScope>();
            ControlledRun.IdleWaitObserver = _ => idleWaits++;
            try
            {
                return ControlledTest.Run(
                    scenario =>
                    {
                        var ledger = new AsyncExclusiveLock("ledger");
                        var journal = new AsyncReadWriteLock("journal");
                        var taken = held switch
                        {
                            "exclusive" => ledger.AcquireAsync(),
                            "write" => journal.AcquireWriteAsync(),
                            _ => journal.AcquireReadAsync(),
                        };
                        kept.Add(taken.AsTask().GetAwaiter().GetResult());

                        // The flow takes the lock the builder keeps: the ledger, or the journal for writing.
                        async Task TakeAsync()
                        {
                            using (held == "exclusive" ? await ledger.AcquireAsync() : await journal.AcquireWriteAsync())
                            {
                            }
                        }

                        if (asyncFlow)
                        {
                            scenario.Flow("writer", TakeAsync);
                        }
                        else
                        {
                            scenario.Thread("writer", () => TakeAsync().GetAwaiter().GetResult());
                        }
                    },
                    new ControlledTestOptions { Iterations = 1, Strategy = SchedulingStrategy.Random, IdleTimeout = TimeSpan.FromMinutes(10) });
            }
            finally
            {
                ControlledRun.IdleWaitObserver = null;
                kept.ForEach(scope => scope.Dispose());
            }
        });

        // A guard, not a measure: a run that waits for the builder's hold would otherwise hang the test for ten minutes.
        var result = await running.WaitAsync(TimeSpan.FromMinutes(2), TestContext.Current.CancellationToken);
        var report = Assert.IsType<ControlledTestReport>(result.Failure);
        string target = held == "exclusive" ? "ledger" : "journal";
        Assert.True(report.Kind == ControlledFailureKind.Deadlock, report.ToString());
        Assert.Equal(0, idleWaits);
        Assert.Contains(
            $"flow 'writer' waits for '{target}', held{(held == "read" ? " for reading" : string.Empty)} by the code running the scenario", report.Summary, StringComparison.Ordinal);
        Assert.Contains("release it in the builder", report.Summary, StringComparison.Ordinal);
        Assert.Contains(new WaitForEdge("writer", target, null), report.Waits);
    }

    /// <summary>
    /// The same root, with the builder's hold on another lock: the flows shared the builder's record, so one flow waiting
    /// for a lock another flow held threw <c>LockRecursionException</c> (the lock saw one owner) instead of waiting.
    /// </summary>
    [Fact]
    public void FlowsContendingForAnAsyncLock_WhileTheBuilderKeepsAnother_WaitForEachOther()
    {
        var kept = new List<AsyncLockScope>();
        ControlledTestResult result;
        try
        {
            result = ControlledTest.Run(
                scenario =>
                {
                    var config = new AsyncExclusiveLock("config");
                    var ledger = new AsyncExclusiveLock("ledger");
                    kept.Add(config.AcquireAsync().AsTask().GetAwaiter().GetResult());
                    int entries = 0;
                    foreach (string name in new[] { "first", "second" })
                    {
                        scenario.Flow(name, async () =>
                        {
                            using (await ledger.AcquireAsync())
                            {
                                ControlledTest.Interleave();
                                entries++;
                            }
                        });
                    }

                    scenario.Finally(() => Assert.Equal(2, entries));
                },
                new ControlledTestOptions { Iterations = 50, Strategy = SchedulingStrategy.Random });
        }
        finally
        {
            kept.ForEach(scope => scope.Dispose());
        }

        Assert.True(result.Passed, result.ToString());
        Assert.Equal(50, result.IterationsRun);
    }

    /// <summary>
    /// An <see cref="AsyncReadWriteLock"/> read taken in a <c>Task.Run</c> body is held by a flow record that is no flow of
    /// the run, but the write waiting behind it was a deadlock at once naming no holder: like a <see cref="ReadWriteLock"/>
    /// read, it is counted against the reads the flows' records hold, and the write waits for its release.
    /// </summary>
    [Fact]
    public void AFlowWritingBehindAnAsyncReadThatATaskOutsideTheRunHolds_WaitsForItsRelease_NotADeadlock()
    {
        var result = RunReleasedOnceTheRunIsIdle(AsyncReadWritePrices, (reads, writes) => Assert.Equal((1, 1), (reads, writes)));

        Assert.True(result.Passed, result.ToString());
    }

    [Fact]
    public void AFlowWritingBehindAnAsyncReadThatATaskOutsideTheRunKeeps_IsStuck_NamingTheLockAndReadAccess()
    {
        var result = RunKeptOutside(AsyncReadWritePrices);

        var report = Assert.IsType<ControlledTestReport>(result.Failure);
        Assert.True(report.Kind == ControlledFailureKind.Stuck && report.Flow == "writer", report.ToString());
        Assert.Contains(
            "flow 'writer' waits for 'prices', held for reading by an async flow that is not a flow of this run, which did not release its read access for 5 s",
            report.Summary,
            StringComparison.Ordinal);
    }

    /// <summary>An async read a flow of the run holds is the run's own: a write behind it with nothing left to run is still a deadlock, at once.</summary>
    [Fact]
    public void AFlowWritingBehindAnAsyncReadAFlowOfTheRunHolds_IsStillADeadlock()
    {
        int idleWaits = 0;
        ControlledRun.IdleWaitObserver = _ => idleWaits++;
        ControlledTestResult result;
        try
        {
            result = ControlledTest.Run(
                scenario =>
                {
                    var prices = new AsyncReadWriteLock("prices");
                    var journal = new AsyncExclusiveLock("journal");
                    scenario.Flow("reader", async () =>
                    {
                        using (await prices.AcquireReadAsync())
                        using (await journal.AcquireAsync())
                        {
                        }
                    });
                    scenario.Flow("writer", async () =>
                    {
                        using (await journal.AcquireAsync())
                        using (await prices.AcquireWriteAsync())
                        {
                        }
                    });
                },
                new ControlledTestOptions { Iterations = 200, Strategy = SchedulingStrategy.Random, IdleTimeout = TimeSpan.FromSeconds(30) });
        }
        finally
        {
            ControlledRun.IdleWaitObserver = null;
        }

        var report = Assert.IsType<ControlledTestReport>(result.Failure);
        Assert.True(report.Kind == ControlledFailureKind.Deadlock, report.ToString());
        Assert.Equal(0, idleWaits);
    }

    // An exclusive lock: the pool thread and the flow each take it.
    private static (Action<Action> HoldOutside, Action<Action> TakeInFlow) ExclusiveJournal()
    {
        var journal = new ExclusiveLock("journal");
        return (
            body => { using (journal.Acquire()) { body(); } },
            body => { using (journal.Acquire()) { body(); } });
    }

    // An async read-write lock: the pool thread's task reads, the flow writes behind it.
    private static (Action<Action> HoldOutside, Action<Action> TakeInFlow) AsyncReadWritePrices()
    {
        var prices = new AsyncReadWriteLock("prices");
        return (
            body => { using (prices.AcquireReadAsync().AsTask().GetAwaiter().GetResult()) { body(); } },
            body => { using (prices.AcquireWriteAsync().AsTask().GetAwaiter().GetResult()) { body(); } });
    }

    // A semaphore of one permit: the pool thread takes it (sync, or with AcquireAsync), the flow waits behind it.
    private static (Action<Action> HoldOutside, Action<Action> TakeInFlow) Permits(bool outsideAsync)
    {
        var pool = new CountingSemaphore(1, 1, "pool");
        return (
            outsideAsync
                ? body => { using (pool.AcquireAsync().AsTask().GetAwaiter().GetResult()) { body(); } }
                : body => { using (pool.Acquire()) { body(); } },
            body => { using (pool.Acquire()) { body(); } });
    }

    // A read-write lock: the pool thread reads, the flow writes behind it.
    private static (Action<Action> HoldOutside, Action<Action> TakeInFlow) ReadWritePrices()
    {
        var prices = new ReadWriteLock("prices");
        return (
            body => { using (prices.AcquireRead()) { body(); } },
            body => { using (prices.AcquireWrite()) { body(); } });
    }

    /// <summary>
    /// <see cref="RunWithAnOutsideHolder"/> whose outside holder lets go only once the scheduler found no flow to run (before
    /// the fixes, the run had failed by then), the run then checked by <paramref name="check"/>.
    /// </summary>
    private static ControlledTestResult RunReleasedOnceTheRunIsIdle(
        Func<(Action<Action> HoldOutside, Action<Action> TakeInFlow)> makeLock, Action<int, int> check)
    {
        using var release = new ManualResetEventSlim();
        ControlledRun.IdleWaitObserver = _ => release.Set();
        try
        {
            return RunWithAnOutsideHolder(makeLock, release, TimeSpan.FromSeconds(30), check);
        }
        finally
        {
            ControlledRun.IdleWaitObserver = null;
            release.Set();
        }
    }

    /// <summary><see cref="RunWithAnOutsideHolder"/> whose outside holder keeps the lock past the idle timeout, then is let go.</summary>
    private static ControlledTestResult RunKeptOutside(
        Func<(Action<Action> HoldOutside, Action<Action> TakeInFlow)> makeLock, StrongBox<string?>? holderName = null)
    {
        using var release = new ManualResetEventSlim();
        try
        {
            return RunWithAnOutsideHolder(makeLock, release, s_stuckIdle, check: null, holderName);
        }
        finally
        {
            release.Set();
        }
    }

    /// <summary>
    /// The shape of the outside-holder tests: flow 'writer' starts a pool thread that takes the lock and keeps it until
    /// <paramref name="release"/> is set, then takes the lock itself. With <paramref name="check"/>, the flow waits for
    /// the pool thread and the run ends by checking how many times each side got in (outside, inside); without, the pool
    /// thread is left running, as a forgotten holder is. <paramref name="holderName"/>, if given, gets the pool thread's name.
    /// </summary>
    private static ControlledTestResult RunWithAnOutsideHolder(
        Func<(Action<Action> HoldOutside, Action<Action> TakeInFlow)> makeLock, ManualResetEventSlim release, TimeSpan idleTimeout, Action<int, int>? check,
        StrongBox<string?>? holderName = null) =>
        ControlledTest.Run(
            scenario =>
            {
                var (holdOutside, takeInFlow) = makeLock();
                int outside = 0;
                int inside = 0;
                scenario.Thread("writer", () =>
                {
                    using var taken = new ManualResetEventSlim();
                    var holder = Task.Run(() => holdOutside(() =>
                    {
                        if (holderName is not null)
                        {
                            holderName.Value = Thread.CurrentThread.Name;
                        }

                        taken.Set();
                        release.Wait();
                        outside++;
                    }));
                    taken.Wait();
                    takeInFlow(() => inside++);
                    if (check is not null)
                    {
                        holder.Wait();
                    }
                });
                if (check is not null)
                {
                    scenario.Finally(() => check(outside, inside));
                }
            },
            new ControlledTestOptions { Iterations = 1, Strategy = SchedulingStrategy.Random, IdleTimeout = idleTimeout });

    /// <summary>A read a flow holds is the run's own: a write blocked behind it with nothing left to run is still a deadlock, at once.</summary>
    [Fact]
    public void AFlowWritingBehindAReadAFlowOfTheRunHolds_IsStillADeadlock()
    {
        var result = ControlledTest.Run(
            scenario =>
            {
                var prices = new ReadWriteLock("prices");
                var journal = new ExclusiveLock("journal");
                scenario.Thread("reader", () =>
                {
                    using (prices.AcquireRead())
                    using (journal.Acquire())
                    {
                    }
                });
                scenario.Thread("writer", () =>
                {
                    using (journal.Acquire())
                    using (prices.AcquireWrite())
                    {
                    }
                });
            },
            new ControlledTestOptions { Iterations = 200, Strategy = SchedulingStrategy.Random, IdleTimeout = TimeSpan.FromSeconds(30) });

        var report = Assert.IsType<ControlledTestReport>(result.Failure);
        Assert.True(report.Kind == ControlledFailureKind.Deadlock, report.ToString());
    }

    /// <summary>
    /// A permit names no holder and any thread may give it back, so a flow waiting for one with nothing left to run was a
    /// deadlock at once, although a pool thread had taken the permit and was about to give it back (with
    /// <c>AcquireAsync</c>, the run did not even see that thread take it). The run counts the permits threads outside it
    /// take and give back: while they took more than they gave back, the flow waits for a return as for an outside
    /// holder's release.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void AFlowWaitingForAPermitThatAThreadOutsideTheRunTook_WaitsForItsReturn_NotADeadlock(bool outsideAsync)
    {
        var result = RunReleasedOnceTheRunIsIdle(() => Permits(outsideAsync), (outside, inside) => Assert.Equal((1, 1), (outside, inside)));

        Assert.True(result.Passed, result.ToString());
    }

    /// <summary>The permit never comes back: the run is stuck, naming the semaphore and the thread it saw take one.</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void AFlowWaitingForAPermitThatAThreadOutsideTheRunKeeps_IsStuck_NamingThatThread(bool outsideAsync)
    {
        var holderName = new StrongBox<string?>();
        var result = RunKeptOutside(() => Permits(outsideAsync), holderName);

        var report = Assert.IsType<ControlledTestReport>(result.Failure);
        Assert.True(report.Kind == ControlledFailureKind.Stuck && report.Flow == "writer", report.ToString());
        Assert.False(string.IsNullOrEmpty(holderName.Value));
        Assert.Contains(
            $"flow 'writer' waits for 'pool', whose permit a thread that is not a flow of this run ('{holderName.Value}') took and did not give back for 5 s",
            report.Summary,
            StringComparison.Ordinal);
        Assert.Contains(new WaitForEdge("writer", "pool", null), report.Waits);
    }

    /// <summary>
    /// A thread outside the run that took a permit and gave it back holds none: a flow then waiting for a permit its own
    /// flow kept, with nothing left to run, is still a deadlock at once, with no idle wait.
    /// </summary>
    [Fact]
    public void AFlowWaitingForAPermitThatThreadsOutsideTheRunGaveBack_IsStillADeadlockAtOnce()
    {
        int idleWaits = 0;
        ControlledRun.IdleWaitObserver = _ => idleWaits++;
        ControlledTestResult result;
        try
        {
            result = ControlledTest.Run(
                scenario =>
                {
                    var pool = new CountingSemaphore(1, 1, "pool");
                    scenario.Thread("worker", () =>
                    {
                        // Taken and given back outside the run: on one thread, and with an await between (maybe on two).
                        Task.Run(() =>
                        {
                            using (pool.Acquire())
                            {
                            }
                        }).Wait();
                        Task.Run(async () =>
                        {
                            using (await pool.AcquireAsync())
                            {
                                await Task.Yield();
                            }
                        }).Wait();
                        _ = pool.Acquire();
                        using (pool.Acquire())
                        {
                        }
                    });
                },
                new ControlledTestOptions { Iterations = 1, Strategy = SchedulingStrategy.Random, IdleTimeout = TimeSpan.FromSeconds(30) });
        }
        finally
        {
            ControlledRun.IdleWaitObserver = null;
        }

        var report = Assert.IsType<ControlledTestReport>(result.Failure);
        Assert.True(report.Kind == ControlledFailureKind.Deadlock, report.ToString());
        Assert.Equal(0, idleWaits);
    }

    /// <summary>
    /// A thread outside the run that waits for a permit has not taken the one it asked for: a flow waiting for a permit
    /// its own flow kept is still a deadlock at once, with no idle wait, while that thread (or task) waits beside it.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void AFlowWaitingForAPermitThatAThreadOutsideTheRunWaitsForToo_IsStillADeadlockAtOnce(bool outsideAsync)
    {
        int idleWaits = 0;
        CountingSemaphore? kept = null;
        ControlledRun.IdleWaitObserver = _ => idleWaits++;
        ControlledTestResult result;
        try
        {
            result = ControlledTest.Run(
                scenario =>
                {
                    var pool = new CountingSemaphore(1, 1, "pool");
                    kept = pool;
                    scenario.Thread("worker", () =>
                    {
                        _ = pool.Acquire();
                        _ = outsideAsync
                            ? Task.Run(async () =>
                            {
                                using (await pool.AcquireAsync())
                                {
                                }
                            })
                            : Task.Run(() =>
                            {
                                using (pool.Acquire())
                                {
                                }
                            });

                        // Until that wait is under way and the run heard it wait (parked, or queued and its attempt over):
                        // until then the run counts the attempt, which may take a permit, and rightly waits for it.
                        // Bounded: a run that never stops counting it fails here.
                        var run = ControlledRun.CurrentForTests!;
                        int polls = 0;
                        while (!DeadlockDetector.CurrentWaits().Any(wait => wait.LockName == "pool") || run.OutsidePermitsKeptNow(pool) != 0)
                        {
                            Assert.True(++polls < 60_000, "the run did not hear the outside wait");
                            Thread.Sleep(1);
                        }

                        using (pool.Acquire())
                        {
                        }
                    });
                },
                new ControlledTestOptions { Iterations = 1, Strategy = SchedulingStrategy.Random, IdleTimeout = TimeSpan.FromSeconds(30) });
        }
        finally
        {
            ControlledRun.IdleWaitObserver = null;
            kept?.Release();
        }

        var report = Assert.IsType<ControlledTestReport>(result.Failure);
        Assert.True(report.Kind == ControlledFailureKind.Deadlock, report.ToString());
        Assert.Equal(0, idleWaits);
    }

    /// <summary>
    /// The other way round: a flow waits (<c>Task.Wait</c>) for a pool task that blocks on a lock of the run held by a
    /// flow waiting for its turn. Nothing can move, and the summary said the flow "blocks on something outside Locksmith
    /// (Monitor, Thread.Sleep, a task)", leaving the reader to find the lock; now it names the task's wait and its holder.
    /// </summary>
    [Fact]
    public void AFlowWaitingForATaskThatWaitsForAFlowsLock_IsStuck_NamingTheLockAndItsHolder()
    {
        var result = ControlledTest.Replay(
            scenario =>
            {
                var journal = new ExclusiveLock("journal");
                scenario.Thread("holder", () =>
                {
                    using (journal.Acquire())
                    {
                        ControlledTest.Interleave();
                    }
                });
                scenario.Thread("runner", () => Task.Run(() =>
                {
                    using (journal.Acquire())
                    {
                    }
                }).Wait());
            },
            "a2b",
            new ControlledTestOptions { IdleTimeout = s_stuckIdle });

        var report = Assert.IsType<ControlledTestReport>(result.Failure);
        Assert.True(report.Kind == ControlledFailureKind.Stuck && report.Flow == "runner", report.ToString());
        Assert.Contains(
            "flow 'runner' reached no scheduling point for 5 s: a thread that is not a flow of this run", report.Summary, StringComparison.Ordinal);
        Assert.Contains("waits for 'journal', held by holder, which gets no turn while runner runs", report.Summary, StringComparison.Ordinal);
        Assert.DoesNotContain("outside Locksmith", report.Summary, StringComparison.Ordinal);
    }
}
