using System;
using System.Diagnostics.Metrics;
using System.Runtime.ExceptionServices;
using System.Threading;
using Locksmith.Tests.Support;

namespace Locksmith.Tests.Waiting;

/// <summary>
/// Waits that end by an exception while parked (an interrupted thread), and waits nested inside a wait (a metrics
/// callback that takes a lock): neither may strand a node in a queue, swallow the next waiter's wake, or hand the
/// lock to a thread that left. Found in review; each test failed before the fix.
/// </summary>
public sealed class WaitKernelExceptionTests
{
    private static void InterruptQueuedWaiter(Action wait, Func<bool> queued)
    {
        Exception? caught = null;
        var thread = Concurrently.Start("interrupted", () =>
        {
            try
            {
                wait();
            }
            catch (Exception ex)
            {
                caught = ex;
            }
        });
        Guard.SpinUntil(queued);
        thread.Interrupt();
        thread.JoinGuarded();
        Assert.IsType<ThreadInterruptedException>(caught);
    }

    [Fact]
    public void Exclusive_InterruptedWaiter_LeavesTheQueue_AndTheNextWaiterIsWoken()
    {
        var gate = new ExclusiveLock("interrupted-mutex");
        var holder = new HeldOnOtherThread("holder", release =>
        {
            using var scope = gate.Acquire();
            release.Wait();
        });
        holder.WaitUntilHeld(() => gate.IsHeld);
        InterruptQueuedWaiter(() => gate.Acquire().Dispose(), () => gate.QueuedWaiterCount == 1);
        Assert.Equal(0, gate.QueuedWaiterCount);

        bool acquired = false;
        var next = Concurrently.Start("next", () =>
        {
            if (gate.TryAcquire(Guard.HangLimit, out var scope))
            {
                acquired = true;
                scope.Dispose();
            }
        });
        Guard.SpinUntil(() => gate.QueuedWaiterCount == 1);
        holder.Release();
        next.JoinGuarded();
        Assert.True(acquired);
        Assert.Equal(0, gate.QueuedWaiterCount);
    }

    [Fact]
    public void Semaphore_InterruptedWaiter_DoesNotSwallowAPermitsWake()
    {
        var semaphore = new CountingSemaphore(0, 1, "interrupted-semaphore");
        InterruptQueuedWaiter(() => semaphore.Acquire().Dispose(), () => semaphore.QueuedWaiterCount == 1);
        Assert.Equal(0, semaphore.QueuedWaiterCount);

        bool acquired = false;
        var next = Concurrently.Start("next", () =>
        {
            if (semaphore.TryAcquire(Guard.HangLimit, out var scope))
            {
                acquired = true;
                scope.Dispose();
            }
        });
        Guard.SpinUntil(() => semaphore.QueuedWaiterCount == 1);
        semaphore.Release();
        next.JoinGuarded();
        Assert.True(acquired);
        Assert.Equal(1, semaphore.CurrentCount);
    }

    [Theory]
    [InlineData(ReadWritePolicy.WriterPreferred)]
    [InlineData(ReadWritePolicy.Fair)]
    public void ReadWrite_InterruptedQueuedWriter_IsNotHandedTheLock(ReadWritePolicy policy)
    {
        var rw = new ReadWriteLock("interrupted-rw", policy: policy);
        var holder = rw.HoldWrite();
        holder.WaitUntilHeld(() => rw.WriterThreadId != 0);
        InterruptQueuedWaiter(() => rw.AcquireWrite().Dispose(), () => rw.QueueLength == 1);
        Assert.Equal(0, rw.QueueLength);
        holder.Release();

        Assert.True(rw.TryAcquireRead(TimeSpan.Zero, out var read));
        read.Dispose();
        Assert.True(rw.TryAcquireWrite(TimeSpan.Zero, out var write));
        write.Dispose();
    }

    [Fact]
    public void ReadWrite_WaitNestedInAContentionCallback_DoesNotGrantTheOuterRead()
    {
        var outer = new ReadWriteLock("nested-outer", policy: ReadWritePolicy.WriterPreferred);
        var inner = new ReadWriteLock("nested-inner", policy: ReadWritePolicy.WriterPreferred);
        var outerWriter = outer.HoldWrite("outer-writer");
        outerWriter.WaitUntilHeld(() => outer.WriterThreadId != 0);
        var innerWriter = inner.HoldWrite("inner-writer");
        innerWriter.WaitUntilHeld(() => inner.WriterThreadId != 0);

        int waiterThread = 0;
        int nested = 0;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == "Locksmith" && instrument.Name == "locksmith.lock.contentions")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, _, _, _) =>
        {
            // The outer wait's contention event, on the waiting thread: wait on another lock in the middle of it.
            if (Environment.CurrentManagedThreadId == Volatile.Read(ref waiterThread) && Interlocked.Exchange(ref nested, 1) == 0)
            {
                using var read = inner.AcquireRead();
            }
        });
        listener.Start();

        bool gotRead = false;
        bool writerHeldMeanwhile = false;
        var reader = Concurrently.Start("reader", () =>
        {
            Volatile.Write(ref waiterThread, Environment.CurrentManagedThreadId);
            if (outer.TryAcquireRead(Guard.HangLimit, out var scope))
            {
                gotRead = true;
                writerHeldMeanwhile = outer.WriterThreadId != 0;
                scope.Dispose();
            }
        });
        Guard.SpinUntil(() => inner.QueueLength == 1);
        innerWriter.Release();
        Guard.SpinUntil(() => outer.QueueLength == 1);
        outerWriter.Release();
        reader.JoinGuarded();

        Assert.True(gotRead);
        Assert.False(writerHeldMeanwhile);
        Assert.Equal(1, Volatile.Read(ref nested));
    }

    /// <summary>
    /// A thread that runs <paramref name="body"/>, then reports whether an interrupt is still pending for it
    /// (<c>Thread.Sleep(0)</c> throws it), and what <paramref name="body"/> threw.
    /// </summary>
    private sealed class InterruptibleRun
    {
        private readonly Worker _thread;
        private Exception? _thrown;
        private bool _interruptPending;
        private int _threadId;
        private int _interruptsThrown;

        public InterruptibleRun(string name, Action body)
        {
            AppDomain.CurrentDomain.FirstChanceException += CountInterrupt;
            _thread = Concurrently.Start(name, () =>
            {
                Volatile.Write(ref _threadId, Environment.CurrentManagedThreadId);
                try
                {
                    body();
                }
                catch (Exception ex)
                {
                    _thrown = ex;
                }

                try
                {
                    Thread.Sleep(0);
                }
                catch (ThreadInterruptedException)
                {
                    _interruptPending = true;
                }
            });
        }

        /// <summary>
        /// Interrupts the thread once it blocks, and returns once the interrupt was thrown where it waits. Before, a
        /// 50 ms sleep stood for that: on a loaded machine the gate could be let go first, the wait end normally, and the
        /// interrupt land later, where the test does not look for it.
        /// </summary>
        public void InterruptWhenBlocked()
        {
            Guard.SpinUntil(() => _thread.IsBlocked);
            int before = Volatile.Read(ref _interruptsThrown);
            _thread.Interrupt();
            Guard.SpinUntil(() => Volatile.Read(ref _interruptsThrown) > before);
        }

        public (Exception? Thrown, bool InterruptPending) Join()
        {
            try
            {
                _thread.JoinGuarded();
            }
            finally
            {
                AppDomain.CurrentDomain.FirstChanceException -= CountInterrupt;
            }

            return (_thrown, _interruptPending);
        }

        // Raised on the throwing thread: an interrupt is thrown at once where the thread waits, or at its next wait.
        private void CountInterrupt(object? sender, FirstChanceExceptionEventArgs e)
        {
            if (e.Exception is ThreadInterruptedException && Environment.CurrentManagedThreadId == Volatile.Read(ref _threadId))
            {
                Interlocked.Increment(ref _interruptsThrown);
            }
        }
    }

    /// <summary>Holds <paramref name="gate"/> (a queue's gate) on another thread until released.</summary>
    private static HeldOnOtherThread HoldGate(Lock gate) =>
        HeldOnOtherThread.Hold("gate-holder", release =>
        {
            lock (gate)
            {
                release.Wait();
            }
        });

    [Fact]
    public void AnInterruptWhileEnteringAGate_IsRaisedOnlyOnceTheThreadHoldsNoGate()
    {
        // Raised right after entering, it would hit the first interruptible call under the gate (a metrics listener's
        // lock, in a grant pass that has taken the permits but not yet handed them over).
        var gate = new Lock();
        var inner = new Lock();
        bool interruptedUnderTheGates = false;
        var holder = HoldGate(gate);
        var run = new InterruptibleRun("entering", () =>
        {
            using (GateEntry.Enter(gate))
            using (GateEntry.Enter(inner))
            {
                try
                {
                    Thread.Sleep(0);
                }
                catch (ThreadInterruptedException)
                {
                    interruptedUnderTheGates = true;
                }
            }
        });
        run.InterruptWhenBlocked();
        holder.Release();
        var (thrown, interruptPending) = run.Join();

        Assert.Null(thrown);
        Assert.False(interruptedUnderTheGates);
        Assert.True(interruptPending);
    }

    [Fact]
    public void Semaphore_ReleaseInterruptedWhileItWaitsForTheGate_StillWakesTheWaiter_AndKeepsTheInterrupt()
    {
        // Before, Release added the permit, was interrupted on its way to wake the waiter, and the waiter slept on with
        // the permit free until its timeout ("which had 1 of its maximum 1 free").
        var semaphore = new CountingSemaphore(0, 1, "db-pool");
        bool acquired = false;
        var waiter = Concurrently.Start("waiter", () =>
        {
            if (semaphore.TryAcquire(Guard.HangLimit, out var scope))
            {
                acquired = true;
                scope.Dispose();
            }
        });
        Guard.SpinUntil(() => semaphore.QueuedWaiterCount == 1);
        var gateHolder = HoldGate(semaphore.QueueGateForTests);

        var releaser = new InterruptibleRun("releaser", () => semaphore.Release());
        releaser.InterruptWhenBlocked();
        gateHolder.Release();
        var (thrown, interruptPending) = releaser.Join();
        waiter.JoinGuarded();

        Assert.Null(thrown);
        Assert.True(interruptPending);
        Assert.True(acquired);
        Assert.Equal(1, semaphore.CurrentCount);
        Assert.Equal(0, semaphore.QueuedWaiterCount);
    }

    [Fact]
    public void ReadWrite_WriteReleaseInterruptedWhileItWaitsForTheGate_LeavesTheLockFree_AndKeepsTheInterrupt()
    {
        // Before, the release cleared the writer's id and left the write bit set: held by nobody, for good.
        var rw = new ReadWriteLock("orders");
        var writing = new ManualResetEventSlim();
        bool release = false;
        var writer = new InterruptibleRun("writer", () =>
        {
            var scope = rw.AcquireWrite();
            writing.Set();

            // A busy spin, not a blocking wait: the thread is seen blocked only once its release waits for the gate.
            while (!Volatile.Read(ref release))
            {
                Thread.SpinWait(20);
            }

            scope.Dispose();
        });
        writing.Wait();
        bool read = false;
        var reader = Concurrently.Start("reader", () =>
        {
            if (rw.TryAcquireRead(Guard.HangLimit, out var scope))
            {
                read = true;
                scope.Dispose();
            }
        });
        Guard.SpinUntil(() => rw.QueueLength == 1);
        var gateHolder = HoldGate(rw.QueueGateForTests);

        Volatile.Write(ref release, true);
        writer.InterruptWhenBlocked();
        gateHolder.Release();
        var (thrown, interruptPending) = writer.Join();
        reader.JoinGuarded();

        Assert.Null(thrown);
        Assert.True(interruptPending);
        Assert.True(read);
        Assert.Equal(0, rw.WriterThreadId);
        Assert.True(rw.TryAcquireWrite(TimeSpan.Zero, out var write));
        write.Dispose();
    }

    [Fact]
    public void Exclusive_ParkedWaiterInterruptedTwice_GetsTheInterrupt_AndLeavesTheQueueUnderTheGate()
    {
        // The first interrupt ends the park; the second lands while the waiter takes the gate back to leave the queue.
        // Before: a bare SynchronizationLockException ("The calling thread does not hold the lock"), the queue changed
        // without the gate, and the second interrupt gone.
        var ledger = new ExclusiveLock("ledger");
        var holder = new HeldOnOtherThread("holder", release =>
        {
            using var scope = ledger.Acquire();
            release.Wait();
        });
        holder.WaitUntilHeld(() => ledger.IsHeld);
        var waiter = new InterruptibleRun("waiter", () =>
        {
            using var scope = ledger.Acquire();
        });
        Guard.SpinUntil(() => ledger.QueuedWaiterCount == 1);
        var gateHolder = HoldGate(ledger.QueueGateForTests);
        waiter.InterruptWhenBlocked();

        // Interrupted out of the park just now: on its way back into the gate, which another thread holds.
        waiter.InterruptWhenBlocked();
        gateHolder.Release();
        var (thrown, interruptPending) = waiter.Join();

        Assert.IsType<ThreadInterruptedException>(thrown);

        // The second interrupt came only once the first was thrown (they cannot merge), so it is kept for after the gate.
        Assert.True(interruptPending);
        Assert.Equal(0, ledger.QueuedWaiterCount);
        holder.Release();
        Assert.False(ledger.IsHeld);
        Assert.True(ledger.TryAcquire(TimeSpan.Zero, out var again));
        again.Dispose();
    }
}
