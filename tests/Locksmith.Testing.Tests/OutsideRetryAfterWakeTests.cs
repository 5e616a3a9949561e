using System;
using System.Threading;
using System.Threading.Tasks;
using Locksmith.Testing.Engine;

namespace Locksmith.Testing.Tests;

/// <summary>
/// A thread outside the run woken by a permit a flow gave back retries: it queues its node again (reading as not woken),
/// takes the permit and unlinks the node, and only then ends its wait, so its record still reads as waiting for the
/// semaphore, and the run books the permit only once the acquisition returns. The kernel's hook holds the thread in that
/// moment, after it took the permit and before its wait ended, until the run has decided: seen from outside the
/// semaphore's gate the thread looked parked for good, holding nothing, and the run called a deadlock (the flaky
/// <c>OutsideWaiterTests.AThreadOutsideTheRunWokenByAFreedPermit_ThatThenFreesTheLockAFlowWaitsFor_IsNoDeadlock</c>).
/// The run must instead wait for the thread in real time: its idle wait, seen by the observer, releases the hook. Each
/// run has a long idle period, and a test fails if the scheduler's wait ran out, so nothing depends on how long anything takes.
/// </summary>
public sealed class OutsideRetryAfterWakeTests
{
    /// <summary>
    /// The writer holds both slots; the keeper holds the journal and parks for a slot. The writer gives one back (waking
    /// the keeper), and once the keeper took it, asks for the journal. The keeper, held before its wait ends, is no thread
    /// parked on the slots behind the writer: no deadlock.
    /// </summary>
    [Fact]
    public async Task AThreadOutsideTheRunThatTookTheFreedPermit_BeforeItsWaitEnded_IsNotParkedForGood()
    {
        var (result, ranOut) = await RunWithKeeperHeldAfterItsRetry(keeper =>
        {
            var journal = new ExclusiveLock("journal");
            var slots = keeper.Watch(new CountingSemaphore(2, 2, "slots"));
            return () =>
            {
                using (slots.Acquire())
                {
                    using (slots.Acquire())
                    {
                        keeper.Start(() =>
                        {
                            using (journal.Acquire())
                            {
                                using (slots.Acquire())
                                {
                                }
                            }
                        });
                        keeper.WaitUntilParked();
                    }

                    keeper.WaitUntilTook();
                    using (journal.Acquire())
                    {
                    }
                }
            };
        });

        Assert.True(result.Passed, result.ToString());
        Assert.Equal(0, ranOut);
    }

    /// <summary>
    /// The flow holds the only slot; the keeper parks for it. The flow gives it back (waking the keeper) and, once the
    /// keeper took it, asks for it again. The keeper, held before its wait ends, is an acquisition under way that holds
    /// the slot, not a thread parked in the semaphore's queue holding none: the flow waits for it, no deadlock.
    /// </summary>
    [Fact]
    public async Task AFlowWaitingForAPermitAThreadOutsideTheRunTookAfterItsWake_BeforeItsWaitEnded_WaitsForThatThread()
    {
        var (result, ranOut) = await RunWithKeeperHeldAfterItsRetry(keeper =>
        {
            var slots = keeper.Watch(new CountingSemaphore(1, 1, "slots"));
            return () =>
            {
                using (slots.Acquire())
                {
                    keeper.Start(() =>
                    {
                        using (slots.Acquire())
                        {
                        }
                    });
                    keeper.WaitUntilParked();
                }

                keeper.WaitUntilTook();
                using (slots.Acquire())
                {
                }
            };
        });

        Assert.True(result.Passed, result.ToString());
        Assert.Equal(0, ranOut);
    }

    /// <summary>
    /// The siblings, as the first test with the ledger a lock: the keeper took the freed lock and is held before its wait
    /// ends. An exclusive lock's woken waiter queues its node again to retry, as a semaphore's does, but the run reads a
    /// lock's holder from the lock (the keeper, no flow); a read-write lock hands the lock to its waiter (its node reads
    /// as granted). So these held before the fix too: they keep it so.
    /// </summary>
    [Theory]
    [InlineData("exclusive")]
    [InlineData("reentrant")]
    [InlineData("write")]
    [InlineData("read")]
    public async Task AThreadOutsideTheRunThatTookTheFreedLock_BeforeItsWaitEnded_IsNotParkedForGood(string kind)
    {
        var (result, ranOut) = await RunWithKeeperHeldAfterItsRetry(keeper =>
        {
            var journal = new ExclusiveLock("journal");
            LockPrimitive ledger = kind switch
            {
                "exclusive" => new ExclusiveLock("ledger"),
                "reentrant" => new ReentrantLock("ledger"),
                _ => new ReadWriteLock("ledger"),
            };
            keeper.Watch(ledger);
            return () =>
            {
                Hold(ledger, writing: true, () =>
                {
                    keeper.Start(() =>
                    {
                        using (journal.Acquire())
                        {
                            Hold(ledger, writing: kind != "read", static () => { });
                        }
                    });
                    keeper.WaitUntilParked();
                });

                keeper.WaitUntilTook();
                using (journal.Acquire())
                {
                }
            };
        });

        Assert.True(result.Passed, result.ToString());
        Assert.Equal(0, ranOut);
    }

    private static void Hold(LockPrimitive ledger, bool writing, Action body)
    {
        switch (ledger)
        {
            case ReadWriteLock rw when writing:
                using (rw.AcquireWrite())
                {
                    body();
                }

                break;

            case ReadWriteLock rw:
                using (rw.AcquireRead())
                {
                    body();
                }

                break;

            case ReentrantLock reentrant:
                using (reentrant.Acquire())
                {
                    body();
                }

                break;

            default:
                using (((ExclusiveLock)ledger).Acquire())
                {
                    body();
                }

                break;
        }
    }

    /// <summary>
    /// Runs the one flow, "writer", that <paramref name="build"/> makes (in the scenario's builder, so its locks are the
    /// run's) with a <see cref="Keeper"/>: a thread outside the run, held once it took the watched lock (a permit of it)
    /// after its wake, its wait not ended, until the run waits for it in real time (or the run is over).
    /// </summary>
    private static async Task<(ControlledTestResult Result, int RanOut)> RunWithKeeperHeldAfterItsRetry(Func<Keeper, Action> build)
    {
        using var keeper = new Keeper();
        int ranOut = 0;
        ControlledRun.OutsideParkObserver = keeper.OnParked;
        ControlledRun.TookAfterParkObserver = keeper.OnTookAfterPark;
        ControlledRun.IdleWaitObserver = _ => keeper.OnRunWaits();
        ControlledRun.IdleRanOutObserver = () => Interlocked.Increment(ref ranOut);
        ControlledTestResult result;
        try
        {
            result = ControlledTest.Run(
                scenario => scenario.Thread("writer", build(keeper)),
                new ControlledTestOptions { Iterations = 1, IdleTimeout = TimeSpan.FromMinutes(2) });
        }
        finally
        {
            // A run that failed never waited for the keeper: let it go on.
            keeper.Release();
            ControlledRun.TookAfterParkObserver = null;
            ControlledRun.OutsideParkObserver = null;
            ControlledRun.IdleWaitObserver = null;
            ControlledRun.IdleRanOutObserver = null;
        }

        // Hang guard: a keeper stuck in its wait fails the test instead of hanging it.
        await keeper.Ended.WaitAsync(TimeSpan.FromMinutes(2), TestContext.Current.CancellationToken);
        return (result, Volatile.Read(ref ranOut));
    }

    /// <summary>The thread outside the run, and the moments of its wait for the watched lock.</summary>
    private sealed class Keeper : IDisposable
    {
        private static TimeSpan Generous => TimeSpan.FromMinutes(1);

        private readonly ManualResetEventSlim _parked = new();
        private readonly ManualResetEventSlim _took = new();
        private readonly ManualResetEventSlim _heard = new();
        private LockPrimitive? _watched;
        private Thread? _thread;

        public Task Ended { get; private set; } = Task.CompletedTask;

        public T Watch<T>(T watched)
            where T : LockPrimitive
        {
            _watched = watched;
            return watched;
        }

        public void Start(Action body)
        {
            var thread = new Thread(() => body()) { IsBackground = true, Name = "journal-keeper" };
            Volatile.Write(ref _thread, thread);
            thread.Start();
            Ended = Task.Run(thread.Join);
        }

        public void WaitUntilParked() => Assert.True(_parked.Wait(Generous), "the keeper never parked on the watched lock");

        public void WaitUntilTook() => Assert.True(_took.Wait(Generous), "the keeper never took the watched lock after its wake");

        public void OnParked(object resource)
        {
            if (IsKeeperOn(resource))
            {
                _parked.Set();
            }
        }

        public void OnTookAfterPark(LockPrimitive resource)
        {
            if (IsKeeperOn(resource))
            {
                _took.Set();
                _heard.Wait(Generous);
            }
        }

        /// <summary>Under the run's gate: only a signal, never a wait.</summary>
        public void OnRunWaits()
        {
            if (_took.IsSet)
            {
                _heard.Set();
            }
        }

        public void Release() => _heard.Set();

        public void Dispose()
        {
            _parked.Dispose();
            _took.Dispose();
            _heard.Dispose();
        }

        private bool IsKeeperOn(object resource) =>
            ReferenceEquals(resource, _watched) && ReferenceEquals(Thread.CurrentThread, Volatile.Read(ref _thread));
    }
}
