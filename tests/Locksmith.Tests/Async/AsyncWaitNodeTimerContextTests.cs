using System;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Locksmith.Tests.Support;

namespace Locksmith.Tests.Async;

/// <summary>Whose execution context a pooled async wait node's timeout runs in.</summary>
public sealed class AsyncWaitNodeTimerContextTests
{
    private static object? s_marker;
    private static int s_waitingThread;
    private static int s_elsewhere;

    // Counts the times another thread than the waiter's switched to a context carrying the waiter's value.
    private static readonly AsyncLocal<object?> s_requestState = new(static change =>
    {
        if (change.ThreadContextChanged && change.CurrentValue is { } value && ReferenceEquals(value, Volatile.Read(ref s_marker)) &&
            Environment.CurrentManagedThreadId != Volatile.Read(ref s_waitingThread))
        {
            Interlocked.Increment(ref s_elsewhere);
        }
    });

    [Fact]
    public async Task ATimedWaitsTimeout_RunsInNoWaitersContext_SoThePooledNodeKeepsNone()
    {
        // A System.Threading.Timer keeps the execution context it was made in, for its life. A node made its timer in its
        // first timed wait's context, so that flow's async locals (an Activity, a request's state) stayed reachable from
        // the pool for the node's life, and the timeouts of every later wait on the node ran in that flow's context.
        var gate = new AsyncExclusiveLock("timer-context");
        var holder = await HeldByAnotherFlow.StartAsync(gate);
        for (int round = 0; round < 5; round++)
        {
            var waiter = new Thread(TimedWaitOnANewNode) { IsBackground = true };
            waiter.Start();
            Assert.True(waiter.Join(Guard.HangLimit), "the timed wait did not end");
        }

        await holder.ReleaseAsync();
        Assert.Equal(0, Volatile.Read(ref s_elsewhere));
        Assert.False(gate.IsHeld);
        Assert.Equal(0, gate.WaitingCount);

        void TimedWaitOnANewNode()
        {
            // The pool's spare nodes out of reach, so the wait gets a node of its own and makes its timer here.
            var spares = Enumerable.Range(0, 40).Select(_ => AsyncWaitNode.Rent()).ToArray();
            var marker = new object();
            Volatile.Write(ref s_waitingThread, Environment.CurrentManagedThreadId);
            Volatile.Write(ref s_marker, marker);
            s_requestState.Value = marker;
            var scope = gate.TryAcquireAsync(TimeSpan.FromMilliseconds(20)).AsTask().GetAwaiter().GetResult();
            s_requestState.Value = null;
            Assert.False(scope.IsAcquired);
            foreach (var node in spares)
            {
                node.Recycle();
            }
        }
    }
}
