using System;
using System.Collections.Generic;
using System.ComponentModel;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;

namespace Locksmith;

/// <summary>
/// A lock with a shared read mode and an exclusive write mode for code that awaits while it holds it, owned by async
/// flows rather than threads. Not reentrant, no upgrade: misuse throws at once instead of deadlocking.
/// </summary>
/// <remarks>
/// <para>Use <c>using var scope = await myLock.AcquireReadAsync(cancellationToken);</c> or <c>AcquireWriteAsync</c>.
/// Waiters are handed the lock on release (a batch of readers, or the next writer, as the <see cref="Policy"/> says);
/// their continuations run on the thread pool, never on the releasing stack. A cancelled or timed-out waiter leaves the
/// queue at once, and readers it was holding back are let in. Acquiring and releasing allocate nothing and take no lock.
/// As in <see cref="ReadWriteLock"/>, readers count themselves in per-slot padded counters (the flow keeps its slot), so
/// an uncontended read only reads the lock's shared state and increments, then decrements, a counter that readers on
/// other cores do not write (the rest is the flow's own record); a writer pays for it by summing the slots.</para>
/// <para><b>Recursion.</b> None, as with <see cref="ReadWriteLock"/>: a flow that holds the write lock and asks for
/// either mode, or holds the read lock and asks for either mode (a nested read would queue behind a waiting writer,
/// and the write lock would wait for the flow's own read), gets a <see cref="LockRecursionException"/> at once naming
/// the lock and the flow. A flow shares its holds with everything it awaits, calls or starts while it holds them. A
/// scope released twice throws <see cref="SynchronizationLockException"/>.</para>
/// <para><b>Policy.</b> See <see cref="ReadWritePolicy"/>; <see cref="ReadWritePolicy.WriterPreferred"/> is the default.
/// Under writer-preferred and fair, a reader that arrives while a writer waits queues behind it.</para>
/// </remarks>
public sealed partial class AsyncReadWriteLock : LockPrimitive, IAsyncReadWriteAccessLock, IAsyncLockSetMember, IAsyncSetMember, IAsyncWaitHost, IAsyncScopeReleaser, IAsyncOwnedLock, IAsyncTakeAtOnce
{
    // State layout (the reader counts live in _slots, one padded counter per slot, so readers on different cores
    // never write the same cache line):
    //   bit 0  WriterBit: a writer holds the lock, or (for the length of one claim attempt) a writer has claimed it and
    //          is summing the slots; a reader that counted itself in and then sees the bit backs out;
    //   bit 1  ReadersQueuedBit: the readers' queue is not empty;
    //   bit 2  WritersQueuedBit: the writers' queue is not empty (blocks new readers under writer-preferred and fair).
    // The queued bits are set under the gate in the same compare-and-swap that sees what blocks the waiter, and cleared
    // under the gate when a queue empties, so a release that sees none of them has nobody to hand the lock to. A reader
    // that empties its slot while a queued bit is set goes to the gate, where a waiting writer is tried again.
    private const int WriterBit = 1;
    private const int ReadersQueuedBit = 2;
    private const int WritersQueuedBit = 4;
    private const int QueuedBits = ReadersQueuedBit | WritersQueuedBit;

    // A grant's tag: a write (0), or a read's tag (see ReadTag).
    private const int WriteTag = 0;

    // A read tag's low bits: the reader slot plus one (slots are at most 64); the rest, the read-hold id's low bits.
    private const int ReadTagSlotBits = 7;
    private const long ReadTagIdMask = (1L << (32 - ReadTagSlotBits)) - 1;

    // Policy declarations happen once per lock, off the hot path: one shared gate is enough.
    private static readonly object s_policyGate = new();

    private static long s_lastReadHoldId;

    private int _state;
    private readonly ReaderSlot[] _slots = new ReaderSlot[ReaderSlot.TableLength];

    // What a flow's inline read slot records for this lock: a number, so taking and clearing the slot stores no
    // reference (no GC write barrier on the read fast path).
    private readonly long _readHoldId = Interlocked.Increment(ref s_lastReadHoldId);

    // The high bits of this lock's read tags (see ReadTag): the read-hold id's low bits, computed once.
    private readonly int _readTagId;

    // Not readonly: a [ReadMostly(Policy = ...)] declaration may set them, once, while the lock is idle.
    private ReadWritePolicy _policy;

    // A policy other than the default given to the constructor (a registration's): a declaration may not replace it.
    private readonly bool _policyChosen;
    private int _readerBlockMask;

    // The write hold: its token (0 when none; the scope's release compares it), the last token handed out, the flow.
    private int _writeToken;
    private int _lastWriteToken;
    private LockOwner? _writer;

    /// <summary>Creates an unordered, writer-preferred lock with a generated name.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    [OverloadResolutionPriority(-1)]
    public AsyncReadWriteLock()
        : this(null, null, ReadWritePolicy.WriterPreferred, string.Empty, string.Empty, 0)
    {
    }

    /// <summary>Creates an unordered lock with a generated name and the given policy, as <c>new ReadWriteLock(policy)</c> does.</summary>
    /// <param name="policy">Whom the lock lets in first when readers and writers compete.</param>
    /// <param name="memberName">Filled in by the compiler (the creating member; a field's name in its initializer). Leave it out.</param>
    /// <param name="sourceFilePath">Filled in by the compiler; only the file's name is used. Leave it out.</param>
    /// <param name="sourceLineNumber">Filled in by the compiler. Leave it out.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="policy"/> is not a defined value.</exception>
    // 'new AsyncReadWriteLock(policy: …)' fits the constructor below too: without a priority the call is ambiguous (CS0121).
    [OverloadResolutionPriority(1)]
    public AsyncReadWriteLock(
        ReadWritePolicy policy,
        [CallerMemberName] string memberName = "",
        [CallerFilePath] string sourceFilePath = "",
        [CallerLineNumber] int sourceLineNumber = 0)
        : this(null, null, policy, memberName, sourceFilePath, sourceLineNumber)
    {
    }

    /// <summary>Creates a lock.</summary>
    /// <param name="name">The name messages and metrics use; generated from the type, an id and the creating site if null.</param>
    /// <param name="level">The lock's level in the global lock order (both modes; shared with sync locks), or null for an unordered lock.</param>
    /// <param name="policy">Whom the lock lets in first when readers and writers compete.</param>
    /// <param name="memberName">Filled in by the compiler. Leave it out.</param>
    /// <param name="sourceFilePath">Filled in by the compiler. Leave it out.</param>
    /// <param name="sourceLineNumber">Filled in by the compiler. Leave it out.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="policy"/> is not a defined value.</exception>
    public AsyncReadWriteLock(
        string? name = null,
        int? level = null,
        ReadWritePolicy policy = ReadWritePolicy.WriterPreferred,
        [CallerMemberName] string memberName = "",
        [CallerFilePath] string sourceFilePath = "",
        [CallerLineNumber] int sourceLineNumber = 0)
        : base(name, level, LockKind.AsyncReadWrite, memberName, sourceFilePath, sourceLineNumber)
    {
        _readTagId = unchecked((int)((_readHoldId & ReadTagIdMask) << ReadTagSlotBits));
        if (policy is not (ReadWritePolicy.ReaderPreferred or ReadWritePolicy.WriterPreferred or ReadWritePolicy.Fair))
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(policy), policy, "Unknown read-write policy.");
        }

        SetPolicy(policy);
        _policyChosen = policy != ReadWritePolicy.WriterPreferred;
        AsyncOwners.Register(this);
    }

    /// <summary>Whom the lock lets in first when readers and writers compete.</summary>
    public ReadWritePolicy Policy => _policy;

    /// <summary>Whether a flow holds the write lock (a snapshot).</summary>
    public bool IsWriteHeld => (Volatile.Read(ref _state) & WriterBit) != 0 && Volatile.Read(ref _writer) is not null;

    /// <summary>How many flows hold the read lock (a snapshot).</summary>
    public int CurrentReaderCount
    {
        get
        {
            int readers = 0;
            for (int i = 0; i < _slots.Length; i++)
            {
                readers += Volatile.Read(ref _slots[i].Count);
            }

            return readers;
        }
    }

    /// <summary>
    /// Whether the current async flow holds the write lock: true in the method that acquired it and in everything that
    /// method awaits, calls or starts while it holds it.
    /// </summary>
    public bool IsWriteHeldByCurrentFlow =>
        IsWriteHeld && FlowOwnership.CurrentOrNull is { } flow && ReferenceEquals(Volatile.Read(ref _writer), flow);

    /// <summary>Whether the current async flow holds the read lock (as <see cref="IsWriteHeldByCurrentFlow"/> counts holds).</summary>
    public bool IsReadHeldByCurrentFlow => FlowOwnership.CurrentOrNull is { } flow && flow.FlowReads.Holds(this);

    /// <summary>
    /// The id of the flow holding the write lock (flow ids start at 2^30, as in <see cref="DeadlockEdge"/>), or 0 when
    /// no flow writes (a snapshot, for catalogs and diagnostics).
    /// </summary>
    public int WriterFlowId => Writer?.OwnerId ?? 0;

    /// <summary>Flows queued for either mode (a snapshot, for tests and diagnostics).</summary>
    public int WaitingCount => _readers.Count + _writers.Count;

    internal override int ExclusiveOwnerId => Writer?.OwnerId ?? 0;

    /// <summary>The writing flow, or null (a snapshot).</summary>
    private LockOwner? Writer => IsWriteHeld ? Volatile.Read(ref _writer) : null;

    /// <summary>The holders as a stale scope of flow <paramref name="scopeOwnerId"/> is told: its own record writing again is a later hold.</summary>
    private string? DescribeHolders(int scopeOwnerId) =>
        Writer is { } writer && writer.OwnerId == scopeOwnerId ? ThrowHelper.LaterHoldOf(writer) : DescribeHolders();

    /// <summary>Who holds the lock, for messages: the writing flow, a number of readers, or null when free.</summary>
    private string? DescribeHolders()
    {
        if (Writer is { } writer)
        {
            return writer.Describe();
        }

        int readers = CurrentReaderCount;
        return readers == 0 ? null : readers == 1 ? "1 reading flow" : $"{readers} reading flows";
    }

    LockPrimitive IAsyncWaitHost.Lock => this;

    LockPrimitive IAsyncOwnedLock.Lock => this;

    Lock IAsyncWaitHost.Gate => _readers.Gate;

    LockOwner? IAsyncOwnedLock.ExclusiveHolder => Writer;

    /// <summary>
    /// Applies a declaration made in source: the member's name and <c>[LockOrder]</c> level (see
    /// <see cref="LockPrimitive.EnsureDeclared(string, int?)"/>) and the class's <c>[ReadMostly(Policy = ...)]</c>.
    /// Generated wrappers call it before acquiring; public only for them, so it is hidden from IntelliSense.
    /// </summary>
    /// <param name="declaredName">The declaring member, e.g. <c>PriceCache._lock</c>.</param>
    /// <param name="declaredLevel">The declared level, or null.</param>
    /// <param name="declaredPolicy">The declared policy.</param>
    /// <exception cref="InvalidOperationException">The policy differs and the lock is in use, so it cannot change safely.</exception>
    [EditorBrowsable(EditorBrowsableState.Never)]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void EnsureDeclared(string declaredName, int? declaredLevel, ReadWritePolicy declaredPolicy)
    {
        if (_policy != declaredPolicy)
        {
            DeclarePolicy(declaredName, declaredPolicy);
        }

        EnsureDeclared(declaredName, declaredLevel);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void DeclarePolicy(string declaredName, ReadWritePolicy declaredPolicy)
    {
        // Two first wrapper calls may race here: the second must find the policy set, not the lock in use.
        lock (s_policyGate)
        {
            if (_policy == declaredPolicy)
            {
                return;
            }

            if (_policyChosen)
            {
                // Like a level given twice: a registration's policy must not be replaced by an attribute's default.
                ThrowHelper.ThrowPolicyDeclaredTwice(Describe(), _policy, declaredName, declaredPolicy);
            }

            if (Volatile.Read(ref _state) != 0 || AnyReaders())
            {
                throw new InvalidOperationException(
                    $"Async read-write lock {Describe()} is in use with policy {_policy}, so it cannot switch to the declared {declaredPolicy}. " +
                    $"Construct it with ReadWritePolicy.{declaredPolicy}, or declare the policy it was built with.");
            }

            SetPolicy(declaredPolicy);
        }
    }

    private void SetPolicy(ReadWritePolicy policy)
    {
        // Reader-preferred readers pass waiting writers; the others queue behind them.
        _readerBlockMask = policy == ReadWritePolicy.ReaderPreferred ? WriterBit : WriterBit | WritersQueuedBit;
        _policy = policy;
    }

    internal override bool EnterForSet(int timeoutMs, CancellationToken cancellationToken)
    {
        ThrowHelper.ThrowNotForSyncSet(this);
        return false;
    }

    internal override void ExitForSet() => ThrowHelper.ThrowNotForSyncSet(this);

    void IAsyncScopeReleaser.ReleaseScope(int token, int extra) => ReleaseWriteScope(token, extra);

    AsyncLockScope IAsyncScopeReleaser.ScopeFor(LockOwner owner, int token, int tag) =>
        tag == WriteTag ? AsyncLockScope.ForOwnedHold(this, token, owner.OwnerId) : AsyncLockScope.ForRead(owner, token, tag);

    /// <summary>
    /// A read scope's tag: the reader slot it counted in (plus one, so no read tag is <see cref="WriteTag"/>) and, above
    /// it, the low bits of the lock's read-hold id, by which its flow's record tells which of its reads the scope
    /// releases (and a stale scope's message names the lock).
    /// </summary>
    private int ReadTag(int slot) => (slot + 1) | _readTagId;

    /// <summary>The reader slot a read tag was counted in.</summary>
    private static int SlotOfReadTag(int readTag) => (readTag & ((1 << ReadTagSlotBits) - 1)) - 1;

    /// <summary>Whether <paramref name="readTag"/> names this lock (its read-hold id's low bits).</summary>
    internal bool IsNamedBy(int readTag) => (readTag & ~((1 << ReadTagSlotBits) - 1)) == _readTagId;

    /// <summary>
    /// The flow holding the write lock, or null, for the recursion check of an acquisition that found the lock busy
    /// (never called under the gate). The writer bit is set a moment before the writer is recorded (and kept a moment
    /// after it is cleared, or for a claim that finds readers in); this waits for that instead of reading it as nobody's,
    /// so of two tasks of one flow asking at once the later one is told rather than waiting for the flow itself.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private LockOwner? SettledWriter()
    {
        var spinner = default(SpinWait);
        while (true)
        {
            if ((Volatile.Read(ref _state) & WriterBit) == 0)
            {
                return null;
            }

            if (Volatile.Read(ref _writer) is { } writer)
            {
                return writer;
            }

            spinner.SpinOnce(sleep1Threshold: -1);
        }
    }

    /// <summary>The checks the read slow path makes before it may wait: recursion, order (as a read), a cancelled token.</summary>
    /// <returns>False when the token is already cancelled (the flow's hold is then accounted for).</returns>
    private bool CheckBeforeRead(LockOwner flow, CancellationToken cancellationToken)
    {
        ThrowIfHeldByFlow(flow, write: false);
        if (IsOrdered)
        {
            try
            {
                // Its own entry, so a violation is counted and advised as a read without a mode on the write path.
                FlowOrder.CheckRead(this, flow);
            }
            catch
            {
                FlowOwnership.NotHeld(flow);
                throw;
            }
        }

        return NotCanceledBeforeWait(flow, cancellationToken);
    }

    /// <summary>The checks the write slow path makes before it may wait: recursion, upgrade, order, a cancelled token.</summary>
    /// <returns>False when the token is already cancelled (the flow's hold is then accounted for).</returns>
    private bool CheckBeforeWrite(LockOwner flow, CancellationToken cancellationToken, bool checkOrder)
    {
        ThrowIfHeldByFlow(flow, write: true);
        if (IsOrdered && checkOrder)
        {
            try
            {
                FlowOrder.Check(this, flow);
            }
            catch
            {
                FlowOwnership.NotHeld(flow);
                throw;
            }
        }

        return NotCanceledBeforeWait(flow, cancellationToken);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void ThrowIfHeldByFlow(LockOwner flow, bool write)
    {
        if (ReferenceEquals(SettledWriter(), flow))
        {
            FlowOwnership.NotHeld(flow);
            ThrowHelper.ThrowAsyncRecursion(this, flow);
        }

        if (flow.FlowReads.MayHold(this) && flow.FlowReads.Holds(this))
        {
            FlowOwnership.NotHeld(flow);
            if (write)
            {
                ThrowHelper.ThrowAsyncUpgrade(this, flow);
            }

            ThrowHelper.ThrowAsyncReadRecursion(this, flow);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool NotCanceledBeforeWait(LockOwner flow, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            FlowOwnership.NotHeld(flow);
            return false;
        }

        return true;
    }

    void IAsyncWaitHost.ThrowTimeout(LockOwner waiter, LockMode mode, TimeSpan waited, int scopeTag, int gaveUpState, ReportedHolder holder)
    {
        if (mode == LockMode.Read && holder.Id == 0)
        {
            // No writer held it: the read waited behind queued writers. A try-once noted nothing as it failed (and queued
            // nothing): the writers queued now are the ones it found.
            if (gaveUpState == 0 && _readers.GateOrNull is { } gate)
            {
                using (GateEntry.Enter(gate))
                {
                    gaveUpState = ReadGaveUpState(null);
                }
            }

            if (gaveUpState > 1)
            {
                ThrowHelper.ThrowAsyncReadTimeoutBehindWriters(this, waiter, waited, gaveUpState - 1, _policy);
            }
        }

        ThrowHelper.ThrowAsyncTimeout(this, waiter, mode, holder, waited);
    }

    void IAsyncOwnedLock.AddWaiters(List<(LockOwner Flow, LockMode Mode)> waiters)
    {
        if (_readers.GateOrNull is not { } gate)
        {
            return;
        }

        using (GateEntry.Enter(gate))
        {
            WaitQueue.AddAsyncWaiters(_writers.Head, waiters);
            WaitQueue.AddAsyncWaiters(_readers.Head, waiters);
        }
    }
}
