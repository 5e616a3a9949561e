using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;

namespace Locksmith.Testing.Engine;

/// <summary>
/// One run of a scenario under the controlled scheduler. Every flow has its own thread, but only the flow holding the
/// turn runs: at each scheduling point it asks the strategy for the next flow, releases that flow's turn and waits for
/// its own. Every decision is recorded (the schedule) with every operation (the trace), so a run can be replayed exactly.
/// </summary>
/// <remarks>
/// All scheduler state changes under <see cref="_gate"/>; user code never runs under it. A failure (deadlock, step bound,
/// an exception) aborts the run: every waiting flow gets its turn back and unwinds from its next scheduling point.
/// </remarks>
internal sealed partial class ControlledRun : ISchedulingController
{
    // Which flow the current thread runs (null on every other thread). A ThreadLocal, not [ThreadStatic]: this is the
    // test-side engine, where a few nanoseconds per operation do not matter.
    private static readonly ThreadLocal<FlowState?> s_current = new();

    private readonly object _gate = new();
    private readonly List<FlowState> _flows = [];
    private readonly List<FlowState> _candidates = [];
    private readonly Chooser _chooser;
    private readonly List<Decision> _decisions = [];
    private readonly List<TraceEntry> _trace = [];

    // Kept by lock, weakly: a flow may make and drop a lock in every round of a long loop, and a lock nothing refers to
    // any more is never named, notified or waited for again. _namesGiven numbers them, as a count of the table would.
    private readonly ConditionalWeakTable<object, string> _names = [];
    private int _namesGiven;

    // The flow each condition's last one-waiter signal woke, at which step (a deadlock summary names it).
    private readonly ConditionalWeakTable<object, NotifyWoke> _notifyWoke = [];
    private readonly int _maxSteps;
    private readonly TimeSpan _idleTimeout;
    private readonly ManualResetEventSlim _done = new(false);
    private int _steps;
    private long _lastStepAt;
    private long _enlistSequence;
    private bool _started;
    private bool _aborting;
    private bool _idleWaiting;
    private FlowState? _running;

    // The flow the idle check reported stuck (blocked outside Locksmith): the run does not wait for its thread to end.
    private FlowState? _stuck;

    // Read from the thread that makes the run: the scheduler's idle wait runs on whichever flow thread yields.
    private readonly Action<TimeSpan>? _idleWaitObserver;
    private readonly Action? _idleRanOutObserver;
    private readonly Action<ControlledRun, CountingSemaphore>? _outsidePermitsTakenObserver;
    private readonly Action<CountingSemaphore>? _poolNoteObserver;
    private readonly Action<object>? _enlistObserver;
    private readonly Action<object>? _outsideSignalObserver;
    private readonly Action<object>? _outsideParkObserver;
    private readonly Action<CountingSemaphore>? _waitersAheadReadObserver;
    private readonly Action<LockPrimitive>? _outsideQueuedObserver;

    // Set once the flows have ended and the scenario's checks run (BeginChecks); read by outside waits.
    private bool _checking;

    // Why an outside async wait queued during the checks can never end (the first such), for an async check to report.
    private string? _checkBlockedForGood;

    // The check running now (RunAsyncCheck, RunSyncCheck): its code and the tasks it starts carry it in s_check, so a wait an
    // earlier check left behind, whose queuing is reported late, is not taken for one of this check's.
    private object? _runningCheck;

    // The thread that built the scenario and waits in Execute for the run's end: a lock it holds (the builder took it and
    // kept it) is never released while the run goes on. Its thread id, and its read-lock record for ReadWriteLock reads.
    private int _callerThreadId;
    private ReadWriteThreadState? _callerReads;

    // The async flow record of the code that started the run while it holds async locks (the builder took one and kept
    // it, or the test held one when it called the run): like the thread's, its holds last until the run ends.
    private LockOwner? _callerRecord;

    // Threads outside the run seen taking a read of a ReadWriteLock of the run (a Task.Run body, a timer's callback), with
    // their read records: the lock counts readers without naming them, so these name the outside readers. Under its own
    // lock: such threads call in at any time, and must not wait for the scheduler's gate.
    private readonly Dictionary<Thread, ReadWriteThreadState> _outsideReaders = [];

    public ControlledRun(Chooser chooser, int maxSteps, TimeSpan idleTimeout)
    {
        _idleWaitObserver = s_idleWaitObserver;
        _idleRanOutObserver = s_idleRanOutObserver;
        _outsidePermitsTakenObserver = s_outsidePermitsTakenObserver;
        _poolNoteObserver = s_poolNoteObserver;
        _enlistObserver = s_enlistObserver;
        _outsideSignalObserver = s_outsideSignalObserver;
        _outsideParkObserver = s_outsideParkObserver;
        _waitersAheadReadObserver = s_waitersAheadReadObserver;
        _outsideQueuedObserver = s_outsideQueuedObserver;
        _chooser = chooser;
        _maxSteps = maxSteps;
        _idleTimeout = idleTimeout;
    }

    public RunFailure? Failure { get; private set; }

    public int Steps => _steps;

    public IReadOnlyList<Decision> Decisions => _decisions;

    public IReadOnlyList<TraceEntry> Trace => _trace;

    /// <summary>Whether the flows have started: the builder's part (flows, checks) is over.</summary>
    public bool Started => _started;

    public bool ControlsCurrentThread => s_current.Value is { } flow && ReferenceEquals(flow.Run, this);

    /// <summary>The scheduling point <see cref="ControlledTest.Interleave"/> makes.</summary>
    public static void InterleaveCurrent()
    {
        if (s_current.Value is { } flow)
        {
            flow.Run.PointCore(flow, "interleave", string.Empty);
        }
    }

    public void AddFlow(string name, Action? body, Func<Task>? asyncBody)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (_started)
        {
            throw new InvalidOperationException($"Flow '{name}' was added after the run started; add every flow in the scenario builder.");
        }

        if (_flows.Exists(f => f.Name == name))
        {
            throw new ArgumentException($"The scenario already has a flow named '{name}'; flow names must be unique.", nameof(name));
        }

        if (_flows.Count == ScheduleCodec.MaxFlows)
        {
            throw new InvalidOperationException(
                $"A scenario runs at most {ScheduleCodec.MaxFlows} flows (a schedule names each by one letter, a to z); '{name}' would be one more. " +
                "A controlled test explores the interleavings of a few flows (two to four find most bugs): give a flow several " +
                "requests in a loop rather than a flow per request.");
        }

        _flows.Add(new FlowState(this, _flows.Count, name, body, asyncBody));
    }

    /// <summary>Starts the flows, gives the first turn, and waits until every flow finished or the run failed.</summary>
    public void Execute()
    {
        if (_flows.Count == 0)
        {
            throw new InvalidOperationException("The scenario added no flow: call scenario.Thread(...) or scenario.Flow(...) in the builder.");
        }

        _started = true;
        _callerThreadId = CurrentThreadId.Value;
        _callerReads = ReadWriteThreadState.CurrentOrNull;
        _callerRecord = FlowOwnership.CurrentOrNull;
        _chooser.Begin(_flows.Count);

        // A thread starts with the starter's execution context. Started from inside another run's async flow (a nested
        // run), it would carry that flow's identity and wait, as one of its continuations, for a turn that flow cannot
        // give while it waits for this run: the flows start without it.
        // Nor with the claim of the code that starts them: every flow would share that record, taking a lock it keeps
        // for a recursion and another flow's hold for its own.
        var startingFlow = s_flowIdentity.Value;
        s_flowIdentity.Value = null;
        var startingClaim = FlowOwnership.Detach();
        try
        {
            foreach (var flow in _flows)
            {
                var thread = new Thread(static state => ((FlowState)state!).Run.FlowMain((FlowState)state!))
                {
                    IsBackground = true,

                    // Named as the scenario names the flow, so a message naming the thread (a timeout's waiter and
                    // holder, LockTimeoutException.OwnerThreadName) names the flow the trace and the report name.
                    Name = flow.Name,
                };
                flow.Thread = thread;
                thread.Start(flow);
            }
        }
        finally
        {
            FlowOwnership.Reattach(startingClaim);
            s_flowIdentity.Value = startingFlow;
        }

        FlowState? first;
        lock (_gate)
        {
            first = ChooseLocked();
            _running = first;
        }

        first?.Turn.Release();
        WaitForEnd();
        foreach (var flow in _flows)
        {
            // The others unwind from their scheduling points; a flow reported stuck blocks outside Locksmith, and
            // waiting for it would spend a second IdleTimeout before the report reaches the test.
            if (!ReferenceEquals(flow, _stuck))
            {
                s_joinObserver?.Invoke(flow.Name);
                flow.Thread!.Join(_idleTimeout);
            }
        }
    }

    /// <summary>
    /// Waits for the run's end, and fails it as stuck once a whole <see cref="_idleTimeout"/> passed since the last step
    /// (timed from that step, so a flow stuck is reported after one idle period, not one to two).
    /// </summary>
    private void WaitForEnd()
    {
        while (true)
        {
            int steps;
            TimeSpan wait;
            lock (_gate)
            {
                steps = _steps;

                // While the scheduler waits for an async post, ChooseLocked times that wait itself.
                wait = _idleWaiting ? _idleTimeout : _idleTimeout - Stopwatch.GetElapsedTime(_lastStepAt);
            }

            // Rounded up: a wait cut to whole milliseconds would end just short of the idle period, and need a second.
            if (wait > TimeSpan.Zero && _done.Wait(TimeSpan.FromMilliseconds(Math.Ceiling(wait.TotalMilliseconds))))
            {
                return;
            }

            s_idleChecked?.Invoke();
            lock (_gate)
            {
                if (_done.IsSet)
                {
                    return;
                }

                // No step for a whole idle period, and not waiting for an async post: a flow blocks outside Locksmith.
                if (_steps == steps && !_idleWaiting && Failure is null)
                {
                    // Under a debugger the flow may be paused at a breakpoint (the replay line is for that): not stuck,
                    // so wait another idle period from now.
                    if (s_debuggerAttached?.Invoke() ?? Debugger.IsAttached)
                    {
                        _lastStepAt = Stopwatch.GetTimestamp();
                        continue;
                    }

                    _stuck = _running;
                    FailLocked(new RunFailure(
                        ControlledFailureKind.Stuck,
                        $"flow '{_running?.Name}' reached no scheduling point for {_idleTimeout.TotalSeconds:0.#} s: " +
                        (_running is not null && ExplainUncontrolledWaitLocked(_running) is { } lockWait
                            ? lockWait
                            : _running is not null && ExplainOutsideWaiterLocked(_running) is { } outsideWait
                            ? outsideWait
                            : "it blocks on something outside Locksmith (Monitor, SemaphoreSlim, Thread.Sleep, a task's Wait or Result), or spins without Interleave(). " +
                              "One flow runs at a time, so such a wait for another flow never ends: use the Locksmith primitive made in the builder " +
                              "(CountingSemaphore, ConditionVariable, PhaseBarrier), call ControlledTest.Interleave() in a spin, or raise IdleTimeout for a real delay" +
                              WhileBlockedLocked()),
                        null, _running?.Name, BlockedWaitsLocked()));
                    return;
                }
            }
        }
    }

    /// <summary>For tests: the run of the flow the calling thread runs, if any.</summary>
    internal static ControlledRun? CurrentForTests => s_current.Value?.Run;

    /// <summary>
    /// For tests: the entries the run keeps by lock, permit taker and outside waiter (names, notifications, releases outside
    /// the run, permit books, parked and queued waits), counting only those whose lock is still alive.
    /// </summary>
    internal int KeptEntriesForTests
    {
        get
        {
            lock (_gate)
            {
                int kept = _names.Count() + _notifyWoke.Count() + _releasedOutsideUnheard.Count() + _flowPermitsBackOutside.Count() + _pools.Count() + _outsideParked.Count + _outsideQueued.Count;
                foreach (var flow in _flows)
                {
                    kept += flow.Permits.Count;
                }

                lock (_permitGate)
                {
                    return kept + _outsidePermits.Sum(static takers => takers.Value.Count) + _outsideAskers.Count();
                }
            }
        }
    }

    /// <summary>For tests: called on the thread that runs the scenario each time the idle check wakes before the end.</summary>
    internal static Action? IdleCheckObserver
    {
        get => s_idleChecked;
        set => s_idleChecked = value;
    }

    [ThreadStatic]
    private static Action? s_idleChecked;

    /// <summary>For tests: stands for <see cref="Debugger.IsAttached"/> on the thread that runs the scenario.</summary>
    internal static Func<bool>? DebuggerAttached
    {
        get => s_debuggerAttached;
        set => s_debuggerAttached = value;
    }

    [ThreadStatic]
    private static Func<bool>? s_debuggerAttached;

    /// <summary>For tests: called on the thread that runs the scenario with the name of each flow whose end it waits for.</summary>
    internal static Action<string>? JoinObserver
    {
        get => s_joinObserver;
        set => s_joinObserver = value;
    }

    [ThreadStatic]
    private static Action<string>? s_joinObserver;

    /// <summary>
    /// For tests: set on the thread that starts a run, called (under the run's gate, with the time it will wait) each
    /// time that run's scheduler starts waiting for a post to an async flow while no flow can run.
    /// </summary>
    internal static Action<TimeSpan>? IdleWaitObserver
    {
        get => s_idleWaitObserver;
        set => s_idleWaitObserver = value;
    }

    [ThreadStatic]
    private static Action<TimeSpan>? s_idleWaitObserver;

    /// <summary>
    /// For tests: set on the thread that starts a run, called (under the run's gate) each time that run's scheduler, waiting
    /// while no flow can run, saw the idle period run out instead of being woken: a decision made by the clock.
    /// </summary>
    internal static Action? IdleRanOutObserver
    {
        get => s_idleRanOutObserver;
        set => s_idleRanOutObserver = value;
    }

    [ThreadStatic]
    private static Action? s_idleRanOutObserver;

    /// <summary>
    /// For tests: set on the thread that starts a run, called with the run on a thread outside it right after the run
    /// booked the permits its acquisition took, before the acquisition is over (under no lock of the run's).
    /// </summary>
    internal static Action<ControlledRun, CountingSemaphore>? OutsidePermitsTakenObserver
    {
        get => s_outsidePermitsTakenObserver;
        set => s_outsidePermitsTakenObserver = value;
    }

    [ThreadStatic]
    private static Action<ControlledRun, CountingSemaphore>? s_outsidePermitsTakenObserver;

    /// <summary>
    /// For tests: set on the thread that starts a run, called on a thread outside it that took or gave back permits (or
    /// signals a semaphore's waiters), just before the run notes the permits free (the semaphore's pool), under no lock of
    /// the run's.
    /// </summary>
    internal static Action<CountingSemaphore>? PoolNoteObserver
    {
        get => s_poolNoteObserver;
        set => s_poolNoteObserver = value;
    }

    [ThreadStatic]
    private static Action<CountingSemaphore>? s_poolNoteObserver;

    /// <summary>
    /// For tests: set on the thread that starts a run, called with the resource on a flow's thread as the flow, having
    /// failed its try, enlists to block on it (before the run's gate, so before the enlisting reads the resource).
    /// </summary>
    internal static Action<object>? EnlistObserver
    {
        get => s_enlistObserver;
        set => s_enlistObserver = value;
    }

    [ThreadStatic]
    private static Action<object>? s_enlistObserver;

    /// <summary>
    /// For tests: set on the thread that starts a run, called with the resource on a thread outside the run as its release
    /// (already done) signals the run's flows, before the run's gate: the moment a release is done and not yet heard.
    /// </summary>
    internal static Action<object>? OutsideSignalObserver
    {
        get => s_outsideSignalObserver;
        set => s_outsideSignalObserver = value;
    }

    [ThreadStatic]
    private static Action<object>? s_outsideSignalObserver;

    /// <summary>
    /// For tests: set on the thread that starts a run, called with the resource on a thread outside the run once the run
    /// heard it park there (queued, so a release from now on wakes it), before it sleeps and under no lock of the run's.
    /// </summary>
    internal static Action<object>? OutsideParkObserver
    {
        get => s_outsideParkObserver;
        set => s_outsideParkObserver = value;
    }

    [ThreadStatic]
    private static Action<object>? s_outsideParkObserver;

    /// <summary>
    /// For tests: set on the thread that starts a run, called with the semaphore (under the run's gate, out of the
    /// semaphore's) each time the run has read the async waiters queued ahead of a held-back waiter and before it looks
    /// at them: a waiter ahead that leaves now has its node recycled while the run still reads it.
    /// </summary>
    internal static Action<CountingSemaphore>? WaitersAheadReadObserver
    {
        get => s_waitersAheadReadObserver;
        set => s_waitersAheadReadObserver = value;
    }

    [ThreadStatic]
    private static Action<CountingSemaphore>? s_waitersAheadReadObserver;

    /// <summary>
    /// For tests: set on the thread that starts a run, called with the lock on a thread outside the run whose async wait
    /// is queued there (and armed) as the run is told of it, before the run records it and under no lock of the run's:
    /// holding the thread here holds open the moment a queued wait is not yet in the run's books.
    /// </summary>
    internal static Action<LockPrimitive>? OutsideQueuedObserver
    {
        get => s_outsideQueuedObserver;
        set => s_outsideQueuedObserver = value;
    }

    [ThreadStatic]
    private static Action<LockPrimitive>? s_outsideQueuedObserver;

    /// <summary>
    /// For tests: called, in every run and outside any (a static of the wait kernel, not set per run), on a thread that
    /// parked on a lock and then took it, with the lock, before its wait ends: it still reads as waiting, and a semaphore's
    /// retry left its node reading as not woken. Holding the thread here holds that moment open.
    /// </summary>
    internal static Action<LockPrimitive>? TookAfterParkObserver
    {
        get => WaitKernel.TookAfterParkForTests;
        set => WaitKernel.TookAfterParkForTests = value;
    }

    /// <summary>
    /// For tests: called, in every run and outside any (a static of the semaphore, not set per run), on a thread releasing
    /// permits of a semaphore with waiters queued, after the count went up and before it wakes them.
    /// </summary>
    internal static Action<CountingSemaphore>? WakeAfterReleaseObserver
    {
        get => CountingSemaphore.WakeAfterReleaseForTests;
        set => CountingSemaphore.WakeAfterReleaseForTests = value;
    }

    private void FlowMain(FlowState flow)
    {
        s_current.Value = flow;
        var previous = SchedulingHooks.Install(this);
        if (flow.IsAsync)
        {
            SynchronizationContext.SetSynchronizationContext(new FlowSynchronizationContext(flow));
            s_flowIdentity.Value = flow;
        }

        // An async flow is named in messages by its Activity (flow #7 ('consumer')): one named after the flow, for the
        // flow's own context only.
        var activity = flow.IsAsync ? new Activity(flow.Name).Start() : null;
        Exception? error = null;
        try
        {
            flow.Turn.Wait();
            if (Volatile.Read(ref _aborting))
            {
                return;
            }

            lock (_gate)
            {
                RegisterOwnerLocked(flow);
                AddTraceLocked(flow, "start", string.Empty);
            }

            if (flow.Body is { } body)
            {
                body();
            }
            else
            {
                RunAsync(flow);
            }
        }
        catch (RunAbortedException)
        {
        }
        catch (Exception ex)
        {
            error = ex;
        }
        finally
        {
            try
            {
                Finish(flow, error);
            }
            finally
            {
                activity?.Stop();
                SchedulingHooks.Install(previous);
                s_flowIdentity.Value = null;
                SynchronizationContext.SetSynchronizationContext(null);
                s_current.Value = null;
            }
        }
    }

    private void RunAsync(FlowState flow)
    {
        var task = flow.AsyncBody!() ?? throw new InvalidOperationException($"Flow '{flow.Name}' returned a null task.");

        // Completed elsewhere (a continuation sent to the pool): wake the flow so it sees the end.
        task.ContinueWith(
            static (_, state) => ((FlowState)state!).Run.PostTo((FlowState)state!, null, null),
            flow, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        while (true)
        {
            SendOrPostCallback? callback = null;
            object? state = null;
            lock (_gate)
            {
                if (task.IsCompleted)
                {
                    break;
                }

                if (flow.Posted.Count != 0)
                {
                    (callback, state) = flow.Posted.Dequeue();
                }
                else
                {
                    flow.Status = FlowStatus.Idle;
                    AddTraceLocked(flow, "awaits", string.Empty);
                }
            }

            if (callback is not null)
            {
                callback(state);
            }
            else
            {
                Yield(flow);
            }
        }

        task.GetAwaiter().GetResult();
    }

    /// <summary>From an async flow's context (any thread): queues a continuation and makes an idle flow runnable.</summary>
    public void PostTo(FlowState flow, SendOrPostCallback? callback, object? state)
    {
        lock (_gate)
        {
            if (callback is not null)
            {
                flow.Posted.Enqueue((callback, state));
            }

            if (flow.Status == FlowStatus.Idle)
            {
                flow.Status = FlowStatus.Runnable;
            }

            Monitor.PulseAll(_gate);
        }
    }

    private void Finish(FlowState flow, Exception? error)
    {
        lock (_gate)
        {
            flow.Status = FlowStatus.Done;
            flow.WaitingOn = null;
            ReleasePendingLocked(flow);
            if (_aborting)
            {
                return;
            }

            if (error is not null)
            {
                AddTraceLocked(flow, "throws", error.GetType().Name);
                // A timeout the scheduler took to break a cycle is a deadlock with a timeout: say so, or it reads as slowness;
                // a throw after a condition wait whose news another flow took first is an 'if' around Wait.
                string message = NameFlowsIn(error.Message);
                string why = error is LockTimeoutException && flow.TimedOutInCycle is { } waits
                    ? $" The scheduler timed that wait out because every flow was blocked in a cycle ({waits}): without the " +
                      "timeout this is a deadlock. Take the locks in one order (distinct levels, or all together with LockSet)"
                    : ExplainStaleWakeLocked(flow) is { } stale ? (message.EndsWith('.') ? " " : ". ") + stale : string.Empty;
                FailLocked(new RunFailure(
                    ControlledFailureKind.UnhandledException,
                    $"flow '{flow.Name}' threw {error.GetType().Name}: {message}{why}", error, flow.Name, []));
                return;
            }

            AddTraceLocked(flow, "finish", string.Empty);
        }

        Yield(flow);
    }

    void ISchedulingController.Point(SchedulingOperation operation, object resource, string name)
    {
        if (resource is CountingSemaphore noted)
        {
            // Before any acquisition takes from it: the first note of a semaphore reads its count before any permit is taken.
            NotePool(noted, noted.CurrentCount);
        }

        if (s_current.Value is { } flow && ReferenceEquals(flow.Run, this))
        {
            // Acquire, arrive and counter operations report before they act, release and notify after: each entry is
            // logged where its effect falls, so the trace reads in effect order.
            bool before = operation is SchedulingOperation.Acquire or SchedulingOperation.AcquireRead or SchedulingOperation.AcquireWrite or SchedulingOperation.Arrive
                or SchedulingOperation.CounterRead or SchedulingOperation.CounterWrite;
            PointCore(flow, OperationName(operation), NameOf(resource, name), before);
            if (resource is CountingSemaphore semaphore)
            {
                // The flow has its turn back and tries now: see Enlist.
                flow.FreePermitsAtTry = semaphore.CurrentCount;
            }
        }
        else if (operation == SchedulingOperation.AcquireRead && resource is ReadWriteLock)
        {
            lock (_outsideReaders)
            {
                _outsideReaders.TryAdd(Thread.CurrentThread, ReadWriteThreadState.Current);
            }
        }
        else if (operation == SchedulingOperation.Acquire && resource is CountingSemaphore semaphore)
        {
            OutsideAttemptBegins(semaphore);
        }
    }

    private void PointCore(FlowState flow, string operation, string target, bool logWhenResumed = false)
    {
        lock (_gate)
        {
            if (_aborting)
            {
                throw new RunAbortedException();
            }

            RegisterOwnerLocked(flow);
            if (!logWhenResumed)
            {
                AddTraceLocked(flow, operation, target);
            }
        }

        Yield(flow);
        if (logWhenResumed)
        {
            // The flow has its turn back and acts now, before any other flow runs.
            lock (_gate)
            {
                AddTraceLocked(flow, operation, target);
            }
        }
    }

    void ISchedulingController.Enlist(SchedulingOperation operation, object resource, string name, bool canTimeOut)
    {
        if (s_current.Value is not { } flow || !ReferenceEquals(flow.Run, this))
        {
            return;
        }

        _enlistObserver?.Invoke(resource);
        lock (_gate)
        {
            if (_aborting)
            {
                throw new RunAbortedException();
            }

            flow.WaitingOn = resource;
            flow.WaitingName = NameOf(resource, name);
            flow.CanTimeOut = canTimeOut;

            // A release outside the run that no flow heard may have come between this flow's failed try and now: it
            // retries once instead of blocking on a lock that may be free (the release's signal found nobody enlisted).
            flow.Signalled = _releasedOutsideUnheard.Remove(resource);

            // Held by code outside the run as the flow blocks: that code frees the lock and then signals, in real time,
            // so a verdict between the two must wait for the signal, not call the free lock a deadlock. So is a lock
            // nothing of the flows holds now, though it reads as free (such code released it since the flow's failed try,
            // and its signal may come after this: a flow's try and its enlisting are in its turn, so no flow frees it in
            // between) or as nobody's (such code took it a moment ago and has not recorded its hold yet).
            flow.OutsideHeldAtEnlist = OutsideHolderId(flow) != 0 || FreedOutsideSinceTryLocked(flow, resource);
            flow.TimedOut = false;
            flow.TimedOutInCycle = null;
            flow.EnlistSequence = ++_enlistSequence;
            RegisterOwnerLocked(flow);
            AddTraceLocked(flow, EnlistName(operation), flow.WaitingName);
        }
    }

    /// <summary>
    /// Whether code outside the run may have freed <paramref name="resource"/> since <paramref name="flow"/>'s failed try,
    /// as the flow enlists: an exclusive lock or gate no flow holds; a read-write lock no flow writes nor reads (a read a
    /// flow holds still bars a write, and no flow read can have come since an outside write barred the try); a semaphore
    /// with more permits free than at the try.
    /// </summary>
    private bool FreedOutsideSinceTryLocked(FlowState flow, object resource) => resource switch
    {
        AsyncExclusiveLock or ExclusiveLock or ReentrantLock or SpinGate => HolderOf(resource) is null,
        ReadWriteLock rw => HolderOf(rw) is null && FlowReadersLocked(rw).Count == 0,
        AsyncReadWriteLock arw => HolderOf(arw) is null && FlowReadersLocked(arw).Count == 0,
        CountingSemaphore semaphore => semaphore.CurrentCount > flow.FreePermitsAtTry,
        _ => false,
    };

    bool ISchedulingController.Block()
    {
        if (s_current.Value is not { } flow || !ReferenceEquals(flow.Run, this))
        {
            return true;
        }

        bool blocked;
        lock (_gate)
        {
            if (_aborting)
            {
                throw new RunAbortedException();
            }

            // Signalled between enlisting and blocking (a notify from the flow that ran after our release): no wait,
            // but still a scheduling point.
            blocked = !flow.Signalled;
            if (blocked)
            {
                flow.Status = FlowStatus.Blocked;
            }
        }

        Yield(flow);
        if (flow.WaitingOn is CountingSemaphore semaphore)
        {
            // Back in its turn, the flow tries again (see Enlist).
            flow.FreePermitsAtTry = semaphore.CurrentCount;
        }

        lock (_gate)
        {
            // Also when the wake came before the flow blocked (it stayed runnable): the trace still says what woke it.
            bool signalled = !flow.TimedOut;
            if (signalled)
            {
                AddTraceLocked(flow, "wakes on", flow.WaitingName);
            }

            flow.WaitingOn = null;
            flow.TimedOut = false;
            flow.Signalled = false;
            return signalled;
        }
    }

    void ISchedulingController.Signal(object resource, bool all)
    {
        if (resource is CountingSemaphore semaphore)
        {
            if (CurrentFlow() is null)
            {
                _poolNoteObserver?.Invoke(semaphore);
            }

            NotePool(semaphore, semaphore.CurrentCount);
        }

        if (_outsideSignalObserver is { } observer && CurrentFlow() is null)
        {
            observer(resource);
        }

        lock (_gate)
        {
            bool heard = false;
            while (true)
            {
                FlowState? first = null;
                foreach (var flow in _flows)
                {
                    if (ReferenceEquals(flow.WaitingOn, resource) && !flow.Signalled && (first is null || flow.EnlistSequence < first.EnlistSequence))
                    {
                        first = flow;
                    }
                }

                if (first is null)
                {
                    break;
                }

                heard = true;
                first.Signalled = true;
                if (!all)
                {
                    _notifyWoke.AddOrUpdate(resource, new NotifyWoke(_steps, first));
                }

                if (first.Status == FlowStatus.Blocked)
                {
                    first.Status = FlowStatus.Runnable;
                }

                if (!all)
                {
                    break;
                }
            }

            // A lock released by code outside the run, in real time, with no flow enlisted: a flow that tried it a moment
            // ago and is about to enlist would never hear of it (see Enlist). Flows' own releases need no such note: a
            // flow's try and enlisting happen in its turn, with no other flow running between them.
            if (!heard && resource is LockPrimitive && CurrentFlow() is null)
            {
                _releasedOutsideUnheard.AddOrUpdate(resource, s_unheard);
            }

            Monitor.PulseAll(_gate);
        }
    }

    // Locks released outside the run while no flow was enlisted on them, under the gate (see Signal and Enlist); weakly,
    // as the names: code outside the run may release many short-lived locks no flow ever waits for.
    private readonly ConditionalWeakTable<object, object> _releasedOutsideUnheard = [];
    private static readonly object s_unheard = new();

    /// <summary>
    /// The current flow gives up the turn (its status already says whether it stays runnable) and gets it back when the
    /// strategy picks it again. Throws <see cref="RunAbortedException"/> when the run ended meanwhile.
    /// </summary>
    private void Yield(FlowState flow)
    {
        FlowState? next;
        lock (_gate)
        {
            if (_aborting)
            {
                if (flow.Status != FlowStatus.Done)
                {
                    throw new RunAbortedException();
                }

                return;
            }

            next = ChooseLocked();
            _running = next;
            if (next is null && Failure is null)
            {
                _done.Set();
            }
        }

        if (next is null)
        {
            if (flow.Status != FlowStatus.Done)
            {
                throw new RunAbortedException();
            }

            return;
        }

        if (ReferenceEquals(next, flow))
        {
            return;
        }

        next.Turn.Release();
        if (flow.Status == FlowStatus.Done)
        {
            return;
        }

        flow.Turn.Wait();
        if (Volatile.Read(ref _aborting))
        {
            throw new RunAbortedException();
        }
    }

    /// <summary>
    /// One scheduling step: the strategy picks among the runnable flows; with none, an async flow's post is awaited,
    /// a timed wait is ended, or the run fails as deadlocked. Null when the run is over (finished or failed).
    /// </summary>
    private FlowState? ChooseLocked()
    {
        _lastStepAt = Stopwatch.GetTimestamp();
        if (++_steps > _maxSteps)
        {
            _steps = _maxSteps;
            FailLocked(new RunFailure(
                ControlledFailureKind.StepBoundExceeded,
                $"the run took more than {_maxSteps} scheduling steps without finishing: a livelock, or a spin that waits for a flow that never runs",
                null, _running?.Name, []));
            return null;
        }

        try
        {
            while (true)
            {
                Collect(FlowStatus.Runnable, timedOnly: false);
                if (_candidates.Count != 0 && AwaitsNamedFlowLocked())
                {
                    // A replay names a flow whose await (a timer, I/O, a pool continuation) is not back yet, though it
                    // was when the run it replays made this choice: wait for it as for any post.
                    if (WaitForPostLocked())
                    {
                        continue;
                    }

                    // Not back within the idle period: the choice below does not fit, and says so.
                    Collect(FlowStatus.Runnable, timedOnly: false);
                }

                if (_candidates.Count != 0)
                {
                    var next = _candidates[_chooser.PickRunnable(_candidates, _steps)];
                    _decisions.Add(new Decision(next.Index, false));
                    return next;
                }

                if (_flows.TrueForAll(f => f.Status == FlowStatus.Done))
                {
                    _chooser.End();
                    return null;
                }

                if (_flows.Exists(f => f.Status == FlowStatus.Idle))
                {
                    bool posted = WaitForPostLocked();
                    if (!posted && !_flows.Exists(f => f.Status == FlowStatus.Runnable))
                    {
                        var idle = _flows.Find(f => f.Status == FlowStatus.Idle)!;

                        // Queued on a Locksmith lock the run does not control, it awaits that lock: name it, as for a thread.
                        FailLocked(new RunFailure(
                            ControlledFailureKind.Stuck,
                            ExplainUncontrolledWaitLocked(idle) is { } lockWait
                                ? $"async flow '{idle.Name}' awaited for {_idleTimeout.TotalSeconds:0.#} s while no other flow could run: {lockWait}"
                                : $"async flow '{idle.Name}' awaited something outside Locksmith for {_idleTimeout.TotalSeconds:0.#} s while no other flow could run " +
                                  "(a timer, I/O, a task run outside the run, a TaskCompletionSource no flow completes): await Locksmith operations in a scenario, " +
                                  "or raise IdleTimeout for a real delay",
                            null, idle.Name, BlockedWaitsLocked()));
                        return null;
                    }

                    continue;
                }

                // A lock the builder left held: the thread holding it waits for this run to end, so no wait can help.
                if (BlockedOnCallerHoldLocked(out bool callerReads, out bool callerAsync) is { } behindCaller)
                {
                    FailLocked(new RunFailure(
                        ControlledFailureKind.Deadlock, ExplainCallerHoldLocked(behindCaller, callerReads, callerAsync), null, null, BlockedWaitsLocked()));
                    return null;
                }

                // A lock of the run that a thread outside it holds (a Task.Run or Parallel.For body, a timer's callback)
                // is released in real time, not at a scheduling point: wait for that as for an await, before timing a
                // wait out or calling it a deadlock, and name the holder if the release never comes.
                if (BlockedOnOutsideHolderLocked() is { } outside)
                {
                    // Asked again after the wait: an outside acquisition that parked meanwhile holds nothing, and its
                    // parking wakes no one, so what looked like an outside hold may be none (then go on to the deadlock check).
                    if (!WaitForPostLocked() && !_flows.Exists(f => f.Status == FlowStatus.Runnable) && BlockedOnOutsideHolderLocked() is { } still)
                    {
                        FailLocked(new RunFailure(ControlledFailureKind.Stuck, ExplainOutsideHolderLocked(still), null, still.Name, BlockedWaitsLocked()));
                        return null;
                    }

                    continue;
                }

                Collect(FlowStatus.Blocked, timedOnly: true);
                if (_candidates.Count != 0)
                {
                    var timed = _candidates[_chooser.PickTimeout(_candidates, _steps)];
                    _decisions.Add(new Decision(timed.Index, true));
                    timed.TimedOut = true;
                    timed.TimedOutInCycle = CycleLocked() is { } cycle && cycle.Exists(e => e.Flow == timed.Name)
                        ? string.Join("; ", cycle)
                        : null;
                    timed.Status = FlowStatus.Runnable;
                    AddTraceLocked(timed, "times out on", timed.WaitingName);
                    return timed;
                }

                var waits = DeadlockWaitsLocked();
                FailLocked(new RunFailure(ControlledFailureKind.Deadlock, DeadlockSummaryLocked(waits), null, null, waits));
                return null;
            }
        }
        catch (ScheduleMismatchException ex)
        {
            // The letters alone do not say which flow is which, nor why the run could not take the choice.
            // A pasted replay line meets this after the fix of its bug too, which changes the lock operations: say so, and
            // what to keep instead, or the misfit reads as a bug of the fix.
            string why = ex.Message.Contains("changed since", StringComparison.Ordinal)
                ? string.Empty
                : " The run is not the recorded one: the code under test changed since the schedule was recorded (a fix of the bug it " +
                  "showed changes it too), the scenario is not deterministic, or the schedule is another scenario's.";
            FailLocked(new RunFailure(
                ControlledFailureKind.Stuck,
                $"the replayed schedule does not fit this run: {ex.Message}; the flows there: {DescribeFlowsLocked()}.{why} A replay line is for " +
                "debugging the bug it shows; to keep the bug fixed, keep the Check that found it (the report's rerun options)",
                null,
                null,
                []));
            return null;
        }
    }

    /// <summary>
    /// Waits, under the gate, for a post to an async flow (or any other wake-up), for what is left of the idle period.
    /// False when the period ran out first.
    /// </summary>
    private bool WaitForPostLocked()
    {
        // Timed from this step, not from the wake-up: a wake that makes no flow runnable (a post to a flow that is not
        // idle, a finished one's context) must not restart the idle period.
        var left = _idleTimeout - Stopwatch.GetElapsedTime(_lastStepAt);
        if (left <= TimeSpan.Zero)
        {
            _idleRanOutObserver?.Invoke();
            return false;
        }

        _idleWaiting = true;
        _idleWaitObserver?.Invoke(left);

        // Rounded up: a wait cut to whole milliseconds would end just short, and need another.
        bool posted = Monitor.Wait(_gate, TimeSpan.FromMilliseconds(Math.Ceiling(left.TotalMilliseconds)));
        _idleWaiting = false;
        if (!posted)
        {
            _idleRanOutObserver?.Invoke();
        }

        return posted;
    }

    /// <summary>Whether the strategy's next choice names a flow that awaits something not back yet (a replay).</summary>
    private bool AwaitsNamedFlowLocked() =>
        _chooser.NextFlow is int next && next >= 0 && next < _flows.Count && _flows[next].Status == FlowStatus.Idle;

    /// <summary>Each flow's letter, name and state (<c>a = 'producer' (finished), b = 'consumer' (blocked on 'queue')</c>).</summary>
    private string DescribeFlowsLocked() =>
        string.Join(", ", _flows.ConvertAll(static flow => $"{(char)('a' + flow.Index)} = '{flow.Name}' ({StateOf(flow)})"));

    private static string StateOf(FlowState flow) => flow.Status switch
    {
        FlowStatus.Runnable => "runnable",
        FlowStatus.Blocked => $"blocked on '{flow.WaitingName}'",
        FlowStatus.Idle => "awaiting",
        _ => "finished",
    };

    private void Collect(FlowStatus status, bool timedOnly)
    {
        _candidates.Clear();
        foreach (var flow in _flows)
        {
            if (flow.Status == status && (!timedOnly || flow.CanTimeOut))
            {
                _candidates.Add(flow);
            }
        }
    }

    private void FailLocked(RunFailure failure)
    {
        if (Failure is not null)
        {
            return;
        }

        Failure = failure;
        _aborting = true;
        ReleasePendingLocked(null);
        foreach (var flow in _flows)
        {
            if (flow.Status != FlowStatus.Done)
            {
                flow.Turn.Release();
            }
        }

        Monitor.PulseAll(_gate);
        _done.Set();
    }

    /// <summary>The deadlock's cycle (flow → lock → holder → …) if the holders form one, else every blocked flow's wait.</summary>
    private List<WaitForEdge> DeadlockWaitsLocked() => CycleLocked() ?? BlockedWaitsLocked();

    /// <summary>A cycle of blocked flows (flow → lock → holder → …), or null.</summary>
    private List<WaitForEdge>? CycleLocked()
    {
        foreach (var start in _flows)
        {
            var path = new List<FlowState>();
            var flow = start;
            while (flow is { Status: FlowStatus.Blocked } && !path.Contains(flow))
            {
                path.Add(flow);
                flow = HolderOf(flow.WaitingOn);
            }

            if (flow is not null && path.IndexOf(flow) is int at and >= 0)
            {
                var cycle = new List<WaitForEdge>();
                for (int i = at; i < path.Count; i++)
                {
                    cycle.Add(new WaitForEdge(path[i].Name, path[i].WaitingName, HolderNameOf(path[i].WaitingOn)));
                }

                return cycle;
            }
        }

        return null;
    }

    /// <summary>
    /// What the other flows do meanwhile, as a sentence's end (<c>; meanwhile b waits for 'gate' held by a, and c gets no
    /// turn</c>), or empty: the flow the stuck one waits for is among them.
    /// </summary>
    private string WhileBlockedLocked()
    {
        var parts = BlockedWaitsLocked().ConvertAll(static w => w.ToString());
        var waiting = _flows.FindAll(f => f.Status == FlowStatus.Runnable && !ReferenceEquals(f, _running)).ConvertAll(static f => f.Name);
        if (waiting.Count != 0)
        {
            parts.Add($"{string.Join(", ", waiting)} {(waiting.Count == 1 ? "gets" : "get")} no turn");
        }

        return parts.Count == 0 ? string.Empty : "; meanwhile " + string.Join(", and ", parts);
    }

    private List<WaitForEdge> BlockedWaitsLocked()
    {
        var waits = new List<WaitForEdge>();
        foreach (var flow in _flows)
        {
            if (flow.Status == FlowStatus.Blocked)
            {
                waits.Add(new WaitForEdge(flow.Name, flow.WaitingName, HolderNameOf(flow.WaitingOn)));
            }
        }

        return waits;
    }

    /// <summary>
    /// The flow holding <paramref name="resource"/>: a lock's owner, or for a semaphore a live flow holding permits of it
    /// (a blocked one first, so a cycle through it is found). Null when no flow holds it (a condition, a barrier).
    /// </summary>
    private FlowState? HolderOf(object? resource)
    {
        if (resource is CountingSemaphore semaphore)
        {
            return PermitHoldersLocked(semaphore) is [var first, ..] ? first : null;
        }

        if (resource is not LockPrimitive lockPrimitive || lockPrimitive.ExclusiveOwnerId is not (> 0 and var owner))
        {
            return null;
        }

        return _flows.Find(f => f.OwnerIds.Contains(owner));
    }

    /// <summary>Remembers the ids the current flow's locks record as their owner (its thread, its async flow).</summary>
    private void RegisterOwnerLocked(FlowState flow)
    {
        flow.OwnerIds.Add(CurrentThreadId.Value);
        flow.ReadStates.Add(ReadWriteThreadState.Current);
        if (FlowOwnership.CurrentOrNull is { } owner && (flow.OwnerIds.Add(owner.OwnerId) | flow.FlowRecords.Add(owner)))
        {
            // An idle ownership record may be moved to another flow's context (FlowOwnership.TakeCached): its id
            // names this flow now, not the one that claimed it before.
            foreach (var other in _flows)
            {
                if (!ReferenceEquals(other, flow))
                {
                    other.OwnerIds.Remove(owner.OwnerId);
                    other.FlowRecords.Remove(owner);
                }
            }
        }
    }

    private void AddTraceLocked(FlowState flow, string operation, string target) =>
        _trace.Add(new TraceEntry(_steps, flow.Name, operation, target));

    /// <summary>
    /// The resource's name in the trace. A generated name carries a process-wide id (<c>ExclusiveLock#44 (…)</c>) that
    /// differs between runs; it is renumbered in order of first appearance, so a replay prints the same trace. A stripe
    /// is named after its striped lock (<c>StripedLock#12 (…)[3]</c>): that part is renumbered as the striped lock.
    /// </summary>
    private string NameOf(object resource, string name)
    {
        if (_names.TryGetValue(resource, out var known))
        {
            return known;
        }

        if (resource is LockPrimitive { StripedParent: { } parent } && name.StartsWith(parent.Name, StringComparison.Ordinal))
        {
            string stripe = NameOf(parent, parent.Name) + name[parent.Name.Length..];
            _names.AddOrUpdate(resource, stripe);
            _namesGiven++;
            return stripe;
        }

        string typeName = resource.GetType().Name;
        int arity = typeName.IndexOf('`', StringComparison.Ordinal);
        string prefix = (arity < 0 ? typeName : typeName[..arity]) + "#";
        string shown = name;
        if (name.StartsWith(prefix, StringComparison.Ordinal))
        {
            int end = prefix.Length;
            while (end < name.Length && char.IsAsciiDigit(name[end]))
            {
                end++;
            }

            shown = string.Create(CultureInfo.InvariantCulture, $"{prefix}{_namesGiven + 1}{name[end..]}");
        }

        _names.AddOrUpdate(resource, shown);
        _namesGiven++;
        return shown;
    }

    private static string OperationName(SchedulingOperation operation) => operation switch
    {
        SchedulingOperation.Acquire => "acquire",
        SchedulingOperation.AcquireRead => "acquire read",
        SchedulingOperation.AcquireWrite => "acquire write",
        SchedulingOperation.Release => "release",
        SchedulingOperation.Notify => "notify",
        SchedulingOperation.NotifyAll => "notify all",
        SchedulingOperation.Arrive => "arrive at",
        SchedulingOperation.CounterRead => "read",
        SchedulingOperation.CounterWrite => "update",
        _ => operation.ToString().ToLowerInvariant(),
    };

    private static string EnlistName(SchedulingOperation operation) => operation switch
    {
        SchedulingOperation.Blocked => "blocked on",
        SchedulingOperation.Wait => "waits on",
        SchedulingOperation.Arrive => "waits at",
        _ => operation.ToString().ToLowerInvariant(),
    };

    /// <summary>The flow a condition's last one-waiter signal woke, and at which step.</summary>
    private sealed record NotifyWoke(int Step, FlowState Flow);
}
