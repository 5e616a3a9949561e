using System.Threading;

namespace Locksmith;

/// <summary>What a waker did to a <see cref="WaitNode"/>.</summary>
internal enum WaitStatus
{
    /// <summary>Queued (or about to be) and not yet woken.</summary>
    Waiting,

    /// <summary>Woken to try again: the resource looked free, but another thread may take it first.</summary>
    Woken,

    /// <summary>The resource was handed to the waiter: it owns it without trying again.</summary>
    Granted,
}

/// <summary>
/// One waiter in a <see cref="WaitQueue"/>: its links, what it asks for, and how a waker reaches it. Every
/// primitive's slow path queues these; a parked thread is one kind (<see cref="ThreadWaitNode"/>), and an async
/// flow's pooled completion source can be another, in the same queues.
/// </summary>
/// <remarks>
/// Links, <see cref="IsQueued"/>, the request fields and <see cref="Status"/> change only under the queue's gate,
/// so a waiter that gives up and a waker that picks it can never both believe they own the node.
/// </remarks>
internal abstract class WaitNode
{
    internal WaitNode? Next;
    internal WaitNode? Previous;

    /// <summary>Whether the node is linked into a queue.</summary>
    internal bool IsQueued;

    /// <summary>Set under the gate by the waker, reset under the gate by the waiter before it waits again.</summary>
    internal volatile WaitStatus Status;

    /// <summary>The primitive-defined request: permits wanted, or a reader's slot.</summary>
    internal int Request;

    /// <summary>The primitive-defined kind of request (a writer, a reader, a drain waiter).</summary>
    internal int RequestKind;

    /// <summary>Clears the node for a new wait.</summary>
    internal void Reset(int requestKind, int request)
    {
        Next = null;
        Previous = null;
        IsQueued = false;
        Status = WaitStatus.Waiting;
        RequestKind = requestKind;
        Request = request;
    }

    /// <summary>
    /// Records what the waker did and wakes the waiter. Called under the queue's gate, once per dequeue, and never
    /// runs the waiter's code on the waker's stack (a thread is unparked; an async continuation is queued).
    /// </summary>
    internal abstract void Signal(WaitStatus status);

    /// <summary>Wakes the waiter without changing its status, so it looks at its deadline and token again.</summary>
    internal abstract void Nudge();
}
