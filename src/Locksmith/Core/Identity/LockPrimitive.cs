using System;
using System.Collections.Generic;
using System.Collections.ObjectModel;
using System.ComponentModel;
using System.Runtime.CompilerServices;
using System.Threading;

namespace Locksmith;

/// <summary>
/// The identity every Locksmith lock shares: a name for messages and metrics, an optional order level,
/// its kind, and a process-unique id that breaks ties between locks of one level.
/// </summary>
/// <remarks>
/// Only locks with a <see cref="Level"/> take part in global lock-order checking; an unordered lock pays
/// nothing for it on its fast path.
/// </remarks>
public abstract class LockPrimitive
{
    private static long s_nextId;

    // Declarations happen once per lock, off the hot path: one shared gate is enough.
    private static readonly object s_declarationGate = new();

    // Plain fields so the inlined fast paths test them without a property call. Not readonly: a declaration
    // ([LockOrder] through EnsureDeclared) may set them once, before the lock is first used.
    internal bool IsOrdered;
    internal int OrderLevel;

    // IsOrdered, or a controlled lock: the one flag the inlined fast paths test before they take their CAS path.
    internal bool OffFastPath;

    /// <summary>The controlled scheduler this lock was created under (Locksmith.Testing), or null.</summary>
    internal readonly ISchedulingController? Controller;
    internal readonly string KindTag;

    // The first member that declared the lock (null before one did), published last: EnsureDeclared's inlined test
    // compares the name it is given with it by reference (generated names are literals, so interned), which costs the
    // first declarer's wrappers one field read, as a flag did. Another declarer's wrappers go to Declare.
    private volatile string? _declaredBy;

    // Every member that declared the lock, the first included; replaced (never changed) under the gate, read without it.
    // Kept as the read-only view Declarers returns, so the catalog's reads allocate nothing.
    private volatile ReadOnlyCollection<string> _declarers = ReadOnlyCollection<string>.Empty;

    private protected LockPrimitive(string? name, int? level, LockKind kind)
        : this(name, level, kind, null, null, 0)
    {
    }

    /// <summary>
    /// Creates the identity; an unnamed lock is named after its type, its id and, where the compiler supplied them
    /// (caller-info parameters of the public constructors), the member and source line that created it.
    /// </summary>
    private protected LockPrimitive(string? name, int? level, LockKind kind, string? memberName, string? sourceFilePath, int sourceLineNumber)
    {
        Id = Interlocked.Increment(ref s_nextId);
        Kind = kind;
        KindTag = LockKindNames.Of(kind);
        _hasExplicitName = !string.IsNullOrWhiteSpace(name);
        Name = _hasExplicitName ? name! : DefaultName(memberName, sourceFilePath, sourceLineNumber);
        Level = level;
        IsOrdered = level.HasValue;
        OrderLevel = level.GetValueOrDefault();
        Controller = SchedulingHooks.Current;
        OffFastPath = IsOrdered || Controller is not null;
    }

    private readonly bool _hasExplicitName;

    /// <summary>
    /// When the current exclusive hold began (a <see cref="System.Diagnostics.Stopwatch"/> timestamp), or 0 when it is
    /// not timed. Written by the owner right after it acquires, and only while <c>locksmith.lock.hold.duration</c> is
    /// enabled; the owner's release takes it (and clears it) before it frees the lock, so the next owner's write never
    /// races with it. With no listener it stays 0 and a release pays one load of it.
    /// </summary>
    internal long HoldStart;

    /// <summary>
    /// The instruments the lock records into, or null for the process-wide set (<see cref="LocksmithMetrics"/>); set by
    /// <see cref="UseInstruments"/> before first use, so hot paths read it without a barrier.
    /// </summary>
    internal LocksmithInstruments? Instruments;

    /// <summary>
    /// The striped lock a stripe belongs to (its metrics carry that lock's name and kind; order advice names it); null for
    /// any other lock.
    /// </summary>
    internal LockPrimitive? StripedParent;

    /// <summary>
    /// The ordered locks seen held when this one was taken, while <see cref="LockNesting"/> records; null until the
    /// first. A copy-on-write array: readers never lock, and a known edge costs one increment.
    /// </summary>
    internal LockNesting.Edge[]? NestedUnder;

    /// <summary>
    /// The nestings into this lock recorded so far: each ordered lock that was the most recently taken one held when
    /// this lock was acquired, with a count (see <see cref="LockNesting.BeginRecording"/>). Empty unless recorded.
    /// </summary>
    /// <returns>Plain data; the next call reads again.</returns>
    public IReadOnlyList<LockNestingEdge> GetObservedNesting() => LockNesting.Read(this);

    /// <summary>
    /// Who holds the lock exclusively now, named as its timeout messages name the holder: <c>thread 7</c>,
    /// <c>thread 7 ('worker')</c>, <c>flow #6</c>, <c>flow #6 ('GET /orders')</c>; <see langword="null"/> when it is free,
    /// held only in a shared mode (readers, semaphore permits) or held per key (a striped lock's stripes).
    /// </summary>
    /// <returns>The holder's description, or <see langword="null"/> when no single holder is known.</returns>
    /// <remarks>
    /// <para>A snapshot for catalogs, dashboards and logs: safe to call from any thread at any time, it reads only what the
    /// lock already records, takes no lock, never waits and never throws. The holder may leave as soon as it is read;
    /// the text then still names that holder (a holder that left is named by id only), never a mix of two holders.</para>
    /// <para>A thread is named by its id and its current name, once it has used a Locksmith lock (as messages name it);
    /// an async flow by its number and the display name of the <see cref="System.Diagnostics.Activity"/> that was current
    /// when it took its locks.</para>
    /// </remarks>
    public string? DescribeHolder()
    {
        // One read of the holder, as a timeout's event and exception share one (AsyncWaits.HolderAsReported).
        var holder = AsyncWaits.HolderAsReported(this);
        return holder.Id switch
        {
            0 => null,
            >= LockOwner.FlowIdBase => holder.Name ?? LockOwner.DescribeFlow(holder.Id, null),
            _ => $"thread {ThreadNames.Format(holder.Id, holder.Name)}",
        };
    }

    /// <summary>The lock's name, used in every exception message, diagnostic and metric tag.</summary>
    public string Name { get; private set; }

    /// <summary>
    /// The lock's level in the global lock order, or <see langword="null"/> if the lock is unordered.
    /// A thread may only acquire an ordered lock whose level is greater than every ordered lock it holds.
    /// </summary>
    public int? Level { get; private set; }

    /// <summary>The kind of primitive.</summary>
    public LockKind Kind { get; }

    /// <summary>A process-unique id; the global order sorts locks of one level by it.</summary>
    public long Id { get; }

    /// <summary>
    /// The managed thread id of the thread that holds the lock exclusively, or 0 when it is free or is held
    /// only in a shared mode. Diagnostics (deadlock detection, timeout messages) read it; it is a snapshot.
    /// </summary>
    internal abstract int ExclusiveOwnerId { get; }

    /// <summary>
    /// For the deadlock detector: the name of what <paramref name="waiter"/> waits for in this lock and who holds
    /// that exclusively (0 when none). A keyed lock answers for the waiter's key; others for the whole lock.
    /// </summary>
    internal virtual (string Name, int OwnerId) WaitEdgeFor(LockOwner waiter) => (Name, ExclusiveOwnerId);

    /// <summary>
    /// For <see cref="DeadlockDetector.CurrentWaits"/>: what <paramref name="waiter"/> waits for in this lock, as its
    /// events name it. A keyed distributed lock names the waiter's key (<c>accounts[42]</c>); others their name. Read only
    /// when waits are listed.
    /// </summary>
    internal virtual string WaitNameFor(LockOwner waiter) => Name;

    /// <summary>
    /// For an order violation: this lock as <paramref name="owner"/> holds it. A keyed lock names the owner's key
    /// (<c>accounts[1]</c>), as a striped lock's stripe names itself; others their name. Read only when reporting.
    /// </summary>
    internal virtual string OrderNameHeldBy(LockOwner owner) => Name;

    /// <summary>
    /// Acquires the lock exclusively (write mode, one permit) for <c>LockSet</c>, which has already checked the
    /// global order for the whole set: no order check here, but the lock is recorded as held.
    /// </summary>
    /// <returns>False when <paramref name="timeoutMs"/> (0 = try once, -1 = infinite) elapsed.</returns>
    internal abstract bool EnterForSet(int timeoutMs, CancellationToken cancellationToken);

    /// <summary>
    /// The current thread just took this lock in <paramref name="modeTag"/> (<paramref name="permits"/> permits of a
    /// semaphore), and a metrics listener threw as it was recorded: give it back, as the exception goes to the caller
    /// instead of the hold. Nothing for a lock that handles this itself (async and distributed ones).
    /// </summary>
    internal virtual void GiveBackAfterListenerFault(string modeTag, int permits)
    {
    }

    /// <summary>Releases what <see cref="EnterForSet"/> acquired.</summary>
    internal abstract void ExitForSet();

    /// <summary>
    /// Applies a declaration made in source (<c>[LockOrder(level)]</c> on the lock's field): the member's name
    /// becomes the lock's name unless one was given to the constructor, and the level becomes its order level.
    /// Generated wrappers call this before acquiring; after the first call it costs one field read. Public only for
    /// generated code, so it is hidden from IntelliSense.
    /// </summary>
    /// <param name="declaredName">The declaring member, e.g. <c>Account._lock</c>.</param>
    /// <param name="declaredLevel">The declared level, or null when the member has no <c>[LockOrder]</c>.</param>
    /// <exception cref="InvalidOperationException">The lock was constructed with, or first declared at, a different level
    /// than declared.</exception>
    [EditorBrowsable(EditorBrowsableState.Never)]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void EnsureDeclared(string declaredName, int? declaredLevel)
    {
        if (!ReferenceEquals(declaredName, _declaredBy))
        {
            Declare(declaredName, declaredLevel);
        }
    }

    /// <summary>
    /// The member whose generated wrapper first declared this lock (<c>Namespace.Type.member</c>, as
    /// <see cref="EnsureDeclared"/> received it), or null before one did. Hosting's catalog matches it to the generator's
    /// manifest, so a container lock a generated class received lists once. Public only for hosting, so it is hidden from
    /// IntelliSense.
    /// </summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public string? DeclaredBy => _declaredBy;

    /// <summary>
    /// Every member whose generated wrapper declared this very lock, in the order they first did: <see cref="DeclaredBy"/>
    /// first, then those of other generated classes that received the same instance (a container lock two classes take
    /// through their constructors). Only the first declaration names the lock and sets its level; the others, which must
    /// declare the same level or none (else <see cref="EnsureDeclared"/> throws), are recorded,
    /// so hosting's catalog lists the lock once with each of them. Empty before any declaration. Public only for hosting,
    /// so it is hidden from IntelliSense.
    /// </summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public IReadOnlyList<string> Declarers => _declarers;

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void Declare(string declaredName, int? declaredLevel)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(declaredName);

        // A declarer recorded already (another class's wrapper, or the first's name given as another string): one scan.
        if (_declaredBy is not null && _declarers.Contains(declaredName))
        {
            return;
        }

        lock (s_declarationGate)
        {
            if (_declaredBy is not null)
            {
                // Another generated class declares this very instance: recorded for the catalog. The first declaration
                // keeps the name and level it gave; a different [LockOrder] level would be silently ignored, so it throws.
                if (!_declarers.Contains(declaredName))
                {
                    if (declaredLevel.HasValue && Level != declaredLevel)
                    {
                        throw ConflictingDeclaredLevel(declaredName, declaredLevel.Value);
                    }

                    string[] declarers = [.. _declarers, declaredName];
                    _declarers = new ReadOnlyCollection<string>(declarers);
                }

                return;
            }

            if (declaredLevel.HasValue)
            {
                if (Level.HasValue && Level != declaredLevel)
                {
                    throw new InvalidOperationException(
                        $"Lock {Describe()} was constructed with level {Level} but '{declaredName}' declares [LockOrder({declaredLevel})]. " +
                        "Give the level in one place only.");
                }

                // Set before the declarer is published: readers that see _declaredBy see the level too.
                OrderLevel = declaredLevel.Value;
                IsOrdered = true;
                OffFastPath = true;
                Level = declaredLevel;
            }

            if (!_hasExplicitName)
            {
                Name = declaredName;
            }

            _declarers = new ReadOnlyCollection<string>([declaredName]);
            OnDeclared();
            _declaredBy = declaredName;
        }
    }

    private InvalidOperationException ConflictingDeclaredLevel(string declaredName, int declaredLevel)
    {
        var firstLevel = Level is { } level ? $"level {level}" : "no level";
        return new InvalidOperationException(
            $"Lock '{Name}' is declared by '{_declaredBy}' with {firstLevel} and by '{declaredName}' with [LockOrder({declaredLevel})]. " +
            "One lock has one order level: give both members the same [LockOrder] level, or give each class its own lock.");
    }

    /// <summary>
    /// Makes the lock (and its stripes, for a striped lock) record its metrics into <paramref name="instruments"/>
    /// instead of the process-wide <c>Locksmith</c> meter; <see cref="LocksmithInstruments.Disabled"/> turns them off.
    /// Call it once, right after construction and before the lock is shared: hosting binds the locks a container creates
    /// to the container's meter. Public only for hosting, so it is hidden from IntelliSense.
    /// </summary>
    /// <param name="instruments">The instrument set.</param>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public void UseInstruments(LocksmithInstruments instruments)
    {
        ArgumentNullException.ThrowIfNull(instruments);
        Instruments = instruments;
        OnInstrumentsChanged(instruments);
    }

    /// <summary>Lets composite locks (stripes) bind their parts to the same instruments.</summary>
    private protected virtual void OnInstrumentsChanged(LocksmithInstruments instruments)
    {
    }

    /// <summary>Sets the identity of a part of a composite lock (a stripe), which follows its owner's.</summary>
    internal void SetPartIdentity(string name, int? level)
    {
        Name = name;
        Level = level;
        OrderLevel = level.GetValueOrDefault();
        IsOrdered = level.HasValue;
        OffFastPath = IsOrdered || Controller is not null;
    }

    /// <summary>Lets composite locks (stripes) pass a declared name and level on to their parts.</summary>
    private protected virtual void OnDeclared()
    {
    }

    /// <summary>A controlled lock is about to be acquired: a scheduling point before the attempt.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    internal void ScheduleAcquire() => Controller?.Point(SchedulingOperation.Acquire, this, Name);

    /// <summary>Whether the calling thread is a flow of this lock's controlled scheduler.</summary>
    internal bool IsControlledHere => Controller is { } controller && controller.ControlsCurrentThread;

    /// <summary>
    /// A controlled flow found the lock taken: waits for its turn after a release. False when it should give up (a
    /// try-once, the scheduler chose to time the wait out, or <paramref name="cancellationToken"/> was cancelled, which
    /// the caller tells apart by its token).
    /// </summary>
    internal bool WaitControlled(int timeoutMs, CancellationToken cancellationToken)
    {
        if (timeoutMs == 0 || cancellationToken.IsCancellationRequested)
        {
            return false;
        }

        var controller = Controller!;
        controller.Enlist(SchedulingOperation.Blocked, this, Name, canTimeOut: timeoutMs != Timeout.Infinite);
        return SchedulingHooks.BlockWakingOnCancel(controller, this, cancellationToken) && !cancellationToken.IsCancellationRequested;
    }

    /// <summary>A controlled lock was released: its blocked flows may run again, and the release is a scheduling point.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    internal void ScheduleRelease()
    {
        if (Controller is { } controller)
        {
            controller.Signal(this, all: true);
            controller.Point(SchedulingOperation.Release, this, Name);
        }
    }

    /// <summary>
    /// After a timed hold's release: records it, then (for a controlled lock) <see cref="ScheduleRelease"/>, even if a
    /// listener threw, since the lock is free and the flows blocked on it must run again.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    internal void RecordHoldThenSchedule(string modeTag, long holdStart)
    {
        try
        {
            LocksmithMetrics.RecordHold(this, modeTag, holdStart);
        }
        finally
        {
            if (Controller is not null)
            {
                ScheduleRelease();
            }
        }
    }

    /// <summary>
    /// Takes the start of the current timed hold and clears it; 0 when the hold is not timed. Only the owner calls it,
    /// before its release frees the lock.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal long TakeHoldStart()
    {
        long start = HoldStart;
        HoldStart = 0;
        return start;
    }

    /// <summary>
    /// <c>ExclusiveLock#44</c>, followed by where the lock was created when the compiler told:
    /// <c>ExclusiveLock#44 (_gate, Pool.cs:12)</c> for a field initializer, <c>(.ctor, Pool.cs:30)</c> in a constructor.
    /// Only the file's name is kept: a full build path says no more and would make every message and tag longer.
    /// </summary>
    private string DefaultName(string? memberName, string? sourceFilePath, int sourceLineNumber)
    {
        string typeName = GetType().Name;
        int arity = typeName.IndexOf('`', StringComparison.Ordinal);
        string baseName = $"{(arity < 0 ? typeName : typeName[..arity])}#{Id}";

        string? file = string.IsNullOrEmpty(sourceFilePath) ? null : sourceFilePath[(sourceFilePath.LastIndexOfAny(['/', '\\']) + 1)..];
        string? line = file is not null && sourceLineNumber > 0 ? $"{file}:{sourceLineNumber}" : file;
        string? site = (string.IsNullOrEmpty(memberName), line is null) switch
        {
            (false, false) => $"{memberName}, {line}",
            (false, true) => memberName,
            (true, false) => line,
            _ => null,
        };

        return site is null ? baseName : $"{baseName} ({site})";
    }

    /// <inheritdoc/>
    public override string ToString() => Level is { } level ? $"{Name} (level {level})" : Name;

    /// <summary>
    /// A synchronous acquisition's up-front check: a token already cancelled refuses even a free lock, as
    /// <c>SemaphoreSlim.Wait</c> does. One read for a token that cannot be cancelled.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void ThrowIfCanceledBeforeAcquiring(CancellationToken cancellationToken, LockMode mode, int permits = 0)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            ThrowHelper.ThrowCanceledBeforeAcquiring(this, mode, cancellationToken, permits);
        }
    }

    /// <summary>The name and level as messages print them.</summary>
    internal string Describe() => Level is { } level ? $"'{Name}' (level {level})" : $"'{Name}'";
}
