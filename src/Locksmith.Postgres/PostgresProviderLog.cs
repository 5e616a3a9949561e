using System;
using Locksmith.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Locksmith.Postgres;

/// <summary>
/// The provider's own log lines besides lost locks, under the hosting logger's category (<see cref="PostgresLostLocks.Category"/>),
/// whose ids are tabled with its own. Written on a new physical connection's opening, never on an acquisition's path once
/// the pool holds it.
/// </summary>
internal static partial class PostgresProviderLog
{
    /// <summary>
    /// Logs <see cref="LocksmithEventIds.StandbyCheckRefused"/>: the server would not say whether it is in recovery, so the
    /// provider cannot refuse a standby. A sink that throws loses its line, never the connection's opening.
    /// </summary>
    public static void StandbyCheckRefused(ILogger? logger, NpgsqlConnection connection, string function, PostgresException error)
    {
        if (logger is null)
        {
            return;
        }

        try
        {
            CheckRefused(logger, $"{connection.Host}:{connection.Port}/{connection.Database}", function, error.SqlState, error.MessageText, error);
        }
        catch (Exception)
        {
            // As PostgresLostLocks: the line is lost, the opening goes on.
        }
    }

    [LoggerMessage(EventId = LocksmithEventIds.StandbyCheckRefused, EventName = "StandbyCheckRefused", Level = LogLevel.Warning,
        Message = "The PostgreSQL server of the distributed locks ({Server}) refused to say whether it is in recovery ({Function}: " +
                  "{SqlState} {ServerMessage}), so the provider cannot refuse a standby, whose advisory locks exclude nothing on the " +
                  "primary, and stops asking. Grant EXECUTE on {Function} to the provider's role (PostgreSQL grants it to PUBLIC " +
                  "unless revoked), or make sure the connection string leads only to the primary")]
    private static partial void CheckRefused(ILogger logger, string server, string function, string sqlState, string serverMessage, Exception error);
}
