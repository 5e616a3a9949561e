using System;
using System.Threading;
using System.Threading.Tasks;
using System.Threading.Tasks.Sources;

namespace Locksmith;

/// <summary>
/// An async flow's wait node: the same links and status as a parked thread's, completed as a
/// <see cref="IValueTaskSource{TResult}"/> instead of unparked. Reusable (reset per wait), so a primitive can pool it
/// and an async wait allocates nothing in steady state.
/// </summary>
/// <remarks>
/// Continuations always run asynchronously: a release that signals this node never runs the waiter's code on the
/// releasing stack. The result is true when a waker signalled the node, false when the primitive gave the wait up
/// (timeout or cancellation); whichever comes first settles it, the other is refused.
/// </remarks>
internal sealed class AsyncWaitNode : WaitNode, IValueTaskSource<bool>
{
    private ManualResetValueTaskSourceCore<bool> _source = new() { RunContinuationsAsynchronously = true };

    // 1 once signalled or given up: only the first settles the task.
    private int _settled;

    /// <summary>Starts a new wait and returns the task the waiter awaits.</summary>
    public ValueTask<bool> Begin(int requestKind, int request)
    {
        Reset(requestKind, request);
        _source.Reset();
        Volatile.Write(ref _settled, 0);
        return new ValueTask<bool>(this, _source.Version);
    }

    internal override void Signal(WaitStatus status)
    {
        Status = status;
        if (Interlocked.Exchange(ref _settled, 1) == 0)
        {
            _source.SetResult(true);
        }
    }

    /// <summary>An async waiter has no monitor to wake: its primitive gives it up with <see cref="TryGiveUp"/>.</summary>
    internal override void Nudge()
    {
    }

    /// <summary>
    /// Under the queue's gate, with the node still queued: ends the wait as failed (timeout, cancellation). False if
    /// a waker settled it first, in which case the waiter owns what it was handed and must use or pass it on.
    /// </summary>
    public bool TryGiveUp()
    {
        if (Interlocked.Exchange(ref _settled, 1) != 0)
        {
            return false;
        }

        _source.SetResult(false);
        return true;
    }

    bool IValueTaskSource<bool>.GetResult(short token) => _source.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource<bool>.GetStatus(short token) => _source.GetStatus(token);

    void IValueTaskSource<bool>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _source.OnCompleted(continuation, state, token, flags);
}
