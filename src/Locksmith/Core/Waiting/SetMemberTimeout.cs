using System;
using System.Diagnostics;
using System.Threading.Tasks;

namespace Locksmith;

/// <summary>
/// What a <c>LockSet</c>'s wait on its busy member saw as it timed out. A set's timeout is the set's: the member's
/// event gives the set's whole wait (since the set began, across its retries), and the set's exception gives that same
/// figure, never the member's last wait alone nor a clock read again after the event's handler ran.
/// </summary>
/// <remarks>
/// Async: the set reads the wait's result through <see cref="TakeResult"/>, which arms the calling thread for that read
/// only; the member's timed-out wait (<see cref="AsyncWaits.Complete"/>, which runs inside that read) records there
/// the holder and a semaphore's free permits its event named, and the wait it gave. Kept per read, on the reading
/// thread, not on the flow's record: tasks a flow starts share its record, so two sets of one flow waiting at once took
/// each other's reports there. A set read inside a timeout handler (a nested read) saves and restores the outer one.
/// <para>
/// Sync: the set arms its thread around its wait on the member (<see cref="ArmSync"/>); the member's wait claims the arm
/// as it begins (<see cref="ClaimSync"/>) and, as it times out (<see cref="BlockedWait"/>), takes the set's start once,
/// before its event's handler runs, so a wait in that handler, or in a listener the wait calls, gives its own length.
/// The holder is <see cref="ReportedTimeout"/>'s.
/// </para>
/// </remarks>
internal static class SetMemberTimeout
{
    // A thread static is t_-prefixed; .editorconfig lists the files that have one, which this one is not (yet) among.
#pragma warning disable IDE1006
    [ThreadStatic]
    private static Report t_report;

    [ThreadStatic]
    private static SyncWait t_syncWait;
#pragma warning restore IDE1006

    /// <summary>Whether the wait being read is a set's wait of <paramref name="flow"/> on <paramref name="member"/>, not yet recorded.</summary>
    public static bool IsArmedFor(LockOwner flow, LockPrimitive member) =>
        ReferenceEquals(t_report.Member, member) && ReferenceEquals(t_report.Flow, flow) && !t_report.TimedOut;

    /// <summary>The member's wait timed out: records what its event names; returns the wait it gives, the set's whole wait.</summary>
    public static TimeSpan Record(LockOwner flow, ReportedHolder holder, int gaveUpState, TimeSpan own)
    {
        if (!ReferenceEquals(t_report.Flow, flow))
        {
            return own;
        }

        var waited = Stopwatch.GetElapsedTime(t_report.SetStart);
        t_report = t_report with { TimedOut = true, Holder = holder, GaveUpState = gaveUpState, Waited = waited };
        return waited;
    }

    /// <summary>
    /// Reads the result of <paramref name="wait"/>, a completed wait of <paramref name="flow"/>'s set (begun at
    /// <paramref name="setStart"/>) on <paramref name="member"/>; <paramref name="reported"/> says whether it timed out
    /// and recorded what its event named and the wait it gave.
    /// </summary>
    public static AsyncLockScope TakeResult(
        in ValueTask<AsyncLockScope> wait, LockOwner flow, LockPrimitive member, long setStart,
        out bool reported, out ReportedHolder holder, out int gaveUpState, out TimeSpan waited)
    {
        var outer = t_report;
        t_report = new Report(member, flow, setStart, TimedOut: false, Holder: default, GaveUpState: 0, Waited: default);
        try
        {
            var scope = wait.Result;
            reported = t_report.TimedOut;
            holder = t_report.Holder;
            gaveUpState = t_report.GaveUpState;
            waited = t_report.Waited;
            return scope;
        }
        finally
        {
            t_report = outer;
        }
    }

    /// <summary>
    /// Arms the calling thread for a sync set's wait on <paramref name="member"/>, the set begun at
    /// <paramref name="setStart"/>; returns the arm it replaces (a set inside a timeout handler), for <see cref="DisarmSync"/>.
    /// </summary>
    public static SyncWait ArmSync(LockPrimitive member, long setStart)
    {
        var outer = t_syncWait;
        t_syncWait = new SyncWait(member, setStart, TimedOut: false, Waited: default, Claimed: false);
        return outer;
    }

    /// <summary>Ends the set's wait: whether it timed out, and the wait its event gave; restores <paramref name="outer"/>.</summary>
    public static bool DisarmSync(SyncWait outer, out TimeSpan waited)
    {
        var mine = t_syncWait;
        t_syncWait = outer;
        waited = mine.Waited;
        return mine.TimedOut;
    }

    /// <summary>
    /// A thread's blocked wait on <paramref name="lockPrimitive"/> begins: whether it is the sync set's wait on that
    /// member, the first to begin while the set is armed for it. Taken before the wait runs any user code, so a wait in
    /// that code on the same member (a contention or wait listener, a long-wait or timeout handler, on this thread) is
    /// its own wait, and its timeout cannot take the set's start in the set's place.
    /// </summary>
    public static bool ClaimSync(LockPrimitive lockPrimitive)
    {
        if (!ReferenceEquals(t_syncWait.Member, lockPrimitive) || t_syncWait.Claimed)
        {
            return false;
        }

        t_syncWait = t_syncWait with { Claimed = true };
        return true;
    }

    /// <summary>
    /// The set's wait on its member (<see cref="ClaimSync"/>) timed out: the wait its event gives, the set's whole wait,
    /// taken once; <paramref name="own"/> if a set nested in a handler left no arm for it.
    /// </summary>
    public static TimeSpan SyncWaited(LockPrimitive lockPrimitive, TimeSpan own)
    {
        if (!ReferenceEquals(t_syncWait.Member, lockPrimitive))
        {
            return own;
        }

        var waited = Stopwatch.GetElapsedTime(t_syncWait.SetStart);
        t_syncWait = new SyncWait(null, 0, TimedOut: true, Waited: waited, Claimed: true);
        return waited;
    }

    /// <param name="Member">The member whose wait is being read.</param>
    /// <param name="Flow">The set's flow.</param>
    /// <param name="SetStart">When the set began (a <see cref="Stopwatch"/> timestamp).</param>
    /// <param name="TimedOut">Whether the wait timed out and filled in the fields after it.</param>
    /// <param name="Holder">The holder the member's timeout event named.</param>
    /// <param name="GaveUpState">A semaphore's <see cref="SemaphoreGaveUp"/>, packed (0 for other locks).</param>
    /// <param name="Waited">The wait the event gave: the set's whole wait.</param>
    private readonly record struct Report(
        LockPrimitive? Member, LockOwner? Flow, long SetStart, bool TimedOut, ReportedHolder Holder, int GaveUpState, TimeSpan Waited);

    /// <summary>A sync set's wait on a member, armed on the set's thread.</summary>
    /// <param name="Member">The member the set waits on; null once its wait took the set's start.</param>
    /// <param name="SetStart">When the set began (a <see cref="Stopwatch"/> timestamp).</param>
    /// <param name="TimedOut">Whether the member's wait timed out and gave <paramref name="Waited"/>.</param>
    /// <param name="Waited">The wait the member's event gave: the set's whole wait.</param>
    /// <param name="Claimed">Whether the set's own wait on the member began (<see cref="ClaimSync"/>).</param>
    internal readonly record struct SyncWait(LockPrimitive? Member, long SetStart, bool TimedOut, TimeSpan Waited, bool Claimed);
}
