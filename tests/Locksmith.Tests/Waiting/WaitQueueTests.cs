using System.Collections.Generic;
using System.Threading;

namespace Locksmith.Tests.Waiting;

/// <summary>The kernel's queue on its own: FIFO order, a woken waiter's place at the front, removal anywhere, exact counts.</summary>
public sealed class WaitQueueTests
{
    [Fact]
    public void Waiters_AreWokenInArrivalOrder_AndLeaveTheQueue()
    {
        var queue = new WaitQueue();
        var nodes = new[] { new RecordingNode("a"), new RecordingNode("b"), new RecordingNode("c") };
        var woken = new List<string>();
        lock (queue.Gate)
        {
            foreach (var node in nodes)
            {
                queue.EnqueueLast(node);
            }

            Assert.Equal(3, queue.Count);
            while (queue.Dequeue() is RecordingNode next)
            {
                woken.Add(next.Name);
            }
        }

        Assert.Equal(["a", "b", "c"], woken);
        Assert.Equal(0, queue.Count);
        Assert.All(nodes, node => Assert.False(node.IsQueued));
    }

    [Fact]
    public void WokenWaiterThatLostItsRetry_GoesBackToTheFront()
    {
        var queue = new WaitQueue();
        var first = new RecordingNode("first");
        var second = new RecordingNode("second");
        lock (queue.Gate)
        {
            queue.EnqueueLast(first);
            queue.EnqueueLast(second);
            Assert.True(queue.WakeFirst(WaitStatus.Woken));
            Assert.Equal(WaitStatus.Woken, first.Status);

            queue.EnqueueFirst(first);
            Assert.Equal(WaitStatus.Waiting, first.Status);
            Assert.Same(first, queue.Head);
            Assert.Equal(2, queue.Count);
        }
    }

    [Fact]
    public void RemovingFromTheMiddle_KeepsTheOthersInOrder()
    {
        var queue = new WaitQueue();
        var a = new RecordingNode("a");
        var b = new RecordingNode("b");
        var c = new RecordingNode("c");
        lock (queue.Gate)
        {
            queue.EnqueueLast(a);
            queue.EnqueueLast(b);
            queue.EnqueueLast(c);
            queue.Remove(b);
            Assert.False(b.IsQueued);
            Assert.Same(a, queue.Dequeue());
            Assert.Same(c, queue.Dequeue());
            Assert.Null(queue.Dequeue());
        }
    }

    [Fact]
    public void WakeAll_SignalsEveryWaiterOnce_WithTheGivenStatus()
    {
        var queue = new WaitQueue();
        var nodes = new[] { new RecordingNode("a"), new RecordingNode("b") };
        lock (queue.Gate)
        {
            foreach (var node in nodes)
            {
                queue.EnqueueLast(node);
            }

            queue.WakeAll(WaitStatus.Granted);
        }

        Assert.All(nodes, node =>
        {
            Assert.Equal(1, node.Signals);
            Assert.Equal(WaitStatus.Granted, node.Status);
        });
        Assert.Equal(0, queue.Count);
    }

    [Fact]
    public void ParkedThread_WakesOnSignal_WithItsStatus()
    {
        var node = new ThreadWaitNode();
        node.Reset(0, 0);
        bool? woken = null;
        var parked = new Thread(() => woken = node.Park(long.MaxValue, CancellationToken.None)) { IsBackground = true };
        parked.Start();

        Guard.SpinUntil(() => (parked.ThreadState & ThreadState.WaitSleepJoin) != 0);
        node.Signal(WaitStatus.Granted);
        parked.JoinGuarded();
        Assert.True(woken);
        Assert.Equal(WaitStatus.Granted, node.Status);
    }

    [Fact]
    public void ParkedThread_GivesUpWhenItsTokenIsCancelled()
    {
        var node = new ThreadWaitNode();
        node.Reset(0, 0);
        using var cts = new CancellationTokenSource();
        bool? woken = null;
        var parked = new Thread(() => woken = node.Park(long.MaxValue, cts.Token)) { IsBackground = true };
        parked.Start();
        cts.Cancel();
        node.Nudge();
        parked.JoinGuarded();
        Assert.False(woken);
        Assert.Equal(WaitStatus.Waiting, node.Status);
    }

    private sealed class RecordingNode(string name) : WaitNode
    {
        public string Name { get; } = name;

        public int Signals { get; private set; }

        internal override void Signal(WaitStatus status)
        {
            Status = status;
            Signals++;
        }

        internal override void Nudge()
        {
        }
    }
}
