using System;
using System.Threading;

namespace Locksmith.Testing.Tests;

/// <summary>
/// 'slots' starts with none of 2 free. Outside the run: 'sig1' gives one (a signal), 'keeper-a' takes it and holds it;
/// 'sig2' gives another, 'keeper-b' takes that one. The run never saw two free at once, so it reads the pool as 1 and
/// counts sig2's as keeper-a's permit come back by other code. Then keeper-a gives back the permit it holds by the books:
/// by that reading it is one more than keeper-a held, a signal, so the pool is 2 either way, and keeper-b still holds one.
/// The worker takes keeper-a's, asks for another, and keeper-b gives its own back once the run waits: no deadlock.
/// Before, the pool stayed 1, keeper-b counted as holding none, and the run reported a Deadlock at once ("worker waits
/// for 'slots' held by worker … 'slots' has 0 of 2 permits free: worker holds 1").
/// </summary>
public sealed class SignalsTakenOneByOneTests
{
    private static readonly TimeSpan s_guard = TimeSpan.FromMinutes(1);

    [Fact]
    public void APermitTheSecondKeeperTook_IsWaitedFor_AfterTheFirstGaveItsOwnBack()
    {
        Thread? keeperB = null;
        var idle = new IdleObservation();
        ControlledTestResult result;
        using (idle)
        {
            result = ControlledTest.Run(
                scenario =>
                {
                    var slots = new CountingSemaphore(0, 2, "slots");
                    scenario.Thread("worker", () =>
                    {
                        using var letGoA = new ManualResetEventSlim();
                        Thread keeperA;
                        using (ExecutionContext.SuppressFlow())
                        {
                            RunOn("sig1", () => slots.Release());
                            keeperA = Keeper("keeper-a", slots, letGoA);
                            RunOn("sig2", () => slots.Release());
                            keeperB = Keeper("keeper-b", slots, idle.LetGo);
                        }

                        letGoA.Set();
                        Assert.True(keeperA.Join(s_guard), "keeper-a did not end");
                        using (slots.Acquire())
                        using (slots.Acquire())
                        {
                        }
                    });
                },
                new ControlledTestOptions { Iterations = 1, Strategy = SchedulingStrategy.Random, IdleTimeout = TimeSpan.FromMinutes(2) });
        }

        Assert.True(keeperB?.Join(s_guard) ?? true, "keeper-b did not end");
        Assert.True(result.Passed, result.ToString());
        idle.AssertWaitedWithoutRunningOut();
    }

    // A thread that takes one permit, says so, and holds it until let go.
    private static Thread Keeper(string name, CountingSemaphore slots, ManualResetEventSlim letGo)
    {
        using var took = new ManualResetEventSlim();
        var thread = new Thread(() =>
        {
            using (slots.Acquire())
            {
                took.Set();
                letGo.Wait(s_guard);
            }
        })
        {
            IsBackground = true,
            Name = name,
        };
        thread.Start();
        Assert.True(took.Wait(s_guard), $"'{name}' did not take a permit");
        return thread;
    }

    private static void RunOn(string name, Action action)
    {
        var thread = new Thread(() => action()) { IsBackground = true, Name = name };
        thread.Start();
        Assert.True(thread.Join(s_guard), $"'{name}' did not end");
    }
}
