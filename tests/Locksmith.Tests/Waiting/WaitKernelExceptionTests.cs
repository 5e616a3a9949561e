using System;
using System.Diagnostics.Metrics;
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
}
