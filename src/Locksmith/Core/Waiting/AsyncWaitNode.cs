using System;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;
using System.Threading.Tasks.Sources;

namespace Locksmith;

/// <summary>How an async wait ended.</summary>
internal enum AsyncWaitOutcome
{
    /// <summary>Still queued.</summary>
    Pending,

    /// <summary>The resource was handed to the waiter.</summary>
    Granted,

    /// <summary>The timeout passed first.</summary>
    TimedOut,

    /// <summary>The token was cancelled first.</summary>
    Canceled,

    /// <summary>
    /// Taken from the queue but refused: its flow held what it waited for by then (a task of the same flow was granted
    /// or took it first); the flow gets the <see cref="System.Threading.LockRecursionException"/> it would have got asking later.
    /// </summary>
    Refused,

    /// <summary>Its result was read while it was still queued (a blocking <c>.Result</c>): the wait was withdrawn.</summary>
    Abandoned,

    /// <summary>
    /// Withdrawn by a controlled run's checks, as a wait nothing is left to end (<see cref="AsyncWaitNode.WithdrawForGood"/>):
    /// it fails with the run's reason.
    /// </summary>
    WithdrawnForGood,
}

/// <summary>
/// What an async primitive tells its waiters' nodes: the gate of its queue, how a node that gives up leaves it, and
/// how a hand-off becomes a scope or a timeout an exception.
/// </summary>
internal interface IAsyncWaitHost
{
    /// <summary>The gate of the queue the node waits in.</summary>
    Lock Gate { get; }

    /// <summary>Under the gate, with the node still queued: unlink it and pass on anything its leaving frees.</summary>
    void RemoveLocked(AsyncWaitNode node);

    /// <summary>The lock the wait is for, for messages and metrics.</summary>
    LockPrimitive Lock { get; }

    /// <summary>
    /// Throws the primitive's timeout exception for a wait of <paramref name="waited"/> for <paramref name="mode"/>;
    /// <paramref name="scopeTag"/> is the tag the wait would have carried (a semaphore's permit count).
    /// </summary>
    /// <remarks><paramref name="gaveUpState"/> is what the host noted in <see cref="AsyncWaitNode.GaveUpState"/> as the
    /// wait left its queue (a semaphore's free permits then), so the message describes that moment, not a later one.
    /// <paramref name="holder"/> is the holder the timeout's event named (<see cref="AsyncWaits.HolderAsReported"/>, read
    /// once): the exception names the same one, not one read again after the event's handler ran.</remarks>
    void ThrowTimeout(LockOwner waiter, LockMode mode, TimeSpan waited, int scopeTag, int gaveUpState, ReportedHolder holder);
}

/// <summary>
/// An async flow's place in a primitive's <see cref="WaitQueue"/>: the same links as a parked thread's node,
/// completed as an <see cref="IValueTaskSource{TResult}"/> of <see cref="AsyncLockScope"/>. Pooled per thread and
/// reset per wait, with its own reusable timer, so a steady-state contended wait allocates nothing.
/// </summary>
/// <remarks>
/// <para>Waiters are handed the resource (hand-off): a release that finds a waiter grants to it under the gate and
/// completes its task, and the continuation always runs on the thread pool, never on the releasing stack.</para>
/// <para>A timeout or a cancellation removes the node under the same gate, so of a give-up and a grant exactly one
/// happens: a cancelled waiter never swallows a hand-off meant for another.</para>
/// </remarks>
internal sealed class AsyncWaitNode : WaitNode, IValueTaskSource<AsyncLockScope>
{
    private static readonly Action<object?> s_onCanceled = static state => ((AsyncWaitNode)state!).GiveUp(AsyncWaitOutcome.Canceled, checkDeadline: false);
    private static readonly TimerCallback s_onTimer = static state => ((AsyncWaitNode)state!).GiveUp(AsyncWaitOutcome.TimedOut, checkDeadline: true);

    private const int SharedSpares = 16;

    private const int SpacerBytes = 128;

    private static readonly AsyncWaitNode?[] s_sharedSpares = new AsyncWaitNode?[SharedSpares];

    [ThreadStatic]
    private static AsyncWaitNode? t_spare;

    private ManualResetValueTaskSourceCore<bool> _source = new() { RunContinuationsAsynchronously = true };

    /// <summary>
    /// Padding allocated right after the node and kept by it (a compacting GC keeps the order), so two pooled nodes never
    /// share a cache line: one completed on one core while another is prepared on the other traded that line on every
    /// hand-off (5–9 % of a 2-flow hand-off when cross-core traffic is slow; HISTORY.md, 5 December 2026).
    /// </summary>
    internal readonly byte[] Spacer = new byte[SpacerBytes];
    private ValueTask<AsyncLockScope> _pendingTask;
    private CancellationTokenRegistration _registration;
    private Timer? _timer;
    private long _deadline;
    private long _start;

    // The thread this wait began on, for the deadlock detector: tasks of one flow may begin their waits on different threads.
    private Thread? _begunOn;
    private int _phase;

    // The version whose result was taken, or until then the wait's own "unclaimed" mark (Unclaimed): GetResult swaps
    // its token in only from its own version's mark, so of any reads of one wait exactly one goes on to recycle the
    // node, and a stale read of an earlier wait, which cannot match the mark, changes nothing.
    private int _resultTaken;

    // The token of the read that registered a continuation (int.MinValue, none, in a new wait): the first registration
    // of a wait puts its token in; a further one finds it there and is refused before the source sees it (ClaimRegistration).
    private int _registeredRead = int.MinValue;

    // Continuations of further reads of a queued wait's ValueTask (a second await, .AsTask() again), which the source
    // holds no room for: queued once a read took the result, so each is told the wait was read already.
    private ExtraRead? _extraReads;

    /// <summary>The primitive the node waits on.</summary>
    public IAsyncWaitHost Host = null!;

    /// <summary>The waiting flow.</summary>
    public LockOwner Owner = null!;

    /// <summary>The scope's token, set by the primitive when it grants.</summary>
    public int Token;

    /// <summary>A primitive-defined tag the scope carries back to the release (a mode, a permit count).</summary>
    public int ScopeTag;

    /// <summary>A host-defined note of what the wait saw as it left the queue (a semaphore's free permits), for its message.</summary>
    public int GaveUpState;

    /// <summary>The mode waited for.</summary>
    public LockMode Mode;

    /// <summary>The mode's metric tag.</summary>
    public string ModeTag = LockModeTags.Exclusive;

    /// <summary>How the wait ended; written under the gate.</summary>
    public AsyncWaitOutcome Outcome;

    private bool _throwOnTimeout;
    private CancellationToken _cancellationToken;

    // Why a controlled run withdrew the wait (WithdrawForGood); null otherwise.
    private string? _withdrawnBecause;

    /// <summary>The releaser the granted scope calls.</summary>
    public IAsyncScopeReleaser Releaser = null!;

    private AsyncWaitNode()
    {
        _pendingTask = new ValueTask<AsyncLockScope>(this, _source.Version);
        _resultTaken = Unclaimed(_source.Version);
    }

    /// <summary>
    /// What <see cref="_resultTaken"/> holds while the result of the wait with <paramref name="version"/> is not taken:
    /// above any token, and different for each version.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Unclaimed(short version) => (ushort)version | 0x10000;

    /// <summary>A node for a new wait: this thread's spare, a shared spare, or a new one.</summary>
    public static AsyncWaitNode Rent()
    {
        var node = t_spare;
        if (node is null)
        {
            return RentShared() ?? new AsyncWaitNode();
        }

        t_spare = null;
        return node;
    }

    // A waiter queues on one thread and its continuation (which recycles the node) runs on another, so spares pile up
    // where continuations run: the shared slots carry them back to the threads that queue. Only a wait touches them.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static AsyncWaitNode? RentShared()
    {
        int start = Environment.CurrentManagedThreadId;
        for (int i = 0; i < SharedSpares; i++)
        {
            ref var slot = ref s_sharedSpares[(start + i) & (SharedSpares - 1)];
            if (Volatile.Read(ref slot) is not null && Interlocked.Exchange(ref slot, null) is { } node)
            {
                return node;
            }
        }

        return null;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ShareSpare(AsyncWaitNode node)
    {
        int start = Environment.CurrentManagedThreadId;
        for (int i = 0; i < SharedSpares; i++)
        {
            ref var slot = ref s_sharedSpares[(start + i) & (SharedSpares - 1)];
            if (Volatile.Read(ref slot) is null && Interlocked.CompareExchange(ref slot, node, null) is null)
            {
                return;
            }
        }
    }

    /// <summary>Fills in the wait before it is queued.</summary>
    public void Prepare(
        IAsyncWaitHost host, IAsyncScopeReleaser releaser, LockOwner owner, LockMode mode, string modeTag, int requestKind, int request,
        int timeoutMs, CancellationToken cancellationToken, bool throwOnTimeout)
    {
        Reset(requestKind, request);
        Host = host;
        Releaser = releaser;
        Owner = owner;
        Mode = mode;
        ModeTag = modeTag;
        Outcome = AsyncWaitOutcome.Pending;
        Token = 0;
        ScopeTag = 0;
        GaveUpState = 0;
        _throwOnTimeout = throwOnTimeout;
        _cancellationToken = cancellationToken;
        _start = NeedsClock(host.Lock, timeoutMs) ? Stopwatch.GetTimestamp() : 0;

        // The flow sets WaitingFor after this, so the detector's CurrentWaits reads this wait's start and mode with it
        // (a reused record still carries its last wait's mode).
        owner.WaitingSince = _start;
        owner.WaitingMode = mode;

        // A thread that blocks on this wait (sync over async) waits for the lock: the detector follows it (mixed cycles).
        // The node keeps it too, as the flow's slot keeps only its latest; nodes are pooled per thread, so it rarely changes.
        var thread = owner.NoteWaitBegunOnCurrentThread();
        if (!ReferenceEquals(_begunOn, thread))
        {
            _begunOn = thread;
        }
        _deadline = TimeoutMath.DeadlineFrom(timeoutMs);

        // After the version moved on (Recycle): a read of the last wait that comes after this finds its token stale and
        // this wait's mark not its own.
        Volatile.Write(ref _resultTaken, Unclaimed(_source.Version));
        Volatile.Write(ref _registeredRead, int.MinValue);
        Volatile.Write(ref _phase, _phase + 1);
    }

    /// <summary>
    /// Whether the wait's length will be wanted: for a timeout's message, the wait metric or a long-wait handler. A clock
    /// read costs about as much as the rest of a hand-off here (~25 ns), so an untimed, unobserved wait skips it; a
    /// metric listener or handler that arrives while such a wait is queued starts with the next wait.
    /// </summary>
    private static bool NeedsClock(LockPrimitive lockPrimitive, int timeoutMs) =>
        timeoutMs >= 0 || LocksmithPolicy.LongWaitOccurred is not null || LocksmithMetrics.IsWaitRecorded(lockPrimitive);

    /// <summary>
    /// Whether the node's current wait can end by itself (a timeout or a token that can be cancelled), read live by a
    /// controlled scheduler from another thread: what it noted when told of the wait may be an earlier wait's whose task
    /// token came round again. Read from what <see cref="Prepare"/> wrote before the node was queued, so it costs the
    /// wait nothing and is never the last wait's while this one is queued.
    /// </summary>
    internal bool CanEndByItself => Volatile.Read(ref _deadline) != long.MaxValue || _cancellationToken.CanBeCanceled;

    /// <summary>For the deadlock detector, under the gate while queued: the wait's start, or 0 when it was not clocked.</summary>
    internal long Start => _start;

    /// <summary>For the deadlock detector, under the gate while queued: the thread the wait began on.</summary>
    internal Thread? BegunOn => _begunOn;

    /// <summary>For the deadlock detector: which wait of this pooled node is current (one more each time it is prepared).</summary>
    internal int Phase => Volatile.Read(ref _phase);

    /// <summary>
    /// After the node is queued (outside the gate): starts the timeout and the cancellation, either of which may
    /// give the wait up at once. The caller then returns <see cref="PendingTask"/>.
    /// </summary>
    public void Arm(int timeoutMs)
    {
        if (timeoutMs > 0)
        {
            (_timer ??= NewTimer()).Change(timeoutMs, Timeout.Infinite);
        }

        if (_cancellationToken.CanBeCanceled)
        {
            _registration = _cancellationToken.UnsafeRegister(s_onCanceled, this);
        }
    }

    /// <summary>
    /// The node's timer, made once without the waiting flow's execution context: a timer keeps the context it was made
    /// in for its life, which for a pooled node is every later wait's, so the first timed waiter's async locals (an
    /// <c>Activity</c>, a request's state) stayed reachable from the pool and every later timeout ran in them.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private Timer NewTimer()
    {
        if (ExecutionContext.IsFlowSuppressed())
        {
            return new Timer(s_onTimer, this, Timeout.Infinite, Timeout.Infinite);
        }

        // Undo leaves a copy of the context on the thread, not the context itself; the flow's claim is known by the
        // context's identity (FlowOwnership), so the very context is put back, or the claim's end would not find it.
        var before = ExecutionContext.Capture()!;
        var suppressed = ExecutionContext.SuppressFlow();
        try
        {
            return new Timer(s_onTimer, this, Timeout.Infinite, Timeout.Infinite);
        }
        finally
        {
            suppressed.Undo();
            ExecutionContext.Restore(before);
        }
    }

    /// <summary>
    /// The task of the node's current wait, made when its version was set (as the node was made or recycled), long
    /// before it is returned: a 32-byte <c>ValueTask</c> built just before its return is reloaded whole from the
    /// narrower stores that built it, a load the store buffer cannot forward (it stalls); one made earlier is read
    /// from memory.
    /// </summary>
    public ref readonly ValueTask<AsyncLockScope> PendingTask => ref _pendingTask;

    /// <summary>Puts the node back in this thread's spare slot, or a shared one: after its wait ended, or when it was not needed.</summary>
    public void Recycle()
    {
        // The new version is taken here rather than when the node is next prepared: a ValueTask of the wait that just
        // ended, read again (awaited twice, .AsTask() after an await), then fails on its stale token instead of
        // completing a second time and putting this node in the pool twice.
        _source.Reset();
        _pendingTask = new ValueTask<AsyncLockScope>(this, _source.Version);
        Host = null!;
        Owner = null!;
        Releaser = null!;
        _cancellationToken = default;
        if (t_spare is null)
        {
            t_spare = this;
        }
        else
        {
            ShareSpare(this);
        }
    }

    /// <summary>
    /// The waiter took the lock itself, re-testing right after it queued: the node is not needed. Its contention was
    /// counted, so its wait is measured too (if the clock was read for it), as a thread's wait is whichever way it ends:
    /// one wait measurement per contention.
    /// </summary>
    /// <remarks>Called out of the gate, with the hold's <paramref name="scope"/>: a listener's exception is the
    /// acquisition's, and the hold is given back first.</remarks>
    private void RecycleTookAtOnce(in AsyncLockScope scope)
    {
        try
        {
            RecycleMeasured();
        }
        catch
        {
            AsyncWaits.GiveBackGranted(scope);
            throw;
        }
    }

    /// <summary>
    /// The waiter took the lock as it queued, but its acquisition failed as it was recorded (a listener threw, and the
    /// hold went back): the node is not needed, and its wait is measured as any other's. That exception is the
    /// acquisition's; one a listener throws measuring the wait does not replace it.
    /// </summary>
    private void RecycleAfterFailedTake()
    {
        try
        {
            RecycleMeasured();
        }
        catch (Exception)
        {
            // The acquisition's own exception goes on.
        }
    }

    /// <summary>
    /// Out of the gate, the node unlinked: the waiter took what it queued for itself, re-testing as it queued. The host
    /// records the hold (<paramref name="request"/>: what it took, as it reads it), then the wait is measured and the
    /// node recycled; a listener's exception either way is the acquisition's, the hold given back first.
    /// </summary>
    public ValueTask<AsyncLockScope> TookAtOnce(IAsyncTakeAtOnce host, LockOwner flow, int request)
    {
        AsyncLockScope scope;
        try
        {
            scope = host.TookAtOnce(flow, request);
        }
        catch
        {
            // Its counter threw and the hold went back: the wait this contention began still ends measured.
            RecycleAfterFailedTake();
            throw;
        }

        RecycleTookAtOnce(scope);
        return new ValueTask<AsyncLockScope>(scope);
    }

    /// <summary>
    /// Out of the gate, the node unlinked: the waiter is refused as it queued (its own flow took the lock meanwhile, so
    /// waiting would be waiting for itself). Its contention was counted, so its wait is measured as any other's: one
    /// wait measurement per contention, whichever way the wait ends.
    /// </summary>
    public void RecycleRefusedAtOnce() => RecycleMeasured();

    private void RecycleMeasured()
    {
        // Recycled first: a listener that throws leaves no node half-used.
        long start = _start;
        var lockPrimitive = Host.Lock;
        string modeTag = ModeTag;
        Recycle();
        if (start != 0)
        {
            LocksmithMetrics.RecordWait(lockPrimitive, modeTag, start);
        }
    }

    /// <summary>
    /// Under the gate, the node already unlinked: the resource is the waiter's. Its wait completes (and its continuation
    /// is queued) once this thread left the gate (<see cref="GateEntry.DeferCompletion"/>).
    /// </summary>
    public void Grant(int token, int scopeTag)
    {
        Token = token;
        ScopeTag = scopeTag;
        Outcome = AsyncWaitOutcome.Granted;
        Status = WaitStatus.Granted;
        GateEntry.DeferCompletion(this);
    }

    /// <summary>
    /// Under the gate, the node already unlinked: the wait is refused (see <see cref="AsyncWaitOutcome.Refused"/>); it
    /// completes once this thread left the gate, as a grant does.
    /// </summary>
    public void Refuse()
    {
        Outcome = AsyncWaitOutcome.Refused;
        GateEntry.DeferCompletion(this);
    }

    /// <summary>The next node whose completion this thread deferred under the same gates (see <see cref="GateEntry.DeferCompletion"/>).</summary>
    internal AsyncWaitNode? NextDeferred;

    /// <summary>Completes a wait granted or refused under a gate this thread has left since; its continuation is queued.</summary>
    internal void CompleteDeferred() => _source.SetResult(Outcome == AsyncWaitOutcome.Granted);

    internal override void Signal(WaitStatus status) => Grant(Token, ScopeTag);

    internal override void Nudge()
    {
    }

    private void GiveUp(AsyncWaitOutcome outcome, bool checkDeadline, Action? beforeSetAgainForTests = null)
    {
        int phase = Volatile.Read(ref _phase);
        var host = Volatile.Read(ref Host);
        if (host is null)
        {
            return;
        }

        if (checkDeadline)
        {
            long deadline = Volatile.Read(ref _deadline);
            long early = deadline - Environment.TickCount64;
            if (early > 0)
            {
                // Early by this clock: a firing left over from an earlier wait of this node, or a timer whose clock runs
                // ahead of Environment.TickCount64 (Windows' timer queue keeps another). Set again for what is left, so
                // the wait never loses its timeout; an untimed wait has no timer to set.
                if (deadline != long.MaxValue && Volatile.Read(ref _phase) == phase && _timer is { } timer)
                {
                    beforeSetAgainForTests?.Invoke();
                    timer.Change((int)Math.Min(early, int.MaxValue - 1), Timeout.Infinite);
                    if (Volatile.Read(ref _phase) != phase)
                    {
                        // The wait ended and the node was taken for another one meanwhile, whose timer this may have
                        // just set to what was left of the old wait: fire now, and the new wait's own handling sets
                        // it again from its deadline (or finds it untimed).
                        timer.Change(0, Timeout.Infinite);
                    }
                }

                return;
            }
        }

        using (GateEntry.Enter(host.Gate))
        {
            if (Volatile.Read(ref _phase) != phase || !IsQueued || !ReferenceEquals(Host, host))
            {
                return;
            }

            host.RemoveLocked(this);
            Outcome = outcome;
            _source.SetResult(false);
        }
    }

    /// <summary>
    /// For a controlled run's checks (Locksmith.Testing): withdraws this queued wait, with no timeout nor token, for a lock
    /// nothing of the run is left to release, so its task fails with an <see cref="InvalidOperationException"/> of
    /// <paramref name="because"/> instead of never completing, and the node leaves the queue. As a give-up, under the
    /// queue's gate: false when a grant, a give-up or a later wait of the node (<paramref name="phase"/>, read while the
    /// wait was this one's) came first. Called with no gate held.
    /// </summary>
    internal bool WithdrawForGood(int phase, string because)
    {
        var host = Volatile.Read(ref Host);
        if (host is null)
        {
            return false;
        }

        using (GateEntry.Enter(host.Gate))
        {
            if (Volatile.Read(ref _phase) != phase || Outcome != AsyncWaitOutcome.Pending || !IsQueued || !ReferenceEquals(Host, host))
            {
                return false;
            }

            host.RemoveLocked(this);
            _withdrawnBecause = because;
            Outcome = AsyncWaitOutcome.WithdrawnForGood;
            _source.SetResult(false);
            return true;
        }
    }

    /// <summary>
    /// The result was asked for while the wait is queued: only a caller blocking on the <c>ValueTask</c> does that
    /// (<c>.Result</c>, <c>.GetAwaiter().GetResult()</c>), and nothing would ever read the wait's outcome. Left queued,
    /// it would be handed the lock and hold it for good; withdrawn under the gate, it ends as
    /// <see cref="AsyncWaitOutcome.Abandoned"/>, unless a grant or a give-up came first, whose outcome then stands.
    /// </summary>
    private void WithdrawBlockedOn()
    {
        var host = Host;
        using (GateEntry.Enter(host.Gate))
        {
            if (Outcome == AsyncWaitOutcome.Pending && IsQueued)
            {
                host.RemoveLocked(this);
                Outcome = AsyncWaitOutcome.Abandoned;
                _source.SetResult(false);
                return;
            }
        }

        // Granted or refused under the gate, and completed by that thread as it left its last gate: a few
        // instructions after this one found the wait decided, unless that thread was preempted in between.
        var spinner = default(SpinWait);
        while (_source.GetStatus(_source.Version) == ValueTaskSourceStatus.Pending)
        {
            SpinningOnDecidedWaitForTests?.Invoke(this);
            spinner.SpinOnce();
        }
    }

    /// <summary>For tests: called each time a blocking read spins on a wait decided under a gate and not yet completed.</summary>
    internal static Action<AsyncWaitNode>? SpinningOnDecidedWaitForTests;

    /// <summary>
    /// For tests: this wait's timer fires now, before its deadline, as a timer on another clock may (its own schedule
    /// is cancelled first, so only the firing's handling decides whether the wait still times out).
    /// </summary>
    /// <param name="beforeSetAgain">Runs where the firing, found early, is about to set the timer again.</param>
    internal void FireTimerEarlyForTests(Action? beforeSetAgain = null)
    {
        _timer?.Change(Timeout.Infinite, Timeout.Infinite);
        GiveUp(AsyncWaitOutcome.TimedOut, checkDeadline: true, beforeSetAgain);
    }

    AsyncLockScope IValueTaskSource<AsyncLockScope>.GetResult(short token)
    {
        // One compare-and-swap from the wait's own mark claims the result: a second read, even from another thread at the
        // same moment, finds the first one's token there (or, once the node was recycled, a newer version), and a stale
        // read of an earlier wait fails on the mark without writing, so the node is never recycled twice. (An
        // unconditional swap let a stale read put its token over the first read's, and a second read then passed.) Only a
        // queued wait comes here; the uncontended path's ValueTask has no source.
        int unclaimed = Unclaimed(token);
        if (token != _source.Version || Interlocked.CompareExchange(ref _resultTaken, token, unclaimed) != unclaimed)
        {
            ThrowHelper.ThrowAcquisitionConsumed();
        }

        // After the claim above (a full fence), as a further read registers and then reads _resultTaken: one of the two
        // sees the other, so a read registered at this moment is never left waiting.
        if (Volatile.Read(ref _extraReads) is not null)
        {
            RunExtraReads();
        }

        if (_source.GetStatus(token) == ValueTaskSourceStatus.Pending)
        {
            WithdrawBlockedOn();
        }

        _source.GetResult(token);
        _registration.Dispose();
        _registration = default;
        if (_timer is not null && _deadline != long.MaxValue)
        {
            // Stops a timer that has not fired; one already on its way finds the wait over (phase or deadline).
            _timer.Change(Timeout.Infinite, Timeout.Infinite);
        }

        var outcome = Outcome;
        var host = Host;
        var owner = Owner;
        var releaser = Releaser;
        int scopeToken = Token;
        // A wait that failed carries what it asked for instead (a semaphore's permit count), for its message.
        int scopeTag = outcome == AsyncWaitOutcome.Granted ? ScopeTag : Request;
        int gaveUpState = GaveUpState;
        var mode = Mode;
        var modeTag = ModeTag;
        long start = _start;
        bool throwOnTimeout = _throwOnTimeout;
        var cancellationToken = _cancellationToken;
        if (outcome == AsyncWaitOutcome.WithdrawnForGood)
        {
            // Only a controlled run's check comes here (WithdrawForGood): its reason is the exception.
            string because = _withdrawnBecause!;
            _withdrawnBecause = null;
            Recycle();
            return AsyncWaits.WithdrawnForGood(host, owner, start, modeTag, because);
        }

        Recycle();

        return AsyncWaits.Complete(host, releaser, owner, outcome, scopeToken, scopeTag, gaveUpState, mode, modeTag, start, throwOnTimeout, cancellationToken);
    }

    ValueTaskSourceStatus IValueTaskSource<AsyncLockScope>.GetStatus(short token)
    {
        if (token == _source.Version)
        {
            try
            {
                return _source.GetStatus(token);
            }
            catch (InvalidOperationException)
            {
                // Recycled since the test above: read already.
            }
        }

        // Read already, the node recycled: faulted, not a throw, so the read goes on to GetResult, which says so. A
        // throw here would escape .AsTask()'s completion callback on the thread pool (a read registered as the wait
        // ended) and end the process.
        return ValueTaskSourceStatus.Faulted;
    }

    void IValueTaskSource<AsyncLockScope>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags)
    {
        // A second continuation (the ValueTask awaited twice, or .AsTask() twice, while the wait is queued) is refused
        // here, before the source sees it: the source stores a registration's execution and scheduling contexts before
        // it finds a continuation there already, so the first read would resume in the second's contexts (or, the two
        // contexts of different kinds, the source threw an InvalidCastException that ended the process). A compare-and-swap
        // (ClaimRegistration), so two reads registering at the same moment cannot both pass: one more uncontended CAS on a
        // queued wait's await, none on an uncontended acquisition.
        if (!ClaimRegistration(token))
        {
            AddExtraRead(continuation, state, token, flags);
            return;
        }

        try
        {
            _source.OnCompleted(continuation, state, token, flags);
        }
        catch (InvalidOperationException)
        {
            // A stale token (the source checks it before touching anything). Thrown from here it would leave an awaiting
            // method's builder, which rethrows it on the thread pool: the process would end. Its read fails instead.
            AddExtraRead(continuation, state, token, flags);
        }
    }

    /// <summary>
    /// Whether a read registering with <paramref name="token"/> is the first of the current wait: false for a further one,
    /// and for a stale token (a read of a wait that ended), which must not write its token. Swapped in unconditionally, a
    /// late read of the node's last wait replaced the claim of its next one, and that wait's second read reached the source.
    /// </summary>
    private bool ClaimRegistration(short token)
    {
        while (true)
        {
            // Read before the version: a claim of the next wait seen here means its version is seen too, so a stale token
            // never replaces it (it can only replace what was there before that claim, which then overwrites it).
            int seen = Volatile.Read(ref _registeredRead);
            if (seen == token || token != _source.Version)
            {
                return false;
            }

            if (Interlocked.CompareExchange(ref _registeredRead, token, seen) == seen)
            {
                return true;
            }
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void AddExtraRead(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags)
    {
        var read = new ExtraRead(continuation, state, flags);
        var head = Volatile.Read(ref _extraReads);
        while (true)
        {
            read.Next = head;
            var seen = Interlocked.CompareExchange(ref _extraReads, read, head);
            if (ReferenceEquals(seen, head))
            {
                break;
            }

            head = seen;
        }

        // The result was taken (or the node moved on) before this read was seen: nobody else will run it.
        if (Volatile.Read(ref _resultTaken) == token || token != _source.Version)
        {
            RunExtraReads();
        }
    }

    /// <summary>Queues the further reads registered so far; each finds the result taken and is told so.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void RunExtraReads()
    {
        // Queued, never run here: a read's continuation must not run on the stack of the read that took the result.
        for (var read = Interlocked.Exchange(ref _extraReads, null); read is not null; read = read.Next)
        {
            read.Schedule();
        }
    }

    /// <summary>
    /// A further read's continuation, kept until the wait's result is taken, with the contexts its registration asked
    /// for: it is told the wait was read already where it would have been told the wait's outcome (an awaiting method
    /// on a UI thread's context resumes there, and a callback sees its own async locals).
    /// </summary>
    private sealed class ExtraRead
    {
        private static readonly Action<object?> s_invoke = static read => ((ExtraRead)read!).Invoke();
        private static readonly SendOrPostCallback s_post = static read => ((ExtraRead)read!).Invoke();
        private static readonly ContextCallback s_run = static read => ((ExtraRead)read!)._continuation(((ExtraRead)read!)._state);

        private readonly Action<object?> _continuation;
        private readonly object? _state;
        private readonly ExecutionContext? _executionContext;

        // A SynchronizationContext or a TaskScheduler other than the defaults, as an await's continuation would capture.
        private readonly object? _schedulingContext;

        public ExtraRead(Action<object?> continuation, object? state, ValueTaskSourceOnCompletedFlags flags)
        {
            _continuation = continuation;
            _state = state;
            if ((flags & ValueTaskSourceOnCompletedFlags.FlowExecutionContext) != 0)
            {
                _executionContext = ExecutionContext.Capture();
            }

            if ((flags & ValueTaskSourceOnCompletedFlags.UseSchedulingContext) != 0)
            {
                if (SynchronizationContext.Current is { } context && context.GetType() != typeof(SynchronizationContext))
                {
                    _schedulingContext = context;
                }
                else if (TaskScheduler.Current != TaskScheduler.Default)
                {
                    _schedulingContext = TaskScheduler.Current;
                }
            }
        }

        public ExtraRead? Next { get; set; }

        /// <summary>Queues the continuation where its registration asked for it; never runs it on the calling stack.</summary>
        public void Schedule()
        {
            try
            {
                switch (_schedulingContext)
                {
                    case SynchronizationContext context:
                        context.Post(s_post, this);
                        return;
                    case TaskScheduler scheduler:
                        _ = Task.Factory.StartNew(s_invoke, this, CancellationToken.None, TaskCreationOptions.DenyChildAttach, scheduler);
                        return;
                }
            }
            catch (Exception)
            {
                // The context refused the work (a scheduler told to complete, a UI context whose window is gone). Thrown from
                // here it would fail the read that took the result, whose granted lock was then never handed back (or, from
                // a registration, end the process): this read is told on the pool instead.
            }

            ThreadPool.UnsafeQueueUserWorkItem(s_invoke, this, preferLocal: false);
        }

        private void Invoke()
        {
            if (_executionContext is null)
            {
                _continuation(_state);
            }
            else
            {
                ExecutionContext.Run(_executionContext, s_run, this);
            }
        }
    }
}
