using System;
using System.ComponentModel;
using System.Runtime.CompilerServices;
using System.Threading;

namespace Locksmith;

/// <summary>
/// A lock with a shared read mode and an exclusive write mode, built so that readers scale: each reader counts
/// itself in a per-thread slot of a padded array instead of one shared counter. Not reentrant, no upgrade.
/// </summary>
/// <remarks>
/// <para>Use <c>using var scope = myLock.AcquireRead();</c> or <c>AcquireWrite()</c>. Do not use the C#
/// <c>lock</c> statement on it: that takes a <see cref="Monitor"/> on the object, not this lock.</para>
/// <para><b>Recursion.</b> None, and misuse fails at once with a <see cref="LockRecursionException"/> naming the lock
/// and the thread instead of deadlocking: asking for the write lock while holding the read lock (the classic
/// upgrade self-deadlock: the writer would wait for its own read to end), the write lock while holding it, and the
/// read lock while holding either mode (a nested read would queue behind a waiting writer under
/// <see cref="ReadWritePolicy.WriterPreferred"/> and <see cref="ReadWritePolicy.Fair"/>, and that writer waits for
/// the outer read). There is no upgradeable mode: release the read lock, acquire the write lock, and re-check what
/// was read. Releasing a mode the thread does not hold throws <see cref="SynchronizationLockException"/>.</para>
/// <para><b>Thread affinity.</b> Both modes belong to the acquiring thread and must be released on it, so neither
/// may be held across an <c>await</c>.</para>
/// <para><b>Policy.</b> See <see cref="ReadWritePolicy"/>; <see cref="ReadWritePolicy.WriterPreferred"/> is the default.</para>
/// <para><b>Cost.</b> An uncontended read is two interlocked operations on the reader's own cache line and two reads
/// of the writer state; concurrent readers on different processors do not contend. A writer pays for it by summing
/// the slots (a few cache lines) before it may enter. Each lock carries 128 bytes of counter per slot, with about
/// twice as many slots as processors (4 to 64). Waiters spin briefly, then sleep on a monitor created on first contention.</para>
/// </remarks>
public sealed partial class ReadWriteLock : LockPrimitive, IReadWriteAccessLock, IThreadAffineLock, ILockSetMember
{
    // State layout (everything but the reader counts, which live in _slots):
    //   bit 0 WriterBit      a writer holds the lock, or (writer-preferred / fair) owns the writer claim and waits
    //                        for the readers ahead of it to leave;
    //   bit 1 QueuedBit      the FIFO wait queue is not empty. Queued threads always wait behind the writer bit, so
    //                        it is only ever set together with WriterBit (reader-preferred writers never queue);
    //   bit 2 DrainWaiterBit a writer sleeps until the readers drain: a reader that empties its slot must wake it.
    private const int WriterBit = 1;
    private const int QueuedBit = 2;
    private const int DrainWaiterBit = 4;
    private const int SpinCount = 24;

    private readonly ReaderSlot[] _slots;
    // Not readonly: a [ReadMostly(Policy = ...)] declaration may set them, once, while the lock is idle.
    private ReadWritePolicy _policy;

    // A policy other than the default given to the constructor (a registration's): a declaration may not replace it.
    private readonly bool _policyChosen;

    // Policy declarations happen once per lock, off the hot path: one shared gate is enough.
    private static readonly object s_policyGate = new();

    // The state bits that send a reader to the slow path: a writer always; under writer-preferred and fair
    // also any queued waiter, so that a new reader never overtakes a waiting writer.
    private int _readerBlockMask;

    private int _state;
    private int _writerThreadId;

    /// <summary>Creates an unordered, writer-preferred lock with a generated name.</summary>
    /// <remarks>
    /// Kept for <c>new()</c> constraints and reflection. Source code that writes <c>new ReadWriteLock()</c> binds to
    /// <see cref="ReadWriteLock(string, int?, ReadWritePolicy, string, string, int)"/> instead, whose generated name
    /// tells where the lock was created.
    /// </remarks>
    [EditorBrowsable(EditorBrowsableState.Never)]
    [OverloadResolutionPriority(-1)]
    public ReadWriteLock()
        : this(null, null, ReadWritePolicy.WriterPreferred, string.Empty, string.Empty, 0)
    {
    }

    /// <summary>Creates an unordered lock with a generated name and the given policy.</summary>
    /// <param name="policy">Whom the lock lets in first when readers and writers compete.</param>
    /// <param name="memberName">Filled in by the compiler (the creating member; a field's name in its initializer). Leave it out.</param>
    /// <param name="sourceFilePath">Filled in by the compiler; only the file's name is used. Leave it out.</param>
    /// <param name="sourceLineNumber">Filled in by the compiler. Leave it out.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="policy"/> is not a defined value.</exception>
    // 'new ReadWriteLock(policy: …)' fits the constructor below too, with its name and level left out: without a
    // priority the call is ambiguous (CS0121). Both build the same lock.
    [OverloadResolutionPriority(1)]
    public ReadWriteLock(
        ReadWritePolicy policy,
        [CallerMemberName] string memberName = "",
        [CallerFilePath] string sourceFilePath = "",
        [CallerLineNumber] int sourceLineNumber = 0)
        : this(null, null, policy, memberName, sourceFilePath, sourceLineNumber)
    {
    }

    /// <summary>Creates a lock.</summary>
    /// <param name="name">
    /// The name messages and metrics use. If null, one is generated from the type, a process-unique id and where the
    /// lock was created, e.g. <c>ReadWriteLock#44 (_prices, PriceCache.cs:12)</c> for a field initializer; a generated
    /// name gives way to the member name a <c>[Guarded]</c> wrapper declares.
    /// </param>
    /// <param name="level">The lock's level in the global lock order (both modes), or null for an unordered lock.</param>
    /// <param name="policy">Whom the lock lets in first when readers and writers compete.</param>
    /// <param name="memberName">Filled in by the compiler (the creating member; a field's name in its initializer). Leave it out.</param>
    /// <param name="sourceFilePath">Filled in by the compiler; only the file's name is used. Leave it out.</param>
    /// <param name="sourceLineNumber">Filled in by the compiler. Leave it out.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="policy"/> is not a defined value.</exception>
    public ReadWriteLock(
        string? name = null,
        int? level = null,
        ReadWritePolicy policy = ReadWritePolicy.WriterPreferred,
        [CallerMemberName] string memberName = "",
        [CallerFilePath] string sourceFilePath = "",
        [CallerLineNumber] int sourceLineNumber = 0)
        : base(name, level, LockKind.ReadWrite, memberName, sourceFilePath, sourceLineNumber)
    {
        if (policy is not (ReadWritePolicy.ReaderPreferred or ReadWritePolicy.WriterPreferred or ReadWritePolicy.Fair))
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(policy), policy, "Unknown read-write policy.");
        }

        SetPolicy(policy);
        _policyChosen = policy != ReadWritePolicy.WriterPreferred;
        _slots = new ReaderSlot[ReaderSlot.TableLength];
    }

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
    internal void DeclarePolicy(string declaredName, ReadWritePolicy declaredPolicy)
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

            if (Volatile.Read(ref _state) != 0 || CurrentReaderCount != 0)
            {
                throw new InvalidOperationException(
                    $"Read-write lock {Describe()} is in use with policy {_policy}, so it cannot switch to the declared {declaredPolicy}. " +
                    $"Construct it with ReadWritePolicy.{declaredPolicy}, or declare the policy it was built with.");
            }

            SetPolicy(declaredPolicy);
        }
    }

    private void SetPolicy(ReadWritePolicy policy)
    {
        _readerBlockMask = policy == ReadWritePolicy.ReaderPreferred ? WriterBit : WriterBit | QueuedBit;
        _policy = policy;
    }

    /// <summary>Whom the lock lets in first when readers and writers compete.</summary>
    public ReadWritePolicy Policy => _policy;

    /// <summary>Whether the current thread holds the read lock.</summary>
    public bool IsReadLockHeldByCurrentThread => ReadWriteThreadState.CurrentOrNull is { HeldCount: > 0 } thread && thread.Holds(Id);

    /// <summary>Whether the current thread holds the write lock.</summary>
    public bool IsWriteLockHeldByCurrentThread => _writerThreadId == CurrentThreadId.Value;

    /// <summary>The managed thread id of the thread holding the write lock, or 0 when none does (a snapshot).</summary>
    public int WriterThreadId => Volatile.Read(ref _writerThreadId);

    /// <summary>How many threads hold the read lock (a snapshot; it may briefly count a reader backing out).</summary>
    public int CurrentReaderCount
    {
        get
        {
            var slots = _slots;
            int sum = 0;
            for (int i = 0; i < slots.Length; i++)
            {
                sum += Volatile.Read(ref slots[i].Count);
            }

            return sum;
        }
    }

    internal override int ExclusiveOwnerId => WriterThreadId;

    /// <summary>Whether a writer holds or has claimed the lock, or anyone is queued (a snapshot, for tests).</summary>
    internal bool WriterPending => (Volatile.Read(ref _state) & (WriterBit | QueuedBit)) != 0;

    internal override void GiveBackAfterListenerFault(string modeTag, int permits)
    {
        if (modeTag == LockModeTags.Read)
        {
            ReleaseRead();
        }
        else
        {
            ReleaseWrite();
        }
    }

    internal override bool EnterForSet(int timeoutMs, CancellationToken cancellationToken) =>
        EnterWrite(timeoutMs, cancellationToken, throwOnTimeout: false, checkOrder: false);

    internal override void ExitForSet() => ReleaseWrite();

    /// <summary>Whether no reader is counted in any slot. Writers call it after claiming the writer bit.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool NoReaders()
    {
        var slots = _slots;
        for (int i = 0; i < slots.Length; i++)
        {
            if (Volatile.Read(ref slots[i].Count) != 0)
            {
                return false;
            }
        }

        return true;
    }
}
