using System;
using System.Data;
using System.Diagnostics;
using System.Threading;
using System.Threading.Tasks;
using Npgsql;

namespace Locksmith.Postgres;

/// <summary>
/// One held advisory lock: the connection whose session holds it, the flow that owns it, and the token cancelled if
/// the session is lost. A new one per acquisition (the round trips dwarf it), so a released hold is never reused and
/// a second release is always seen.
/// </summary>
internal sealed class PostgresHold
{
    private readonly CancellationTokenSource _lost = new();
    private int _released;

    public PostgresHold(PostgresLock lockPrimitive, AdvisoryKey key, string description, bool shared, NpgsqlConnection connection, LockOwner owner)
    {
        Lock = lockPrimitive;
        Key = key;
        Description = description;
        Shared = shared;
        Connection = connection;
        Owner = owner;
        ProcessId = connection.ProcessID;
        Start = Stopwatch.GetTimestamp();
        connection.StateChange += OnStateChange;
    }

    public PostgresLock Lock { get; }

    public AdvisoryKey Key { get; }

    /// <summary>The lock (and key) as messages name it.</summary>
    public string Description { get; }

    public bool Shared { get; }

    public NpgsqlConnection Connection { get; }

    public LockOwner Owner { get; }

    /// <summary>The server process (backend pid) of the holding session.</summary>
    public int ProcessId { get; }

    public long Start { get; }

    public CancellationToken LostToken => _lost.Token;

    public bool IsLost => _lost.IsCancellationRequested;

    public bool ConnectionIsBroken => (Connection.FullState & (ConnectionState.Broken | ConnectionState.Closed)) != 0;

    public string ModeTag => Lock.ModeTagOf(Shared);

    /// <summary>The session is gone while the lock was held: tell whoever watches the token.</summary>
    public void MarkLost()
    {
        if (Volatile.Read(ref _released) != 0 || _lost.IsCancellationRequested)
        {
            return;
        }

        try
        {
            _lost.Cancel();
        }
        catch (AggregateException)
        {
            // A callback of the user's threw; the token is cancelled all the same, and the check goes on.
        }
    }

    /// <summary>Releases synchronously: the bookkeeping, then the unlock round trip (for <c>using</c>, which generated wrappers use).</summary>
    public void Release()
    {
        Unregister();
        try
        {
            AdvisoryCommands.ReleaseAsync(Connection, Key, Shared, async: false).AsTask().GetAwaiter().GetResult();
        }
        catch (Exception e) when (e is NpgsqlException or InvalidOperationException or TimeoutException)
        {
            // The session is gone, and the server released the lock with it.
        }
        finally
        {
            Close();
        }
    }

    /// <summary>
    /// Releases: the bookkeeping synchronously, in the disposing flow's frame (so its ownership record is set aside
    /// there), then the unlock round trip.
    /// </summary>
    public ValueTask ReleaseAsync()
    {
        Unregister();
        return UnlockAsync();
    }

    private async ValueTask UnlockAsync()
    {
        try
        {
            await AdvisoryCommands.ReleaseAsync(Connection, Key, Shared, async: true).ConfigureAwait(false);
        }
        catch (Exception e) when (e is NpgsqlException or InvalidOperationException or TimeoutException)
        {
            // The session is gone, and the server released the lock with it.
        }
        finally
        {
            await Connection.DisposeAsync().ConfigureAwait(false);
            Lock.Provider.ReturnConnection();
        }
    }

    private void Unregister()
    {
        if (Interlocked.Exchange(ref _released, 1) != 0)
        {
            PostgresErrors.ThrowReleasedTwice(this);
        }

        Connection.StateChange -= OnStateChange;
        Lock.Provider.RemoveHold(this);
        if (Lock.IsOrdered)
        {
            FlowOrder.Remove(Owner, Lock);
        }

        FlowOwnership.Released(Owner);
        LocksmithMetrics.RecordHold(Lock, ModeTag, Start);
    }

    private void Close()
    {
        Connection.Dispose();
        Lock.Provider.ReturnConnection();
    }

    private void OnStateChange(object sender, StateChangeEventArgs e)
    {
        if (e.CurrentState is ConnectionState.Closed or ConnectionState.Broken)
        {
            MarkLost();
        }
    }
}
