using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using System.Threading;
using System.Threading.Tasks;
using Npgsql;

namespace Locksmith.Postgres;

/// <summary>
/// A lock held in PostgreSQL (a session advisory lock) for the async flow that took it: named, ordered, timed,
/// cancellable and metered like the in-process locks (<c>lock.kind</c> <c>distributed_…</c>), in the same global lock
/// order. Each hold, and each wait, holds one connection of its <see cref="Provider"/>.
/// </summary>
/// <remarks>
/// <para>Waiting is the server's blocking acquire under <c>lock_timeout</c>, never polling, so PostgreSQL's deadlock detector
/// sees every wait; a cycle it finds surfaces as <see cref="DeadlockException"/>. A flow asking again for a lock it
/// holds gets <see cref="LockRecursionException"/> at once (checked in this process, through this provider and the
/// others of the process for the same server, and, where the server refuses its identity to a provider naming it by
/// another text, by asking the server: a second session of the same flow would otherwise wait for the first forever).</para>
/// <para>Tasks a flow starts while it holds a lock share its session. A release by one of them never waits behind
/// another's blocking wait (the wait is cancelled, and issued again after the release), but the session waits for one
/// lock at a time: a second task that must wait queues behind the first for at most its own timeout, and the server,
/// seeing one session, may report a deadlock between a process and two such tasks that would have resolved on its own.
/// Start tasks that wait independently under <see cref="System.Threading.ExecutionContext.SuppressFlow"/>, or acquire
/// before starting them.</para>
/// </remarks>
public abstract class PostgresLock : LockPrimitive, IAcquisitionWaits
{
    // One entry per waiting acquisition, not per flow: tasks of one flow may wait at once (see PostgresWait).
    private readonly ConcurrentDictionary<PostgresWait, byte> _waiters = new();

    private protected PostgresLock(PostgresLockProvider provider, string name, int? level, LockKind kind)
        : base(RequireName(name), level, kind)
    {
        ArgumentNullException.ThrowIfNull(provider);
        Provider = provider;
    }

    /// <summary>The provider whose database holds the lock and whose connections it holds.</summary>
    public PostgresLockProvider Provider { get; }

    /// <summary>Acquisitions of this process waiting for the lock now, two tasks of one flow counting twice (a snapshot).</summary>
    public int WaitingCount => _waiters.Count;

    internal override int ExclusiveOwnerId => 0;

    internal override bool EnterForSet(int timeoutMs, CancellationToken cancellationToken)
    {
        ThrowHelper.ThrowNotForSyncSet(this);
        return false;
    }

    internal override void ExitForSet() => ThrowHelper.ThrowNotForSyncSet(this);

    internal virtual string ModeTagOf(bool shared) => LockModeTags.Exclusive;

    internal virtual LockMode ModeOf(bool shared) => LockMode.Exclusive;

    /// <summary>The timeout a call without one waits: the provider's default, else the policy's.</summary>
    internal int ResolveTimeout(int timeoutMs) =>
        timeoutMs != TimeoutMathDefaults.UseDefault ? timeoutMs : Provider.DefaultTimeoutMilliseconds ?? WaitKernel.ResolveTimeout(timeoutMs);

    /// <summary>Whether the current flow holds <paramref name="key"/>.</summary>
    private protected bool IsHeldByCurrentFlowOf(AdvisoryKey key) =>
        FlowOwnership.CurrentOrNull is { } flow && Provider.FindHold(key, flow) is not null;

    /// <summary>The lost-lock token of the current flow's hold of <paramref name="key"/>, or none.</summary>
    private protected CancellationToken CurrentFlowLostTokenOf(AdvisoryKey key) =>
        FlowOwnership.CurrentOrNull is { } flow && Provider.FindHold(key, flow) is { } hold ? hold.LostToken : CancellationToken.None;

    /// <summary>Acquires <paramref name="key"/> with the default timeout (the overload sets' common body).</summary>
    private protected ValueTask<PostgresLockScope> AcquireKeyAsync(AdvisoryKey key, string description, bool shared, CancellationToken cancellationToken) =>
        Enter(key, description, shared, TimeoutMathDefaults.UseDefault, cancellationToken, throwOnTimeout: true);

    /// <summary>Acquires <paramref name="key"/> within <paramref name="timeout"/>; a try form returns an empty scope on timeout.</summary>
    private protected ValueTask<PostgresLockScope> AcquireKeyAsync(
        AdvisoryKey key, string description, bool shared, TimeSpan timeout, CancellationToken cancellationToken, bool throwOnTimeout) =>
        Enter(key, description, shared, TimeoutMath.ToMilliseconds(timeout, this), cancellationToken, throwOnTimeout);

    /// <summary>
    /// The synchronous start of every acquisition, in the caller's frame (so the flow's claim is visible after the
    /// await): recursion, order, cancellation and budget are checked before any round trip. <c>checkedThen</c> is called
    /// with the flow once recursion and order passed, before any round trip (a keyed lock records the wait there).
    /// </summary>
    private protected ValueTask<PostgresLockScope> Enter(
        AdvisoryKey key, string description, bool shared, int timeoutMs, CancellationToken cancellationToken, bool throwOnTimeout,
        Action<LockOwner>? checkedThen = null)
    {
        // As every lock: a cancelled token takes nothing, and is checked before recursion and order (and before the flow's
        // record is entered, which would give a flow holding nothing an id for this refusal alone).
        if (cancellationToken.IsCancellationRequested)
        {
            return ThrowHelper.CanceledWith<PostgresLockScope>(PostgresErrors.CanceledBeforeAcquiring(description, shared, this, cancellationToken));
        }

        var flow = FlowOwnership.Enter();
        PostgresSession session;
        try
        {
            CheckEnter(flow, key, description, shared, checkOrder: true);
            checkedThen?.Invoke(flow);

            session = Provider.RentSession(flow, this, description);
            if (IsOrdered)
            {
                // Counted for the order from here, not from the grant: a sibling asking meanwhile is checked against it,
                // whatever the round trips' timing (the hold keeps the entry; a failure gives it back).
                FlowOrder.Push(flow, this);
            }
        }
        catch
        {
            FlowOwnership.NotHeld(flow);
            throw;
        }

        return EnterReservedAsync(session, key, description, shared, ResolveTimeout(timeoutMs), cancellationToken, throwOnTimeout);
    }

    /// <summary>Throws when <paramref name="flow"/> holds the key already, or (when asked) when the order forbids it.</summary>
    internal void CheckEnter(LockOwner flow, AdvisoryKey key, string description, bool shared, bool checkOrder)
    {
        if (Provider.FindHold(key, flow) is { } held)
        {
            if (!ReferenceEquals(held.Lock, this) && string.Equals(held.Lock.Name, Name, StringComparison.Ordinal))
            {
                // Two lock objects created with one name on this provider: one advisory lock, perhaps at two levels.
                PostgresErrors.ThrowSameNameTwice(flow, description, held.Description, key);
            }

            if (!string.Equals(held.Description, description, StringComparison.Ordinal))
            {
                // Another key of a keyed lock that maps to the same advisory lock: the flow holds that, not this key.
                PostgresErrors.ThrowSharedAdvisoryLock(flow, description, held.Description, key);
            }

            if (held.Shared != shared)
            {
                // A read-write lock held in the other mode: say which, and that neither mode turns into the other.
                PostgresErrors.ThrowOtherMode(flow, description, ModeTagOf(shared), held.ModeTag, upgrade: held.Shared);
            }

            if (held.IsLost)
            {
                PostgresErrors.ThrowHeldButLost(flow, description);
            }

            PostgresErrors.ThrowRecursion(flow, description);
        }

        // Before the order: a flow asking through a second provider for what it holds through the first is recursion.
        if (Provider.FindHoldThroughAnotherProvider(key, flow) is { } elsewhere)
        {
            PostgresErrors.ThrowHeldThroughAnotherProvider(flow, description, ModeTagOf(shared), shared, elsewhere);
        }

        if (checkOrder && IsOrdered)
        {
            // A read's own entry: a violation is counted and advised as a read.
            if (shared)
            {
                FlowOrder.CheckRead(this, flow, OrderNameOf(description));
            }
            else
            {
                FlowOrder.Check(this, flow, OrderNameOf(description));
            }

            CheckOrderWithinLock(flow, description);
        }
    }

    /// <summary>
    /// Records, for order-violation messages, that <paramref name="flow"/> takes <paramref name="key"/> inside a lock set
    /// (a keyed lock names the key; other locks need nothing); returns what <see cref="EndKeyWait"/> takes. The deadlock
    /// detector reads the wait's own entry (<see cref="PostgresWait"/>).
    /// </summary>
    internal virtual object? BeginKeyWait(LockOwner flow, AdvisoryKey key, string description) => null;

    /// <summary>Ends what <see cref="BeginKeyWait"/> recorded.</summary>
    internal virtual void EndKeyWait(LockOwner flow, object? wait)
    {
    }

    /// <summary>A keyed lock's keys share its level: a second key taken on its own is out of order (take them together).</summary>
    private protected virtual void CheckOrderWithinLock(LockOwner flow, string description)
    {
    }

    /// <summary>What an order violation names as asked for, given the acquisition's description: the lock's name, or a keyed lock's key.</summary>
    internal virtual string OrderNameOf(string description) => Name;

    private async ValueTask<PostgresLockScope> EnterReservedAsync(
        PostgresSession session, AdvisoryKey key, string description, bool shared, int timeoutMs, CancellationToken cancellationToken, bool throwOnTimeout)
    {
        var hold = await AcquireReservedAsync(session, key, description, shared, timeoutMs, cancellationToken, throwOnTimeout).ConfigureAwait(false);
        return hold is null ? default : new PostgresLockScope(hold);
    }

    /// <summary>
    /// What the server may wait: the timeout less the time opening the session took, so the whole acquisition keeps to
    /// the timeout; 0 (one try) once it is spent; a zero or infinite timeout as it is.
    /// </summary>
    internal static int RemainingAfter(int timeoutMs, TimeSpan elapsed) =>
        timeoutMs <= 0 ? timeoutMs : (int)Math.Max(0, timeoutMs - (long)elapsed.TotalMilliseconds);

    /// <summary>
    /// Takes the key on the flow's <paramref name="session"/> (one use of it rented for this call; the flow's claim
    /// entered, one hold reserved on it; an ordered lock's entry in the flow's order pushed): ends in a hold (the
    /// reservation, the use and the entry kept by the hold), or in nothing held, the use returned and the reservation
    /// and the entry given back.
    /// </summary>
    internal async Task<PostgresHold?> AcquireReservedAsync(
        PostgresSession session, AdvisoryKey key, string description, bool shared, int timeoutMs, CancellationToken cancellationToken, bool throwOnTimeout,
        PostgresLockSet.SetWait? set = null)
    {
        var (hold, longWait, reportError) = await TakeReservedAsync(session, key, description, shared, timeoutMs, cancellationToken, throwOnTimeout, set).ConfigureAwait(false);
        if (hold is null)
        {
            return null;
        }

        if (reportError is null && longWait is { } waited)
        {
            // Reported once the session is free again (as the metrics' error below).
            try
            {
                ReportLongWait(session.Owner, description, ModeOf(shared), waited);
            }
            catch (Exception e)
            {
                reportError = e;
            }
        }

        if (reportError is not null)
        {
            // A metrics listener or the long-wait handler threw after the grant: its exception is the acquisition's, and the
            // hold it got is released (a round trip on that session), not lost; a release that throws too goes beside it.
            var errors = default(ReleaseErrors);
            try
            {
                await hold.ReleaseAsync().ConfigureAwait(false);
            }
            catch (Exception e)
            {
                errors.Add(e);
            }

            errors.ThrowAfter(reportError);
        }

        return hold;
    }

    /// <summary>
    /// <see cref="AcquireReservedAsync"/> without the long-wait event: the hold (or null), how long it waited when it had to
    /// wait, and what a metrics listener threw as the grant was recorded (the caller releases the hold, out of the gate).
    /// <paramref name="set"/>: the set this is a member of, whose wait and timeout a timeout's message gives.
    /// </summary>
    private async Task<(PostgresHold? Hold, TimeSpan? LongWait, Exception? ReportError)> TakeReservedAsync(
        PostgresSession session, AdvisoryKey key, string description, bool shared, int timeoutMs, CancellationToken cancellationToken, bool throwOnTimeout,
        PostgresLockSet.SetWait? set)
    {
        var flow = session.Owner;
        var mode = ModeOf(shared);
        string modeTag = ModeTagOf(shared);
        Provider.NoteKeyName(key, description);
        long start = Stopwatch.GetTimestamp();
        NpgsqlConnection? connection = null;
        PostgresHold? hold = null;
        bool entered = false;
        bool unanswered = false;
        bool waits = timeoutMs != 0;
        PostgresWait? wait = null;

        // A wait that reached the server's queue (or made way from it) and ended without a grant or a timeout (cancelled,
        // deadlocked, ended by the server or by disposal): its contention and wait are recorded once it is cleaned up, as the
        // in-process locks record every contended wait however it ends.
        bool contendedEnding = false;
        bool interrupted = false;

        // Asking the server whether another provider's name is this server: its errors name this lock and the flow already.
        bool probing = false;
        if (waits)
        {
            // In the lock's entries and in the flow's wait slot, with its start, mode and the thread it begins on, as the
            // in-process async waits record them: the flow's waits and cycle edges are named with that thread, and a thread
            // blocking on this wait (sync over async) is followed through it.
            wait = PostgresWait.Begin(this, flow, key, description, mode, start);
        }

        // The provider's disposal ends the wait as the caller's token would.
        using var stopping = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, Provider.DisposedToken);
        // The acquisition's own error, for a give-back below that fails after it.
        Exception? failure = null;
        try
        {
            try
            {
                bool? waited = null;
                string? busyWith = null;
                bool probed = false;
                while (true)
                {
                    int remaining = RemainingAfter(timeoutMs, Stopwatch.GetElapsedTime(start));
                    connection = await session.EnterAsync(description, remaining, urgent: remaining == 0, stopping.Token).ConfigureAwait(false);
                    if (connection is null)
                    {
                        // Another task of the flow kept the session waiting for its own lock the whole time.
                        busyWith = session.WaitingFor ?? "another lock";
                        break;
                    }

                    entered = true;

                    // A task of the flow may have taken the key on this session since this acquisition's checks (both queued
                    // for the gate). Advisory locks are reentrant per session, so the server would grant it again: refused
                    // here, under the gate that every grant is registered under, as the in-process locks refuse it.
                    if (Provider.FindHold(key, flow) is not null)
                    {
                        CheckEnter(flow, key, description, shared, checkOrder: false);
                    }

                    // The session's first connection may have told the provider its server only now: a flow holding the key
                    // through a provider that names the server by another text is refused here, before the lock's statement.
                    if (Provider.FindHoldThroughAnotherNameOfServer(key, flow) is { } elsewhere)
                    {
                        PostgresErrors.ThrowHeldThroughAnotherProvider(flow, description, modeTag, shared, elsewhere);
                    }

                    // Through a provider naming its server by another text, where the server refused its identity to one of the
                    // two: perhaps one advisory lock, so the server is asked, as a set asks it (a random key one session takes
                    // is refused to the other). Out of this session's gate, which the probe takes again.
                    if (!probed && Provider.FindHoldUnderUnconfirmedName(key, flow) is { } maybe)
                    {
                        probed = true;
                        entered = false;
                        session.Exit();
                        probing = true;
                        bool oneServer = await IsOneServerWithAsync(session, maybe, key, description, shared, flow,
                            TimeoutMath.DeadlineFrom(RemainingAfter(timeoutMs, Stopwatch.GetElapsedTime(start))), cancellationToken).ConfigureAwait(false);
                        probing = false;
                        if (oneServer)
                        {
                            PostgresErrors.ThrowHeldThroughAnotherProvider(flow, description, modeTag, shared, maybe);
                        }

                        continue;
                    }

                    Attempt attempt;
                    int replaced = 0;
                    while (true)
                    {
                        try
                        {
                            attempt = await AttemptAsync(session, connection, key, description, shared, RemainingAfter(timeoutMs, Stopwatch.GetElapsedTime(start)),
                                Provider.AnswerTimeoutSeconds, session.IsUnproven, stopping.Token).ConfigureAwait(false);
                            break;
                        }
                        catch (StaleConnectionException stale)
                        {
                            // The connection the session got from the pool had been ended there (a server restart, or an
                            // administrator's pg_terminate_backend) before the lock's statement ran: nothing is held, and
                            // the flow never had it, so a new connection takes its place. ReconnectAsync clears the pool's
                            // idle connections, so the next one is new; the bound only stops a server that keeps ending them.
                            if (++replaced > Provider.ConnectionBudget + 2)
                            {
                                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(stale.Error);
                            }

                            connection = await session.ReconnectAsync(stopping.Token).ConfigureAwait(false);
                        }
                    }

                    if (attempt != Attempt.MadeWay)
                    {
                        waited = attempt == Attempt.TimedOut ? null : attempt == Attempt.Waited || interrupted;
                        break;
                    }

                    // A release of the flow is queued behind this wait: make way for it, then wait again for what is left.
                    interrupted = true;
                    entered = false;
                    session.Exit();

                    // The release queued for the gate before this wait gave it back; let it take it.
                    await Task.Yield();
                }

                if (waited is not null && Provider.IsDisposed)
                {
                    // Granted as the provider was disposed: checked under the session's gate, which its shutdown waits for, so
                    // a grant seen here is given back, and one made before is a hold whose LostToken the shutdown cancels.
                    unanswered |= !await GiveBackAsync(connection!, key, shared, onlyIfHeld: true, description, Provider.AnswerTimeoutSeconds).ConfigureAwait(false);
                    contendedEnding = waits && waited == true;
                    PostgresErrors.ThrowDisposedWhileAcquiring(Provider, flow, description, inner: null);
                }

                if (waited is not { } hadToWait)
                {
                    var elapsed = Stopwatch.GetElapsedTime(start);

                    // A set's member: the caller waited as long as the set did, which its timeout covers; this member's wait
                    // is only its share, which its wait metric keeps. The event and the exception give one figure, the set's
                    // wait, read once (as an in-process LockSet's do).
                    var setWaited = set is null ? elapsed : Stopwatch.GetElapsedTime(set.Start);
                    if (waits)
                    {
                        LocksmithMetrics.RecordContention(this, modeTag);
                        LocksmithMetrics.RecordWait(this, modeTag, start);
                    }

                    // A try-once that finds the lock taken is an answer, not a timeout, as for the in-process locks: polling
                    // for leadership must not log a warning per poll or turn health Degraded.
                    // The in-process holder is read once for the event and the exception: read twice, a holder letting go
                    // between them (or in the event's handler) was named by the event and not by the exception.
                    var localHolder = waits || throwOnTimeout ? Provider.OtherHoldInProcess(key, flow) : null;
                    if (waits || throwOnTimeout)
                    {
                        ReportTimeout(flow, description, mode, modeTag, setWaited, localHolder);
                    }

                    if (throwOnTimeout)
                    {
                        string? holder = busyWith is null ? await DescribeHolderAsync(flow, key, localHolder, entered ? connection : null).ConfigureAwait(false) : null;
                        if (set is not null)
                        {
                            PostgresErrors.ThrowSetTimeout(this, description, flow, shared, setWaited, busyWith, holder, set);
                        }

                        PostgresErrors.ThrowTimeout(this, description, flow, shared, elapsed, busyWith, holder);
                    }

                    return (null, null, null);
                }

                hold = new PostgresHold(this, key, description, shared, session);
                Provider.AddHold(hold);

                try
                {
                    LocksmithMetrics.RecordAcquisition(this, modeTag);
                    if (hadToWait)
                    {
                        LocksmithMetrics.RecordContention(this, modeTag);
                        LocksmithMetrics.RecordWait(this, modeTag, start);
                        return (hold, Stopwatch.GetElapsedTime(start), null);
                    }
                }
                catch (Exception e)
                {
                    // A listener of the application's threw: the lock is held, so it goes back to the caller to release
                    // (it needs the session's gate, taken until the finally below); thrown out of here, it would be lost.
                    return (hold, null, e);
                }

                return (hold, null, null);
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.DeadlockDetected)
            {
                contendedEnding = waits;
                throw PostgresErrors.Deadlock(Provider, description, flow, e);
            }
            catch (PostgresException e) when (entered && hold is null)
            {
                // The server refused or ended the wait (out of memory, too many connections, a cancel or a shutdown by an
                // administrator): its SQLSTATE and words, not just "the session failed". A cancel or statement_timeout that
                // lands as the holder lets go fails the statement after the server granted the key, and a session lock
                // outlives its failed statement: given back, as after a lock timeout (a session the server ended has none).
                contendedEnding = waits;
                if (!session.IsBroken)
                {
                    unanswered |= !await GiveBackAsync(connection!, key, shared, onlyIfHeld: true, description, Provider.AnswerTimeoutSeconds).ConfigureAwait(false);
                }

                throw PostgresErrors.ServerEndedWait(Provider, flow, description, e, sessionEnded: session.IsBroken);
            }
            catch (ReconnectFailedException e)
            {
                // Nothing waited and nothing is held: the server refused a new session, as for a flow's first connection.
                throw PostgresErrors.CannotConnect(Provider, flow, description, e.Error);
            }
            catch (NpgsqlException e) when (entered && hold is null)
            {
                // No answer within the wait and LostLockCheckTimeout: a grant may have been the answer that never came, so
                // the session counts as lost (once out of its gate, below), and its connection is discarded rather than
                // pooled with that lock on it.
                unanswered = e.InnerException is TimeoutException;
                contendedEnding = waits;
                throw PostgresErrors.SessionFailed(Provider, flow, description, e);
            }
            catch (OperationCanceledException e) when (!probing && cancellationToken.IsCancellationRequested)
            {
                // The grant may have raced the cancellation, and a session lock outlives the failed statement.
                contendedEnding = waits && (entered || interrupted);
                if (entered)
                {
                    unanswered |= !await GiveBackAsync(connection!, key, shared, onlyIfHeld: true, description, Provider.AnswerTimeoutSeconds).ConfigureAwait(false);
                }

                throw PostgresErrors.Canceled(description, flow, shared, this, e, cancellationToken);
            }
            catch (OperationCanceledException e) when (!probing && Provider.IsDisposed)
            {
                contendedEnding = waits && (entered || interrupted);
                if (entered)
                {
                    unanswered |= !await GiveBackAsync(connection!, key, shared, onlyIfHeld: true, description, Provider.AnswerTimeoutSeconds).ConfigureAwait(false);
                }

                PostgresErrors.ThrowDisposedWhileAcquiring(Provider, flow, description, e);
                throw;
            }
        }
        catch (Exception e) when ((failure = e) is null)
        {
            // Never: the filter only remembers the error on its way out.
            throw;
        }
        finally
        {
            // Only this acquisition's entry: a sibling task's wait stays, and the flow's slot shows it again.
            wait?.End();

            if (entered)
            {
                session.Exit();
            }

            if (unanswered)
            {
                // Outside the gate: a LostToken callback may dispose a scope of the flow synchronously, which takes it.
                session.MarkLost(LossCauses.WaitUnanswered, failure);
            }

            if (hold is null)
            {
                if (IsOrdered)
                {
                    FlowOrder.RemoveOneOf(flow, this);
                }

                try
                {
                    await Provider.ReturnSessionAsync(session).ConfigureAwait(false);
                }
                catch (Exception e) when (failure is not null)
                {
                    // As a set's clean-up: still the cancellation or timeout the caller catches, with this error inside.
                    throw PostgresErrors.WithCleanUpErrors(failure, [e]);
                }
                finally
                {
                    // On every path: a return that threw must not leave the flow reading as a holder.
                    FlowOwnership.NotHeldInCallee(flow);

                    // Last, with nothing held and the session back: a listener that throws makes its exception the
                    // acquisition's, as for a failed in-process wait, and leaves nothing behind.
                    if (contendedEnding)
                    {
                        LocksmithMetrics.RecordContention(this, modeTag);
                        LocksmithMetrics.RecordWait(this, modeTag, start);
                    }
                }
            }
        }
    }

    /// <summary>
    /// Whether the flow's <paramref name="session"/> here and the session of its <paramref name="held"/> hold through another
    /// provider reach one server and database (see <see cref="PostgresLockSet.AreOneServerAsync"/>); false when the server
    /// shows two, or when it could not be asked (the other session busy with a task of the flow past the deadline, or closing
    /// as its hold is released). The probe's errors name this lock and the flow.
    /// </summary>
    private async ValueTask<bool> IsOneServerWithAsync(
        PostgresSession session, PostgresHold held, AdvisoryKey key, string description, bool shared, LockOwner flow, long deadline, CancellationToken cancellationToken)
    {
        // A use of the other session for the probe, so a release of the hold meanwhile does not close it under the probe.
        if (!held.Session.TryAddUse())
        {
            return false;
        }

        try
        {
            return await PostgresLockSet.AreOneServerAsync(
                session, new PostgresLockRequest(this, key, description, shared),
                held.Session, new PostgresLockRequest(held.Lock, held.Key, description, shared),
                flow, deadline, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            await held.Lock.Provider.ReturnSessionAsync(held.Session).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// One try or wait for <paramref name="key"/> on the session (the caller has its gate). A blocking wait registers
    /// itself so that a release of the flow queued behind it cancels it: it then makes way, unless the grant raced the
    /// cancel (a session lock outlives its cancelled statement).
    /// </summary>
    private static async Task<Attempt> AttemptAsync(
        PostgresSession session, NpgsqlConnection connection, AdvisoryKey key, string description, bool shared, int serverWaitMs, int answerSeconds,
        bool probe, CancellationToken cancellationToken)
    {
        using var interrupt = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bool blocking = serverWaitMs != 0;
        if (blocking && !session.BeginWait(interrupt, description))
        {
            return Attempt.MadeWay;
        }

        bool cancelLanded = false;
        try
        {
            bool? waited = await AdvisoryCommands.AcquireAsync(connection, key, shared, serverWaitMs, answerSeconds, probe, interrupt.Token).ConfigureAwait(false);
            return waited is not { } hadToWait ? Attempt.TimedOut : hadToWait ? Attempt.Waited : Attempt.Free;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            cancelLanded = true;
            return await AdvisoryCommands.IsHeldAsync(connection, key, answerSeconds).ConfigureAwait(false) ? Attempt.Waited : Attempt.MadeWay;
        }
        catch (OperationCanceledException)
        {
            cancelLanded = true;
            throw;
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.LockNotAvailable)
        {
            // A grant can race the lock timeout: the session may hold the lock after all. The query is the statement after
            // the wait, on which a late cancel of the wait's own lands (and is retried past), as the one below would be.
            cancelLanded = true;
            return await AdvisoryCommands.IsHeldAsync(connection, key, answerSeconds).ConfigureAwait(false) ? Attempt.Waited : Attempt.TimedOut;
        }
        finally
        {
            // The statement was sent, so the connection is the session's from now on (a stale one's replacement starts
            // unproven again). A wait that made way before sending it (a try of the flow queued) proved nothing.
            session.Proven();
            if (blocking)
            {
                session.EndWait();
            }

            if (!cancelLanded && interrupt.IsCancellationRequested)
            {
                // The statement ended before a cancel sent for it (if one was sent) landed. Npgsql returns from the statement
                // only once that cancel request was delivered (the server signalled the backend), so it cancels the next
                // statement or nothing: run that statement now, so no later one (a wait a pg_cancel_backend or a
                // statement_timeout ends, which is the server's error) can be taken for it.
                await AdvisoryCommands.AbsorbLateCancelAsync(connection).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// Who holds <paramref name="key"/>, for a timeout message: <paramref name="local"/>, the flow of this process that held
    /// it when the timeout event was raised (through this provider or another for the same server), with the other
    /// sessions pg_locks shows when that flow only reads, else the backend pids pg_locks shows (one query, on the timeout
    /// path only, on the waiter's session); null when neither is known (the holder may have let go meanwhile).
    /// </summary>
    private async ValueTask<string?> DescribeHolderAsync(LockOwner waiter, AdvisoryKey key, PostgresHold? local, NpgsqlConnection? connection)
    {
        if (local is not null)
        {
            string named = ReferenceEquals(local.Lock.Provider, Provider)
                ? $"held by {local.Owner.Describe()} of this process (PostgreSQL session, backend pid {local.ProcessId})"
                : $"held by {local.Owner.Describe()} of this process, through another PostgresLockProvider (its PostgreSQL session there, backend pid {local.ProcessId})";

            // A reader is one holder among maybe several (here or in other processes): naming it alone would send the
            // reader of the message to release it while the others still keep the writer out.
            return local.Shared && connection is not null ? named + await OtherReadersAsync(local.ProcessId, key, connection).ConfigureAwait(false) : named;
        }

        if (connection is null)
        {
            return null;
        }

        try
        {
            var pids = await AdvisoryCommands.HolderPidsAsync(connection, key).ConfigureAwait(false);
            foreach (int pid in pids)
            {
                // The waiter's own hold through another provider of this process, taken there by a task of the flow after
                // this wait's recursion check (which refuses one held before).
                if (Provider.SessionOfBackend(pid) is { } session && ReferenceEquals(session.Owner, waiter))
                {
                    return $"held by this very flow, {waiter.Describe()}, through another PostgresLockProvider of this process (its session there, backend pid {pid}): " +
                        "the flow waited for itself (a task of the flow took it there while this one waited). Use one provider per server; to stand in for a second " +
                        "process (in a test), acquire from a flow of its own, started under ExecutionContext.SuppressFlow()";
                }
            }

            foreach (int pid in pids)
            {
                if (Provider.ProviderOfFlowSessionUnderAnotherName(pid, waiter) is { } other)
                {
                    return $"held by backend pid {pid}, the pid of this very flow's PostgreSQL session through another PostgresLockProvider of this process, for " +
                        $"{other.ServerIdentity}: if that names this server differently, the flow waited for itself. The server did not tell this provider or that " +
                        "one its identity (pg_control_system() refused), so they count as two servers; give both the same host:port/database";
                }
            }

            return pids.Count switch
            {
                0 => null,
                1 => $"held by another PostgreSQL session (backend pid {pids[0]})",
                <= 3 => $"held by other PostgreSQL sessions (backend pids {string.Join(", ", pids)})",

                // The query reads a fourth only to know there are more than three.
                _ => $"held by other PostgreSQL sessions (backend pids {pids[0]}, {pids[1]}, {pids[2]} and others)",
            };
        }
        catch (Exception e) when (e is NpgsqlException or InvalidOperationException or TimeoutException)
        {
            // Only a message's detail: the timeout is reported all the same.
            return null;
        }
    }

    /// <summary>The other sessions pg_locks shows holding <paramref name="key"/> beside the named reader, as a message's tail; empty when none or unknown.</summary>
    private static async ValueTask<string> OtherReadersAsync(int named, AdvisoryKey key, NpgsqlConnection connection)
    {
        try
        {
            var pids = await AdvisoryCommands.HolderPidsAsync(connection, key).ConfigureAwait(false);
            var others = pids.FindAll(pid => pid != named);
            if (others.Count == 0)
            {
                return string.Empty;
            }

            // The query reads at most four rows: with four, there may be more.
            string more = pids.Count == 4 ? " and maybe others" : string.Empty;
            return others.Count == 1
                ? $", and by another PostgreSQL session too (backend pid {others[0]}{more})"
                : $", and by other PostgreSQL sessions too (backend pids {string.Join(", ", others)}{more})";
        }
        catch (Exception e) when (e is NpgsqlException or InvalidOperationException or TimeoutException)
        {
            // Only a message's detail: the timeout is reported all the same.
            return string.Empty;
        }
    }

    internal void AddWaiters(List<(LockOwner Flow, LockMode Mode)> waiters)
    {
        foreach (var pair in _waiters)
        {
            waiters.Add((pair.Key.Flow, pair.Key.Mode));
        }
    }

    /// <summary>
    /// Each waiting acquisition with its own key's name and in-process holder, so the deadlock detector follows every wait
    /// of a flow whose tasks wait at once, not only the one its slot shows.
    /// </summary>
    void IAcquisitionWaits.AddWaits(List<AcquisitionWait> waits)
    {
        foreach (var pair in _waiters)
        {
            var wait = pair.Key;
            int holderId = Provider.ExclusiveHolderInProcess(wait.Key)?.OwnerId ?? 0;
            waits.Add(new AcquisitionWait(wait.Flow, this, OrderNameOf(wait.Description), holderId, wait.Mode, wait.Since, wait.BegunOn, wait, 0));
        }
    }

    /// <summary>Called by <see cref="PostgresWait"/> under its gate.</summary>
    internal void AddWait(PostgresWait wait) => _waiters.TryAdd(wait, 0);

    /// <summary>Called by <see cref="PostgresWait"/> under its gate.</summary>
    internal void RemoveWait(PostgresWait wait) => _waiters.TryRemove(wait, out _);

    /// <summary>
    /// What <paramref name="waiter"/> waits for, named as the timeout and long-wait events name it (a keyed lock's
    /// <c>name[key]</c>): the wait its slot shows (see <see cref="PostgresWait.Of"/>).
    /// </summary>
    internal override string WaitNameFor(LockOwner waiter) =>
        PostgresWait.Of(waiter, this) is { } waiting ? OrderNameOf(waiting.Description) : Name;

    /// <summary>
    /// Gives back <paramref name="key"/>, or, <paramref name="onlyIfHeld"/>, only if the session holds it (a grant that raced
    /// a wait's end); each round trip bounded by <c>LostLockCheckTimeout</c>, as an unlock is. False when the session failed
    /// or gave no answer: the caller then marks it lost (out of its gate), so its connection, which may still hold the key,
    /// is discarded rather than pooled. A server ERROR on a session that lives on is asked once more first, as a release's
    /// unlock is (see PostgresHold). A set's probe gives its random key back here too.
    /// </summary>
    internal static async ValueTask<bool> GiveBackAsync(NpgsqlConnection connection, AdvisoryKey key, bool shared, bool onlyIfHeld, string description, int answerSeconds)
    {
        try
        {
            try
            {
                if (PostgresHold.BeforeUnlockForTest is { } before)
                {
                    await before(description, connection, true).ConfigureAwait(false);
                }

                await GiveBackOnceAsync(connection, key, shared, onlyIfHeld, answerSeconds).ConfigureAwait(false);
            }
            catch (PostgresException) when (connection.FullState == System.Data.ConnectionState.Open)
            {
                // Refused, not ended (a cancel of the statement, out of memory): the flow's other holds on the session are
                // still the server's; lost only if the server refuses again.
                await GiveBackOnceAsync(connection, key, shared, onlyIfHeld, answerSeconds).ConfigureAwait(false);
            }

            return true;
        }
        catch (Exception e) when (e is NpgsqlException or InvalidOperationException or TimeoutException)
        {
            // The session is gone (and its locks with it), or the server's answer never came, or it refused twice.
            return false;
        }
    }

    private static async ValueTask GiveBackOnceAsync(NpgsqlConnection connection, AdvisoryKey key, bool shared, bool onlyIfHeld, int answerSeconds)
    {
        if (connection.FullState == System.Data.ConnectionState.Open &&
            (!onlyIfHeld || await AdvisoryCommands.IsHeldAsync(connection, key, answerSeconds).ConfigureAwait(false)))
        {
            await AdvisoryCommands.ReleaseAsync(connection, key, shared, async: true, answerSeconds).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Raises the timeout event under the name the deadlock detector and order violations use (a keyed lock's
    /// <c>name[key]</c>), so the host's log says which key timed out; metrics keep the lock's name (one series per lock).
    /// </summary>
    /// <summary>A timeout event's holder when no session of this process holds the lock.</summary>
    internal const string HeldOutsideThisProcess = "a session outside this process";

    private void ReportTimeout(LockOwner flow, string description, LockMode mode, string modeTag, TimeSpan waited, PostgresHold? localHolder)
    {
        LocksmithMetrics.RecordTimeout(this, modeTag);
        if (LocksmithPolicy.TimeoutOccurred is { } onTimeout)
        {
            // The holder when it is a flow of this process (through this provider or another for the same server), as the
            // exception names it (the log's Owner); else 0: readers of this process have no single owner, and with no hold
            // in this process the holder is another process's session, which only the exception looks up (a query).
            var holder = localHolder is { Shared: false } hold ? hold.Owner : null;
            string? holderName = holder is not null ? holder.Describe() : localHolder is null ? HeldOutsideThisProcess : null;
            onTimeout(new LockTimeoutEvent(OrderNameOf(description), mode, waited, flow.OwnerId, holder?.OwnerId ?? 0) { OwnerThreadName = holderName });
        }
    }

    private void ReportLongWait(LockOwner flow, string description, LockMode mode, TimeSpan waited)
    {
        if (LocksmithPolicy.LongWaitOccurred is { } onLongWait)
        {
            var threshold = LocksmithPolicy.LongWaitThreshold;
            if (threshold != Timeout.InfiniteTimeSpan && waited >= threshold)
            {
                // Named as the timeout event is: a keyed lock's key, name[key].
                onLongWait(new LongWaitEvent(OrderNameOf(description), mode, waited, flow.OwnerId));
            }
        }
    }

    /// <summary>How one try or wait on the session ended.</summary>
    private enum Attempt
    {
        /// <summary>Taken at once.</summary>
        Free,

        /// <summary>Taken after waiting.</summary>
        Waited,

        /// <summary>Not taken within the timeout.</summary>
        TimedOut,

        /// <summary>Interrupted for a release of the flow: not taken, to be tried again.</summary>
        MadeWay,
    }

    private static string RequireName(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        return name;
    }
}
