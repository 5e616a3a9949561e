using System;
using System.Diagnostics;
using System.Threading;
using System.Threading.Tasks;
using Npgsql;

namespace Locksmith.Postgres;

/// <summary>
/// One held advisory lock: the flow's session that holds it, and what messages and metrics need. A new one per
/// acquisition (the round trips dwarf it), so a released hold is never reused and a second release is always seen.
/// </summary>
internal sealed class PostgresHold
{
    private int _released;

    public PostgresHold(PostgresLock lockPrimitive, AdvisoryKey key, string description, bool shared, PostgresSession session)
    {
        Lock = lockPrimitive;
        Key = key;
        Description = description;
        Shared = shared;
        Session = session;
        Start = Stopwatch.GetTimestamp();
    }

    public PostgresLock Lock { get; }

    public AdvisoryKey Key { get; }

    /// <summary>The lock (and key) as messages name it.</summary>
    public string Description { get; }

    public bool Shared { get; }

    public PostgresSession Session { get; }

    public LockOwner Owner => Session.Owner;

    /// <summary>The server process (backend pid) of the holding session.</summary>
    public int ProcessId => Session.ProcessId;

    public long Start { get; }

    public CancellationToken LostToken => Session.LostToken;

    public bool IsLost => Session.IsLost;

    public string ModeTag => Lock.ModeTagOf(Shared);

    /// <summary>Releases synchronously: the bookkeeping, then the unlock round trip (for <c>using</c>, which generated wrappers use).</summary>
    /// <remarks>
    /// A lost session gets no unlock: its link may be silent, where the command would wait for good; the session's
    /// connection is discarded instead when its last use ends (<see cref="PostgresSession.Close"/>), which ends the
    /// server's session and whatever it still held. An unlock is bounded by the provider's <c>LostLockCheckTimeout</c>
    /// (in whole seconds) for the same reason; one that fails marks the session lost.
    /// </remarks>
    public void Release()
    {
        Claim();
        ReleaseClaimed();
    }

    /// <summary>
    /// Throws when the hold was released already (its scope disposed twice); else the caller releases it with
    /// <see cref="ReleaseClaimed"/> or <see cref="ReleaseClaimedAsync"/>. A set claims all its holds first, so a second
    /// disposal is refused before anything is touched.
    /// </summary>
    public void Claim()
    {
        if (!TryClaim())
        {
            PostgresErrors.ThrowReleasedTwice(this);
        }
    }

    /// <summary><see cref="Claim"/> that says false instead of throwing, for a set, which names itself in the error.</summary>
    public bool TryClaim() => Interlocked.Exchange(ref _released, 1) == 0;

    /// <summary><see cref="Release"/> of a claimed hold: the unlock and the session's return happen whatever the bookkeeping threw.</summary>
    public void ReleaseClaimed()
    {
        var errors = default(ReleaseErrors);
        if (Unregister() is { } recordError)
        {
            errors.Add(recordError);
        }

        try
        {
            Unlock();
        }
        catch (Exception e)
        {
            errors.Add(e);
        }

        try
        {
            Lock.Provider.ReturnSession(Session);
        }
        catch (Exception e)
        {
            errors.Add(e);
        }

        errors.ThrowIfAny();
    }

    private void Unlock()
    {
        try
        {
            var connection = Session.Enter();
            try
            {
                if (connection is not null && !Session.IsBroken && !Session.IsLost)
                {
                    GiveBackAsync(connection, async: false).AsTask().GetAwaiter().GetResult();
                }
            }
            finally
            {
                Session.Exit();
            }
        }
        catch (Exception e) when (e is NpgsqlException or InvalidOperationException or TimeoutException)
        {
            // The session is gone (and the server released the lock with it), or the unlock had no answer within
            // LostLockCheckTimeout: lost either way, so its connection is discarded, never pooled with the lock on it.
            Session.MarkLost(LossCauses.UnlockFailed, e);
        }
    }

    /// <summary>
    /// For tests: called on the session's connection (under its gate) before a give-back's first statement (a release's
    /// unlock, or an ended wait's check for a grant that raced it), with the lock's description and whether the call is
    /// async. A test makes the server refuse a statement of the live session there, and its error stands for the
    /// give-back's: a server error that no timing makes the give-back itself meet reliably.
    /// </summary>
    internal static Func<string, NpgsqlConnection, bool, ValueTask>? BeforeUnlockForTest;

    /// <summary>
    /// The unlock round trip (the caller has the session's gate), sent once more if the server refused it while the session
    /// lives on; what it throws then marks the session lost.
    /// </summary>
    private async ValueTask GiveBackAsync(NpgsqlConnection connection, bool async)
    {
        int answerSeconds = Lock.Provider.AnswerTimeoutSeconds;
        try
        {
            if (BeforeUnlockForTest is { } before)
            {
                await before(Description, connection, async).ConfigureAwait(false);
            }

            await AdvisoryCommands.ReleaseAsync(connection, Key, Shared, async, answerSeconds).ConfigureAwait(false);
        }
        catch (PostgresException) when (!Session.IsBroken)
        {
            // An ERROR, not the end of the session (an administrator's cancel of the statement, out of memory): its other
            // holds are still the server's, and counting the session lost would fire their LostToken and keep this key held
            // until they are released. Sent again, the unlock gives the key back, or says it was not held: a session holds a
            // key once (the flow's recursion is refused before the server sees it), so a second unlock takes nothing else.
            await AdvisoryCommands.ReleaseAsync(connection, Key, Shared, async, answerSeconds).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Releases: the bookkeeping synchronously, in the disposing flow's frame (so its ownership record is set aside
    /// there), then the unlock round trip. What the bookkeeping threw (a metrics listener's) comes from the task, once the
    /// lock is unlocked and the session returned.
    /// </summary>
    public ValueTask ReleaseAsync()
    {
        Claim();
        return ReleaseClaimedAsync();
    }

    /// <summary><see cref="ReleaseAsync"/> of a claimed hold; its error (the bookkeeping's too) comes from the task, after the unlock and the return.</summary>
    public ValueTask ReleaseClaimedAsync() => UnlockAndReturnAsync(Unregister());

    // One state machine for the unlock and the return: each is an allocation once the round trip goes async.
    private async ValueTask UnlockAndReturnAsync(Exception? recordError)
    {
        var errors = default(ReleaseErrors);
        if (recordError is not null)
        {
            errors.Add(recordError);
        }

        try
        {
            var connection = await Session.EnterForReleaseAsync().ConfigureAwait(false);
            try
            {
                if (connection is not null && !Session.IsBroken && !Session.IsLost)
                {
                    await GiveBackAsync(connection, async: true).ConfigureAwait(false);
                }
            }
            finally
            {
                Session.Exit();
            }
        }
        catch (Exception e) when (e is NpgsqlException or InvalidOperationException or TimeoutException)
        {
            // The session is gone (and the server released the lock with it), or the unlock had no answer within
            // LostLockCheckTimeout: lost either way, so its connection is discarded, never pooled with the lock on it.
            Session.MarkLost(LossCauses.UnlockFailed, e);
        }
        catch (Exception e)
        {
            errors.Add(e);
        }

        try
        {
            await Lock.Provider.ReturnSessionAsync(Session).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            errors.Add(e);
        }

        errors.ThrowIfAny();
    }

    /// <summary>
    /// Takes the hold out of the provider's, the order's and the flow's books; returns what the hold's metric threw (a
    /// listener of the application's), which the release throws once the lock is unlocked and the session returned.
    /// </summary>
    private Exception? Unregister()
    {
        Lock.Provider.RemoveHold(this);
        if (Lock.IsOrdered)
        {
            // A keyed lock is one entry per key the flow holds.
            FlowOrder.RemoveOneOf(Owner, Lock);
        }

        FlowOwnership.Released(Owner);
        try
        {
            LocksmithMetrics.RecordHold(Lock, ModeTag, Start);
            return null;
        }
        catch (Exception e)
        {
            return e;
        }
    }
}
