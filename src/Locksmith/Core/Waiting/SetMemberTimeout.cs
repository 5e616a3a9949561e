using System;
using System.Threading.Tasks;

namespace Locksmith;

/// <summary>
/// What an async <c>LockSet</c>'s wait on its busy member saw as it timed out: the holder its event named and a
/// semaphore's free permits then. The set reads the wait's result through <see cref="TakeResult"/>, which arms the
/// calling thread for that read only; the member's timed-out wait (<see cref="AsyncWaits.Complete"/>, which runs inside
/// that read) records there what its event named, and the set's exception uses it, so it says what the member's event
/// said, never what is read again after the event's handler ran.
/// </summary>
/// <remarks>
/// Kept per read, on the reading thread, not on the flow's record: tasks a flow starts share its record, so two sets of
/// one flow waiting at once took each other's reports there. The read is synchronous, so the thread is the wait's; a set
/// read inside a timeout handler (a nested read) saves and restores the outer one.
/// </remarks>
internal static class SetMemberTimeout
{
    [ThreadStatic]
    private static Report t_report;

    /// <summary>Whether the wait being read is a set's wait of <paramref name="flow"/> on <paramref name="member"/>, not yet recorded.</summary>
    public static bool IsArmedFor(LockOwner flow, LockPrimitive member) =>
        ReferenceEquals(t_report.Member, member) && ReferenceEquals(t_report.Flow, flow) && !t_report.TimedOut;

    /// <summary>The member's wait timed out: records what its event named.</summary>
    public static void Record(LockOwner flow, ReportedHolder holder, int gaveUpState)
    {
        if (ReferenceEquals(t_report.Flow, flow))
        {
            t_report = t_report with { TimedOut = true, Holder = holder, GaveUpState = gaveUpState };
        }
    }

    /// <summary>
    /// Reads the result of <paramref name="wait"/>, a completed wait of <paramref name="flow"/>'s set on
    /// <paramref name="member"/>; <paramref name="reported"/> says whether it timed out and recorded what its event named.
    /// </summary>
    public static AsyncLockScope TakeResult(
        in ValueTask<AsyncLockScope> wait, LockOwner flow, LockPrimitive member, out bool reported, out ReportedHolder holder, out int gaveUpState)
    {
        var outer = t_report;
        t_report = new Report(member, flow, TimedOut: false, Holder: default, GaveUpState: 0);
        try
        {
            var scope = wait.Result;
            reported = t_report.TimedOut;
            holder = t_report.Holder;
            gaveUpState = t_report.GaveUpState;
            return scope;
        }
        finally
        {
            t_report = outer;
        }
    }

    /// <param name="Member">The member whose wait is being read.</param>
    /// <param name="Flow">The set's flow.</param>
    /// <param name="TimedOut">Whether the wait timed out and filled in <paramref name="Holder"/> and <paramref name="GaveUpState"/>.</param>
    /// <param name="Holder">The holder the member's timeout event named.</param>
    /// <param name="GaveUpState">A semaphore's <see cref="SemaphoreGaveUp"/>, packed (0 for other locks).</param>
    private readonly record struct Report(LockPrimitive? Member, LockOwner? Flow, bool TimedOut, ReportedHolder Holder, int GaveUpState);
}
