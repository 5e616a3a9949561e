using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Threading;
using System.Threading.Tasks;
using Npgsql;

namespace Locksmith.Postgres;

/// <summary>
/// Takes several distributed locks for the current flow in the global order, all or nothing: two processes moving
/// money between the same two accounts in opposite directions take the two keys in the same order, so neither waits
/// for the other while holding what the other needs.
/// </summary>
/// <remarks>
/// <para>The order is the same in every process: by level (unordered locks last), then by advisory key (a keyed lock's
/// keys by class id, then key), whatever the server is called, then by <see cref="PostgresLockProvider.ServerIdentity"/>
/// (only one key on two databases; give those the same text in every process), exclusive before shared. Each lock is
/// then taken with the server's blocking acquire, one after the other, within the one timeout; if one cannot be had
/// (timeout, cancellation, error) the ones taken are released and nothing is held. Unlike the in-process <see cref="LockSet"/>, it waits while
/// holding the lower locks: that is deadlock-free because every set and every ordered lock goes up the same order, and
/// it keeps the wait on the server, where PostgreSQL's deadlock detector sees it when the set's locks share one
/// provider's session (locks of two providers are on two sessions, whose waits PostgreSQL cannot link: the in-process
/// detector follows those within this process).</para>
/// <para>The order check against the flow's held locks happens once, before anything is taken. A key listed twice is taken
/// once (a write wins over a read) when both providers are one server and database: by their text, by the identity the
/// server told both, or, when it has not told one of them, by asking the server before anything is taken.</para>
/// </remarks>
public static class PostgresLockSet
{
    /// <summary>Acquires two distributed locks together, waiting up to the default timeout.</summary>
    /// <param name="first">One lock.</param>
    /// <param name="second">The other; the same lock and key is taken once.</param>
    /// <param name="cancellationToken">Cancels the attempt; nothing is held afterwards.</param>
    /// <returns>A scope that releases both.</returns>
    /// <exception cref="LockTimeoutException">The timeout elapsed before all could be held; none is held.</exception>
    /// <exception cref="LockOrderViolationException">The set's lowest level is not above a lock the flow holds; nothing is taken (thrown at once).</exception>
    /// <exception cref="LockRecursionException">The flow already holds one of them; nothing is taken (thrown at once).</exception>
    /// <exception cref="InvalidOperationException">The flow's hold of one of them was lost with its session and its scope is not disposed yet; nothing is taken.</exception>
    /// <exception cref="PostgresConnectionBudgetException">The provider has not enough connections left for the set; nothing is taken (thrown at once).</exception>
    /// <exception cref="DeadlockException">PostgreSQL found a wait of the set in a cycle (only with locks taken out of order elsewhere); none is held.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled; none is held.</exception>
    /// <exception cref="Npgsql.NpgsqlException">A PostgreSQL session of the flow could not be opened (the server is down, unreachable or
    /// refused it, or did not answer in time), or one failed under a wait (its connection broke, or the server ended the wait with an error); none is held, and the message names the lock, the flow and the server.</exception>
    /// <exception cref="ObjectDisposedException">The provider was disposed before the attempt (thrown at once), or while it waited (the waits are ended); none is held.</exception>
    public static ValueTask<PostgresLockSetScope> AcquireAsync(PostgresLockRequest first, PostgresLockRequest second, CancellationToken cancellationToken = default) =>
        Enter([first, second], TimeoutMathDefaults.UseDefault, cancellationToken, throwOnTimeout: true);

    /// <summary>Acquires every distributed lock together, waiting up to the default timeout.</summary>
    /// <param name="requests">The locks, in any order; duplicates are taken once.</param>
    /// <param name="cancellationToken">Cancels the attempt; nothing is held afterwards.</param>
    /// <returns>A scope that releases every lock.</returns>
    /// <exception cref="ArgumentException">The set is empty or holds a default request.</exception>
    /// <inheritdoc cref="AcquireAsync(PostgresLockRequest, PostgresLockRequest, CancellationToken)"/>
    public static ValueTask<PostgresLockSetScope> AcquireAsync(IReadOnlyList<PostgresLockRequest> requests, CancellationToken cancellationToken = default) =>
        Enter(requests, TimeoutMathDefaults.UseDefault, cancellationToken, throwOnTimeout: true);

    /// <summary>Acquires every distributed lock together, waiting at most <paramref name="timeout"/> for all of them.</summary>
    /// <param name="timeout">How long to try; <see cref="Timeout.InfiniteTimeSpan"/> waits forever.</param>
    /// <param name="requests">The locks, in any order; duplicates are taken once.</param>
    /// <param name="cancellationToken">Cancels the attempt; nothing is held afterwards.</param>
    /// <exception cref="ArgumentOutOfRangeException">The timeout is negative (other than infinite).</exception>
    /// <inheritdoc cref="AcquireAsync(IReadOnlyList{PostgresLockRequest}, CancellationToken)"/>
    public static ValueTask<PostgresLockSetScope> AcquireAsync(TimeSpan timeout, IReadOnlyList<PostgresLockRequest> requests, CancellationToken cancellationToken = default) =>
        Enter(requests, TimeoutMath.ToMilliseconds(timeout), cancellationToken, throwOnTimeout: true);

    /// <summary>Tries to acquire every distributed lock within <paramref name="timeout"/>; all or nothing.</summary>
    /// <param name="timeout">How long to try; <see cref="TimeSpan.Zero"/> tries each once.</param>
    /// <param name="requests">The locks, in any order; duplicates are taken once.</param>
    /// <param name="cancellationToken">Cancels the attempt; nothing is held afterwards.</param>
    /// <returns>A scope holding every lock, or (when the timeout elapsed) one whose <see cref="PostgresLockSetScope.IsAcquired"/> is false.</returns>
    /// <exception cref="LockOrderViolationException">The set's lowest level is not above a lock the flow holds; nothing is taken (thrown at once).</exception>
    /// <exception cref="LockRecursionException">The flow already holds one of them; nothing is taken (thrown at once).</exception>
    /// <exception cref="InvalidOperationException">The flow's hold of one of them was lost with its session and its scope is not disposed yet; nothing is taken.</exception>
    /// <exception cref="PostgresConnectionBudgetException">The provider has not enough connections left for the set; nothing is taken (thrown at once).</exception>
    /// <exception cref="DeadlockException">PostgreSQL found a wait of the set in a cycle; none is held.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled; none is held.</exception>
    /// <exception cref="Npgsql.NpgsqlException">A PostgreSQL session of the flow could not be opened (the server is down, unreachable or
    /// refused it, or did not answer in time), or one failed under a wait (its connection broke, or the server ended the wait with an error); none is held, and the message names the lock, the flow and the server.</exception>
    /// <exception cref="ObjectDisposedException">The provider was disposed before the attempt (thrown at once), or while it waited (the waits are ended); none is held.</exception>
    /// <exception cref="ArgumentException">The set is empty or holds a default request.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The timeout is negative (other than infinite).</exception>
    public static ValueTask<PostgresLockSetScope> TryAcquireAsync(TimeSpan timeout, IReadOnlyList<PostgresLockRequest> requests, CancellationToken cancellationToken = default) =>
        Enter(requests, TimeoutMath.ToMilliseconds(timeout), cancellationToken, throwOnTimeout: false);

    /// <summary>The synchronous start, in the caller's frame: sort, check recursion, order and budget, then the waits.</summary>
    private static ValueTask<PostgresLockSetScope> Enter(IReadOnlyList<PostgresLockRequest> requests, int timeoutMs, CancellationToken cancellationToken, bool throwOnTimeout)
    {
        var ordered = SortDistinct(requests);
        if (cancellationToken.IsCancellationRequested)
        {
            // Like every lock's own acquisition, before recursion and order: a cancelled token takes nothing.
            return ThrowHelper.CanceledWith<PostgresLockSetScope>(PostgresErrors.SetCanceledBeforeAcquiring(ordered, ThrowHelper.CurrentFlow(), cancellationToken));
        }

        // The set's own hold keeps the flow's claim installed while it holds nothing between its members.
        var flow = FlowOwnership.Enter();
        var sessions = new PostgresSession[ordered.Length];
        int reserved = 0;
        bool handedOn = false;
        try
        {
            PostgresLockRequest? lowest = null;
            foreach (var request in ordered)
            {
                request.Lock!.CheckEnter(flow, request.Key, request.Description, request.IsShared, checkOrder: false);
                if (request.Lock.IsOrdered && (lowest is null || request.Lock.OrderLevel < lowest.Value.Lock!.OrderLevel))
                {
                    lowest = request;
                }
            }

            if (lowest is { Lock: { } lowestLock } first)
            {
                if (first.IsShared)
                {
                    FlowOrder.CheckRead(lowestLock, flow, lowestLock.OrderNameOf(first.Description));
                }
                else
                {
                    FlowOrder.Check(lowestLock, flow, lowestLock.OrderNameOf(first.Description));
                }

                foreach (var request in ordered)
                {
                    // A lock the flow holds already, or a sibling task of the flow is acquiring (another key of a keyed
                    // lock), is at or above the set's lowest level.
                    if (request.Lock!.IsOrdered && FlowOrder.Holds(flow, request.Lock) &&
                        LocksmithPolicy.OrderViolationAction != OrderViolationAction.Ignore)
                    {
                        OrderGuard.Report(flow, request.Lock, request.Lock, LocksmithPolicy.OrderViolationAction,
                            requestedName: request.Lock.OrderNameOf(request.Description), mode: request.Lock.ModeTagOf(request.IsShared));
                    }
                }
            }

            if (cancellationToken.IsCancellationRequested)
            {
                return ThrowHelper.CanceledWith<PostgresLockSetScope>(PostgresErrors.SetCanceledBeforeAcquiring(ordered, ThrowHelper.FlowOnThread(flow), cancellationToken));
            }

            // One use of the flow's session per member (the first may open it), so the budget is checked before any wait.
            for (; reserved < ordered.Length; reserved++)
            {
                sessions[reserved] = ordered[reserved].Lock!.Provider.RentSession(flow, ordered[reserved].Lock!, ordered[reserved].Description);
            }

            // Counted for the order from here, as a single lock's acquisition is (each hold keeps its entry).
            foreach (var request in ordered)
            {
                if (request.Lock!.IsOrdered)
                {
                    FlowOrder.Push(flow, request.Lock);
                }
            }

            timeoutMs = ordered[0].Lock!.ResolveTimeout(timeoutMs);
            handedOn = true;
            return AcquireAllAsync(ordered, sessions, flow, timeoutMs, cancellationToken, throwOnTimeout);
        }
        finally
        {
            if (!handedOn)
            {
                try
                {
                    for (int i = 0; i < reserved; i++)
                    {
                        ordered[i].Lock!.Provider.ReturnSession(sessions[i]);
                    }
                }
                finally
                {
                    // On every path: a return that threw must not leave the flow reading as a holder.
                    FlowOwnership.Released(flow);
                }
            }
        }
    }

    private static async ValueTask<PostgresLockSetScope> AcquireAllAsync(
        PostgresLockRequest[] ordered, PostgresSession[] sessions, LockOwner flow, int timeoutMs, CancellationToken cancellationToken, bool throwOnTimeout)
    {
        long start = Stopwatch.GetTimestamp();
        long deadline = TimeoutMath.DeadlineFrom(timeoutMs);
        var holds = Array.Empty<PostgresHold>();
        int taken = 0;
        bool settled = false;
        bool twoNames = false;
        PostgresLockSetScope scope = default;
        var errors = default(ReleaseErrors);
        Exception? failure = null;
        try
        {
            if (HasKeyUnderTwoUnmatchedNames(ordered))
            {
                twoNames = true;

                // Rare (one key listed through two names of what may be one server): settled before anything is taken.
                if (await FindNamesOfOneServerAsync(ordered, sessions, flow, deadline, cancellationToken).ConfigureAwait(false) is { } drop)
                {
                    var (all, allSessions) = (ordered, sessions);
                    (ordered, sessions) = Keep(all, allSessions, drop);
                    await GiveBackAsync(all, allSessions, drop, flow).ConfigureAwait(false);
                }
            }

            holds = new PostgresHold[ordered.Length];
            var set = new SetWait(ordered, timeoutMs, start);
            settled = true;
            for (; taken < ordered.Length; taken++)
            {
                var request = ordered[taken];
                if (twoNames && HeldByEarlierMember(holds, taken, request))
                {
                    // A provider of the pair learned its server only after the set settled the names (a task of the flow
                    // connected it meanwhile): a duplicate after all. It gives back what it reserved and takes nothing; asked
                    // for, its session would refuse it as held through the other provider.
                    if (request.Lock!.IsOrdered)
                    {
                        FlowOrder.RemoveOneOf(flow, request.Lock);
                    }

                    await request.Lock.Provider.ReturnSessionAsync(sessions[taken]).ConfigureAwait(false);
                    continue;
                }

                int remaining = TimeoutMath.Remaining(deadline);

                // The member's own hold on the flow; the member gives it back if it takes nothing.
                FlowOwnership.Held(flow);

                // An order violation of a sibling task meanwhile names the key taken here, as for a keyed lock's own acquisition.
                object? keyWait = remaining != 0 ? request.Lock!.BeginKeyWait(flow, request.Key, request.Description) : null;
                PostgresHold? hold;
                try
                {
                    hold = await request.Lock!.AcquireReservedAsync(
                        sessions[taken], request.Key, request.Description, request.IsShared, remaining, cancellationToken, throwOnTimeout, set).ConfigureAwait(false);
                }
                finally
                {
                    request.Lock!.EndKeyWait(flow, keyWait);
                }

                if (hold is null)
                {
                    // That member gave its use of the session (and its order entry) back; the ones not tried yet give theirs below.
                    break;
                }

                holds[taken] = hold;
            }

            if (taken == ordered.Length)
            {
                scope = new PostgresLockSetScope(Array.FindAll(holds, static hold => hold is not null));
            }
        }
        catch (Exception e)
        {
            // The acquisition's error is thrown; a clean-up step that fails below goes inside it, not in its place.
            failure = e;
        }

        if (!scope.IsAcquired)
        {
            // Once settled, the member that failed (or timed out) gave its use of the session (and its order entry) back
            // already. Every step below runs whatever an earlier one threw: none may keep a session out of the budget, or a
            // lock on the server.
            for (int i = settled ? taken + 1 : 0; i < ordered.Length; i++)
            {
                try
                {
                    await GiveBackOneAsync(ordered[i], sessions[i], flow).ConfigureAwait(false);
                }
                catch (Exception e)
                {
                    errors.Add(e);
                }
            }

            for (int i = holds.Length - 1; i >= 0; i--)
            {
                if (holds[i] is { } held)
                {
                    try
                    {
                        await held.ReleaseAsync().ConfigureAwait(false);
                    }
                    catch (Exception e)
                    {
                        errors.Add(e);
                    }
                }
            }
        }

        // The set's own hold ends (see LockSet.Async).
        FlowOwnership.ReleasedInCallee(flow);
        if (failure is not null)
        {
            errors.ThrowAfter(failure);
        }

        errors.ThrowIfAny();
        return scope;
    }

    /// <summary>
    /// Whether two members ask for one key through providers that name their servers by two texts and that are not known to
    /// be two servers (one of them has not learned its server's identity yet, or the server refused to tell): they may be
    /// one advisory lock, which the flow would take through one session and then wait for through the other, for itself.
    /// No allocation; a key's members at one level are side by side in the order, so only those are paired.
    /// </summary>
    private static bool HasKeyUnderTwoUnmatchedNames(PostgresLockRequest[] ordered)
    {
        for (int i = 0; i < ordered.Length; i++)
        {
            for (int j = i + 1; j < ordered.Length && ordered[j].Key == ordered[i].Key; j++)
            {
                if (MayBeOneServer(ordered[i], ordered[j]))
                {
                    return true;
                }
            }
        }

        return false;
    }

    private static bool MayBeOneServer(PostgresLockRequest x, PostgresLockRequest y) =>
        x.Key == y.Key && !x.Lock!.Provider.IsSameServerAs(y.Lock!.Provider) &&
        (x.Lock.Provider.ServerInstance is null || y.Lock.Provider.ServerInstance is null);

    /// <summary>
    /// Settles, before anything is taken, whether each pair of <see cref="MayBeOneServer"/> members is one advisory lock, and
    /// returns which members to drop (the read of a read and a write, else the later), or null when none. First each such
    /// member's session connects (its use of the budget is reserved already): a provider learns its server's identity with its
    /// first connection. A pair still unmatched (the server refused its identity) is asked: one session takes a random key
    /// with a try, and the other tries it too; refused there, the two sessions are on one server and database. The key is
    /// then given back. A session a task of the flow keeps busy past the timeout leaves its pair as it was.
    /// </summary>
    private static async ValueTask<bool[]?> FindNamesOfOneServerAsync(
        PostgresLockRequest[] ordered, PostgresSession[] sessions, LockOwner flow, long deadline, CancellationToken cancellationToken)
    {
        var connect = new bool[ordered.Length];
        for (int i = 0; i < ordered.Length; i++)
        {
            for (int j = i + 1; j < ordered.Length && ordered[j].Key == ordered[i].Key; j++)
            {
                if (MayBeOneServer(ordered[i], ordered[j]))
                {
                    connect[i] = connect[j] = true;
                }
            }
        }

        for (int i = 0; i < ordered.Length; i++)
        {
            if (connect[i])
            {
                await ProbeAsync(sessions[i], ordered[i], flow, probeKey: null, deadline, cancellationToken).ConfigureAwait(false);
            }
        }

        bool[]? drop = null;
        for (int i = 0; i < ordered.Length; i++)
        {
            for (int j = i + 1; j < ordered.Length && ordered[j].Key == ordered[i].Key; j++)
            {
                var (x, y) = (ordered[i], ordered[j]);
                if (drop is not null && (drop[i] || drop[j]))
                {
                    continue;
                }

                bool oneServer = x.Lock!.Provider.IsSameServerAs(y.Lock!.Provider) ||
                    (MayBeOneServer(x, y) && await AreOneServerAsync(sessions[i], x, sessions[j], y, flow, deadline, cancellationToken).ConfigureAwait(false));
                if (oneServer)
                {
                    drop ??= new bool[ordered.Length];
                    drop[x.IsShared && !y.IsShared ? i : j] = true;
                }
            }
        }

        return drop;
    }

    /// <summary>
    /// Whether the sessions of <paramref name="x"/> and <paramref name="y"/> are on one server and database, as the server
    /// shows it: a random key <paramref name="y"/>'s session took with a try is refused to <paramref name="x"/>'s session.
    /// The key is given back on every path (or, where that fails, the session that may hold it counts as lost, so its
    /// connection is discarded rather than pooled with the key on it).
    /// </summary>
    internal static async ValueTask<bool> AreOneServerAsync(
        PostgresSession xSession, PostgresLockRequest x, PostgresSession ySession, PostgresLockRequest y, LockOwner flow, long deadline, CancellationToken cancellationToken)
    {
        long random = Random.Shared.NextInt64(long.MinValue, long.MaxValue);
        var probeKey = new AdvisoryKey((int)(random >> 32), (int)random, AdvisoryKey.BigintForm);
        if (await ProbeAsync(ySession, y, flow, probeKey, deadline, cancellationToken).ConfigureAwait(false) != true)
        {
            // Busy, or the random key is someone's: nothing is known.
            return false;
        }

        bool? there = null;
        try
        {
            there = await ProbeAsync(xSession, x, flow, probeKey, deadline, cancellationToken).ConfigureAwait(false);
            return there == false;
        }
        finally
        {
            await ReleaseProbeAsync(ySession, probeKey, y, onlyIfHeld: false).ConfigureAwait(false);
            if (there == true)
            {
                await ReleaseProbeAsync(xSession, probeKey, x, onlyIfHeld: false).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// For tests: called when a probe's try of its random key was granted, before the probe returns; it may cancel the
    /// caller's token and throw as Npgsql does when a cancellation lands after the server granted the key (the statement
    /// ran, its answer was lost), which no timing makes happen reliably.
    /// </summary>
    internal static Func<PostgresLockRequest, CancellationToken, ValueTask>? ProbeGrantedForTest;

    /// <summary>
    /// On <paramref name="request"/>'s session (connected first if it is not): tries <paramref name="probeKey"/> once, or, when
    /// null, only connects. True when taken (or connected), false when the key is taken, null when a task of the flow kept the
    /// session busy until the deadline. Errors name the member's lock and the flow, as its own acquisition's would; on every
    /// path but a true answer, a key the try may have taken (the grant can race a cancellation or a failure) is given back.
    /// </summary>
    private static async ValueTask<bool?> ProbeAsync(
        PostgresSession session, PostgresLockRequest request, LockOwner flow, AdvisoryKey? probeKey, long deadline, CancellationToken cancellationToken)
    {
        var provider = request.Lock!.Provider;
        using var stopping = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, provider.DisposedToken);
        bool entered = false;

        // The try was sent and its answer not handed to the caller: the session may hold the key.
        bool mayHold = false;
        try
        {
            // Opening the session names the lock and the flow in its own errors (PostgresErrors.CannotConnect).
            if (await session.EnterAsync(request.Description, TimeoutMath.Remaining(deadline), urgent: false, stopping.Token).ConfigureAwait(false) is not { } connection)
            {
                return null;
            }

            entered = true;
            for (int replaced = 0; probeKey is { } key; replaced++)
            {
                try
                {
                    mayHold = true;
                    bool? taken = await AdvisoryCommands.AcquireAsync(
                        connection, key, shared: false, timeoutMs: 0, provider.AnswerTimeoutSeconds, session.IsUnproven, stopping.Token).ConfigureAwait(false);
                    session.Proven();
                    if (taken is not null && ProbeGrantedForTest is { } granted)
                    {
                        await granted(request, stopping.Token).ConfigureAwait(false);
                    }

                    mayHold = false;
                    return taken is not null;
                }
                catch (StaleConnectionException)
                {
                    // Ended while idle in the pool, before this statement: nothing was taken.
                    mayHold = false;
                    if (replaced > provider.ConnectionBudget + 2)
                    {
                        throw;
                    }

                    // Replaced, as a member's own acquisition does.
                    connection = await session.ReconnectAsync(stopping.Token).ConfigureAwait(false);
                }
            }

            return true;
        }
        catch (StaleConnectionException e)
        {
            throw PostgresErrors.CannotConnect(provider, flow, request.Description, e.Error);
        }
        catch (ReconnectFailedException e)
        {
            throw PostgresErrors.CannotConnect(provider, flow, request.Description, e.Error);
        }
        catch (NpgsqlException e) when (entered)
        {
            throw PostgresErrors.SessionFailed(provider, flow, request.Description, e);
        }
        catch (OperationCanceledException e) when (cancellationToken.IsCancellationRequested)
        {
            throw PostgresErrors.Canceled(request.Description, flow, request.IsShared, request.Lock, e, cancellationToken);
        }
        catch (OperationCanceledException e) when (provider.IsDisposed)
        {
            PostgresErrors.ThrowDisposedWhileAcquiring(provider, flow, request.Description, e);
            throw;
        }
        finally
        {
            if (entered)
            {
                session.Exit();
            }

            if (mayHold)
            {
                // Out of the gate, which the release takes again: it never waits behind the caller's cancelled token.
                await ReleaseProbeAsync(session, probeKey!.Value, request, onlyIfHeld: true).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// Gives back a key <see cref="ProbeAsync"/> took (or, <paramref name="onlyIfHeld"/>, may have taken), as a lock gives back
    /// a grant that raced its wait's end: an unlock the server refuses on a live session is sent once more. Where that fails
    /// (refused twice, the session broke, or gave no answer within LostLockCheckTimeout) the session counts as lost: a broken
    /// one held nothing any more, and the others' connection is discarded when its last use ends, never pooled with the key on it.
    /// </summary>
    private static async ValueTask ReleaseProbeAsync(PostgresSession session, AdvisoryKey probeKey, PostgresLockRequest request, bool onlyIfHeld)
    {
        bool failed = false;
        var connection = await session.EnterForReleaseAsync().ConfigureAwait(false);
        try
        {
            failed = connection is not null && !session.IsBroken &&
                !await PostgresLock.GiveBackAsync(connection, probeKey, shared: false, onlyIfHeld, request.Description, request.Lock!.Provider.AnswerTimeoutSeconds).ConfigureAwait(false);
        }
        finally
        {
            session.Exit();
        }

        if (failed)
        {
            // Outside the gate: a LostToken callback may dispose a scope of the flow synchronously, which takes it.
            session.MarkLost(LossCauses.ProbeGiveBackFailed);
        }
    }

    /// <summary>The members not in <paramref name="drop"/>, with their sessions, in the global order again (a write kept in a read's place may sort elsewhere).</summary>
    private static (PostgresLockRequest[] Ordered, PostgresSession[] Sessions) Keep(PostgresLockRequest[] ordered, PostgresSession[] sessions, bool[] drop)
    {
        var kept = new List<(PostgresLockRequest Request, PostgresSession Session)>(ordered.Length);
        for (int i = 0; i < ordered.Length; i++)
        {
            if (!drop[i])
            {
                kept.Add((ordered[i], sessions[i]));
            }
        }

        kept.Sort(static (a, b) => Compare(a.Request, b.Request));
        return (kept.ConvertAll(static k => k.Request).ToArray(), kept.ConvertAll(static k => k.Session).ToArray());
    }

    /// <summary>One member's give-back: its order entry, then its use of the session.</summary>
    private static async ValueTask GiveBackOneAsync(PostgresLockRequest request, PostgresSession session, LockOwner flow)
    {
        if (request.Lock!.IsOrdered)
        {
            FlowOrder.RemoveOneOf(flow, request.Lock!);
        }

        await request.Lock!.Provider.ReturnSessionAsync(session).ConfigureAwait(false);
    }

    /// <summary>
    /// Each member in <paramref name="drop"/> gives back its use of its session and its order entry, as a member that takes
    /// nothing does; each whatever an earlier one threw, which is thrown once all gave theirs back.
    /// </summary>
    private static async ValueTask GiveBackAsync(PostgresLockRequest[] ordered, PostgresSession[] sessions, bool[] drop, LockOwner flow)
    {
        var errors = default(ReleaseErrors);
        for (int i = 0; i < ordered.Length; i++)
        {
            if (drop[i])
            {
                try
                {
                    await GiveBackOneAsync(ordered[i], sessions[i], flow).ConfigureAwait(false);
                }
                catch (Exception e)
                {
                    errors.Add(e);
                }
            }
        }

        errors.ThrowIfAny();
    }

    /// <summary>What a member's timeout says of its set: the members, the timeout they share, and when the set began.</summary>
    internal sealed record SetWait(PostgresLockRequest[] Members, int TimeoutMs, long Start);

    /// <summary>The requests in the global order (the same in every process), duplicates merged (exclusive wins).</summary>
    private static PostgresLockRequest[] SortDistinct(IReadOnlyList<PostgresLockRequest> requests)
    {
        ArgumentNullException.ThrowIfNull(requests);
        if (requests.Count == 0)
        {
            throw new ArgumentException("A lock set needs at least one lock.", nameof(requests));
        }

        var sorted = new List<PostgresLockRequest>(requests.Count);
        foreach (var request in requests)
        {
            request.RequireLock(nameof(requests));
            sorted.Add(request);
        }

        sorted.Sort(Compare);
        var distinct = new List<PostgresLockRequest>(sorted.Count);
        bool replaced = false;
        foreach (var request in sorted)
        {
            int same = IndexOfDuplicate(distinct, request);
            if (same < 0)
            {
                distinct.Add(request);
            }
            else if (distinct[same].IsShared && !request.IsShared)
            {
                // One text sorts exclusive first; under two names of one server the read may come first: the write wins.
                distinct[same] = request;
                replaced = true;
            }
        }

        if (replaced)
        {
            // The write's server text may order it elsewhere among the key's other databases.
            distinct.Sort(Compare);
        }

        return distinct.ToArray();
    }

    /// <summary>
    /// The index in <paramref name="distinct"/> of the request for <paramref name="request"/>'s key on the same server (the same
    /// text, or another name the server gave both providers the same identity under), or -1. The key's requests are last in
    /// the list, but another database's text may sort between two names of one server.
    /// </summary>
    private static int IndexOfDuplicate(List<PostgresLockRequest> distinct, PostgresLockRequest request)
    {
        for (int i = distinct.Count - 1; i >= 0 && distinct[i].Key == request.Key; i--)
        {
            if (distinct[i].Lock!.Provider.IsSameServerAs(request.Lock!.Provider))
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>
    /// Whether a member taken before <paramref name="taken"/> holds <paramref name="request"/>'s key on its server, in a mode
    /// that covers it (a write covers a read; a read does not become a write).
    /// </summary>
    private static bool HeldByEarlierMember(PostgresHold?[] holds, int taken, PostgresLockRequest request)
    {
        for (int i = 0; i < taken; i++)
        {
            if (holds[i] is { } held && held.Key == request.Key && (!held.Shared || request.IsShared) &&
                held.Lock.Provider.IsSameServerAs(request.Lock!.Provider))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Level, then advisory key, then the server's text, then exclusive first. The key comes before the server because it
    /// is the same in every process whatever the server is called there, while the connection string's text is not
    /// (127.0.0.1 in one process, localhost in another): ordered by text first, two processes took the same two locks in
    /// opposite orders. The text only orders one key on two databases, and keeps one text's duplicates side by side (two
    /// names of one server are merged too, see <see cref="IndexOfDuplicate"/>).
    /// </summary>
    private static int Compare(PostgresLockRequest x, PostgresLockRequest y)
    {
        int c = LevelOf(x).CompareTo(LevelOf(y));
        if (c == 0)
        {
            c = x.Key.CompareTo(y.Key);
        }

        if (c == 0)
        {
            c = string.CompareOrdinal(x.Lock!.Provider.ServerIdentity, y.Lock!.Provider.ServerIdentity);
        }

        return c != 0 ? c : x.IsShared.CompareTo(y.IsShared);
    }

    private static long LevelOf(PostgresLockRequest request) => request.Lock!.IsOrdered ? request.Lock.OrderLevel : long.MaxValue;
}
