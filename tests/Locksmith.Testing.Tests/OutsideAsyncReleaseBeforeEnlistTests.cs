using System;
using System.Threading;
using System.Threading.Tasks;
using Locksmith.Testing.Engine;

namespace Locksmith.Testing.Tests;

/// <summary>
/// A lock of the run held by a task outside it, which releases it after flow 'holder' failed to take it and before the
/// holder enlists to block on it; the release's signal reaches the run only after the holder has blocked. The run's hooks
/// pin that interleaving: the holder's enlisting lets the task release and waits until the release is done and its signal
/// not yet heard; the signal waits until the scheduler waits for it (or the run is over). The lock is free and its signal
/// on the way: the run waits for it, never a deadlock (the no-false-deadlock guard of OutsideAsyncHolderTests met this
/// in a clean-clone CI run, 'holder waits for desk' with 'desk' free). Each run has a long idle period, and a test fails if
/// the scheduler's wait ran out (the decision was the clock's), so no test depends on time.
/// </summary>
public sealed class OutsideAsyncReleaseBeforeEnlistTests
{
    private static readonly TimeSpan s_longIdle = TimeSpan.FromMinutes(2);

    // Bounds every wait of the test's own threads.
    internal static readonly TimeSpan Guard = TimeSpan.FromMinutes(1);

    /// <summary>An <see cref="AsyncExclusiveLock"/> a task's own async flow holds, and an async flow of the run asks for.</summary>
    [Fact]
    public async Task AnAsyncLockATaskOutsideTheRunFreesBetweenAFlowsTryAndItsBlocking_IsWaitedFor_NotADeadlock()
    {
        var (result, ranOut) = await RunWithReleaseBeforeEnlist(
            static () => new AsyncExclusiveLock("desk"),
            static async (desk, hold) =>
            {
                using (await desk.AcquireAsync())
                {
                    hold();
                }
            },
            static (scenario, desk, tookDesk) => scenario.Flow("holder", async () =>
            {
                Assert.True(tookDesk.Wait(Guard));
                using (await desk.AcquireAsync())
                {
                }
            }));

        Assert.True(result.Passed, result.ToString());
        Assert.Equal(0, ranOut);
    }

    /// <summary>An <see cref="ExclusiveLock"/> a pool thread holds, and a thread flow of the run asks for.</summary>
    [Fact]
    public async Task ALockAThreadOutsideTheRunFreesBetweenAFlowsTryAndItsBlocking_IsWaitedFor_NotADeadlock()
    {
        var (result, ranOut) = await RunWithReleaseBeforeEnlist(
            static () => new ExclusiveLock("desk"),
            static (desk, hold) =>
            {
                using (desk.Acquire())
                {
                    hold();
                }

                return Task.CompletedTask;
            },
            static (scenario, desk, tookDesk) => scenario.Thread("holder", () =>
            {
                Assert.True(tookDesk.Wait(Guard));
                using (desk.Acquire())
                {
                }
            }));

        Assert.True(result.Passed, result.ToString());
        Assert.Equal(0, ranOut);
    }

    /// <summary>
    /// Runs once: the scenario makes the desk with <paramref name="make"/>, and a task outside the run (started under a
    /// suppressed flow, so with a record of its own) takes it with <paramref name="takeOutside"/>, holding it while the
    /// action it is given runs; <paramref name="addHolder"/> adds the flow that asks for the desk once the task took it.
    /// Returns once the task is done.
    /// </summary>
    internal static async Task<(ControlledTestResult Result, int RanOut)> RunWithReleaseBeforeEnlist<TLock>(
        Func<TLock> make, Func<TLock, Action, Task> takeOutside, Action<Scenario, TLock, ManualResetEventSlim> addHolder)
        where TLock : class
    {
        int ranOut = 0;
        int enlisted = 0;
        int signalled = 0;
        TLock? desk = null;
        Task outside = Task.CompletedTask;
        var tookDesk = new ManualResetEventSlim();
        var release = new ManualResetEventSlim();
        var released = new ManualResetEventSlim();
        var proceed = new ManualResetEventSlim();
        ControlledRun.IdleRanOutObserver = () => Interlocked.Increment(ref ranOut);
        ControlledRun.IdleWaitObserver = _ => proceed.Set();
        ControlledRun.EnlistObserver = resource =>
        {
            if (ReferenceEquals(resource, Volatile.Read(ref desk)) && Interlocked.Exchange(ref enlisted, 1) == 0)
            {
                // The holder's try failed: the task frees the desk now, before the holder reads it as it enlists.
                release.Set();
                Assert.True(released.Wait(Guard));
            }
        };
        ControlledRun.OutsideSignalObserver = resource =>
        {
            if (ReferenceEquals(resource, Volatile.Read(ref desk)) && Interlocked.Exchange(ref signalled, 1) == 0)
            {
                // Freed, not yet heard: heard once the scheduler waits for it, or once the run is over.
                released.Set();
                Assert.True(proceed.Wait(Guard));
            }
        };
        ControlledTestResult result;
        try
        {
            result = ControlledTest.Run(
                scenario =>
                {
                    var made = make();
                    Volatile.Write(ref desk, made);
                    using (ExecutionContext.SuppressFlow())
                    {
                        outside = Task.Run(() => takeOutside(made, () =>
                        {
                            tookDesk.Set();
                            Assert.True(release.Wait(Guard));
                        }));
                    }

                    addHolder(scenario, made, tookDesk);
                },
                new ControlledTestOptions { Iterations = 1, Strategy = SchedulingStrategy.Random, IdleTimeout = s_longIdle });
        }
        finally
        {
            // A run that failed at once never waited: the task's signal goes now.
            proceed.Set();
            ControlledRun.IdleRanOutObserver = null;
            ControlledRun.IdleWaitObserver = null;
            ControlledRun.EnlistObserver = null;
            ControlledRun.OutsideSignalObserver = null;
        }

        await outside.WaitAsync(Guard);
        tookDesk.Dispose();
        release.Dispose();
        released.Dispose();
        proceed.Dispose();
        Assert.Equal(1, Volatile.Read(ref enlisted));
        Assert.Equal(1, Volatile.Read(ref signalled));
        return (result, Volatile.Read(ref ranOut));
    }
}
