using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using System.Threading;

namespace Locksmith;

/// <summary>
/// Who holds and who waits: the locks an owner holds (for order checking and diagnostics) and the lock it is
/// blocked on (for the deadlock detector).
/// </summary>
/// <remarks>
/// Today every owner is a thread, found through a thread-static. The record is deliberately not a
/// <see cref="Thread"/>: an async flow can later keep its own <see cref="LockOwner"/> in an
/// <c>AsyncLocal</c> and reuse the same order checks and wait-for graph. Owners are created lazily, the first
/// time a thread takes an ordered lock or blocks, so unordered uncontended locking never touches this type.
/// </remarks>
internal sealed class LockOwner
{
    [ThreadStatic]
    private static LockOwner? t_current;

    private static readonly object s_registryGate = new();
    private static List<LockOwner> s_registry = new();

    private readonly WeakReference<Thread>? _thread;

    /// <summary>Flow owners take ids from here up, so no flow id is ever a managed thread id.</summary>
    public const int FlowIdBase = 1 << 30;

    private static int s_lastFlowNumber;

    private LockOwner(int ownerId, Thread? thread)
    {
        OwnerId = ownerId;
        _thread = thread is null ? null : new WeakReference<Thread>(thread);
    }

    /// <summary>A new async flow's record (<see cref="FlowOwnership"/> installs and reuses them).</summary>
    internal static LockOwner CreateFlow() => new(FlowIdBase + Interlocked.Increment(ref s_lastFlowNumber), null) { IsFlow = true };

    /// <summary>Whether the owner is an async flow rather than a thread.</summary>
    public bool IsFlow { get; private init; }

    /// <summary>
    /// For a flow: the display name of the <see cref="System.Diagnostics.Activity"/> that was current when it claimed its
    /// record, read from the cached claimed context only when a message needs it (never on an acquire).
    /// </summary>
    internal string? FlowActivityName()
    {
        if (FlowCurrentView?.To is not { } context || FlowHoldCount == 0)
        {
            return null;
        }

        var box = new StrongBox<string?>();
        bool outer = t_readingFlowContext;
        t_readingFlowContext = true;
        try
        {
            ExecutionContext.Run(context, static state => ((StrongBox<string?>)state!).Value = System.Diagnostics.Activity.Current?.DisplayName, box);
        }
        finally
        {
            t_readingFlowContext = outer;
        }

        return box.Value;
    }

    /// <summary>
    /// Whether this thread is inside <see cref="FlowActivityName"/>'s switch into a flow's context, which runs none of the
    /// flow's code: a controlled scheduler (Locksmith.Testing), which adopts a thread that enters an async flow's context
    /// as that flow's continuation, must not take it for one.
    /// </summary>
    internal static bool ReadingFlowContext => t_readingFlowContext;

    [ThreadStatic]
    private static bool t_readingFlowContext;

    /// <summary>
    /// For a flow, one word so one compare-and-swap can change both halves: the low 32 bits count the async locks it holds
    /// or is acquiring now (any mode; at 0 its claim is over), the high 32 bits are the token a read taken right after the
    /// claim carries, set with the claim, and 0 once that read is released (see <see cref="FlowOwnership.TakeBackFirstRead"/>).
    /// </summary>
    internal long FlowHolds;

    /// <summary>For a flow: the async locks it holds or is acquiring now (a snapshot of <see cref="FlowHolds"/>' count).</summary>
    internal int FlowHoldCount => (int)Volatile.Read(ref FlowHolds);

    /// <summary>
    /// For a flow: in the low half, the claims <see cref="AsyncLockFlow.Begin"/> made on it and not yet ended (each is one
    /// of its holds); in the high half, the period they belong to, a new one each time the count rises from 0, so a scope
    /// of an ended period (its record claimed again since) ends nothing of a later one.
    /// </summary>
    internal long FlowBegun;

    /// <summary>For a flow: the padding allocated after the record, so two flows' records never share a cache line.</summary>
    internal byte[]? FlowSpacer;

    /// <summary>For a flow: the claim views this record rotates through (see <see cref="FlowOwnership"/>).</summary>
    internal FlowOwnership.ClaimView?[]? FlowViews;

    /// <summary>For a flow: the index in <see cref="FlowViews"/> of the latest claim.</summary>
    internal int FlowViewIndex;

    /// <summary>For a flow: the view of the live (or latest) claim; any other view of this record is stale.</summary>
    internal FlowOwnership.ClaimView? FlowCurrentView;

    /// <summary>For a flow: the context the latest claim was taken on, so a thread's cache finds a record for a context.</summary>
    internal ExecutionContext? FlowBase;

    /// <summary>
    /// For a flow: <see cref="FlowBase"/> as the thread's context field holds it (a marker for the default context), or
    /// null when not known; lets a claim and its end compare and swap that field directly (see <see cref="FlowOwnership"/>).
    /// </summary>
    internal object? FlowBaseOnThread;

    /// <summary>For a flow: whether <see cref="FlowBase"/> carries no claim view at all, so a claim on it needs no look-up.</summary>
    internal bool FlowBaseViewless;

    /// <summary>For a flow: the <see cref="AsyncReadWriteLock"/> read locks it holds (that type keeps them).</summary>
    internal AsyncReadWriteLock.FlowReadHolds FlowReads;

    /// <summary>Guards <see cref="Held"/> for flows: tasks a flow starts share its record and may run at once.</summary>
    internal int FlowHeldGate;

    /// <summary>For a flow: its ordered async holds (<see cref="FlowOrder"/> keeps them; <see cref="Held"/> takes the overflow).</summary>
    internal FlowOrder.OrderedHolds FlowOrdered;

    /// <summary>How messages name the owner: <c>thread 12 ('worker')</c> or <c>flow #3 (GET /orders)</c>.</summary>
    public string Describe() => IsFlow ? DescribeFlow(OwnerId, FlowActivityName()) : $"thread {ThreadNames.Format(OwnerId, Name)}";

    /// <summary>A flow's display form from its id and the name of what took the lock, if known.</summary>
    internal static string DescribeFlow(int ownerId, string? name) =>
        string.IsNullOrEmpty(name) ? $"flow #{ownerId - FlowIdBase}" : $"flow #{ownerId - FlowIdBase} ('{name}')";

    /// <summary>The owner's id: the managed thread id for thread owners. A field: ordered fast paths read it instead of asking for the thread id again.</summary>
    public readonly int OwnerId;

    /// <summary>The owner's display name: the thread's name when it has one.</summary>
    public string? Name => IsFlow ? FlowActivityName() : _thread is not null && _thread.TryGetTarget(out var t) ? t.Name : null;

    /// <summary>Whether the owner can still act (a thread that ended cannot).</summary>
    public bool IsAlive => _thread is null || (_thread.TryGetTarget(out var t) && t.IsAlive);

    /// <summary>The ordered locks this owner holds, in acquisition order.</summary>
    public HeldLockStack Held = new(8);

    /// <summary>
    /// The lock this owner is blocked on, or null. Written by the owner, read by the detector. Tasks of one flow may wait
    /// at once: the slot shows one of their waits (the latest, until a wait's end clears it), so the detector reads a
    /// flow's waits from the locks' records of each acquisition (<see cref="IAcquisitionWaits"/>), and the slot only for
    /// a wait no lock records.
    /// </summary>
    public volatile LockPrimitive? WaitingFor;

    /// <summary>
    /// For a thread blocked in a sync wait: the async flow whose code it runs there (one holding async locks), or null. The
    /// flow waits for that lock too, so the deadlock detector follows an edge to the flow on through this thread's wait.
    /// Written before <see cref="WaitingFor"/>, off the fast paths (a wait that parks).
    /// </summary>
    public volatile LockOwner? BlockedFlow;

    /// <summary>
    /// For a flow: the thread its latest contended async wait began on. A thread that blocks on that wait (sync over
    /// async) waits for its lock: the detector follows an edge to that thread on through this flow's wait while the
    /// thread is blocked and in no wait of its own.
    /// </summary>
    public volatile Thread? WaitBegunOn;

    /// <summary>
    /// For a flow whose contended async wait begins: records the current thread in <see cref="WaitBegunOn"/>. A flow's
    /// waits mostly begin on the thread of its last one, so the store (and its GC barrier) happens only when it changes.
    /// </summary>
    /// <returns>The current thread.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Thread NoteWaitBegunOnCurrentThread()
    {
        var thread = Thread.CurrentThread;
        if (!ReferenceEquals(WaitBegunOn, thread))
        {
            WaitBegunOn = thread;
        }

        return thread;
    }

    /// <summary>The mode of the blocked wait in <see cref="WaitingFor"/>.</summary>
    public LockMode WaitingMode;

    /// <summary>
    /// When the wait in <see cref="WaitingFor"/> began (a <see cref="System.Diagnostics.Stopwatch"/> timestamp), or 0 when
    /// it was not stamped (an untimed async wait nobody observed). Written before <see cref="WaitingFor"/>.
    /// </summary>
    public long WaitingSince;

    /// <summary>
    /// Whether any thread ever made its record. Until one does, no thread holds a sync lock the order must check, so an
    /// async acquisition can skip looking up the thread's record (a thread-static read). A thread sets it before its
    /// own record exists, so the thread itself always sees it set.
    /// </summary>
    public static bool AnyThreadRecords
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => s_anyThreadRecords;
    }

    private static volatile bool s_anyThreadRecords;

    /// <summary>The current thread's owner record, or null if it never needed one.</summary>
    public static LockOwner? CurrentOrNull
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => t_current;
    }

    /// <summary>The current thread's owner record, created on first use.</summary>
    public static LockOwner Current
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => t_current ?? CreateForCurrentThread();
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static LockOwner CreateForCurrentThread()
    {
        var thread = Thread.CurrentThread;
        s_anyThreadRecords = true;
        var owner = new LockOwner(thread.ManagedThreadId, thread);
        lock (s_registryGate)
        {
            // Copy-on-write so the detector walks a snapshot without a lock; dead threads are pruned here.
            var next = new List<LockOwner>(s_registry.Count + 1);
            foreach (var existing in s_registry)
            {
                if (existing.IsAlive)
                {
                    next.Add(existing);
                }
            }

            next.Add(owner);
            s_registry = next;
        }

        t_current = owner;
        return owner;
    }

    /// <summary>A snapshot of every live owner record.</summary>
    public static IReadOnlyList<LockOwner> Snapshot() => Volatile.Read(ref s_registry);

    /// <summary>Finds the registered owner with this id, for naming it in messages.</summary>
    public static LockOwner? Find(int ownerId)
    {
        foreach (var owner in Snapshot())
        {
            if (owner.OwnerId == ownerId && owner.IsAlive)
            {
                return owner;
            }
        }

        return null;
    }
}
