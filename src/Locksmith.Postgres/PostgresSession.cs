using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Data;
using System.Threading;
using System.Threading.Tasks;
using Npgsql;

namespace Locksmith.Postgres;

/// <summary>
/// The PostgreSQL session of one async flow: every distributed lock the flow holds through a provider, and every wait
/// for one, is on this one pooled connection. That is what lets the server see a cycle of waits between flows of
/// different processes (40P01): with a connection per lock the holder of one lock and the waiter for another would be
/// different sessions, and the cycle would run through the application where the server cannot see it.
/// </summary>
/// <remarks>
/// <para>Commands on the session are serialized by a gate: tasks a flow starts while it holds a lock share its locks and
/// its session, and may release one while another waits. A blocking wait would keep the gate for as long as it waits,
/// so it registers itself (<see cref="BeginWait"/>), and a release or a try-once queued for the gate cancels it: the
/// waiter makes way (after checking that the grant did not race the cancel) and issues its wait again, behind it. A
/// second blocking wait queues for its turn, bounded by its own timeout: one session waits for one lock at a time.</para>
/// <para>The session lives while the flow holds or waits for a lock, then returns its connection.</para>
/// </remarks>
internal sealed class PostgresSession
{
    // The sessions of this process by server and backend pid, so a 40P01's detail ("blocked by process N") names the
    // flow behind a pid, whatever the mode it holds in (shared holds have no single holder the process could track).
    private static readonly ConcurrentDictionary<(string Server, int ProcessId), PostgresSession> s_byBackend = new();

    private readonly PostgresLockProvider _provider;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly CancellationTokenSource _lost = new();
    private readonly Lock _sync = new();
    private NpgsqlConnection? _connection;
    private int _uses = 1;
    private bool _closed;

    // Under the gate: no statement has run on _connection yet, so a break is no loss (see IsUnproven).
    private bool _unproven;

    // Under the gate: the entry's acquisition and its deadline, which bound a reconnect as they bound the opening.
    private string _entryDescription = string.Empty;
    private long _entryDeadline = long.MaxValue;

    // Set under the gate when the provider is disposed: the connection is closed and the session takes nothing more.
    private volatile bool _shutDown;

    // The loss's report: NotReported, Reporting (a finder writes it, under _reportGate) or Reported (also when the provider's
    // disposal, which reports none, ended the session).
    private const int NotReported = 0;
    private const int Reporting = 1;
    private const int Reported = 2;
    private readonly Lock _reportGate = new();
    private int _lossReport;

    // The blocking wait in flight (under _sync), and what it waits for; commands queued that must not wait behind it.
    private CancellationTokenSource? _interruptible;
    private string? _waitingFor;
    private int _urgent;

    public PostgresSession(PostgresLockProvider provider, LockOwner owner)
    {
        _provider = provider;
        Owner = owner;
    }

    public LockOwner Owner { get; }

    /// <summary>The server process (backend pid) of the session, or 0 before it connected.</summary>
    public int ProcessId { get; private set; }

    public CancellationToken LostToken => _lost.Token;

    public bool IsLost => _lost.IsCancellationRequested;

    public bool IsBroken => _connection is { } connection && (connection.FullState & (ConnectionState.Broken | ConnectionState.Closed)) != 0;

    /// <summary>Whether the provider's disposal closed the session.</summary>
    public bool IsShutDown => _shutDown;

    /// <summary>One more hold or wait on the session; false when it is closing (the caller opens a new one).</summary>
    public bool TryAddUse()
    {
        lock (_sync)
        {
            if (_closed)
            {
                return false;
            }

            _uses++;
            return true;
        }
    }

    /// <summary>One hold or wait fewer; true when it was the last, and the session is now closed to new uses.</summary>
    public bool ReleaseUse()
    {
        lock (_sync)
        {
            if (--_uses != 0)
            {
                return false;
            }

            _closed = true;
            return true;
        }
    }

    /// <summary>
    /// Takes the session's gate and connects if needed; <see cref="Exit"/> gives the gate back. Null when the turn did not
    /// come within <paramref name="timeoutMs"/> (another wait of the flow kept the session). An <paramref name="urgent"/>
    /// entry (a try-once, which never blocks the session) interrupts a blocking wait, and waits for the gate without bound.
    /// The opening of the connection keeps to what is left of <paramref name="timeoutMs"/>, but has at least
    /// <see cref="MinimumOpeningMilliseconds"/> (see <see cref="OpenWithinAsync"/>).
    /// </summary>
    public async ValueTask<NpgsqlConnection?> EnterAsync(string description, int timeoutMs, bool urgent, CancellationToken cancellationToken)
    {
        long deadline = TimeoutMath.DeadlineFrom(urgent ? 0 : timeoutMs);
        if (urgent)
        {
            await EnterUrgentAsync(cancellationToken).ConfigureAwait(false);
        }
        else if (!await _gate.WaitAsync(timeoutMs, cancellationToken).ConfigureAwait(false))
        {
            return null;
        }

        try
        {
            if (_shutDown)
            {
                PostgresErrors.ThrowDisposedWhileAcquiring(_provider, Owner, description, inner: null);
            }

            _entryDescription = description;
            _entryDeadline = deadline;
            if (_connection is null)
            {
                Attach(await OpenWithinAsync(description, deadline, cancellationToken).ConfigureAwait(false));
            }
            else if (IsLost || IsBroken)
            {
                PostgresErrors.ThrowSessionLost(Owner, description);
            }

            return _connection;
        }
        catch
        {
            _gate.Release();
            throw;
        }
    }

    /// <summary>
    /// Whether no statement has run on the session's connection yet (the caller has the gate): it came from the pool, where
    /// the server may have ended it while it was idle. Its first statement probes for that (see <see cref="ReconnectAsync"/>).
    /// </summary>
    public bool IsUnproven => _unproven;

    /// <summary>A statement ran on the connection (the caller has the gate): it is the session's from now on.</summary>
    public void Proven() => _unproven = false;

    /// <summary>
    /// The least an opening is given however little of its acquisition's timeout is left (a try-once's none). A healthy
    /// server's opening (connection, TLS, authentication) takes well under a second, even far away or under load: a short
    /// timeout (a poll) must not fail on a cold pool, where a single 50 ms try found every opening too slow; a server that
    /// does not answer is still given up on within two seconds, not the connection string's 15.
    /// </summary>
    internal const int MinimumOpeningMilliseconds = 2000;

    /// <summary>
    /// Opens the session's connection by <paramref name="deadline"/> (what is left of the acquisition's timeout, at least
    /// <see cref="MinimumOpeningMilliseconds"/>; infinite for an infinite timeout, which leaves it to the connection string's
    /// <c>Timeout</c>): an acquisition given 1 s waited for that <c>Timeout</c> (15 s by default) behind a server, proxy or load
    /// balancer that accepted the connection and did not answer. Spent, it throws an <see cref="NpgsqlException"/> saying the
    /// session could not be opened in time (no holder refused the lock, so neither a timeout nor false), and the opening goes
    /// on alone, its connection, if it comes, back to the pool.
    /// </summary>
    private async ValueTask<NpgsqlConnection> OpenWithinAsync(string description, long deadline, CancellationToken cancellationToken)
    {
        int left = TimeoutMath.Remaining(deadline);
        int timeoutMs = left < 0 ? Timeout.Infinite : Math.Max(left, MinimumOpeningMilliseconds);
        using var bound = timeoutMs != Timeout.Infinite ? CancellationTokenSource.CreateLinkedTokenSource(cancellationToken) : null;
        bound?.CancelAfter(timeoutMs);
        try
        {
            return await OpenAsync(bound?.Token ?? cancellationToken).ConfigureAwait(false);
        }
        catch (NpgsqlException e)
        {
            throw PostgresErrors.CannotConnect(_provider, Owner, description, e);
        }
        catch (OperationCanceledException e) when (bound is not null && !cancellationToken.IsCancellationRequested)
        {
            throw PostgresErrors.CannotOpenWithinTimeout(_provider, Owner, description, timeoutMs, e);
        }
    }

    private async ValueTask<NpgsqlConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var dataSource = _provider.DataSource;
        try
        {
            return await OpenOrLeaveAsync(dataSource, cancellationToken).ConfigureAwait(false);
        }
        catch (PostgresException e) when (_provider.RefusedIdleSessionTimeout(dataSource, e))
        {
            // A server before 14 (or a PgBouncer) refused the provider's startup option: once per provider.
            return await OpenOrLeaveAsync(_provider.SwitchToBefore14(e), cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Opens a connection of <paramref name="dataSource"/>, or stops waiting for it when <paramref name="cancellationToken"/>
    /// is cancelled. Npgsql waits for the server's answer to a new connection's startup without the token, until the
    /// connection string's <c>Timeout</c> (15 s by default), so a caller's cancellation or the provider's disposal waited that
    /// long behind an answer slow to come. The opening then goes on alone; its connection, if it comes, goes back to the pool.
    /// </summary>
    private static async ValueTask<NpgsqlConnection> OpenOrLeaveAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        var opening = dataSource.OpenConnectionAsync(cancellationToken).AsTask();
        try
        {
            return await opening.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Also when the opening won the race with the cancellation: its connection is never handed out.
            _ = opening.ContinueWith(
                static task =>
                {
                    if (task.IsCompletedSuccessfully)
                    {
                        try
                        {
                            task.Result.Dispose();
                        }
                        catch (Exception e) when (e is NpgsqlException or InvalidOperationException or ObjectDisposedException)
                        {
                            // The provider was disposed meanwhile, or the connection broke: it is closed either way.
                        }
                    }
                    else
                    {
                        // Observed, so an opening that failed alone raises no UnobservedTaskException.
                        _ = task.Exception;
                    }
                },
                CancellationToken.None,
                TaskContinuationOptions.ExecuteSynchronously,
                TaskScheduler.Default);
            throw;
        }
    }

    private void Attach(NpgsqlConnection connection)
    {
        ProcessId = connection.ProcessID;
        _unproven = true;
        connection.StateChange += OnStateChange;
        _connection = connection;
        s_byBackend[(_provider.ServerIdentity, ProcessId)] = this;
    }

    /// <summary>
    /// Replaces the connection the server had ended before its first statement (a <see cref="StaleConnectionException"/>: it
    /// was ended while idle in the pool, by a restart or an administrator, so nothing was ever taken on it) with a new one, once the pool's
    /// idle connections, ended alike, are cleared; the caller has the gate, and probes the new one's first statement too.
    /// When no new connection opens (the server is still down, or has no slot left), throws
    /// <see cref="ReconnectFailedException"/> with the reason, and the session keeps the broken connection. The opening keeps
    /// to what is left of the entry's timeout, as the first one does (<see cref="OpenWithinAsync"/>): a server that accepted
    /// the connection and did not answer held the acquisition for the connection string's <c>Timeout</c>.
    /// </summary>
    public async ValueTask<NpgsqlConnection> ReconnectAsync(CancellationToken cancellationToken)
    {
        var old = _connection!;

        // The pool's other idle connections were most likely ended alike; those in use are dropped as they return.
        _provider.DataSource.Clear();
        NpgsqlConnection connection;
        try
        {
            connection = await OpenWithinAsync(_entryDescription, _entryDeadline, cancellationToken).ConfigureAwait(false);
        }
        catch (NpgsqlException e)
        {
            // Not the stale connection's error, which speaks of an ended wait and of other locks: nothing waited and
            // nothing is held, the server (still down, full, or silent) refused a new session. Already named by
            // PostgresErrors, which the callers' CannotConnect then keeps as it is.
            throw new ReconnectFailedException(e);
        }

        await DetachAsync(old).ConfigureAwait(false);
        Attach(connection);
        return connection;
    }

    /// <summary>
    /// Lets go of a connection the session no longer uses, without an unlock (the caller has the gate): out of the
    /// backend map, its state changes no longer the session's, closed.
    /// </summary>
    private async ValueTask DetachAsync(NpgsqlConnection connection)
    {
        Unregister();
        connection.StateChange -= OnStateChange;
        try
        {
            await connection.DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is NpgsqlException or InvalidOperationException or TimeoutException)
        {
            // Broken already: the server ended the session, and its locks with it.
        }
    }

    /// <summary>Takes the gate synchronously, for a release through <c>Dispose</c>; null when the session never connected.</summary>
    public NpgsqlConnection? Enter()
    {
        // Queued with the async entries (FIFO), so the waiter it interrupts does not take the gate back first.
        EnterUrgentAsync(CancellationToken.None).AsTask().GetAwaiter().GetResult();
        return _connection;
    }

    public async ValueTask<NpgsqlConnection?> EnterForReleaseAsync()
    {
        await EnterUrgentAsync(CancellationToken.None).ConfigureAwait(false);
        return _connection;
    }

    /// <summary>
    /// Registers the blocking wait about to run on the session (the caller has the gate); false, with
    /// <paramref name="interrupt"/> cancelled, when a release is queued already, so the wait makes way before it starts.
    /// </summary>
    public bool BeginWait(CancellationTokenSource interrupt, string description)
    {
        lock (_sync)
        {
            if (Volatile.Read(ref _urgent) > 0)
            {
                return false;
            }

            _interruptible = interrupt;
            _waitingFor = description;
            return true;
        }
    }

    /// <summary>The blocking wait is over (its source may be disposed after this).</summary>
    public void EndWait()
    {
        lock (_sync)
        {
            _interruptible = null;
            _waitingFor = null;
        }
    }

    /// <summary>The lock a blocking wait on the session waits for now, for a sibling's timeout message; null when none.</summary>
    public string? WaitingFor
    {
        get
        {
            lock (_sync)
            {
                return _waitingFor;
            }
        }
    }

    /// <summary>Takes the gate for a command that must not wait behind a blocking wait: the wait is cancelled, and makes way.</summary>
    private async ValueTask EnterUrgentAsync(CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _urgent);
        try
        {
            CancellationTokenSource? interrupt;
            lock (_sync)
            {
                interrupt = _interruptible;
            }

            if (interrupt is not null)
            {
                try
                {
                    // Not inline: Npgsql's cancel request opens a connection of its own, and this may be a release's thread.
                    _ = interrupt.CancelAsync();
                }
                catch (ObjectDisposedException)
                {
                    // The wait ended meanwhile.
                }
            }

            await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            Interlocked.Decrement(ref _urgent);
        }
    }

    public void Exit() => _gate.Release();

    /// <summary>
    /// Takes the gate only if no command of the flow is on the session now, and returns its connection (the caller then
    /// calls <see cref="Exit"/>); null, with the gate not taken, when busy, closed, lost or broken.
    /// </summary>
    public NpgsqlConnection? TryEnterIdle()
    {
        if (!_gate.Wait(0))
        {
            return null;
        }

        if (_shutDown || IsLost || IsBroken || Volatile.Read(ref _connection) is not { } connection)
        {
            _gate.Release();
            return null;
        }

        return connection;
    }

    /// <summary>The session of this process (any provider) on <paramref name="server"/> whose backend is <paramref name="processId"/>, or null.</summary>
    public static PostgresSession? OfBackend(string server, int processId) =>
        s_byBackend.TryGetValue((server, processId), out var session) ? session : null;

    // Only this session's entry: its pooled connection (and pid) may serve another session already.
    private void Unregister() => s_byBackend.TryRemove(KeyValuePair.Create((_provider.ServerIdentity, ProcessId), this));

    /// <summary>
    /// The session is gone while it held locks: report its holds (<see cref="ReportLossOnce"/>), then tell whoever watches
    /// the token. <paramref name="cause"/> is one of <see cref="LossCauses"/>; <paramref name="error"/> what showed it, if anything.
    /// </summary>
    public void MarkLost(string cause, Exception? error = null)
    {
        if (_lost.IsCancellationRequested)
        {
            return;
        }

        if (ReportLossOnce(cause, error))
        {
            CancelLost();
        }
    }

    /// <summary>
    /// Logs and counts the holds still registered on the session, once however many ways the loss is found (the check, a
    /// failing command, a release), and before the token is cancelled, so whoever sees the token sees every line too.
    /// Returns whether the caller may cancel the token now: false only for a finder inside the report itself (a log sink's
    /// or meter listener's code on the reporting thread), whose report's own finder cancels it once every line is written.
    /// </summary>
    private bool ReportLossOnce(string cause, Exception? error)
    {
        if (Volatile.Read(ref _lossReport) == Reported)
        {
            return true;
        }

        // A second finder at the same moment waits here until the first one's lines are written, so no finder cancels the
        // token before every hold was reported. The gate is held only on a loss, never on an acquisition or a release.
        lock (_reportGate)
        {
            if (_lossReport != NotReported)
            {
                // Reporting: the gate is reentrant, so this is the report's own thread, in a sink or listener it called.
                return _lossReport == Reported;
            }

            _lossReport = Reporting;
            try
            {
                _provider.ReportLost(this, cause, error);
            }
            finally
            {
                Volatile.Write(ref _lossReport, Reported);
            }

            return true;
        }
    }

    /// <summary>
    /// The provider's disposal ends the session: no report from now on (one already under way is waited for, as another
    /// finder would). Returns whether the caller may cancel the token now, as <see cref="ReportLossOnce"/> does.
    /// </summary>
    private bool EndReportUnreported()
    {
        lock (_reportGate)
        {
            if (_lossReport == Reporting)
            {
                return false;
            }

            Volatile.Write(ref _lossReport, Reported);
            return true;
        }
    }

    private void CancelLost()
    {
        try
        {
            _lost.Cancel();
        }
        catch (AggregateException)
        {
            // A callback of the user's threw; the token is cancelled all the same.
        }
    }

    /// <summary>
    /// The provider is being disposed: waits for the gate (its waits were cancelled, so they leave it at once; a release
    /// under way finishes), closes the connection without unlocking (the provider then closes the pool's connections,
    /// and the server releases the session's locks as it ends), and cancels <see cref="LostToken"/>: the holds are gone.
    /// Releases of those holds later find no connection and only return their use.
    /// </summary>
    public async ValueTask ShutDownAsync()
    {
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            _shutDown = true;
            if (Interlocked.Exchange(ref _connection, null) is { } connection)
            {
                await DetachAsync(connection).ConfigureAwait(false);
            }

        }
        finally
        {
            _gate.Release();
        }

        // Outside the gate: a LostToken callback may dispose its scope synchronously, and that release takes the gate. Not
        // reported: the application ended these holds by disposing the provider, not an incident (and at a host's stop its
        // loggers are being disposed too).
        if (EndReportUnreported() && !_lost.IsCancellationRequested)
        {
            CancelLost();
        }
    }

    /// <summary>
    /// Returns the connection to the pool (the session holds nothing now); a lost session's is discarded instead: its
    /// holds got no unlock, and a session the server still has (a link that went silent, then came back) must not go
    /// back to the pool holding them.
    /// </summary>
    public void Close()
    {
        // Taken once: the provider's disposal may close the session at the same time.
        if (Interlocked.Exchange(ref _connection, null) is { } connection)
        {
            Unregister();
            connection.StateChange -= OnStateChange;
            DiscardIfLost(connection);
            connection.Dispose();
        }
    }

    /// <inheritdoc cref="Close"/>
    public async ValueTask CloseAsync()
    {
        if (Interlocked.Exchange(ref _connection, null) is { } connection)
        {
            Unregister();
            connection.StateChange -= OnStateChange;
            DiscardIfLost(connection);
            await connection.DisposeAsync().ConfigureAwait(false);
        }
    }

    private void DiscardIfLost(NpgsqlConnection connection)
    {
        if (IsLost && (connection.FullState & (ConnectionState.Broken | ConnectionState.Closed)) == 0)
        {
            // Npgsql has no way to drop one pooled connection; clearing the pool closes it as it is returned (and the pool's
            // idle ones, on a link just found unreliable; connections in use finish their work first). The provider's data
            // source's pool: NpgsqlConnection.ClearPool clears only a pool made from a connection string, none here, so the
            // connection went back to the pool with the lock still on it.
            try
            {
                _provider.DataSource.Clear();
            }
            catch (ObjectDisposedException)
            {
                // The provider was disposed meanwhile: its pool is closed, and this connection with it.
            }
        }
    }

    private void OnStateChange(object sender, StateChangeEventArgs e)
    {
        // A connection whose first statement found it ended in the pool held nothing: ReconnectAsync replaces it.
        if (e.CurrentState is ConnectionState.Closed or ConnectionState.Broken && !_unproven)
        {
            MarkLostFromACommand(LossCauses.ConnectionBroke);
        }
    }

    /// <summary>
    /// The connection broke under a command of the session, which holds the gate (a wait, an unlock, a check): the session
    /// is lost at once (<see cref="IsLost"/>), but the <see cref="LostToken"/>'s callbacks run on the thread pool, not in
    /// the command's frame. There, a callback that disposes a scope of the flow synchronously waited for the gate its own
    /// caller held, and the command never returned (nor did the provider's disposal, which waits for the gate).
    /// </summary>
    private void MarkLostFromACommand(string cause)
    {
        if (_lost.IsCancellationRequested)
        {
            return;
        }

        // Inline, but no LostToken callback: a log sink or a meter listener, whose failure the report keeps to itself.
        if (!ReportLossOnce(cause, error: null))
        {
            return;
        }

        // Turns IsCancellationRequested true now; a callback's exception lands in the task, observed here.
        _ = _lost.CancelAsync().ContinueWith(
            static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
    }
}
