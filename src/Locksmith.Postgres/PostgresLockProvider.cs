using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using Locksmith.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Locksmith.Postgres;

/// <summary>
/// The distributed locks of one PostgreSQL database: creates exclusive, read-write and keyed locks held as session
/// advisory locks, owns the connection pool they hold their connections from, enforces the connection budget and
/// watches held locks for a lost session. Create one per database and share it; dispose it at shutdown, which ends its
/// waits, closes its sessions and cancels the LostToken of the holds still open (see <see cref="DisposeAsync"/>).
/// </summary>
public sealed class PostgresLockProvider : IAsyncDisposable, IDisposable
{
    // Sessions whose startup options turn idle_session_timeout off; replaced, once, by _before14 on a server that refuses it.
    private readonly NpgsqlDataSource _keepIdle;
    private readonly string _before14ConnectionString;
    // The caller's own options only, for a PgBouncer that refuses startup options it does not track.
    private readonly string _callersOptionsConnectionString;
    private readonly string _idleSessionTimeout;
    private readonly Lock _dataSourceGate = new();
    private NpgsqlDataSource _dataSource;
    private NpgsqlDataSource? _before14;
    private bool _dataSourcesClosed;
    private readonly ConcurrentDictionary<HoldKey, PostgresHold> _holds = new();
    private readonly ConcurrentDictionary<LockOwner, PostgresSession> _sessions = new();
    private readonly ConcurrentDictionary<AdvisoryKey, (string Name, int? Level)> _namedKeys = new();
    private readonly ConcurrentDictionary<int, (string Name, int? Level)> _classIds = new();
    private readonly ConcurrentDictionary<AdvisoryKey, string> _keyNames = new();

    // The live providers of this process, for the checks that span them (a flow's holds through another provider): a
    // copy-on-write array, so an acquisition reads it without a lock or an allocation; written only when a provider is
    // created or disposed.
    private static readonly Lock s_liveGate = new();
    private static PostgresLockProvider[] s_live = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _monitor;

    // The monitor's last check on its own connection that had no answer in time (only the monitor touches it).
    private Task<List<int>>? _unansweredCheck;
    private int _connectionsInUse;
    private int _disposed;

    // What the server says it is, read by the provider's first physical connection (see LearnServerInstanceAsync): null
    // until then, and for good when the server would not tell (_serverInstanceRefused).
    private volatile string? _serverInstance;
    private volatile bool _serverInstanceRefused;
    private readonly string _serverInstanceQuery;

    // Asked on every new physical connection (see RefuseStandbyAsync); skipped for good once the server refused to answer.
    private readonly string _inRecoveryQuery;

    // Whether a server's reported in_hot_standby "off" settles the recovery check (false for a test's stand-in function).
    private readonly bool _trustsReportedStandby;
    private int _recoveryQueries;
    private volatile bool _inRecoveryRefused;
    private readonly string _inRecoveryFunction;
    private int _inRecoveryRefusalLogged;

    /// <summary>Creates a provider.</summary>
    /// <param name="connectionString">The Npgsql connection string of the database, naming the primary's single host.</param>
    /// <param name="connectionBudget">The most connections its locks may hold at once (see <see cref="PostgresLockProviderOptions.ConnectionBudget"/>).</param>
    /// <param name="defaultTimeout">The timeout of acquisitions that give none, or null for <see cref="LocksmithPolicy.DefaultTimeout"/>.</param>
    /// <exception cref="ArgumentException">
    /// As for <see cref="PostgresLockProvider(PostgresLockProviderOptions)"/>: among others, a connection string that can put
    /// sessions on another server than the primary (more than one host, load balancing, a standby's target session attributes).
    /// </exception>
    public PostgresLockProvider(string connectionString, int connectionBudget = 16, TimeSpan? defaultTimeout = null)
        : this(new PostgresLockProviderOptions { ConnectionString = connectionString, ConnectionBudget = connectionBudget, DefaultTimeout = defaultTimeout })
    {
    }

    /// <summary>Checks options as the constructor does; each message names the option and the value it got.</summary>
    /// <param name="options">The options.</param>
    /// <exception cref="ArgumentException">
    /// The connection string is empty, is not a valid Npgsql connection string, or can put sessions on another server than the
    /// primary (see <see cref="PrimaryServer.RefuseAnotherServer"/>), or the budget, interval or default timeout is out of range.
    /// </exception>
    internal static void Validate(PostgresLockProviderOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (string.IsNullOrWhiteSpace(options.ConnectionString))
        {
            throw new ArgumentException("PostgresLockProviderOptions.ConnectionString is empty: give the Npgsql connection string of the database that holds the locks.", nameof(options));
        }

        if (options.ConnectionBudget < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.ConnectionBudget,
                $"PostgresLockProviderOptions.ConnectionBudget = {options.ConnectionBudget} is invalid: it must be at least 1 (the most connections the locks may hold at once).");
        }

        if (options.LostLockCheckInterval <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.LostLockCheckInterval,
                $"PostgresLockProviderOptions.LostLockCheckInterval = {options.LostLockCheckInterval} is invalid: it must be positive.");
        }

        if (options.LostLockCheckTimeout <= TimeSpan.Zero || options.LostLockCheckTimeout > TimeSpan.FromMilliseconds(int.MaxValue))
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.LostLockCheckTimeout,
                $"PostgresLockProviderOptions.LostLockCheckTimeout = {options.LostLockCheckTimeout} is invalid: it must be positive and at most " +
                $"{TimeSpan.FromMilliseconds(int.MaxValue)} (how long the lost-lock check waits for the server's answer).");
        }

        if (options.DefaultTimeout is { } timeout &&
            ((long)timeout.TotalMilliseconds is < -1 or > int.MaxValue || (timeout < TimeSpan.Zero && timeout != System.Threading.Timeout.InfiniteTimeSpan)))
        {
            throw new ArgumentOutOfRangeException(nameof(options), timeout,
                $"PostgresLockProviderOptions.DefaultTimeout = {timeout} is invalid: it must be from zero to {TimeSpan.FromMilliseconds(int.MaxValue)}, " +
                "Timeout.InfiniteTimeSpan, or null for LocksmithPolicy.DefaultTimeout.");
        }

        NpgsqlConnectionStringBuilder settings;
        try
        {
            settings = new NpgsqlConnectionStringBuilder(options.ConnectionString);
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"PostgresLockProviderOptions.ConnectionString is not a valid Npgsql connection string: {e.Message}", nameof(options), e);
        }

        PrimaryServer.RefuseAnotherServer(settings, nameof(options));
    }

    /// <summary>Creates a provider from options.</summary>
    /// <param name="options">The connection string, budget, default timeout and lost-lock check interval.</param>
    /// <exception cref="ArgumentException">
    /// The connection string is empty or not a valid Npgsql connection string; it names more than one host, sets
    /// <c>Load Balance Hosts=true</c>, or a <c>Target Session Attributes</c> other than <c>primary</c>, <c>read-write</c> or
    /// <c>any</c> (settings that can put sessions on a standby or another server, where their advisory locks exclude nothing
    /// on the primary; the message names the setting and the fix); or the budget or interval is not positive.
    /// </exception>
    /// <remarks>
    /// The provider also refuses a server in recovery (a standby, where PostgreSQL grants advisory locks of its own): each new
    /// physical connection reads the <c>in_hot_standby</c> status the server reports as it starts (PostgreSQL 14 and later;
    /// no round trip), or asks <c>pg_is_in_recovery()</c> where the server reports none, one round trip as it opens (pooled
    /// connections are not asked again), and an acquisition whose session would open on a standby throws an
    /// <see cref="NpgsqlException"/> naming the host, holding nothing.
    /// </remarks>
    public PostgresLockProvider(PostgresLockProviderOptions options)
        : this(options, IdleSessionTimeout)
    {
    }

    /// <summary>Creates a provider from options, turning off <paramref name="idleSessionTimeout"/> at startup.</summary>
    /// <param name="options">The connection string, budget, default timeout and lost-lock check interval.</param>
    /// <param name="idleSessionTimeout">
    /// <c>idle_session_timeout</c>; in a test, a parameter the server does not know, as a server before 14 does not know it.
    /// </param>
    internal PostgresLockProvider(PostgresLockProviderOptions options, string idleSessionTimeout)
        : this(options, idleSessionTimeout, ControlSystemFunction)
    {
    }

    /// <summary>Creates a provider that reads its server's identity from <paramref name="controlSystemFunction"/>.</summary>
    /// <param name="options">The connection string, budget, default timeout and lost-lock check interval.</param>
    /// <param name="idleSessionTimeout"><c>idle_session_timeout</c>, or (in a test) a parameter the server does not know.</param>
    /// <param name="controlSystemFunction">
    /// <c>pg_catalog.pg_control_system()</c>; in a test, a function the server refuses to run for the provider's role, as a
    /// server whose administrator revoked <c>pg_control_system()</c> does (PostgreSQL 15 lets every role call it by default).
    /// </param>
    /// <param name="inRecoveryFunction">
    /// <c>pg_catalog.pg_is_in_recovery()</c>; in a test, a function of the test's own that answers true, as a standby does
    /// (the tests have no standby to connect to).
    /// </param>
    internal PostgresLockProvider(PostgresLockProviderOptions options, string idleSessionTimeout, string controlSystemFunction,
        string inRecoveryFunction = PrimaryServer.InRecoveryFunction)
    {
        Validate(options);

        // First: a factory that throws (disposed) leaves nothing made.
        Logger = options.LoggerFactory?.CreateLogger(PostgresLostLocks.Category);
        _serverInstanceQuery =
            "SELECT s.system_identifier::text, pg_catalog.pg_postmaster_start_time(), pg_catalog.current_database()::text " +
            $"FROM {controlSystemFunction} s";
        _inRecoveryFunction = inRecoveryFunction;
        _trustsReportedStandby = string.Equals(inRecoveryFunction, PrimaryServer.InRecoveryFunction, StringComparison.Ordinal);

        // With the address the server answered from (null over a Unix-domain socket), for the refusal's message.
        _inRecoveryQuery =
            $"SELECT {inRecoveryFunction}, pg_catalog.host(pg_catalog.inet_server_addr()) || ':' || pg_catalog.inet_server_port()";
        if (options.DefaultTimeout is { } timeout)
        {
            DefaultTimeoutMilliseconds = TimeoutMath.ToMilliseconds(timeout, nameof(options));
        }

        var builder = new NpgsqlConnectionStringBuilder(options.ConnectionString)
        {
            // The deadlock report names the locks from the server's detail text.
            IncludeErrorDetail = true,
            // Waits are bounded by lock_timeout and cancelled through the token, never by the client's command timeout.
            CommandTimeout = 0,
            // A session outlives the caller's TransactionScope: enlisted, a refused wait (55P03) would abort the caller's
            // transaction, and every later command on the session, the unlock too, would fail in it.
            Enlist = false,
            // A session lock needs a session: multiplexed, commands would go to any of the pool's connections.
            Multiplexing = false,
        };

        // Validate left it at most primary or read-write, which the provider checks itself (see RefuseStandbyAsync).
        PrimaryServer.DropTargetSessionAttributes(builder);

        // Every budgeted connection, the lost-lock check and a health check: the pool itself never makes an acquisition wait.
        if (builder.MaxPoolSize < options.ConnectionBudget + 2)
        {
            builder.MaxPoolSize = options.ConnectionBudget + 2;
        }

        ServerIdentity = $"{HostAndPort(builder.Host, builder.Port)}/{builder.Database}";
        _callersOptionsConnectionString = builder.ConnectionString;

        // A session that holds a lock is idle between its commands by design: a server, database or role default
        // idle_session_timeout (PostgreSQL 14+) would end it, and its locks with it; a statement_timeout would cut its waits
        // short (57014, not the acquisition's timeout: waits are bounded by lock_timeout, the other statements by their
        // command timeouts). A startup option outranks those defaults, and the pool's reset (DISCARD ALL, whose
        // pg_advisory_unlock_all stays the safety net for a lock left on a pooled connection) returns to it, where a SET
        // would be undone; it costs no round trip. Appended after the caller's options, so they also win over the same
        // settings given there. The server's TCP keepalives go before them, so the caller's win: with the OS default (2
        // hours on Linux), a NAT or load balancer may drop an idle holding session unseen, and a holder whose host vanished
        // keeps its locks, and other processes waiting, that long. Probes from the server keep the path alive and end a
        // session whose client is gone (about 2 minutes: 30 s idle, then the OS's count of probes, 10 s apart by default).
        _idleSessionTimeout = idleSessionTimeout;
        string keepalives = $"-c tcp_keepalives_idle=30 -c tcp_keepalives_interval={KeepaliveIntervalSeconds(options)}";
        const string NoStatementTimeout = "-c statement_timeout=0";
        string callers = string.IsNullOrWhiteSpace(builder.Options) ? string.Empty : $"{builder.Options} ";
        builder.Options = $"{keepalives} {callers}{NoStatementTimeout}";
        _before14ConnectionString = builder.ConnectionString;
        builder.Options = $"{keepalives} {callers}-c {idleSessionTimeout}=0 {NoStatementTimeout}";
        _keepIdle = CreateDataSource(builder.ConnectionString);
        _dataSource = _keepIdle;
        ConnectionBudget = options.ConnectionBudget;
        DefaultTimeout = options.DefaultTimeout;
        LostLockCheckInterval = options.LostLockCheckInterval;
        LostLockCheckTimeout = options.LostLockCheckTimeout;
        AnswerTimeoutSeconds = (int)Math.Min(int.MaxValue, Math.Ceiling(options.LostLockCheckTimeout.TotalSeconds));
        _monitor = Task.Run(MonitorAsync);
        lock (s_liveGate)
        {
            s_live = [.. s_live, this];
        }
    }

    /// <summary>
    /// <c>host:port</c> as Npgsql reads them: a port given in Host (<c>Host=db:5433</c>, or <c>[::1]:5433</c>) wins over Port.
    /// Before, such a host read as <c>db:5433:5432</c>, naming a port the sessions never used.
    /// </summary>
    internal static string HostAndPort(string? host, int port)
    {
        if (host is null || host.StartsWith('/') || host.StartsWith('@'))
        {
            // No host, or a Unix-domain socket's directory (Npgsql reads no port in it).
            return $"{host}:{port}";
        }

        int separator = host.LastIndexOf(':');
        if (separator > 0 && (host.IndexOf(':', StringComparison.Ordinal) == separator || host[separator - 1] == ']') &&
            int.TryParse(host.AsSpan(separator + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int given))
        {
            return $"{host[..separator]}:{given}";
        }

        return $"{host}:{port}";
    }

    /// <summary>
    /// The server's keepalive interval, in seconds: 10, or longer where the lost-lock check takes longer to count a silent
    /// session's holds as lost, so that the server (after at least 8 unanswered probes: the OS's count, 8 to 10) never ends
    /// the session, and lets another process take its locks, before this process has told the holder.
    /// </summary>
    internal static int KeepaliveIntervalSeconds(PostgresLockProviderOptions options) =>
        // At most Linux's largest TCP_KEEPINTVL.
        (int)Math.Min(32767, Math.Max(10, Math.Ceiling((options.LostLockCheckInterval + options.LostLockCheckTimeout).TotalSeconds / 5)));

    /// <summary>The most connections the provider's locks may hold at once.</summary>
    public int ConnectionBudget { get; }

    /// <summary>Connections held now: one per flow that holds or waits for a lock of this provider (a snapshot).</summary>
    public int ConnectionsInUse => Volatile.Read(ref _connectionsInUse);

    /// <summary>Distributed locks held now through this provider, in every flow (a snapshot).</summary>
    public int HeldCount => _holds.Count;

    /// <summary>The timeout of acquisitions that give none, or null for <see cref="LocksmithPolicy.DefaultTimeout"/>.</summary>
    public TimeSpan? DefaultTimeout { get; }

    /// <summary>How often held locks are checked for a lost session.</summary>
    public TimeSpan LostLockCheckInterval { get; }

    /// <summary>
    /// How long the lost-lock check waits for the server's answer before it counts the holds it asked about as lost; an
    /// unlock waits as long (in whole seconds) before its session counts as lost.
    /// </summary>
    public TimeSpan LostLockCheckTimeout { get; }

    /// <summary>
    /// <see cref="LostLockCheckTimeout"/> in whole seconds, rounded up: the command timeout of an unlock and of a lost-lock
    /// check on a session's own connection, and the margin a timed wait's statement gets past its wait.
    /// </summary>
    internal int AnswerTimeoutSeconds { get; }

    /// <summary>
    /// <c>host:port/database</c> as the connection string gives it, for messages. Two providers of the process with the same
    /// text are one server; so are two whose texts differ (<c>127.0.0.1</c> and <c>localhost</c>) once each has connected and
    /// the server told both the same identity (see <see cref="IsSameServerAs"/>).
    /// </summary>
    public string ServerIdentity { get; }

    /// <summary>
    /// The server's own identity, once the provider's first connection read it: the cluster's system identifier, the
    /// postmaster's start time (a physical standby or a copy of the data directory shares the identifier, never the start)
    /// and the database (advisory locks are per database). Null before, and where the server refuses to tell
    /// (<c>pg_control_system()</c> revoked, or a server that lacks it).
    /// </summary>
    internal string? ServerInstance => _serverInstance;

    /// <summary>
    /// Whether <paramref name="other"/> holds its locks on the same server and database: the same <see cref="ServerIdentity"/>
    /// text, or the same <see cref="ServerInstance"/> read by both. A provider whose identity is unknown (not connected yet,
    /// or refused) matches by its text alone. A restart gives the server a new start time: a provider that connected before it
    /// then matches a later one by text only, as before.
    /// </summary>
    internal bool IsSameServerAs(PostgresLockProvider other) =>
        string.Equals(other.ServerIdentity, ServerIdentity, StringComparison.Ordinal) || IsSameInstanceUnderAnotherName(other);

    /// <summary>The same server and database named by another text: known only once both providers connected.</summary>
    private bool IsSameInstanceUnderAnotherName(PostgresLockProvider other) =>
        _serverInstance is { } mine && string.Equals(other._serverInstance, mine, StringComparison.Ordinal) &&
        !string.Equals(other.ServerIdentity, ServerIdentity, StringComparison.Ordinal);

    /// <summary>
    /// A pool of <paramref name="connectionString"/> whose new physical connections are refused on a standby and teach the
    /// provider its server's identity.
    /// </summary>
    private NpgsqlDataSource CreateDataSource(string connectionString) =>
        new NpgsqlDataSourceBuilder(connectionString)
            .UsePhysicalConnectionInitializer(
                connection => InitializePhysicalConnectionAsync(connection, async: false).AsTask().GetAwaiter().GetResult(),
                connection => InitializePhysicalConnectionAsync(connection, async: true).AsTask())
            .Build();

    private async ValueTask InitializePhysicalConnectionAsync(NpgsqlConnection connection, bool async)
    {
        await RefuseStandbyAsync(connection, async).ConfigureAwait(false);
        await LearnServerInstanceAsync(connection, async).ConfigureAwait(false);
    }

    /// <summary>
    /// Fails the opening of a new physical connection whose server is in recovery (a standby grants advisory locks of its
    /// own, which exclude nothing on the primary): the status the server reported as the connection started
    /// (<see cref="ReportsPrimary"/>), or else one round trip per physical connection, as it opens, never on an
    /// acquisition's path once the pool holds it. Every new one is checked, not only the provider's first: a host name may
    /// lead to several servers, a proxy may pick one per connection, and a demoted primary restarts, ending the pool's
    /// connections, so those that follow are new. A refusal to answer (no privilege, no such function) leaves the provider
    /// unable to tell, as before the check, and it stops asking; another error fails the opening.
    /// </summary>
    private async ValueTask RefuseStandbyAsync(NpgsqlConnection connection, bool async)
    {
        if (_inRecoveryRefused || ReportsPrimary(connection))
        {
            return;
        }

        Interlocked.Increment(ref _recoveryQueries);
        await using var command = new NpgsqlCommand(_inRecoveryQuery, connection)
        {
            CommandTimeout = AnswerTimeoutSeconds,
        };
        bool inRecovery;
        string? answeredFrom;
        try
        {
            await using var reader = async ? await command.ExecuteReaderAsync().ConfigureAwait(false) : command.ExecuteReader();
            _ = async ? await reader.ReadAsync().ConfigureAwait(false) : reader.Read();
            inRecovery = reader.GetBoolean(0);
            answeredFrom = reader.IsDBNull(1) ? null : reader.GetString(1);
        }
        catch (PostgresException e) when (e.SqlState is PostgresErrorCodes.InsufficientPrivilege or PostgresErrorCodes.UndefinedFunction
                                              or PostgresErrorCodes.FeatureNotSupported)
        {
            _inRecoveryRefused = true;

            // Once per provider: two connections opening at once may both have been refused.
            if (Interlocked.Exchange(ref _inRecoveryRefusalLogged, 1) == 0)
            {
                PostgresProviderLog.StandbyCheckRefused(Logger, connection, _inRecoveryFunction, e);
            }

            return;
        }

        if (inRecovery)
        {
            throw PrimaryServer.StandbyRefused(connection, answeredFrom);
        }
    }

    /// <summary>For tests: how many new connections asked the server whether it is in recovery (a round trip each).</summary>
    internal int RecoveryQueriesForTests => Volatile.Read(ref _recoveryQueries);

    /// <summary>
    /// Whether the server said, as the connection started, that it is not in hot standby: PostgreSQL 14 and later report
    /// <c>in_hot_standby</c> then (and again when it changes), so a primary costs no round trip. A standby ("on") is still
    /// asked, for the address its refusal names; a server that reports nothing (before 14) is asked too. Only for the
    /// real function: a test's stand-in for it is always asked.
    /// </summary>
    private bool ReportsPrimary(NpgsqlConnection connection) =>
        _trustsReportedStandby
        && connection.PostgresParameters.TryGetValue("in_hot_standby", out string? hotStandby)
        && string.Equals(hotStandby, "off", StringComparison.Ordinal);

    /// <summary>
    /// Reads the server's identity on a new physical connection, until one read it (or the server refused): one round trip
    /// per provider, with its first connection, never on an acquisition's path afterwards. A refusal (no privilege on
    /// <c>pg_control_system()</c>, no such function, or not supported) leaves the provider matching other providers by text
    /// for good; a broken connection fails its opening, as the connection's first statement would have.
    /// </summary>
    private async ValueTask LearnServerInstanceAsync(NpgsqlConnection connection, bool async)
    {
        if (_serverInstance is not null || _serverInstanceRefused)
        {
            return;
        }

        await using var command = new NpgsqlCommand(_serverInstanceQuery, connection)
        {
            CommandTimeout = AnswerTimeoutSeconds,
        };
        try
        {
            await using var reader = async ? await command.ExecuteReaderAsync().ConfigureAwait(false) : command.ExecuteReader();
            if (async ? await reader.ReadAsync().ConfigureAwait(false) : reader.Read())
            {
                // The start time to the microsecond, as the server keeps it; the database by name (one cluster, one name).
                long started = reader.GetFieldValue<DateTime>(1).Ticks;
                _serverInstance = $"{reader.GetString(0)}/{started}/{reader.GetString(2)}";
            }
        }
        catch (PostgresException e) when (e.SqlState is PostgresErrorCodes.InsufficientPrivilege or PostgresErrorCodes.UndefinedFunction
                                              or PostgresErrorCodes.FeatureNotSupported)
        {
            _serverInstanceRefused = true;
        }
        catch (PostgresException) when ((connection.FullState & (System.Data.ConnectionState.Broken | System.Data.ConnectionState.Closed)) == 0)
        {
            // Another error the session survives: the identity stays unknown, and the next new connection asks again.
        }
    }

    internal int? DefaultTimeoutMilliseconds { get; }

    /// <summary>
    /// The pool the provider's connections come from now. Open connections through <see cref="OpenConnectionAsync"/>, which
    /// learns a server before 14; a caller that only runs while a hold exists (so after a connection opened) may use this.
    /// </summary>
    internal NpgsqlDataSource DataSource => Volatile.Read(ref _dataSource);

    private const string IdleSessionTimeout = "idle_session_timeout";

    private const string ControlSystemFunction = "pg_catalog.pg_control_system()";

    /// <summary>
    /// Opens a connection of the provider's pool. A server before PostgreSQL 14 refuses the unknown startup parameter
    /// <c>idle_session_timeout</c> (it has no such timeout), and so may a PgBouncer in front of the server: the first
    /// refusal switches the provider, once, to a pool without it, and the connection opens there.
    /// </summary>
    /// <param name="cancellationToken">Cancels the connection attempt.</param>
    internal async ValueTask<NpgsqlConnection> OpenConnectionAsync(CancellationToken cancellationToken)
    {
        var dataSource = DataSource;
        try
        {
            return await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (PostgresException e) when (RefusedIdleSessionTimeout(dataSource, e))
        {
            return await SwitchToBefore14(e).OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Whether <paramref name="e"/>, from opening a connection of <paramref name="dataSource"/>, is the refusal of the
    /// startup option: PostgreSQL 13 and older reject a parameter they do not know (42704), and PgBouncer one it does not
    /// track (08P01; before 1.20 the whole options parameter). Either ends the connection attempt; then call
    /// <see cref="SwitchToBefore14"/> and open a connection of the pool it returns.
    /// </summary>
    internal bool RefusedIdleSessionTimeout(NpgsqlDataSource dataSource, PostgresException e) =>
        ReferenceEquals(dataSource, _keepIdle) && e.SqlState switch
        {
            PostgresErrorCodes.UndefinedObject => e.MessageText.Contains(_idleSessionTimeout, StringComparison.Ordinal),
            PostgresErrorCodes.ProtocolViolation => e.MessageText.Contains("startup parameter", StringComparison.Ordinal),
            _ => false,
        };

    /// <summary>
    /// Makes the pool without the refused startup option the provider's, once; returns it. A server before 14 (42704) knows
    /// the others (statement_timeout, the keepalives), which it keeps; a PgBouncer (08P01) gets the caller's options only.
    /// </summary>
    /// <param name="refusal">What <see cref="RefusedIdleSessionTimeout"/> recognised.</param>
    internal NpgsqlDataSource SwitchToBefore14(PostgresException refusal)
    {
        lock (_dataSourceGate)
        {
            // Closed pools refuse the connection as they would have before (ObjectDisposedException); none is created late.
            if (_before14 is null && !_dataSourcesClosed)
            {
                _before14 = CreateDataSource(refusal.SqlState == PostgresErrorCodes.UndefinedObject ? _before14ConnectionString : _callersOptionsConnectionString);
                Volatile.Write(ref _dataSource, _before14);
            }

            return _before14 ?? _keepIdle;
        }
    }

    /// <summary>
    /// Whether the server answers: opens a connection of the pool (outside the budget; the pool keeps one for this and
    /// one for the lost-lock check) and runs <c>SELECT 1</c>. For health checks; throws what the connection throws.
    /// A cancellation ends the wait at once: Npgsql reads a new connection's startup answer without the token (until the
    /// connection string's <c>Timeout</c>, 15 s by default), so the ping then finishes alone and its connection goes back.
    /// </summary>
    /// <param name="cancellationToken">Cancels the check.</param>
    internal async Task PingAsync(CancellationToken cancellationToken)
    {
        var ping = PingCoreAsync(cancellationToken);
        try
        {
            await ping.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!ping.IsCompleted)
        {
            // Observed, so a ping that fails alone later raises no UnobservedTaskException.
            _ = ping.ContinueWith(static task => _ = task.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            throw;
        }
    }

    private async Task PingCoreAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand("SELECT 1", connection);
        await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Creates an exclusive distributed lock.</summary>
    /// <param name="name">The lock's name: its identity in every process (the advisory key is derived from it).</param>
    /// <param name="level">Its level in the global lock order, or null for unordered.</param>
    /// <returns>The lock.</returns>
    /// <exception cref="InvalidOperationException">Another name on this provider hashes to the same advisory key, or the
    /// provider has a lock object for this name at another level (or unordered where this one is ordered).</exception>
    public PostgresExclusiveLock CreateExclusiveLock(string name, int? level = null) => new(this, name, level);

    /// <summary>Creates a read-write distributed lock (shared advisory locks for readers).</summary>
    /// <param name="name">The lock's name: its identity in every process (the advisory key is derived from it).</param>
    /// <param name="level">Its level in the global lock order, or null for unordered.</param>
    /// <returns>The lock.</returns>
    /// <exception cref="InvalidOperationException">Another name on this provider hashes to the same advisory key, or the
    /// provider has a lock object for this name at another level (or unordered where this one is ordered).</exception>
    public PostgresReadWriteLock CreateReadWriteLock(string name, int? level = null) => new(this, name, level);

    /// <summary>Creates a keyed distributed lock: a class of exclusive locks, one per key.</summary>
    /// <typeparam name="TKey">The key type, such as an account id.</typeparam>
    /// <param name="name">The lock class's name: its identity in every process (the class id is derived from it).</param>
    /// <param name="level">Its level in the global lock order, or null for unordered.</param>
    /// <param name="keyMap">
    /// Maps a key to the second int4 of its advisory key (the same in every process), or null for the default mapping,
    /// which folds integers wider than int and hashes other keys (see <see cref="PostgresKeyedLock{TKey}"/>).
    /// </param>
    /// <returns>The lock.</returns>
    /// <exception cref="InvalidOperationException">Another class name on this provider hashes to the same class id, or the
    /// provider has a keyed lock for this name at another level (or unordered where this one is ordered).</exception>
    public PostgresKeyedLock<TKey> CreateKeyedLock<TKey>(string name, int? level = null, Func<TKey, int>? keyMap = null)
        where TKey : notnull => new(this, name, level, keyMap);

    /// <summary>
    /// Disposes the provider, as its container does at host shutdown: waits end, sessions close and holds are lost.
    /// </summary>
    /// <remarks>
    /// <para>In order: acquisitions made from now on throw <see cref="ObjectDisposedException"/> at once; every pending
    /// acquisition (waiting on the server, for its turn on its flow's session, or connecting, with or without a timeout)
    /// ends with an <see cref="ObjectDisposedException"/> naming the lock and the flow, and holds nothing (a grant that
    /// raced the disposal is released); every session is closed and the pool's connections with it, so the server
    /// releases the locks still held; the <see cref="PostgresLockScope.LostToken"/> of every hold still open is
    /// cancelled, and <see cref="PostgresLockScope.IsLost"/> is true. Disposing such a scope afterwards does not throw
    /// and needs no round trip: it only returns the hold's place in the budget. The lost-lock check stops.</para>
    /// <para>The call returns once the sessions are closed; the server drops a closed session's locks as its backend ends,
    /// a moment later. Disposing twice does nothing.</para>
    /// </remarks>
    /// <returns>A task that completes when the sessions and the pool are closed.</returns>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        // First, so nothing below can leave it behind: its holds are being lost (the sessions close just below), and a
        // flow asking through another provider meanwhile waits only until then.
        lock (s_liveGate)
        {
            s_live = Array.FindAll(s_live, p => !ReferenceEquals(p, this));
        }

        // Linked into every acquisition: cancels the server's waits (and waits for a session's gate or a connection).
        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await _monitor.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        foreach (var pair in _sessions)
        {
            await pair.Value.ShutDownAsync().ConfigureAwait(false);
        }

        // Closes the connections the sessions returned: their backends end, and the server releases their locks.
        NpgsqlDataSource? before14;
        lock (_dataSourceGate)
        {
            _dataSourcesClosed = true;
            before14 = _before14;
        }

        await _keepIdle.DisposeAsync().ConfigureAwait(false);
        if (before14 is not null)
        {
            await before14.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Disposes the provider synchronously: see <see cref="DisposeAsync"/>.</summary>
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    /// <summary>Whether <see cref="DisposeAsync"/> has started.</summary>
    internal bool IsDisposed => _stop.IsCancellationRequested;

    /// <summary>Cancelled when the provider is disposed; every acquisition links it into its waits.</summary>
    internal CancellationToken DisposedToken => _stop.Token;

    /// <summary>
    /// A named lock's key; a second name with the same key is refused rather than silently shared, and so is a second lock
    /// object for the name at another level (each object checks the order with its own level).
    /// </summary>
    internal AdvisoryKey RegisterName(string name, int? level)
    {
        var key = AdvisoryKey.ForName(name);
        var owner = _namedKeys.GetOrAdd(key, (name, level));
        if (!string.Equals(owner.Name, name, StringComparison.Ordinal))
        {
            throw new InvalidOperationException(
                $"The distributed locks '{owner.Name}' and '{name}' hash to the same advisory key {key}; rename one of them.");
        }

        CheckSameLevel("distributed lock", name, owner.Level, level);
        return key;
    }

    /// <summary>A keyed lock's class id; a second class with the same id is refused, so classes never share keys; so is a second level.</summary>
    internal int RegisterClass(string name, int? level)
    {
        int classId = AdvisoryKey.ClassIdOf(name);
        var owner = _classIds.GetOrAdd(classId, (name, level));
        if (!string.Equals(owner.Name, name, StringComparison.Ordinal))
        {
            throw new InvalidOperationException(
                $"The keyed distributed locks '{owner.Name}' and '{name}' hash to the same class id {(uint)classId}; rename one of them.");
        }

        CheckSameLevel("keyed distributed lock", name, owner.Level, level);
        return classId;
    }

    // Two objects for one advisory lock at two levels would let two flows take it in opposite orders with no order error.
    private static void CheckSameLevel(string what, string name, int? first, int? level)
    {
        if (first != level)
        {
            throw new InvalidOperationException(
                $"The {what} '{name}' was created on this provider {LevelText(first)}; another object for it {LevelText(level)} " +
                "would let flows take it in opposite orders without an order violation. Give every object for it the same level, " +
                "or create it once and share it.");
        }

        static string LevelText(int? level) => level is { } l ? $"at level {l.ToString(System.Globalization.CultureInfo.InvariantCulture)}" : "unordered";
    }

    /// <summary>The sessions of flows that are lost and still counted (for the budget's message).</summary>
    private int LostSessionCount()
    {
        int lost = 0;
        foreach (var session in _sessions.Values)
        {
            if (session.IsLost)
            {
                lost++;
            }
        }

        return lost;
    }

    /// <summary>
    /// The flow's session, with one more use (a hold or a wait) on it: the flow's open one, or a new one when the
    /// budget has a connection left, else the budget error naming the lock.
    /// </summary>
    internal PostgresSession RentSession(LockOwner flow, PostgresLock requester, string lockDescription)
    {
        if (_stop.IsCancellationRequested)
        {
            PostgresErrors.ThrowProviderDisposed(this, flow, lockDescription);
        }

        while (true)
        {
            if (_sessions.TryGetValue(flow, out var open))
            {
                if (open.TryAddUse())
                {
                    return open;
                }

                // Closing: its last use is returning it; make way for a new one.
                _sessions.TryRemove(new KeyValuePair<LockOwner, PostgresSession>(flow, open));
                continue;
            }

            if (Interlocked.Increment(ref _connectionsInUse) > ConnectionBudget)
            {
                Interlocked.Decrement(ref _connectionsInUse);
                PostgresErrors.ThrowBudget(requester, flow, lockDescription, ConnectionBudget, LostSessionCount());
            }

            var created = new PostgresSession(this, flow);
            if (_sessions.TryAdd(flow, created))
            {
                if (_stop.IsCancellationRequested)
                {
                    // Disposed since the check above: its shutdown may not have seen this session.
                    ReturnSession(created);
                    PostgresErrors.ThrowProviderDisposed(this, flow, lockDescription);
                }

                return created;
            }

            Interlocked.Decrement(ref _connectionsInUse);
        }
    }

    /// <summary>One use of the session ends; the last returns its connection to the pool and its place in the budget.</summary>
    internal void ReturnSession(PostgresSession session)
    {
        if (session.ReleaseUse())
        {
            _sessions.TryRemove(new KeyValuePair<LockOwner, PostgresSession>(session.Owner, session));
            try
            {
                session.Close();
            }
            finally
            {
                Interlocked.Decrement(ref _connectionsInUse);
            }
        }
    }

    internal async ValueTask ReturnSessionAsync(PostgresSession session)
    {
        if (session.ReleaseUse())
        {
            _sessions.TryRemove(new KeyValuePair<LockOwner, PostgresSession>(session.Owner, session));
            try
            {
                await session.CloseAsync().ConfigureAwait(false);
            }
            finally
            {
                Interlocked.Decrement(ref _connectionsInUse);
            }
        }
    }

    /// <summary>Remembers how to name a key in a deadlock report (bounded: unnamed keys print as the server prints them).</summary>
    internal void NoteKeyName(AdvisoryKey key, string description)
    {
        if (_keyNames.Count < 4096)
        {
            _keyNames.TryAdd(key, description);
        }
    }

    internal string NameOf(AdvisoryKey key) =>
        _keyNames.TryGetValue(key, out var name) ? $"{name} (advisory lock {key})" : $"advisory lock {key}";

    internal PostgresHold? FindHold(AdvisoryKey key, LockOwner flow) =>
        _holds.TryGetValue(new HoldKey(key, flow), out var hold) ? hold : null;

    /// <summary>
    /// <paramref name="flow"/>'s hold of <paramref name="key"/> through another provider of this process for the same
    /// server, or null. On the server both are one advisory lock, which a session of this provider would wait for while the
    /// flow's other session holds it. A lost hold does not count: its session is gone, and the lock with it. Allocates
    /// nothing and takes no lock (one reference compare when this provider is the only one).
    /// </summary>
    internal PostgresHold? FindHoldThroughAnotherProvider(AdvisoryKey key, LockOwner flow)
    {
        foreach (var other in Volatile.Read(ref s_live))
        {
            if (!ReferenceEquals(other, this) && IsSameServerAs(other) && other.FindHold(key, flow) is { IsLost: false } hold)
            {
                return hold;
            }
        }

        return null;
    }

    /// <summary>
    /// <see cref="FindHoldThroughAnotherProvider"/> among the providers that name the server by another text only: asked
    /// again once the acquisition's session connected, since a provider learns its server's identity with its first
    /// connection, which may come after the acquisition's first check. One reference compare when this provider is the only one.
    /// </summary>
    internal PostgresHold? FindHoldThroughAnotherNameOfServer(AdvisoryKey key, LockOwner flow)
    {
        foreach (var other in Volatile.Read(ref s_live))
        {
            if (!ReferenceEquals(other, this) && IsSameInstanceUnderAnotherName(other) && other.FindHold(key, flow) is { IsLost: false } hold)
            {
                return hold;
            }
        }

        return null;
    }

    /// <summary>
    /// <paramref name="flow"/>'s hold of <paramref name="key"/> through another provider of this process whose text differs
    /// and whose server is not known to be another (the server refused its identity to one of the two): perhaps the same
    /// advisory lock, which only the server can tell. One reference compare when this provider is the only one.
    /// </summary>
    internal PostgresHold? FindHoldUnderUnconfirmedName(AdvisoryKey key, LockOwner flow)
    {
        foreach (var other in Volatile.Read(ref s_live))
        {
            if (!ReferenceEquals(other, this) && (_serverInstance is null || other._serverInstance is null) &&
                !string.Equals(other.ServerIdentity, ServerIdentity, StringComparison.Ordinal) && other.FindHold(key, flow) is { IsLost: false } hold)
            {
                return hold;
            }
        }

        return null;
    }

    /// <summary>
    /// The session of this process, through this provider or another for the same server, whose backend is
    /// <paramref name="processId"/>, or null (for messages: a 40P01's sessions, a timeout's holders).
    /// </summary>
    internal PostgresSession? SessionOfBackend(int processId)
    {
        if (PostgresSession.OfBackend(ServerIdentity, processId) is { } session)
        {
            return session;
        }

        foreach (var other in Volatile.Read(ref s_live))
        {
            if (IsSameInstanceUnderAnotherName(other) && PostgresSession.OfBackend(other.ServerIdentity, processId) is { } elsewhere)
            {
                return elsewhere;
            }
        }

        return null;
    }

    /// <summary>
    /// The provider of this process through which <paramref name="flow"/> has a session with backend pid
    /// <paramref name="processId"/>, among those whose text differs and whose server is not known to be another (one of the
    /// two identities unknown), or null: probably this server under another name, for a timeout message.
    /// </summary>
    internal PostgresLockProvider? ProviderOfFlowSessionUnderAnotherName(int processId, LockOwner flow)
    {
        foreach (var other in Volatile.Read(ref s_live))
        {
            if (!string.Equals(other.ServerIdentity, ServerIdentity, StringComparison.Ordinal) &&
                (_serverInstance is null || other._serverInstance is null) &&
                PostgresSession.OfBackend(other.ServerIdentity, processId) is { } session && ReferenceEquals(session.Owner, flow))
            {
                return other;
            }
        }

        return null;
    }

    /// <summary>A hold of <paramref name="lockPrimitive"/> (any key) by <paramref name="flow"/>, or null (a snapshot, for messages).</summary>
    internal PostgresHold? FindHoldOf(PostgresLock lockPrimitive, LockOwner flow)
    {
        foreach (var pair in _holds)
        {
            if (ReferenceEquals(pair.Value.Lock, lockPrimitive) && ReferenceEquals(pair.Key.Owner, flow))
            {
                return pair.Value;
            }
        }

        return null;
    }

    internal void AddHold(PostgresHold hold) => _holds[new HoldKey(hold.Key, hold.Owner)] = hold;

    internal void RemoveHold(PostgresHold hold) =>
        _holds.TryRemove(new KeyValuePair<HoldKey, PostgresHold>(new HoldKey(hold.Key, hold.Owner), hold));

    /// <summary>
    /// The flow of this provider holding <paramref name="key"/> exclusively (a snapshot, for diagnostics). A lost hold is
    /// skipped, as <see cref="OtherHoldOf"/> skips it: its session is gone and the key may be another flow's now.
    /// </summary>
    internal LockOwner? ExclusiveHolderOf(AdvisoryKey key)
    {
        foreach (var pair in _holds)
        {
            if (pair.Key.Key == key && !pair.Value.Shared && !pair.Value.IsLost)
            {
                return pair.Key.Owner;
            }
        }

        return null;
    }

    /// <summary>
    /// The flow of this process holding <paramref name="key"/> exclusively, through this provider or another for the same
    /// server, or null: the holder at the end of a wait's edge in the deadlock detector's graph, which spans the process's
    /// providers as the wait on the server does.
    /// </summary>
    internal LockOwner? ExclusiveHolderInProcess(AdvisoryKey key)
    {
        if (ExclusiveHolderOf(key) is { } owner)
        {
            return owner;
        }

        foreach (var other in Volatile.Read(ref s_live))
        {
            if (!ReferenceEquals(other, this) && IsSameServerAs(other) && other.ExclusiveHolderOf(key) is { } elsewhere)
            {
                return elsewhere;
            }
        }

        return null;
    }

    /// <summary>A hold of <paramref name="key"/> by a flow of this provider other than <paramref name="waiter"/> (a snapshot, for messages).</summary>
    internal PostgresHold? OtherHoldOf(AdvisoryKey key, LockOwner waiter)
    {
        foreach (var pair in _holds)
        {
            if (pair.Key.Key == key && !ReferenceEquals(pair.Key.Owner, waiter) && !pair.Value.IsLost)
            {
                return pair.Value;
            }
        }

        return null;
    }

    /// <summary>
    /// A hold of <paramref name="key"/> by a flow of this process other than <paramref name="waiter"/>: through this
    /// provider, else through another provider for the same server (a snapshot, for timeout messages and events).
    /// </summary>
    internal PostgresHold? OtherHoldInProcess(AdvisoryKey key, LockOwner waiter)
    {
        if (OtherHoldOf(key, waiter) is { } hold)
        {
            return hold;
        }

        foreach (var other in Volatile.Read(ref s_live))
        {
            if (!ReferenceEquals(other, this) && IsSameServerAs(other) && other.OtherHoldOf(key, waiter) is { } elsewhere)
            {
                return elsewhere;
            }
        }

        return null;
    }

    /// <summary>This process's holds of <paramref name="lockPrimitive"/> (in one mode, or any when null), for the catalog.</summary>
    internal int CountHolds(PostgresLock lockPrimitive, bool? shared)
    {
        int count = 0;
        foreach (var pair in _holds)
        {
            if (ReferenceEquals(pair.Value.Lock, lockPrimitive) && (shared is null || pair.Value.Shared == shared))
            {
                count++;
            }
        }

        return count;
    }

    /// <summary>
    /// The lost-lock check: while locks are held, one query a tick asks <c>pg_locks</c> whether each holding session
    /// still holds its key; a lock that is gone (session terminated, connection dropped) cancels its LostToken.
    /// It runs on a connection of its own, so it never touches a held connection; only when the server has no slot for
    /// that one (53300) does it ask on the idle holding sessions' connections (<see cref="CheckOnSessionsAsync"/>).
    /// </summary>
    private async Task MonitorAsync()
    {
        using var timer = new PeriodicTimer(LostLockCheckInterval);
        var token = _stop.Token;
        var snapshot = new List<PostgresHold>();
        while (await timer.WaitForNextTickAsync(token).ConfigureAwait(false))
        {
            if (_holds.IsEmpty)
            {
                continue;
            }

            SnapshotHolds(snapshot);
            if (snapshot.Count == 0)
            {
                continue;
            }

            try
            {
                MarkLost(snapshot, await FindLostWithinTimeoutAsync(snapshot, token).ConfigureAwait(false));
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                return;
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.TooManyConnections)
            {
                // The server answered, but has no slot for the check's own connection (a full server, or a database's or
                // role's CONNECTION LIMIT): unconfirmed is not lost here. Ask on the holding sessions' own connections.
                await CheckOnSessionsAsync(snapshot, token).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                // The server cannot be asked, or gave no answer within LostLockCheckTimeout. An idle session's connection
                // does not notice that its socket died, and the server may have ended the session and given its locks to
                // another process meanwhile: a hold nobody can confirm counts as lost, so the guarded work stops instead
                // of running unprotected.
                foreach (var hold in snapshot)
                {
                    MarkLostIfRegistered(hold, LossCauses.CheckUnconfirmed, e);
                }
            }
        }
    }

    /// <summary>
    /// The check's query on its own connection, answered within <see cref="LostLockCheckTimeout"/> or a
    /// <see cref="TimeoutException"/>. Bounded here, not through the token alone: on a link gone silent, Npgsql's
    /// cancellation runs in the token's callback and waits on a cancel connection of its own (it took 30 s here, or did not
    /// end); it runs on the pool instead. Until that query ends, later checks are not sent (each would take one more of the
    /// pool's connections) and count as unanswered too: their holds are no more confirmed than its.
    /// </summary>
    private async Task<List<int>> FindLostWithinTimeoutAsync(List<PostgresHold> snapshot, CancellationToken token)
    {
        if (_unansweredCheck is { IsCompleted: false })
        {
            throw new TimeoutException("The previous lost-lock check has had no answer yet.");
        }

        var tick = CancellationTokenSource.CreateLinkedTokenSource(token);
        var query = AdvisoryCommands.FindLostAsync(DataSource, snapshot, tick.Token).AsTask();
        bool handedOff = false;
        try
        {
            return await query.WaitAsync(LostLockCheckTimeout, token).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            _unansweredCheck = query;
            _ = query.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
            handedOff = true;
            _ = Task.Run(() =>
            {
                using (tick)
                {
                    tick.Cancel();
                }
            });
            throw;
        }
        finally
        {
            if (!handedOff)
            {
                tick.Dispose();
            }
        }
    }

    /// <summary>
    /// The lost-lock check on the connections of the holding sessions themselves, for a tick whose own connection the
    /// server refused for want of a slot. A session a command of its flow is using now is left to that command: a session
    /// the server ended fails it, which marks its holds lost. One whose query fails lost its connection, and its holds.
    /// </summary>
    private async Task CheckOnSessionsAsync(List<PostgresHold> snapshot, CancellationToken token)
    {
        var bySession = new Dictionary<PostgresSession, List<PostgresHold>>();
        foreach (var hold in snapshot)
        {
            if (!bySession.TryGetValue(hold.Session, out var holds))
            {
                bySession[hold.Session] = holds = new List<PostgresHold>();
            }

            holds.Add(hold);
        }

        foreach (var (session, holds) in bySession)
        {
            if (session.TryEnterIdle() is not { } connection)
            {
                continue;
            }

            List<int>? gone = null;
            Exception? failure = null;
            try
            {
                // Bounded by the command's timeout, as an unlock is (the session's gate is held meanwhile, so its flow
                // waits on it too): a token's cancellation was seen not to end a query on a link gone silent.
                gone = await AdvisoryCommands.FindLostAsync(connection, holds, AnswerTimeoutSeconds, token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is NpgsqlException or InvalidOperationException or TimeoutException)
            {
                // Marked below: the query failed, so the session lost its connection, and its holds.
                failure = e;
            }
            finally
            {
                session.Exit();
            }

            // Outside the gate: a LostToken callback may dispose a scope of the flow synchronously, which takes it.
            if (gone is not null)
            {
                MarkLost(holds, gone);
            }
            else
            {
                foreach (var hold in holds)
                {
                    MarkLostIfRegistered(hold, LossCauses.SessionCheckFailed, failure);
                }
            }
        }
    }

    /// <summary>The holds the next check asks the server about: every registered one not lost already.</summary>
    internal void SnapshotHolds(List<PostgresHold> snapshot)
    {
        snapshot.Clear();
        foreach (var pair in _holds)
        {
            if (!pair.Value.IsLost)
            {
                snapshot.Add(pair.Value);
            }
        }
    }

    /// <summary>
    /// Marks lost the sessions of the holds in <paramref name="snapshot"/> the server no longer has (<paramref name="gone"/>),
    /// of those still registered: a hold released after the snapshot was taken is unregistered before its unlock reaches
    /// the server, so its absence there is that release, not a loss of the session, which may hold the flow's other locks.
    /// </summary>
    internal void MarkLost(List<PostgresHold> snapshot, List<int> gone)
    {
        foreach (int index in gone)
        {
            MarkLostIfRegistered(snapshot[index], LossCauses.CheckFoundGone, error: null);
        }
    }

    private void MarkLostIfRegistered(PostgresHold hold, string cause, Exception? error)
    {
        if (_holds.TryGetValue(new HoldKey(hold.Key, hold.Owner), out var current) && ReferenceEquals(current, hold))
        {
            hold.Session.MarkLost(cause, error);
        }
    }

    /// <summary>
    /// The logger of <see cref="LocksmithEventIds.DistributedLockLost"/> (category <c>Locksmith</c>): from
    /// <see cref="PostgresLockProviderOptions.LoggerFactory"/>, else the container's, set by <c>AddPostgres</c> before the
    /// provider is handed out; null for a provider made with <c>new</c> and no factory, whose losses are counted only.
    /// </summary>
    internal ILogger? Logger { get; set; }

    /// <summary>
    /// <paramref name="session"/> was found lost: each hold still registered on it is logged and counted (a hold released
    /// before is unregistered first, and its release is not a loss). Called once per session, before its token is cancelled.
    /// </summary>
    internal void ReportLost(PostgresSession session, string cause, Exception? error)
    {
        var logger = Logger;
        foreach (var pair in _holds)
        {
            if (ReferenceEquals(pair.Value.Session, session))
            {
                PostgresLostLocks.Report(pair.Value, logger, cause, error);
            }
        }
    }

    private readonly record struct HoldKey(AdvisoryKey Key, LockOwner Owner);
}
