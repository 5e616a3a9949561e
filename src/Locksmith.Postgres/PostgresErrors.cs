using System;
using System.Collections.Generic;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;
using System.Threading;
using Npgsql;

namespace Locksmith.Postgres;

/// <summary>Every throw of the distributed locks; each message names the lock (and key) and the flow.</summary>
internal static partial class PostgresErrors
{
    [DoesNotReturn]
    public static void ThrowRecursion(LockOwner flow, string description) =>
        throw new LockRecursionException(
            $"{ThrowHelper.FlowStartingASentence(flow)} tried to acquire {description}, which it already holds (a flow shares its holds with everything " +
            "it awaits, calls or starts). Distributed locks are not reentrant: a second session would wait for the first forever. " +
            "Release it before acquiring it again, or pass the work that needs it to the code that holds it.");

    /// <summary>
    /// Two keys of a keyed lock map to one advisory lock (folded or hashed keys), and the flow holds it under the other
    /// key: not a recursion on this key, but the server would take the one advisory lock twice.
    /// </summary>
    [DoesNotReturn]
    public static void ThrowSharedAdvisoryLock(LockOwner flow, string description, string heldDescription, AdvisoryKey key) =>
        throw new LockRecursionException(
            $"{ThrowHelper.FlowStartingASentence(flow)} tried to acquire {description} while it holds {heldDescription}: the two keys map to the same " +
            $"advisory lock {key} (a keyed lock folds integer keys wider than int and hashes other keys, so two keys may share " +
            "one), which the flow holds already. Take both keys together (AcquireManyAsync or PostgresLockSet take a shared " +
            "advisory lock once), or give the keyed lock a keyMap that keeps them apart.");

    /// <summary>
    /// The flow holds the advisory lock through another lock object created with the same name on this provider: not a
    /// folded key, but the same lock made twice.
    /// </summary>
    [DoesNotReturn]
    public static void ThrowSameNameTwice(LockOwner flow, string description, string heldDescription, AdvisoryKey key) =>
        throw new LockRecursionException(
            $"{ThrowHelper.FlowStartingASentence(flow)} tried to acquire {description} while it holds {heldDescription}: two lock objects created with " +
            $"that name on this provider are one advisory lock {key}, which the flow holds already (distributed locks are not " +
            "reentrant). Create each named lock once per provider and give it one level (keep it in a field, or register it " +
            "with AddPostgresExclusiveLock / AddPostgresReadWriteLock and take it from the container).");

    /// <summary>
    /// The flow holds the advisory lock through another provider of this process (two providers standing in for two
    /// instances): its session there holds it, and its session here would wait for that one, the flow for itself.
    /// </summary>
    [DoesNotReturn]
    public static void ThrowHeldThroughAnotherProvider(LockOwner flow, string description, string asked, bool shared, PostgresHold held)
    {
        string where = $"through another PostgresLockProvider of this process (its session there, backend pid {held.ProcessId})";
        string holds = !string.Equals(held.Description, description, StringComparison.Ordinal)
            ? $"while it holds {held.Description} ({held.ModeTag} access) {where}: on {held.Lock.Provider.ServerIdentity} both are advisory lock {held.Key}"
            : held.Shared == shared
                ? $"which it already holds {where}"
                : $"which it holds ({held.ModeTag} access) {where}";
        throw new LockRecursionException(
            $"{ThrowHelper.FlowStartingASentence(flow)} tried to acquire {asked} access to {description}, {holds}. A provider's sessions are its own, so the " +
            "flow's session here would wait for its session there, the flow for itself, forever or until its timeout" +
            (shared && held.Shared ? " (a second read lock waits behind any writer queued for the first)" : string.Empty) +
            ", and distributed locks are not reentrant. Use one provider per server; to stand in for a second process (in a test), " +
            "acquire from a flow of its own, started under ExecutionContext.SuppressFlow().");
    }

    /// <summary>A read-write lock asked for in one mode by a flow that holds it in the other: an upgrade, or a read under a write.</summary>
    [DoesNotReturn]
    public static void ThrowOtherMode(LockOwner flow, string description, string asked, string held, bool upgrade) =>
        throw new LockRecursionException(
            $"{ThrowHelper.FlowStartingASentence(flow)} tried to acquire {asked} access to {description} while it holds {held} access (a flow shares its " +
            "holds with everything it awaits, calls or starts). " +
            (upgrade
                ? "A distributed read lock does not upgrade: the write would wait for every reader to leave, this flow included. " +
                  "Release the read lock, acquire the write lock, then re-check what you read."
                : "The write access covers reading, and distributed locks are not reentrant: read under the write lock you hold."));

    [DoesNotReturn]
    public static void ThrowBudget(PostgresLock requester, LockOwner flow, string description, int budget, int lost) =>
        throw new PostgresConnectionBudgetException(requester.Name, budget,
            $"{ThrowHelper.FlowStartingASentence(flow)} tried to acquire {description}, but the {budget} connection(s) of the lock " +
            $"provider for {requester.Provider.ServerIdentity} are all held by flows that hold or wait for distributed locks. Each such " +
            "flow holds a connection (its session); waiting for the pool could wait for a lock this process releases only later. " +
            (lost == 0
                ? "Raise ConnectionBudget, or let fewer flows hold distributed locks at once."
                : $"{lost} of them {(lost == 1 ? "is a session lost with the server whose flow has not disposed its lost scope" : "are sessions lost with the server whose flows have not disposed their lost scopes")} " +
                  "yet: a lost hold counts until its scope is disposed, so dispose a scope once its LostToken fires (or raise " +
                  "ConnectionBudget, or let fewer flows hold distributed locks at once)."));

    /// <summary>
    /// The session's connection could not be opened (unreachable server, refused credentials, missing database, no slot
    /// left): still an <see cref="NpgsqlException"/> (retry policies keep working), now naming the lock, the flow and the
    /// server; a 53300 (too_many_connections) names its SQLSTATE and says what to do, as the server is up, and a standby's
    /// refusal (<see cref="PrimaryServer.StandbyRefused"/>) keeps its own advice.
    /// </summary>
    public static NpgsqlException CannotConnect(PostgresLockProvider provider, LockOwner flow, string description, NpgsqlException inner) =>
        s_openingErrors.TryGetValue(inner, out _) ? inner
        : Opening(inner is PostgresException { SqlState: PostgresErrorCodes.TooManyConnections } refused
            ? new($"{ThrowHelper.FlowStartingASentence(flow)} could not open a PostgreSQL session to acquire {description} on {provider.ServerIdentity}: the server " +
                  $"refused the connection with SQLSTATE {refused.SqlState}{ConditionOf(refused.SqlState)}: {refused.MessageText.TrimEnd('.')}. " +
                  "The server is up, but has no connection slot left for this database or role (its CONNECTION LIMIT, or " +
                  "max_connections less the reserved slots). Nothing is held and no connection is kept; acquire again later. " +
                  "If it persists, free slots (fewer connections from this and other clients: ConnectionBudget, Max Pool Size) or raise " +
                  "the limit (ALTER DATABASE or ALTER ROLE … CONNECTION LIMIT, max_connections).", inner)
            : PrimaryServer.IsStandbyRefusal(inner)
            // Says what to change already; the server answered, so no advice about reaching it.
            ? new($"{ThrowHelper.FlowStartingASentence(flow)} could not open a PostgreSQL session to acquire {description} on {provider.ServerIdentity}: " +
                  inner.Message, inner)
            : new($"{ThrowHelper.FlowStartingASentence(flow)} could not open a PostgreSQL session to acquire {description} on {provider.ServerIdentity}: " +
                  $"{inner.Message.TrimEnd('.')}. Nothing is held; check that the server is up and reachable, and the provider's " +
                  "connection string (host, port, database, credentials).", inner));

    // The opening's errors made here, already naming the flow, the lock and the server: a reconnect's (PostgresSession.ReconnectAsync)
    // reaches its caller's CannotConnect made already, and is thrown as it is rather than named twice.
    private static readonly ConditionalWeakTable<NpgsqlException, object?> s_openingErrors = [];

    private static NpgsqlException Opening(NpgsqlException error)
    {
        s_openingErrors.AddOrUpdate(error, null);
        return error;
    }

    /// <summary>
    /// The flow's session did not open within what was left of the acquisition's timeout (<paramref name="timeoutMs"/>, at least
    /// <see cref="PostgresSession.MinimumOpeningMilliseconds"/>): an
    /// <see cref="NpgsqlException"/> as for any opening that fails (transient: a <see cref="TimeoutException"/> inside), not a
    /// <see cref="LockTimeoutException"/>, since the lock was never asked for and no holder refused it.
    /// </summary>
    public static NpgsqlException CannotOpenWithinTimeout(PostgresLockProvider provider, LockOwner flow, string description, int timeoutMs, OperationCanceledException stopped) =>
        Opening(new($"{ThrowHelper.FlowStartingASentence(flow)} could not open a PostgreSQL session to acquire {description} on {provider.ServerIdentity} within the " +
            $"acquisition's timeout: the opening had not finished after {timeoutMs} ms (what was left of that timeout, or at least " +
            $"{PostgresSession.MinimumOpeningMilliseconds} ms, which a shorter one gives an opening). The lock was never asked for: nothing is held, " +
            "and no holder refused it. The opening goes on alone, and its connection, if it comes, goes back to the pool. Check that the server (or a proxy " +
            "or load balancer in front of it) is up and answering, or give the acquisition a longer timeout.",
            new TimeoutException($"The PostgreSQL session did not open within {timeoutMs} ms.", stopped)));

    /// <summary>
    /// The session failed under an acquisition (the connection broke, or the server ended the session): still an
    /// <see cref="NpgsqlException"/>, so retry policies see it, but naming the lock, the flow and the server.
    /// </summary>
    public static NpgsqlException SessionFailed(PostgresLockProvider provider, LockOwner flow, string description, NpgsqlException inner) =>
        new($"{ThrowHelper.FlowStartingASentence(flow)} was acquiring {description} on {provider.ServerIdentity} when its PostgreSQL session failed: " +
            $"{inner.Message.TrimEnd('.')}. It does not hold {description}; if the session broke, the flow's other locks on " +
            "it went with it (their LostToken is cancelled).", inner);

    /// <summary>
    /// The server ended the wait with an error other than a deadlock or a lock timeout (53200 out of memory, 53300 too many
    /// connections, 57014 a cancel the session did not send, 57P01 an administrator's shutdown, …): still an
    /// <see cref="NpgsqlException"/>, naming the lock (and key), the flow, the SQLSTATE and the server's words, with the
    /// server's <see cref="PostgresException"/> inside.
    /// </summary>
    public static NpgsqlException ServerEndedWait(PostgresLockProvider provider, LockOwner flow, string description, PostgresException inner, bool sessionEnded) =>
        new($"{ThrowHelper.FlowStartingASentence(flow)} was acquiring {description} on {provider.ServerIdentity} when the server ended its wait with " +
            $"SQLSTATE {inner.SqlState}{ConditionOf(inner.SqlState)}: {inner.MessageText.TrimEnd('.')}. It does not hold {description}; " +
            (sessionEnded
                ? "the server ended the session, and the flow's other locks on it went with it (their LostToken is cancelled)."
                : inner.SqlState == PostgresErrorCodes.QueryCanceled
                    ? "someone cancelled the statement on the server (pg_cancel_backend, or a statement_timeout shorter than the wait); " +
                      "the session and the flow's other locks are kept."
                    : "the session and the flow's other locks are kept."),
            inner);

    // The condition names of the errors a wait may meet, as PostgreSQL's errcodes table spells them.
    private static string ConditionOf(string sqlState) => sqlState switch
    {
        PostgresErrorCodes.OutOfMemory => " (out_of_memory)",
        PostgresErrorCodes.TooManyConnections => " (too_many_connections)",
        PostgresErrorCodes.InsufficientResources => " (insufficient_resources)",
        PostgresErrorCodes.DiskFull => " (disk_full)",
        PostgresErrorCodes.ConfigurationLimitExceeded => " (configuration_limit_exceeded)",
        PostgresErrorCodes.QueryCanceled => " (query_canceled)",
        PostgresErrorCodes.AdminShutdown => " (admin_shutdown)",
        PostgresErrorCodes.CrashShutdown => " (crash_shutdown)",
        PostgresErrorCodes.CannotConnectNow => " (cannot_connect_now)",
        "57P05" => " (idle_session_timeout)",
        _ => string.Empty,
    };

    /// <summary>An acquisition through a provider that was disposed, naming the flow whose record the acquisition entered.</summary>
    [DoesNotReturn]
    public static void ThrowProviderDisposed(PostgresLockProvider provider, LockOwner flow, string description) =>
        throw new ObjectDisposedException(nameof(PostgresLockProvider),
            $"{ThrowHelper.FlowStartingASentence(flow)} tried to acquire {description}, but its PostgresLockProvider for " +
            $"{provider.ServerIdentity} was disposed (with the host that owned it, or by its creator); nothing is held.");

    /// <summary>The provider was disposed while the flow waited for the lock (or its turn on the session); nothing is held.</summary>
    [DoesNotReturn]
    public static void ThrowDisposedWhileAcquiring(PostgresLockProvider provider, LockOwner flow, string description, Exception? inner) =>
        throw new ObjectDisposedException(
            $"{ThrowHelper.FlowStartingASentence(flow)} was acquiring {description} when its PostgresLockProvider for {provider.ServerIdentity} was disposed " +
            "(with the host that owned it, or by its creator): the wait was ended and nothing is held. Its sessions are closed, so " +
            "locks the flow held through it are released by the server and their LostToken is cancelled.",
            inner);

    /// <summary>
    /// The flow asks again for a lock whose hold it lost with its session and has not released: not a recursion to undo
    /// in the code, but a lost scope to dispose first.
    /// </summary>
    [DoesNotReturn]
    public static void ThrowHeldButLost(LockOwner flow, string description) =>
        throw new InvalidOperationException(
            $"{ThrowHelper.FlowStartingASentence(flow)} tried to acquire {description}, whose hold it lost with its PostgreSQL session " +
            "(the scope's LostToken is cancelled) and has not released yet: until that scope is disposed the flow counts as holding " +
            "it. Dispose the lost scope (its release discards the dead session), then acquire again.");

    [DoesNotReturn]
    public static void ThrowSessionLost(LockOwner flow, string description) =>
        throw new InvalidOperationException(
            $"{ThrowHelper.FlowStartingASentence(flow)} tried to acquire {description}, but the PostgreSQL session that holds its other distributed locks " +
            "was lost (their LostToken is cancelled), and those locks with it. Release them, then acquire again.");

    [DoesNotReturn]
    public static void ThrowReleasedTwice(PostgresHold hold) =>
        throw new SynchronizationLockException(
            $"{ThrowHelper.CurrentFlowStartingASentence()} tried to release {hold.Description} through a scope of {hold.Owner.Describe()} " +
            "that was already released. Each scope releases once: dispose it once, in the flow that acquired it.");

    /// <summary>A set scope disposed a second time: names every lock of the set, so the message says which scope it was.</summary>
    [DoesNotReturn]
    public static void ThrowSetReleasedTwice(PostgresHold[] holds) =>
        throw new SynchronizationLockException(
            $"{ThrowHelper.CurrentFlowStartingASentence()} tried to release a set of {holds.Length} lock(s) " +
            $"({string.Join(", ", Array.ConvertAll(holds, h => h.Description))}) through a set scope of {holds[0].Owner.Describe()} " +
            "that was already released. Each scope releases once: dispose it once, in the flow that acquired it.");

    /// <summary>
    /// The timeout elapsed: the lock was held by another session (<paramref name="holder"/> names it when known), or
    /// (<paramref name="busyWith"/>) the flow's own session was waiting the whole time for another lock, for another task of the flow.
    /// </summary>
    [DoesNotReturn]
    public static void ThrowTimeout(PostgresLock lockPrimitive, string description, LockOwner flow, bool shared, TimeSpan waited, string? busyWith, string? holder) =>
        throw new LockTimeoutException(lockPrimitive.Name, 0, null, waited, TimeoutMessage(lockPrimitive, description, flow, shared, waited, busyWith, holder));

    /// <summary>
    /// A set's member timed out: the set's own wait (<paramref name="waited"/>, since the set began, which its timeout
    /// covers), the member it was waiting for and who holds that, as <see cref="ThrowTimeout"/> says it, then the set.
    /// </summary>
    [DoesNotReturn]
    public static void ThrowSetTimeout(
        PostgresLock lockPrimitive, string description, LockOwner flow, bool shared, TimeSpan waited, string? busyWith, string? holder, PostgresLockSet.SetWait set) =>
        throw new LockTimeoutException(lockPrimitive.Name, 0, null, waited,
            $"{TimeoutMessage(lockPrimitive, description, flow, shared, waited, busyWith, holder)} {description} was a member of PostgresLockSet for " +
            $"{DescribeMembers(set.Members)}, given {set.TimeoutMs} ms for all of them; the set holds none of them.");

    private static string TimeoutMessage(PostgresLock lockPrimitive, string description, LockOwner flow, bool shared, TimeSpan waited, string? busyWith, string? holder) =>
        busyWith is null
            ? $"{ThrowHelper.FlowStartingASentence(flow)} timed out after {waited.TotalMilliseconds:0.#} ms waiting for {lockPrimitive.ModeTagOf(shared)} access to " +
              $"{description}, {holder ?? "held by another PostgreSQL session"} (in {lockPrimitive.Provider.ServerIdentity})."
            : $"{ThrowHelper.FlowStartingASentence(flow)} timed out after {waited.TotalMilliseconds:0.#} ms waiting for {lockPrimitive.ModeTagOf(shared)} access to " +
              $"{description}: the flow's PostgreSQL session was waiting the whole time for {busyWith}, for another task of the flow " +
              "(tasks started while a flow holds a lock share its session, and a session waits for one lock at a time). " +
              "Acquire before starting such tasks, or start them under ExecutionContext.SuppressFlow() so each is a flow of its own.";

    /// <summary>A set's members for a message: the first few, then how many more (a keyed lock's AcquireManyAsync may have thousands).</summary>
    private static string DescribeMembers(PostgresLockRequest[] members)
    {
        const int Shown = 8;
        string shown = string.Join(", ", Array.ConvertAll(members[..Math.Min(members.Length, Shown)], static m => m.Description));
        return members.Length <= Shown ? shown : $"{shown} and {members.Length - Shown} more";
    }

    /// <summary>
    /// A token already cancelled: nothing is taken, not even a free lock, as with every Locksmith lock. Checked before the
    /// flow's record is entered, so the flow is named as the in-process async locks name it (<see cref="ThrowHelper.CurrentFlow"/>).
    /// </summary>
    public static OperationCanceledException CanceledBeforeAcquiring(string description, bool shared, PostgresLock lockPrimitive, CancellationToken token) =>
        ThrowHelper.CanceledBeforeAcquiring(ThrowHelper.CurrentFlow(), $"for {lockPrimitive.ModeTagOf(shared)} access to {description}", token);

    /// <summary>A set given a token already cancelled: names its members and <paramref name="who"/> asked; nothing is taken.</summary>
    public static OperationCanceledException SetCanceledBeforeAcquiring(PostgresLockRequest[] requests, string who, CancellationToken token) =>
        ThrowHelper.CanceledBeforeAcquiring(
            who, "PostgresLockSet for " + string.Join(", ", Array.ConvertAll(requests, static r => r.Description)), token);

    public static OperationCanceledException Canceled(string description, LockOwner flow, bool shared, PostgresLock lockPrimitive, Exception inner, CancellationToken token) =>
        ThrowHelper.WaitCanceled(ThrowHelper.FlowOnThread(flow), $"{lockPrimitive.ModeTagOf(shared)} access to {description}", token, inner);

    // The clean-up errors an exception made by WithCleanUpErrors carries, so a later clean-up adds to them rather than
    // replacing them (a set's member gives its session back, then the set its other members). Only on failed clean-ups.
    private static readonly ConditionalWeakTable<Exception, Exception[]> s_cleanUpErrors = new();

    /// <summary>
    /// A failed acquisition (<paramref name="failure"/>) whose clean-up (giving back what it had reserved or taken) failed
    /// too: a cancellation is still an <see cref="OperationCanceledException"/> for the same token, and a timeout the same
    /// <see cref="LockTimeoutException"/>, so a caller's <c>catch</c> of them still matches, with the clean-up's error
    /// inside (several as an <see cref="AggregateException"/>). Any other failure comes first in an
    /// <see cref="AggregateException"/> beside them.
    /// </summary>
    public static Exception WithCleanUpErrors(Exception failure, Exception[] cleanUp)
    {
        if (s_cleanUpErrors.TryGetValue(failure, out var earlier))
        {
            cleanUp = [.. earlier, .. cleanUp];
        }

        Exception inner = cleanUp.Length == 1 ? cleanUp[0] : new AggregateException(cleanUp);
        Exception combined = failure switch
        {
            OperationCanceledException canceled => new OperationCanceledException(canceled.Message, inner, canceled.CancellationToken),
            LockTimeoutException timeout => new LockTimeoutException(timeout.LockName, timeout.OwnerThreadId, timeout.OwnerThreadName, timeout.Waited, timeout.Message, inner),
            _ => new AggregateException([failure, .. cleanUp]),
        };

        if (combined is not AggregateException)
        {
            s_cleanUpErrors.AddOrUpdate(combined, cleanUp);
        }

        return combined;
    }

    /// <summary>
    /// SQLSTATE 40P01: the server chose this wait as the victim of a cycle. The flow and its thread begin the sentence, as
    /// in every other message. The server's detail text names each waiting process and the lock it waits for
    /// (<c>advisory lock [db,classid,objid,objsubid]</c>); those become lock names.
    /// </summary>
    public static DeadlockException Deadlock(PostgresLockProvider provider, string description, LockOwner flow, PostgresException error)
    {
        var names = new List<string>();
        var waits = new List<string>();
        foreach (Match match in WaitPattern().Matches(error.Detail ?? string.Empty))
        {
            string name = match.Groups["what"].Value;
            var advisory = AdvisoryPattern().Match(name);
            if (advisory.Success)
            {
                var key = new AdvisoryKey(
                    unchecked((int)uint.Parse(advisory.Groups[1].Value, CultureInfo.InvariantCulture)),
                    unchecked((int)uint.Parse(advisory.Groups[2].Value, CultureInfo.InvariantCulture)),
                    short.Parse(advisory.Groups[3].Value, CultureInfo.InvariantCulture));
                name = provider.NameOf(key);
            }

            if (!names.Contains(name))
            {
                names.Add(name);
            }

            // Holders by the server's own account of the cycle, so a shared hold (a reader) is named as an exclusive one.
            waits.Add($"{SessionText(provider, match.Groups["waiter"].Value)} waits for {name}, held by {SessionText(provider, match.Groups["holder"].Value)}");
        }

        if (names.Count == 0)
        {
            names.Add(description);
        }

        return new DeadlockException(
            $"{ThrowHelper.FlowStartingASentence(flow)} was waiting for {description} when PostgreSQL detected a deadlock and refused the wait: sessions wait for each other " +
            $"in a cycle over {string.Join(" and ", names)}{(waits.Count == 0 ? string.Empty : ": " + string.Join("; ", waits))}. Nothing more is held by this request; the locks the flow held before " +
            "are still held. Take the locks together through PostgresLockSet (or give them levels), so every process takes them " +
            $"in the same order. Server detail: {error.Detail}",
            names, error);
    }

    /// <summary>A backend of the cycle: the flow of this process whose session it is, else its pid (another process's session).</summary>
    private static string SessionText(PostgresLockProvider provider, string pidText) =>
        !int.TryParse(pidText, NumberStyles.None, CultureInfo.InvariantCulture, out int pid) ? $"process {pidText}"
        : provider.SessionOfBackend(pid) is { } session
            ? $"{session.Owner.Describe()} of this process (backend pid {pid})"
            : $"backend pid {pid} (not a session of this process)";

    [GeneratedRegex(@"Process (?<waiter>\d+) waits for \w+ on (?<what>.+?); blocked by process (?<holder>\d+)", RegexOptions.CultureInvariant)]
    private static partial Regex WaitPattern();

    [GeneratedRegex(@"advisory lock \[\d+,(\d+),(\d+),(\d+)\]", RegexOptions.CultureInvariant)]
    private static partial Regex AdvisoryPattern();
}
