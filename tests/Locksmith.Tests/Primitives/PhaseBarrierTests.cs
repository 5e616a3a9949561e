using System;
using System.Collections.Generic;
using System.Threading;
using Locksmith.Tests.Support;

namespace Locksmith.Tests.Primitives;

public sealed class PhaseBarrierTests
{
    // Only a hang guard: a correct barrier ends each of these waits in milliseconds.
    private static readonly TimeSpan s_hangGuard = TimeSpan.FromSeconds(30);

    [Fact]
    public void FourThreads_ThousandPhases_NoThreadStartsAPhaseBeforeAllFinishedThePrevious()
    {
        const int Threads = 4;
        const int Phases = 1_000;
        var finished = new long[Threads];
        Array.Fill(finished, -1L);
        var actionPhases = new List<long>(Phases);
        int actionSawStragglers = 0;

        var barrier = new PhaseBarrier(Threads, b =>
        {
            long phase = b.CurrentPhase;
            actionPhases.Add(phase);
            for (int j = 0; j < Threads; j++)
            {
                if (Volatile.Read(ref finished[j]) != phase)
                {
                    actionSawStragglers++;
                }
            }
        }, "phases");

        Concurrently.Run(Threads, t =>
        {
            for (long k = 0; k < Phases; k++)
            {
                Volatile.Write(ref finished[t], k);
                // A timed wait only so that one failing thread cannot hang the others: they would break the barrier.
                Assert.True(barrier.SignalAndWait(s_hangGuard));
                for (int j = 0; j < Threads; j++)
                {
                    long other = Volatile.Read(ref finished[j]);
                    Assert.True(other == k || other == k + 1, $"After phase {k}, thread {j} had finished phase {other}.");
                }
            }
        });

        Assert.Equal(Phases, actionPhases.Count);
        for (int k = 0; k < Phases; k++)
        {
            Assert.Equal(k, actionPhases[k]);
        }

        Assert.Equal(0, actionSawStragglers);
        Assert.Equal(Phases, barrier.CurrentPhase);
        Assert.False(barrier.IsBroken);
    }

    [Fact]
    public void SingleParticipant_CompletesAPhaseOnEveryCall()
    {
        int actions = 0;
        var barrier = new PhaseBarrier(1, _ => actions++);
        barrier.SignalAndWait();
        barrier.SignalAndWait(CancellationToken.None);
        Assert.True(barrier.SignalAndWait(TimeSpan.Zero));
        Assert.Equal(3, barrier.CurrentPhase);
        Assert.Equal(3, actions);
        Assert.Equal(1, barrier.ParticipantCount);
    }

    [Fact]
    public void Timeout_BreaksBarrier_TimedOutParticipantGetsFalse_OtherWaiterGetsBrokenBarrierPromptly()
    {
        var barrier = new PhaseBarrier(3, name: "pipeline");
        Exception? caught = null;
        var waiter = Concurrently.Start("stage-a", () =>
        {
            try
            {
                barrier.SignalAndWait();
            }
            catch (Exception ex)
            {
                caught = ex;
            }
        });
        Assert.True(SpinWait.SpinUntil(() => barrier.WaitingCount == 1, s_hangGuard));

        Assert.False(barrier.SignalAndWait(TimeSpan.FromMilliseconds(50)));

        Assert.True(waiter.Join(s_hangGuard), "The waiting participant was not released when the barrier broke.");
        var broken = Assert.IsType<BrokenBarrierException>(caught);
        Assert.Equal("pipeline", broken.BarrierName);
        Assert.Equal(0, broken.Phase);
        Assert.Contains("'pipeline'", broken.Message);
        Assert.Contains("phase 0", broken.Message);
        Assert.Contains($"participant thread {Environment.CurrentManagedThreadId}", broken.Message);
        Assert.Contains("timed out after 50 ms", broken.Message);
        Assert.Contains("'stage-a'", broken.Message);
        Assert.True(barrier.IsBroken);

        var later = Assert.Throws<BrokenBarrierException>(() => barrier.SignalAndWait());
        Assert.Contains("'pipeline'", later.Message);
        Assert.Contains("broken since phase 0", later.Message);
        Assert.Contains("timed out", later.Message);
        Assert.Throws<BrokenBarrierException>(() => barrier.SignalAndWait(TimeSpan.FromSeconds(1)));
        Assert.Equal(0, barrier.CurrentPhase);
    }

    [Fact]
    public void PostPhaseActionThrows_EveryParticipantGetsBrokenBarrier_WithTheActionsException()
    {
        const int Threads = 3;
        var failure = new InvalidOperationException("ledger out of balance");
        var barrier = new PhaseBarrier(Threads, b =>
        {
            if (b.CurrentPhase == 2)
            {
                throw failure;
            }
        }, "reconcile");
        var caught = new Exception?[Threads];
        var passed = new int[Threads];

        var threads = new Worker[Threads];
        for (int t = 0; t < Threads; t++)
        {
            int index = t;
            threads[t] = Concurrently.Start($"worker-{t}", () =>
            {
                try
                {
                    for (int k = 0; k < 3; k++)
                    {
                        barrier.SignalAndWait();
                        passed[index]++;
                    }
                }
                catch (Exception ex)
                {
                    caught[index] = ex;
                }
            });
        }

        foreach (var thread in threads)
        {
            Assert.True(thread.Join(s_hangGuard), "A participant was not released when the post-phase action threw.");
        }

        for (int t = 0; t < Threads; t++)
        {
            Assert.Equal(2, passed[t]);
            var broken = Assert.IsType<BrokenBarrierException>(caught[t]);
            Assert.Same(failure, broken.InnerException);
            Assert.Equal(2, broken.Phase);
            Assert.Contains("'reconcile'", broken.Message);
            Assert.Contains("post-phase action threw InvalidOperationException", broken.Message);
            Assert.Contains("ledger out of balance", broken.Message);
        }

        Assert.True(barrier.IsBroken);
        Assert.Same(failure, Assert.Throws<BrokenBarrierException>(() => barrier.SignalAndWait()).InnerException);
    }

    [Fact]
    public void Cancellation_BreaksBarrier_CancelledParticipantGetsOperationCanceled()
    {
        var barrier = new PhaseBarrier(3, name: "cancellable");
        using var cts = new CancellationTokenSource();
        Exception? waiterCaught = null;
        Exception? cancelledCaught = null;
        var waiter = Concurrently.Start("patient", () =>
        {
            try
            {
                barrier.SignalAndWait();
            }
            catch (Exception ex)
            {
                waiterCaught = ex;
            }
        });
        var cancelled = Concurrently.Start("impatient", () =>
        {
            try
            {
                barrier.SignalAndWait(cts.Token);
            }
            catch (Exception ex)
            {
                cancelledCaught = ex;
            }
        });
        Assert.True(SpinWait.SpinUntil(() => barrier.WaitingCount == 2, s_hangGuard));

        cts.Cancel();

        Assert.True(cancelled.Join(s_hangGuard), "The cancelled participant did not wake.");
        Assert.True(waiter.Join(s_hangGuard), "The other participant was not released when the barrier broke.");
        var oce = Assert.IsType<OperationCanceledException>(cancelledCaught);
        Assert.Equal(cts.Token, oce.CancellationToken);
        var broken = Assert.IsType<BrokenBarrierException>(waiterCaught);
        Assert.Contains("'cancellable'", broken.Message);
        Assert.Contains("'impatient'", broken.Message);
        Assert.Contains("was cancelled", broken.Message);
        Assert.True(barrier.IsBroken);
    }

    /// <summary>
    /// An interrupted participant leaves as a cancelled one does: the barrier breaks, so its arrival, already counted,
    /// cannot complete the phase without the others (here its own retry would have completed it alone).
    /// </summary>
    [Fact]
    public void AnInterruptedParticipant_BreaksTheBarrier_SoItsArrivalCannotCompleteThePhaseWithoutTheOthers()
    {
        var barrier = new PhaseBarrier(2, name: "interruptible");
        Exception? interruptedCaught = null;
        Exception? retryCaught = null;
        bool retryCompleted = false;
        var interrupted = Concurrently.Start("interrupted", () =>
        {
            try
            {
                barrier.SignalAndWait(s_hangGuard);
            }
            catch (Exception ex)
            {
                interruptedCaught = ex;
            }

            try
            {
                retryCompleted = barrier.SignalAndWait(s_hangGuard);
            }
            catch (Exception ex)
            {
                retryCaught = ex;
            }
        });
        Assert.True(SpinWait.SpinUntil(() => barrier.WaitingCount == 1 && interrupted.IsBlocked, s_hangGuard));

        interrupted.Interrupt();

        Assert.True(interrupted.Join(s_hangGuard), "The interrupted participant did not wake.");
        Assert.IsType<ThreadInterruptedException>(interruptedCaught);
        Assert.False(retryCompleted, "The interrupted participant completed phase 0 alone.");
        var broken = Assert.IsType<BrokenBarrierException>(retryCaught);
        Assert.Contains("'interruptible'", broken.Message);
        Assert.Contains("was interrupted", broken.Message);
        Assert.True(barrier.IsBroken);
        Assert.Equal(0, barrier.CurrentPhase);
    }

    [Fact]
    public void AlreadyCancelledToken_BreaksBarrier_WithoutWaiting()
    {
        var barrier = new PhaseBarrier(2, name: "early");
        Assert.Throws<OperationCanceledException>(() => barrier.SignalAndWait(new CancellationToken(canceled: true)));
        Assert.True(barrier.IsBroken);
        Assert.Throws<BrokenBarrierException>(() => barrier.SignalAndWait());
    }

    [Fact]
    public void Reset_AfterBreak_MakesBarrierUsableAgain()
    {
        int actions = 0;
        var barrier = new PhaseBarrier(2, _ => actions++, "repairable");
        Assert.False(barrier.SignalAndWait(TimeSpan.FromMilliseconds(10)));
        Assert.True(barrier.IsBroken);

        barrier.Reset();

        Assert.False(barrier.IsBroken);
        Assert.Equal(0, barrier.CurrentPhase);
        var other = Concurrently.Start("partner", () => barrier.SignalAndWait());
        Assert.True(barrier.SignalAndWait(s_hangGuard));
        Assert.True(other.Join(s_hangGuard));
        Assert.Equal(1, barrier.CurrentPhase);
        Assert.Equal(1, actions);
        Assert.False(barrier.IsBroken);
    }

    [Fact]
    public void Reset_WhileAParticipantWaits_Throws()
    {
        var barrier = new PhaseBarrier(2, name: "busy");
        var waiter = Concurrently.Start("waiting", () => barrier.SignalAndWait());
        Assert.True(SpinWait.SpinUntil(() => barrier.WaitingCount == 1, s_hangGuard));

        var ex = Assert.Throws<InvalidOperationException>(barrier.Reset);
        Assert.Contains("'busy'", ex.Message);
        Assert.Contains("1 participant(s)", ex.Message);

        barrier.SignalAndWait();
        Assert.True(waiter.Join(s_hangGuard));
        Assert.Equal(1, barrier.CurrentPhase);
    }

    [Fact]
    public void PostPhaseAction_UsingTheBarrier_Throws_AndBreaksIt()
    {
        var barrier = new PhaseBarrier(1, b => b.SignalAndWait(), "reentrant");
        var broken = Assert.Throws<BrokenBarrierException>(() => barrier.SignalAndWait());
        var inner = Assert.IsType<InvalidOperationException>(broken.InnerException);
        Assert.Contains("running the post-phase action of barrier 'reentrant' (phase 0), called SignalAndWait on it", inner.Message);
        Assert.True(barrier.IsBroken);
    }

    /// <summary>
    /// The misuse names the thread first, as every other misuse message does: it read "The post-phase action of barrier
    /// 'x' called SignalAndWait on it (thread 4, phase 0)", the thread in a parenthesis at the end.
    /// </summary>
    [Fact]
    public void PostPhaseAction_UsingTheBarrier_StartsWithTheThread()
    {
        var barrier = new PhaseBarrier(1, b => b.SignalAndWait(), "reentrant-named");
        string? message = null;
        var runner = Concurrently.Start("phase-runner", () =>
            message = Assert.IsType<InvalidOperationException>(
                Assert.Throws<BrokenBarrierException>(() => barrier.SignalAndWait()).InnerException).Message);
        Assert.True(runner.Join(s_hangGuard));

        Assert.Matches(
            @"^Thread \d+ \('phase-runner'\), running the post-phase action of barrier 'reentrant-named' \(phase 0\), called SignalAndWait on it\. ",
            message!);
    }

    [Fact]
    public void InvalidArguments_Throw()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new PhaseBarrier(0));
        var barrier = new PhaseBarrier(2);
        Assert.StartsWith("PhaseBarrier#", barrier.Name);
        Assert.Throws<ArgumentOutOfRangeException>(() => barrier.SignalAndWait(TimeSpan.FromMilliseconds(-5)));
        Assert.False(barrier.IsBroken);
    }

    [Fact]
    public void AnOutOfRangeTimeout_IsRefusedAtOnce_NamingTheBarrier_AndSignalsNothing()
    {
        // Before, the message named only the parameter ('timeout'), while every single lock's names the lock.
        var barrier = new PhaseBarrier(1, name: "barrier-timeout-stage");
        var errors = new[]
        {
            Assert.Throws<ArgumentOutOfRangeException>(() => barrier.SignalAndWait(TimeSpan.FromMilliseconds(-5))),
            Assert.Throws<ArgumentOutOfRangeException>(() => barrier.SignalAndWait(TimeSpan.FromDays(30))),
        };

        Assert.All(errors, e => Assert.Equal("timeout", e.ParamName));
        Assert.All(errors, e => Assert.StartsWith(
            "The timeout for phase barrier 'barrier-timeout-stage' must be", e.Message, StringComparison.Ordinal));

        // Refused before it arrived: no phase was completed, and the barrier still works.
        Assert.Equal(0, barrier.CurrentPhase);
        Assert.False(barrier.IsBroken);
        Assert.True(barrier.SignalAndWait(TimeSpan.Zero));
        Assert.Equal(1, barrier.CurrentPhase);
    }

    [Fact]
    public void ACancelledParticipant_IsToldTheBarrier_ThePhase_AndItsThread()
    {
        // Before, the cancelled participant got the token's bare "The operation was canceled.", naming nothing.
        var barrier = new PhaseBarrier(2, name: "cancel-named-barrier");
        using var cts = new CancellationTokenSource();
        OperationCanceledException? canceled = null;
        var impatient = Concurrently.Start("cancel-named-participant", () =>
            canceled = Assert.Throws<OperationCanceledException>(() => barrier.SignalAndWait(cts.Token)));
        Guard.SpinUntil(() => barrier.WaitingCount == 1);

        cts.Cancel();

        impatient.JoinGuarded();
        Assert.Contains("phase 0 of barrier 'cancel-named-barrier'", canceled!.Message, StringComparison.Ordinal);
        Assert.Contains("'cancel-named-participant'", canceled.Message, StringComparison.Ordinal);
        Assert.Contains("broken", canceled.Message, StringComparison.Ordinal);

        // The participant begins the sentence, as in a lock's cancelled wait (it read "The wait of thread 11 ('…') at …").
        Assert.Matches(
            @"^Thread \d+ \('cancel-named-participant'\) did not complete phase 0 of barrier 'cancel-named-barrier': its cancellation token " +
            @"was cancelled\. The phase cannot complete without it",
            canceled.Message);
        Assert.Equal(cts.Token, canceled.CancellationToken);

        // Already cancelled: refused on arrival, named the same way.
        barrier.Reset();
        var early = Assert.Throws<OperationCanceledException>(() => barrier.SignalAndWait(new CancellationToken(canceled: true)));
        Assert.StartsWith($"Thread {Environment.CurrentManagedThreadId}", early.Message, StringComparison.Ordinal);
        Assert.Contains("did not complete phase 0 of barrier 'cancel-named-barrier'", early.Message, StringComparison.Ordinal);
        Assert.True(barrier.IsBroken);
    }
}
