using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;
using Locksmith.Hosting;
using Microsoft.Extensions.Logging;

namespace Locksmith.Postgres;

/// <summary>
/// What a lost hold leaves behind besides its cancelled <c>LostToken</c>: one warning line (<see cref="LocksmithEventIds.DistributedLockLost"/>,
/// category <c>Locksmith</c>) and one count of <c>locksmith.lock.losses</c> per hold. Runs only when a session is lost,
/// never on an acquisition's or a release's path.
/// </summary>
/// <remarks>
/// One line per hold, not one per session listing its locks: each line is one count of the counter, and carries its lock
/// as a field (<c>LockName</c>) that an alert filters on without parsing a list; a session seldom holds more than a few.
/// </remarks>
internal static partial class PostgresLostLocks
{
    /// <summary>The log category, the hosting logger's: the ids are tabled with its own.</summary>
    public const string Category = "Locksmith";

    public const string InstrumentName = "locksmith.lock.losses";

    // Created on a meter's first loss, on the meter of the lost lock's instruments (a container's, or the process-wide
    // one): a listener enabling the Locksmith meter's instruments is told as it is created, before its first count.
    private static readonly ConditionalWeakTable<Meter, Counter<long>> s_counters = new();

    /// <summary>Logs and counts <paramref name="hold"/>, lost with its session; a sink or listener that throws loses its own line or count only.</summary>
    public static void Report(PostgresHold hold, ILogger? logger, string cause, Exception? error)
    {
        try
        {
            Count(hold);
        }
        catch (Exception)
        {
            // A listener's failure is its own: the loss is already the holder's to handle, through LostToken.
        }

        if (logger is null)
        {
            return;
        }

        try
        {
            var lockPrimitive = hold.Lock;
            double heldMs = Math.Round(Stopwatch.GetElapsedTime(hold.Start).TotalMilliseconds, 1, MidpointRounding.AwayFromZero);
            Lost(logger, lockPrimitive.Name, hold.Description, lockPrimitive.ModeOf(hold.Shared), hold.Key.ToString(), hold.Owner.Describe(),
                heldMs, cause, lockPrimitive.Provider.ServerIdentity, hold.ProcessId, error);
        }
        catch (Exception)
        {
            // As above: a log sink that throws loses its line, never the lock machinery's state.
        }
    }

    private static void Count(PostgresHold hold)
    {
        var instruments = hold.Lock.Instruments ?? LocksmithMetrics.Shared;
        if (!LocksmithMetrics.IsSupported || ReferenceEquals(instruments, LocksmithInstruments.Disabled))
        {
            return;
        }

        var counter = s_counters.GetValue(instruments.Meter, static meter => meter.CreateCounter<long>(
            InstrumentName, "{loss}", "Distributed locks lost while held: their PostgreSQL session ended, or could not be confirmed, before their release."));
        if (counter.Enabled)
        {
            counter.Add(1,
                new KeyValuePair<string, object?>("lock.name", hold.Lock.Name),
                new KeyValuePair<string, object?>("lock.kind", hold.Lock.KindTag),
                new KeyValuePair<string, object?>("lock.mode", hold.ModeTag));
        }
    }

    // LockName is a field of the state, not of the text (which names the lock with its key, as messages do), so an alert
    // filters on it: the generator keeps a parameter the template leaves out under the parameter's own name, hence its capital.
#pragma warning disable SYSLIB1015
    [LoggerMessage(EventId = LocksmithEventIds.DistributedLockLost, EventName = "DistributedLockLost", Level = LogLevel.Warning,
        Message = "Lost distributed lock {LockDescription}: {Mode} hold of advisory lock {Key} by {Owner}, held {HeldMs} ms; {Cause}. Its " +
                  "PostgreSQL session on {Server} (backend pid {ProcessId}) is given up, another process may take the lock, and the scope's LostToken is cancelled")]
    private static partial void Lost(
        ILogger logger, string LockName, string lockDescription, LockMode mode, string key, string owner, double heldMs, string cause, string server, int processId, Exception? error);
#pragma warning restore SYSLIB1015
}

/// <summary>Why a session counts as lost, as the <see cref="LocksmithEventIds.DistributedLockLost"/> line says it (its <c>Cause</c>).</summary>
internal static class LossCauses
{
    public const string CheckFoundGone =
        "the lost-lock check found it gone from the server (the session's backend was terminated, or its connection dropped)";

    public const string CheckUnconfirmed =
        "the lost-lock check could not confirm it (the server could not be asked, or gave no answer within LostLockCheckTimeout)";

    public const string SessionCheckFailed = "the lost-lock check on the session's own connection failed";

    public const string ConnectionBroke =
        "the session's connection broke under a command of the flow (the backend was terminated, or the connection dropped)";

    public const string UnlockFailed =
        "a release of another lock on the session failed, or had no answer within LostLockCheckTimeout";

    public const string WaitUnanswered =
        "a wait on the session, or the give-back of a grant that raced its end, failed or had no answer within LostLockCheckTimeout";

    public const string ProbeGiveBackFailed = "a lock set's give-back of its probe key on the session failed";
}
