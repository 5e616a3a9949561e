using System;
using System.Threading;
using System.Threading.Tasks;
using Locksmith.Tests.Support;

namespace Locksmith.Tests.Waiting;

/// <summary>The async waiter shares the kernel's queue with parked threads and never runs on the waker's stack.</summary>
public sealed class AsyncWaitNodeTests
{
    [Fact]
    public async Task SignalledNode_CompletesTrue_AndItsContinuationDoesNotRunOnTheWakersStack()
    {
        var queue = new WaitQueue();
        var node = new AsyncWaitNode();
        var waiting = node.Begin(0, 1);
        lock (queue.Gate)
        {
            queue.EnqueueLast(node);
        }

        int wakerThread = 0;
        int continuationThread = 0;
        bool ranInsideSignal = false;
        bool signalling = false;
        var continuation = Task.Run(async () =>
        {
            bool result = await waiting;
            continuationThread = Environment.CurrentManagedThreadId;
            ranInsideSignal = Volatile.Read(ref signalling) && continuationThread == Volatile.Read(ref wakerThread);
            return result;
        });

        var waker = new Thread(() =>
        {
            wakerThread = Environment.CurrentManagedThreadId;
            lock (queue.Gate)
            {
                Volatile.Write(ref signalling, true);
                queue.WakeFirst(WaitStatus.Granted);
                Volatile.Write(ref signalling, false);
            }
        })
        { IsBackground = true };
        waker.Start();
        waker.JoinGuarded();

        Assert.True(await continuation.WaitAsync(Guard.HangLimit));
        Assert.False(ranInsideSignal);
        Assert.Equal(WaitStatus.Granted, node.Status);
        Assert.Equal(0, queue.Count);
    }

    [Fact]
    public async Task GivenUpNode_CompletesFalse_AndALateSignalIsRefused()
    {
        var queue = new WaitQueue();
        var node = new AsyncWaitNode();
        var waiting = node.Begin(0, 1);
        lock (queue.Gate)
        {
            queue.EnqueueLast(node);
            Assert.True(node.TryGiveUp());
            queue.Remove(node);
        }

        Assert.False(await waiting);

        // Whoever settles second loses: a signal after the give-up does not complete the task twice.
        node.Signal(WaitStatus.Woken);
        Assert.False(node.TryGiveUp());
    }

    [Fact]
    public async Task SignalBeforeGiveUp_WinsTheRace_SoAHandOverIsNeverDropped()
    {
        var node = new AsyncWaitNode();
        var waiting = node.Begin(0, 1);
        node.Signal(WaitStatus.Granted);
        Assert.False(node.TryGiveUp());
        Assert.True(await waiting);
    }

    [Fact]
    public async Task Node_IsReusable_ForManyWaits()
    {
        var node = new AsyncWaitNode();
        for (int i = 0; i < 1_000; i++)
        {
            var waiting = node.Begin(0, i);
            if (i % 2 == 0)
            {
                node.Signal(WaitStatus.Woken);
                Assert.True(await waiting);
            }
            else
            {
                Assert.True(node.TryGiveUp());
                Assert.False(await waiting);
            }
        }
    }
}
