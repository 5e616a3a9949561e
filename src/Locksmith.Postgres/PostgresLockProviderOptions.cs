using System;
using Microsoft.Extensions.Logging;

namespace Locksmith.Postgres;

/// <summary>How a <see cref="PostgresLockProvider"/> reaches PostgreSQL and how many connections its locks may hold.</summary>
public sealed class PostgresLockProviderOptions
{
    /// <summary>The Npgsql connection string of the database whose advisory locks are used.</summary>
    /// <remarks>
    /// Give the primary's single host. Advisory locks are not replicated, and a standby grants its own, so a session on
    /// another server excludes nothing on the primary: more than one host (<c>Host=a,b</c>), <c>Load Balance Hosts=true</c>
    /// and a <c>Target Session Attributes</c> other than <c>primary</c>, <c>read-write</c> or <c>any</c> are refused with an
    /// <see cref="ArgumentException"/> as the provider is made (or at <c>AddPostgres</c>), and a server in recovery as each
    /// of the provider's connections opens.
    /// </remarks>
    public string ConnectionString { get; set; } = string.Empty;

    /// <summary>
    /// The most connections the provider's locks may hold at once: each async flow that holds or waits for distributed
    /// locks holds one connection (its session, which holds all of that flow's locks). An acquisition that needs a
    /// connection beyond it throws <see cref="PostgresConnectionBudgetException"/> at once instead of waiting for the
    /// pool. Default 16.
    /// </summary>
    public int ConnectionBudget { get; set; } = 16;

    /// <summary>
    /// The timeout of acquisitions that give none, or null to use <see cref="LocksmithPolicy.DefaultTimeout"/> like the
    /// in-process locks.
    /// </summary>
    public TimeSpan? DefaultTimeout { get; set; }

    /// <summary>
    /// How often the provider asks the server whether the sessions holding its locks still hold them (one query for
    /// all held locks, only while some are held); a lock found gone cancels its scope's <c>LostToken</c>. Default 1 s.
    /// </summary>
    public TimeSpan LostLockCheckInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How long the lost-lock check waits for the server's answer. A link that went silent (a dead route: no reset, no
    /// error) answers nothing, and a query on an open connection would wait for good; a check that gets no answer in time
    /// counts the holds it could not confirm as lost, as one that cannot reach the server. The unanswered query is then
    /// cancelled in the background (on a silent link Npgsql's cancel waits on a connection of its own), and each check due
    /// meanwhile counts the holds as unconfirmed too rather than take another connection. Default 30 s.
    /// </summary>
    /// <remarks>It also bounds each unlock (rounded up to whole seconds, Npgsql's command timeout), and is the margin a
    /// timed wait's statement gets past its wait: one that gets no answer (or an unlock that fails) marks its session lost. Releasing a hold found lost sends no unlock (the link may be silent): its
    /// session's connection is discarded instead of going back to the pool, which ends the server's session and whatever
    /// it still held.</remarks>
    public TimeSpan LostLockCheckTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Where a hold lost with its session is logged: one <c>DistributedLockLost</c> warning (event id 14018, category
    /// <c>Locksmith</c>) per lost hold. Null (the default) for a provider made with <c>new</c> logs nothing, and a loss is
    /// only counted (<c>locksmith.lock.losses</c>); <c>AddPostgres</c> uses the container's logger factory unless this names one.
    /// </summary>
    /// <remarks>The provider creates its logger once, as it is made; the factory is not disposed by the provider.</remarks>
    public ILoggerFactory? LoggerFactory { get; set; }
}
