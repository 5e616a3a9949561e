using System;
using Npgsql;

namespace Locksmith.Postgres;

/// <summary>
/// Keeps every session of a provider on one server, the primary. Advisory locks live in one server's memory: they are
/// not replicated, and a standby takes them as readily as a primary (PostgreSQL's hot standby documentation: "Advisory
/// locks work normally in recovery"), so a session on another host or on a standby excludes nothing on the primary, and
/// two processes would both "hold" the lock. The connection string's settings that choose among hosts are refused as the
/// provider is made (<see cref="RefuseAnotherServer"/>); a server in recovery is refused as each new physical connection
/// opens (the provider's connection initializer), which covers what no setting shows: a name whose addresses lead to
/// several servers, a proxy in front of them, or a primary since demoted.
/// </summary>
internal static class PrimaryServer
{
    /// <summary>The values of <c>Target Session Attributes</c> that never accept a standby (any: the default, one host).</summary>
    private static bool AcceptsOnlyPrimary(string value) => value is "any" or "primary" or "read-write";

    /// <summary>
    /// Refuses a connection string that can put sessions on another server than the primary: more than one host, load
    /// balancing, or a <c>Target Session Attributes</c> that accepts a standby. Each message names the setting, the value it
    /// got and what to give instead.
    /// </summary>
    /// <exception cref="ArgumentException">One of the settings above.</exception>
    public static void RefuseAnotherServer(NpgsqlConnectionStringBuilder settings, string parameterName)
    {
        const string Why = "advisory locks are held in one server's memory and are not replicated, so sessions on another server " +
                           "(another host, or a standby, which takes advisory locks too) exclude nothing on the primary, and two " +
                           "processes could hold the same lock at once";
        if (settings.Host is { } host && host.Contains(',', StringComparison.Ordinal))
        {
            throw new ArgumentException(
                $"PostgresLockProviderOptions.ConnectionString has Host = '{host}', more than one host: Npgsql may open the provider's " +
                $"sessions on any of them (after a failure, some on one and some on another), and {Why}. Give the primary's single " +
                "host (Host=primary.example;Port=5432), or one address that always leads to the current primary (a virtual IP or " +
                "a DNS name your failover moves).",
                parameterName);
        }

        if (settings.LoadBalanceHosts)
        {
            throw new ArgumentException(
                "PostgresLockProviderOptions.ConnectionString has Load Balance Hosts = true, which asks Npgsql to spread sessions over " +
                $"the hosts of a multi-host string (with one host it does nothing, so it only says the string was meant for several), and {Why}. " +
                "Remove Load Balance Hosts and give the primary's single host.",
                parameterName);
        }

        if (settings.TargetSessionAttributes is { } target && !AcceptsOnlyPrimary(target))
        {
            string accepts = target == "prefer-primary" ? "falls back to a standby when no primary answers" : "asks for a standby or a read-only session";
            throw new ArgumentException(
                $"PostgresLockProviderOptions.ConnectionString has Target Session Attributes = {target}, which {accepts}, and {Why}. " +
                "Remove it (or give primary or read-write) and give the primary's single host; the provider also refuses a server in " +
                "recovery as each of its connections opens.",
                parameterName);
        }
    }

    /// <summary>
    /// The connection string the provider's pool is built from: without <c>Target Session Attributes</c>, which
    /// <see cref="RefuseAnotherServer"/> left at most primary or read-write. Npgsql refuses any value but <c>any</c> with a
    /// single host (NotSupportedException as the pool is built), and the provider checks what it asks itself, on every
    /// new physical connection (a hot standby is read-only too, so read-write asks no more of a server than primary here).
    /// </summary>
    public static void DropTargetSessionAttributes(NpgsqlConnectionStringBuilder settings) => settings.TargetSessionAttributes = null;

    /// <summary><c>pg_catalog.pg_is_in_recovery()</c>: true on a standby (and on a server still replaying its WAL).</summary>
    public const string InRecoveryFunction = "pg_catalog.pg_is_in_recovery()";

    /// <summary>
    /// The refusal of a new connection whose server is in recovery: an <see cref="NpgsqlException"/>, as for any
    /// connection that cannot be used, not transient (a standby stays one until promoted), naming the host and the fix.
    /// <paramref name="answeredFrom"/> is the address the server says it answered from (null over a Unix-domain socket):
    /// the host as written does not say which server a name or a proxy led to.
    /// </summary>
    public static NpgsqlException StandbyRefused(NpgsqlConnection connection, string? answeredFrom)
    {
        string where = answeredFrom is null ? string.Empty : $"; it answered from {answeredFrom}";
        return new StandbyRefusedException(
            $"The PostgreSQL server at {connection.Host}:{connection.Port} (database {connection.Database}) is in recovery, a standby " +
            $"(pg_is_in_recovery() is true{where}): advisory locks taken on a standby are its own and exclude nothing on the primary, so the " +
            "provider opens no session there. Nothing is held. Give PostgresLockProviderOptions.ConnectionString the primary's single " +
            "host (or an address that always leads to the current primary), or promote this server.");
    }

    /// <summary>Whether <paramref name="error"/> is a <see cref="StandbyRefused"/> refusal.</summary>
    public static bool IsStandbyRefusal(NpgsqlException error) => error is StandbyRefusedException;

    // Its own type, so an acquisition's and a health check's message can keep the refusal as it is rather than add advice
    // about a server that does not answer (which this one does); callers see an NpgsqlException like any other.
    private sealed class StandbyRefusedException(string message) : NpgsqlException(message);
}
