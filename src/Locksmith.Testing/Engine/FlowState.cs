using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;

namespace Locksmith.Testing.Engine;

/// <summary>Where a flow stands in the scheduler's eyes.</summary>
internal enum FlowStatus
{
    /// <summary>May be chosen (the running flow is runnable too).</summary>
    Runnable,

    /// <summary>Waits for a lock, condition or barrier (<see cref="FlowState.WaitingOn"/>).</summary>
    Blocked,

    /// <summary>An async flow with nothing to run: it awaits something that has not posted back yet.</summary>
    Idle,

    /// <summary>Finished.</summary>
    Done,
}

/// <summary>One flow of a run: its thread, its turn, and what it waits for. Fields change under the run's gate.</summary>
internal sealed class FlowState(ControlledRun run, int index, string name, Action? body, Func<Task>? asyncBody)
{
    public ControlledRun Run { get; } = run;

    public int Index { get; } = index;

    public string Name { get; } = name;

    public Action? Body { get; } = body;

    public Func<Task>? AsyncBody { get; } = asyncBody;

    /// <summary>Released when the scheduler gives this flow the turn; the flow's thread waits on it otherwise.</summary>
    public SemaphoreSlim Turn { get; } = new(0);

    /// <summary>Continuations posted to an async flow's context, run on its thread when it has the turn.</summary>
    public Queue<(SendOrPostCallback Callback, object? State)> Posted { get; } = new();

    /// <summary>The owner ids the flow's locks record: its thread id and its async flows' ids.</summary>
    public HashSet<int> OwnerIds { get; } = [];

    /// <summary>
    /// The read-lock records of the threads the flow ran lock operations on: a <see cref="ReadWriteLock"/> counts its
    /// readers without naming them, so these tell the flow's reads from those of threads outside the run.
    /// </summary>
    public HashSet<ReadWriteThreadState> ReadStates { get; } = new(ReferenceEqualityComparer.Instance);

    /// <summary>
    /// The async flow records the flow's locks were taken under: an <see cref="AsyncReadWriteLock"/> counts its readers
    /// without naming them, and these tell the flow's reads from those of a task outside the run.
    /// </summary>
    public HashSet<LockOwner> FlowRecords { get; } = new(ReferenceEqualityComparer.Instance);

    /// <summary>
    /// The permits the flow holds, by semaphore: taken less given back, as the semaphore reports them (a failed try takes
    /// none, <c>Acquire(2)</c> takes two). Below zero for a flow that gave back permits other flows or the builder took;
    /// never for one given back beyond all theirs (code outside the run's, or a signal). Weakly.
    /// </summary>
    public PermitBooks Permits { get; } = new();

    public Thread? Thread { get; set; }

    public FlowStatus Status { get; set; }

    public object? WaitingOn { get; set; }

    public string WaitingName { get; set; } = string.Empty;

    public bool CanTimeOut { get; set; }

    public bool Signalled { get; set; }

    /// <summary>Whether a thread outside the run held the lock this flow blocked on as it enlisted (see <c>ControlledRun.Enlist</c>).</summary>
    public bool OutsideHeldAtEnlist { get; set; }

    /// <summary>The free permits of the semaphore this flow last tried, read as it tried (see <c>ControlledRun.Enlist</c>).</summary>
    public int FreePermitsAtTry { get; set; }

    public bool TimedOut { get; set; }

    /// <summary>
    /// The cycle of waits this flow's last wait was in when the scheduler timed it out (every flow blocked), or null:
    /// a timeout that broke a deadlock, which the report names.
    /// </summary>
    public string? TimedOutInCycle { get; set; }

    public long EnlistSequence { get; set; }

    public bool IsAsync => AsyncBody is not null;
}
