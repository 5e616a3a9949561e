using System;
using System.Threading;
using Locksmith.Tests.Support;

namespace Locksmith.Tests.Primitives;

public sealed class ConditionVariableTests
{
    [Fact]
    public void BoundedQueue_MovesEveryItemExactlyOnce_FromFourProducersToFourConsumers()
    {
        const int capacity = 64;
        const int producers = 4;
        const int consumers = 4;
        const int total = 1_000_000;
        const int perProducer = total / producers;

        var gate = new ExclusiveLock("queue");
        var notFull = new ConditionVariable(gate, "notFull");
        var notEmpty = new ConditionVariable(gate, "notEmpty");
        var buffer = new int[capacity];
        int head = 0;
        int count = 0;
        int taken = 0;

        var seen = new int[total + 1];
        long consumedSum = 0;
        long consumedCount = 0;

        Concurrently.Run(producers + consumers, index =>
        {
            if (index < producers)
            {
                int first = (index * perProducer) + 1;
                for (int item = first; item < first + perProducer; item++)
                {
                    using var scope = gate.Acquire();
                    while (count == capacity)
                    {
                        notFull.Wait();
                    }

                    buffer[(head + count) % capacity] = item;
                    count++;
                    notEmpty.Notify();
                }

                return;
            }

            long sum = 0;
            long items = 0;
            while (true)
            {
                int item;
                using (var scope = gate.Acquire())
                {
                    while (count == 0 && taken < total)
                    {
                        notEmpty.Wait();
                    }

                    if (count == 0)
                    {
                        break;
                    }

                    item = buffer[head];
                    head = (head + 1) % capacity;
                    count--;
                    if (++taken == total)
                    {
                        // The last item: release the consumers still waiting for one that will never come.
                        notEmpty.NotifyAll();
                    }

                    notFull.Notify();
                }

                Interlocked.Increment(ref seen[item]);
                sum += item;
                items++;
            }

            Interlocked.Add(ref consumedSum, sum);
            Interlocked.Add(ref consumedCount, items);
        });

        Assert.Equal(total, consumedCount);
        Assert.Equal((long)total * (total + 1) / 2, consumedSum);
        Assert.Equal(0, seen[0]);
        for (int item = 1; item <= total; item++)
        {
            if (seen[item] != 1)
            {
                Assert.Fail($"Item {item} was consumed {seen[item]} times.");
            }
        }

        Assert.False(gate.IsHeld);
    }

    [Fact]
    public void Wait_WithoutHoldingTheLock_ThrowsAtOnce_NamingLockConditionAndThread()
    {
        var gate = new ExclusiveLock("orders");
        var ready = new ConditionVariable(gate, "ready");
        Assert.Equal("ready", ready.Name);
        Assert.Same(gate, ready.Lock);

        var ex = Assert.Throws<SynchronizationLockException>(ready.Wait);
        Assert.Contains("'orders'", ex.Message);
        Assert.Contains("'ready'", ex.Message);
        Assert.Contains($"Thread {Environment.CurrentManagedThreadId}", ex.Message);
        Assert.Throws<SynchronizationLockException>(() => ready.Wait(TimeSpan.FromSeconds(30)));
        Assert.Throws<SynchronizationLockException>(() => ready.WaitUntil(() => true));
        Assert.Throws<SynchronizationLockException>(() => ready.WaitUntil(() => true, TimeSpan.FromSeconds(30)));

        // Held by another thread is not held by this one.
        using var holder = new HeldOnOtherThread("holder", acquire: release =>
        {
            using var scope = gate.Acquire();
            release.Wait();
        });
        holder.WaitUntilHeld(() => gate.IsHeld);
        Assert.Throws<SynchronizationLockException>(ready.Wait);
    }

    [Fact]
    public void WaitUntil_ReturnsTrue_WhenAnotherThreadMakesThePredicateTrueAndNotifies()
    {
        var gate = new ExclusiveLock("flag");
        var changed = new ConditionVariable(gate, "changed");
        bool flag = false;
        Worker notifier;

        using (var scope = gate.Acquire())
        {
            // The notifier can only take the lock once this thread waits and so releases it.
            notifier = Concurrently.Start("notifier", () =>
            {
                using var inner = gate.Acquire();
                flag = true;
                changed.Notify();
            });

            Assert.True(changed.WaitUntil(() => flag, TimeSpan.FromSeconds(30)));
            Assert.True(gate.IsHeldByCurrentThread);
        }

        notifier.JoinGuarded();
    }

    [Fact]
    public void WaitUntil_NeverTruePredicate_ReturnsFalseAfterTheTimeout_HoldingTheLock()
    {
        var gate = new ExclusiveLock("never");
        var changed = new ConditionVariable(gate);
        using var scope = gate.Acquire();
        int checks = 0;

        Assert.False(changed.WaitUntil(() => { checks++; return false; }, TimeSpan.FromMilliseconds(50)));

        Assert.True(gate.IsHeldByCurrentThread);
        Assert.True(checks >= 1);
        Assert.False(changed.Wait(TimeSpan.FromMilliseconds(20)));
        Assert.True(gate.IsHeldByCurrentThread);
    }

    [Fact]
    public void CancelledWait_ThrowsOperationCanceled_HoldingTheLockAgain()
    {
        var gate = new ExclusiveLock("cancelled");
        var changed = new ConditionVariable(gate, "changed");
        using var cts = new CancellationTokenSource();
        Worker canceller;

        using (var scope = gate.Acquire())
        {
            canceller = Concurrently.Start("canceller", () =>
            {
                // Taking the lock proves the waiter released it, so it is inside Wait.
                using var inner = gate.Acquire();
                cts.Cancel();
            });

            Assert.Throws<OperationCanceledException>(() => changed.Wait(cts.Token));
            Assert.True(gate.IsHeldByCurrentThread);
            Assert.Throws<OperationCanceledException>(() => changed.WaitUntil(() => false, Timeout.InfiniteTimeSpan, cts.Token));
            Assert.True(gate.IsHeldByCurrentThread);
        }

        canceller.JoinGuarded();
        Assert.False(gate.IsHeld);
    }

    [Fact]
    public void NotifyAll_WakesEveryWaiter_AndNotifyWithoutWaitersIsHarmless()
    {
        var gate = new ExclusiveLock("broadcast");
        var go = new ConditionVariable(gate, "go");
        go.Notify();
        go.NotifyAll();

        const int waiters = 3;
        int waiting = 0;
        int woken = 0;
        bool released = false;
        var threads = new Worker[waiters];
        for (int i = 0; i < waiters; i++)
        {
            threads[i] = Concurrently.Start($"waiter-{i}", () =>
            {
                using var scope = gate.Acquire();
                waiting++;
                while (!released)
                {
                    go.Wait();
                }

                woken++;
            });
        }

        // Each waiter counts itself and enqueues under the lock, so seeing all three under the lock means all wait.
        Guard.SpinUntil(() =>
        {
            using var scope = gate.Acquire();
            return waiting == waiters;
        });
        using (var scope = gate.Acquire())
        {
            released = true;
            go.NotifyAll();
        }

        foreach (var thread in threads)
        {
            thread.JoinGuarded();
        }

        Assert.Equal(waiters, woken);
    }

    [Fact]
    public void Notify_EachCallWakesAWaiter_NoneIsLost()
    {
        var gate = new ExclusiveLock("tickets");
        var ticket = new ConditionVariable(gate, "ticket");
        const int waiters = 4;
        int waiting = 0;
        int tickets = 0;
        int served = 0;
        var threads = new Worker[waiters];
        for (int i = 0; i < waiters; i++)
        {
            threads[i] = Concurrently.Start($"waiter-{i}", () =>
            {
                using var scope = gate.Acquire();
                waiting++;
                while (tickets == 0)
                {
                    ticket.Wait();
                }

                tickets--;
                served++;
            });
        }

        Guard.SpinUntil(() =>
        {
            using var scope = gate.Acquire();
            return waiting == waiters;
        });
        for (int i = 0; i < waiters; i++)
        {
            using var scope = gate.Acquire();
            tickets++;
            ticket.Notify();
        }

        foreach (var thread in threads)
        {
            thread.JoinGuarded();
        }

        Assert.Equal(waiters, served);
        Assert.Equal(0, tickets);
    }

    [Fact]
    public void AnOutOfRangeTimeout_IsRefusedAtOnce_NamingTheConditionAndItsLock()
    {
        // Before, the message named only the parameter ('timeout'), while every single lock's names the lock.
        var gate = new ExclusiveLock("cv-timeout-queue");
        var notEmpty = new ConditionVariable(gate, "cv-timeout-notEmpty");
        using (gate.Acquire())
        {
            var errors = new[]
            {
                Assert.Throws<ArgumentOutOfRangeException>(() => notEmpty.Wait(TimeSpan.FromMilliseconds(-5))),
                Assert.Throws<ArgumentOutOfRangeException>(() => notEmpty.WaitUntil(() => false, TimeSpan.FromDays(30))),
            };

            Assert.All(errors, e => Assert.Equal("timeout", e.ParamName));
            Assert.All(errors, e => Assert.StartsWith(
                "The timeout for condition variable 'cv-timeout-notEmpty' (of 'cv-timeout-queue') must be", e.Message, StringComparison.Ordinal));

            // Refused before it waited: the lock is still held, and a valid wait still times out as usual.
            Assert.True(gate.IsHeldByCurrentThread);
            Assert.False(notEmpty.Wait(TimeSpan.Zero));
            Assert.True(gate.IsHeldByCurrentThread);
        }
    }

    [Fact]
    public void ACancelledWait_NamesTheCondition_ItsLock_AndTheThread_BeforeAndWhileWaiting()
    {
        // Before, both were the token's bare "The operation was canceled.", naming nothing.
        var gate = new ExclusiveLock("cancel-named-gate");
        var changed = new ConditionVariable(gate, "cancel-named-changed");
        using var cts = new CancellationTokenSource();
        OperationCanceledException? before = null;
        OperationCanceledException? during = null;
        var waiter = Concurrently.Start("cancel-named-waiter", () =>
        {
            using var scope = gate.Acquire();
            before = Assert.Throws<OperationCanceledException>(() => changed.Wait(new CancellationToken(canceled: true)));
            during = Assert.Throws<OperationCanceledException>(() => changed.Wait(cts.Token));
            Assert.True(gate.IsHeldByCurrentThread);
        });

        Guard.SpinUntil(() => Volatile.Read(ref before) is not null);
        using (gate.Acquire())
        {
            // Taking the lock proves the waiter released it, so it is inside its second Wait.
            cts.Cancel();
        }

        waiter.JoinGuarded();
        foreach (var canceled in new[] { before!, during! })
        {
            Assert.Contains("condition variable 'cancel-named-changed' (of 'cancel-named-gate')", canceled.Message, StringComparison.Ordinal);
            Assert.Contains("'cancel-named-waiter'", canceled.Message, StringComparison.Ordinal);
        }

        Assert.Contains("already cancelled", before!.Message, StringComparison.Ordinal);
        Assert.Contains("holds the lock again", during!.Message, StringComparison.Ordinal);

        // The waiter begins the sentence, as in a lock's cancelled wait (it read "The wait of thread 11 ('…') on …").
        Assert.Matches(
            @"^Thread \d+ \('cancel-named-waiter'\) stopped waiting on condition variable 'cancel-named-changed' \(of 'cancel-named-gate'\): " +
            @"its cancellation token was cancelled; it holds the lock again\.$",
            during.Message);
        Assert.Equal(cts.Token, during.CancellationToken);
    }

    /// <summary>
    /// A notified wait that fails while it takes its lock back (an interrupt, or a long-wait handler that throws) throws
    /// with the lock held and hands its notification on, so the other waiter is notified instead of sleeping through it.
    /// </summary>
    [Theory]
    [InlineData("interrupt")]
    [InlineData("long-wait handler")]
    public void ANotifiedWaitThatFailsToTakeItsLockBack_HandsTheNotificationOn(string failure)
    {
        string name = "hand-on-" + failure.Replace(' ', '-');
        var gate = new ExclusiveLock(name);
        var condition = new ConditionVariable(gate, name + "-cv");
        using var policy = PolicyScope.Capture();
        Exception? caught = null;
        bool heldWhenThrown = false;
        var notified = Concurrently.Start("notified-waiter", () =>
        {
            using var scope = gate.Acquire();
            try
            {
                condition.Wait(Guard.HangLimit);
            }
            catch (Exception exception)
            {
                caught = exception;
                heldWhenThrown = gate.IsHeldByCurrentThread;
            }
        });
        Guard.SpinUntil(() => condition.QueuedWaiterCount == 1);
        var other = Concurrently.Start("other-waiter", () =>
        {
            using var scope = gate.Acquire();
            condition.Wait(Guard.HangLimit);
        });
        Guard.SpinUntil(() => condition.QueuedWaiterCount == 2);

        // The first waiter is notified while this thread holds the lock, so it blocks on the lock to take it back.
        gate.Acquire();
        try
        {
            if (failure == "long-wait handler")
            {
                LocksmithPolicy.LongWaitThreshold = TimeSpan.Zero;
                LocksmithPolicy.LongWaitOccurred = e =>
                {
                    if (e.LockName == name && Thread.CurrentThread.Name == "notified-waiter")
                    {
                        throw new InvalidOperationException("long-wait handler failed for " + e.LockName);
                    }
                };
            }

            condition.Notify();
            Blocked.OnLock(gate);
            if (failure == "interrupt")
            {
                long since = BlockedSince(gate);
                notified.Interrupt();

                // A new wait for the lock began: the interrupt ended the one before it.
                Guard.SpinUntil(() => BlockedSince(gate) is var now && now != 0 && now != since);
            }
        }
        finally
        {
            gate.Release();
        }

        notified.JoinGuarded();
        int stillQueued = condition.QueuedWaiterCount;
        using (gate.Acquire())
        {
            // Ends the other wait whatever happened, so a failure does not leave it waiting.
            condition.NotifyAll();
        }

        other.JoinGuarded();
        Assert.IsType(failure == "interrupt" ? typeof(ThreadInterruptedException) : typeof(InvalidOperationException), caught);
        Assert.True(heldWhenThrown);
        Assert.Equal(0, stillQueued);
    }

    /// <summary>When the thread blocked on <paramref name="lockPrimitive"/> began its wait, or 0 while none is.</summary>
    private static long BlockedSince(LockPrimitive lockPrimitive)
    {
        foreach (var owner in LockOwner.Snapshot())
        {
            if (ReferenceEquals(owner.WaitingFor, lockPrimitive))
            {
                return Volatile.Read(ref owner.WaitingSince);
            }
        }

        return 0;
    }
}
