using System;
using System.Threading;
using System.Threading.Tasks;

namespace Locksmith.Testing.Tests;

/// <summary>
/// A token cancelled while a controlled flow waits ends the wait, as it does outside a controlled run. Before, the
/// scheduler knew nothing of the token: the flow slept on until a release, or the run reported a false deadlock.
/// </summary>
public sealed class CancellationTests
{
    private static readonly ControlledTestOptions s_options = new() { Seed = 5, Iterations = 60 };

    [Fact]
    public void AFlowWaitingForPermitsNobodyWillRelease_IsCancelled_NotReportedAsADeadlock()
    {
        int cancelled = 0;
        var result = ControlledTest.Run(
            scenario =>
            {
                var permits = new CountingSemaphore(0, 1, "permits");
                var cancellation = new CancellationTokenSource();
                scenario.Flow("waiter", async () =>
                {
                    var error = await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await permits.AcquireAsync(cancellation.Token));
                    Assert.Contains("'permits'", error.Message, StringComparison.Ordinal);
                    Interlocked.Increment(ref cancelled);
                });
                scenario.Flow("canceller", async () =>
                {
                    await Task.Yield();
                    ControlledTest.Interleave();
                    await cancellation.CancelAsync();
                });
                scenario.Finally(() => Assert.Equal(0, permits.CurrentCount));
            },
            s_options);

        Assert.True(result.Passed, result.ToString());
        Assert.Equal(s_options.Iterations, cancelled);
    }

    [Theory]
    [InlineData("ExclusiveLock")]
    [InlineData("CountingSemaphore")]
    [InlineData("AsyncExclusiveLock")]
    [InlineData("AsyncReadWriteLock")]
    [InlineData("CountingSemaphore async")]
    public void AWaitCancelledWhileTheLockIsHeld_EndsAtOnce_AndLeavesTheLockExact(string kind)
    {
        int cancelled = 0;
        CountingSemaphore released = null!;
        var result = ControlledTest.Run(
            scenario =>
            {
                // The holder keeps the lock until the waiter is done: a wait the cancellation does not end never ends.
                released = new CountingSemaphore(0, 1, "released");
                var cancellation = new CancellationTokenSource();
                switch (kind)
                {
                    case "ExclusiveLock":
                    {
                        var gate = new ExclusiveLock("gate");
                        scenario.Thread("holder", () =>
                        {
                            using var held = gate.Acquire();
                            using var go = released.Acquire();
                        });
                        scenario.Thread("waiter", () => Waiting(() => gate.Acquire(cancellation.Token).Dispose()));
                        scenario.Finally(() => Assert.False(gate.IsHeld));
                        break;
                    }

                    case "CountingSemaphore":
                    {
                        var gate = new CountingSemaphore(1, 1, "gate");
                        scenario.Thread("holder", () =>
                        {
                            using var held = gate.Acquire();
                            using var go = released.Acquire();
                        });
                        scenario.Thread("waiter", () => Waiting(() => gate.Acquire(cancellation.Token).Dispose()));
                        scenario.Finally(() => Assert.Equal(1, gate.CurrentCount));
                        break;
                    }

                    case "AsyncExclusiveLock":
                    {
                        var gate = new AsyncExclusiveLock("gate");
                        scenario.Flow("holder", async () =>
                        {
                            using var held = await gate.AcquireAsync();
                            using var go = await released.AcquireAsync();
                        });
                        scenario.Flow("waiter", () => WaitingAsync(async () => (await gate.AcquireAsync(cancellation.Token)).Dispose()));
                        scenario.Finally(() => Assert.False(gate.IsHeld));
                        break;
                    }

                    case "AsyncReadWriteLock":
                    {
                        var gate = new AsyncReadWriteLock("gate");
                        scenario.Flow("holder", async () =>
                        {
                            using var held = await gate.AcquireWriteAsync();
                            using var go = await released.AcquireAsync();
                        });
                        scenario.Flow("waiter", () => WaitingAsync(async () => (await gate.AcquireReadAsync(cancellation.Token)).Dispose()));
                        scenario.Finally(() => Assert.True(!gate.IsWriteHeld && gate.CurrentReaderCount == 0));
                        break;
                    }

                    default:
                    {
                        var gate = new CountingSemaphore(1, 1, "gate");
                        scenario.Flow("holder", async () =>
                        {
                            using var held = await gate.AcquireAsync();
                            using var go = await released.AcquireAsync();
                        });
                        scenario.Flow("waiter", () => WaitingAsync(async () => (await gate.AcquireAsync(cancellation.Token)).Dispose()));
                        scenario.Finally(() => Assert.Equal(1, gate.CurrentCount));
                        break;
                    }
                }

                scenario.Flow("canceller", async () =>
                {
                    await Task.Yield();
                    ControlledTest.Interleave();
                    await cancellation.CancelAsync();
                });
            },
            s_options);

        Assert.True(result.Passed, result.ToString());

        // Some schedules let the waiter in before the holder; the others must end it by the cancellation.
        Assert.InRange(cancelled, 1, s_options.Iterations);

        // A cancelled wait names the lock; the waiter then lets the holder go.
        void Waiting(Action wait)
        {
            try
            {
                wait();
            }
            catch (OperationCanceledException error)
            {
                Cancelled(error);
            }
            finally
            {
                released.Release();
            }
        }

        async Task WaitingAsync(Func<Task> wait)
        {
            try
            {
                await wait();
            }
            catch (OperationCanceledException error)
            {
                Cancelled(error);
            }
            finally
            {
                released.Release();
            }
        }

        void Cancelled(OperationCanceledException error)
        {
            Assert.Contains("'gate'", error.Message, StringComparison.Ordinal);
            Interlocked.Increment(ref cancelled);
        }
    }

    [Fact]
    public void AConditionWaitCancelledWhileNobodyNotifies_Throws_AndHoldsTheLockAgain()
    {
        int cancelled = 0;
        var result = ControlledTest.Run(
            scenario =>
            {
                var gate = new ExclusiveLock("queue");
                var notEmpty = new ConditionVariable(gate, "notEmpty");
                var cancellation = new CancellationTokenSource();
                scenario.Thread("consumer", () =>
                {
                    using var scope = gate.Acquire();
                    Assert.ThrowsAny<OperationCanceledException>(() => notEmpty.Wait(cancellation.Token));
                    Assert.True(gate.IsHeldByCurrentThread);
                    Interlocked.Increment(ref cancelled);
                });
                scenario.Thread("canceller", () =>
                {
                    ControlledTest.Interleave();
                    cancellation.Cancel();
                });
            },
            s_options);

        Assert.True(result.Passed, result.ToString());
        Assert.Equal(s_options.Iterations, cancelled);
    }

    /// <summary>
    /// A token only a timer cancels does not make the scheduler wait in real time: with every flow blocked the run is a
    /// deadlock at once (README: "The scheduler does not wait for a cancellation"), while a timed wait is timed out.
    /// </summary>
    [Fact]
    public void AWaitOnlyATimerWouldCancel_IsADeadlockAtOnce_WhileATimedWaitIsTimedOut()
    {
        var byTimer = ControlledTest.Run(
            scenario =>
            {
                var permits = new CountingSemaphore(0, 1, "permits");
                scenario.Flow("waiter", async () =>
                {
                    using var cancellation = new CancellationTokenSource(TimeSpan.FromMinutes(10));
                    (await permits.AcquireAsync(cancellation.Token)).Dispose();
                });
            },
            new ControlledTestOptions { Iterations = 1 });

        var report = Assert.IsType<ControlledTestReport>(byTimer.Failure);
        Assert.Equal(ControlledFailureKind.Deadlock, report.Kind);
        Assert.Equal([new WaitForEdge("waiter", "permits", null)], report.Waits);

        bool timedOut = false;
        var timed = ControlledTest.Run(
            scenario =>
            {
                var permits = new CountingSemaphore(0, 1, "permits");
                scenario.Flow("waiter", async () =>
                {
                    var scope = await permits.TryAcquireAsync(TimeSpan.FromMinutes(10));
                    timedOut = !scope.IsAcquired;
                    scope.Dispose();
                });
            },
            new ControlledTestOptions { Iterations = 1 });

        Assert.True(timed.Passed, timed.ToString());
        Assert.True(timedOut);
    }
}
