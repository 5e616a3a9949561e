namespace Locksmith;

/// <summary>
/// What an async <c>LockSet</c>'s wait on its busy member saw as it timed out: the holder its event named and a
/// semaphore's free permits then. The set arms it with the member before it awaits (on its flow's record, as the member's
/// wait may end on another thread), the wait fills it in as it reports the timeout, and the set's exception takes it,
/// so it says what the member's event said, never what is read again after the event's handler ran.
/// </summary>
/// <remarks>Written only by a contended set and a timed-out member wait (off every fast path); one per flow record, reused.</remarks>
internal sealed class SetMemberTimeout
{
    /// <summary>The member the set waits on now, or null between its waits.</summary>
    public LockPrimitive? Member;

    /// <summary>Whether the member's wait timed out and filled in <see cref="Holder"/> and <see cref="GaveUpState"/>.</summary>
    public bool TimedOut;

    /// <summary>The holder the member's timeout event named.</summary>
    public ReportedHolder Holder;

    /// <summary>A semaphore's <see cref="SemaphoreGaveUp"/>, packed (0 for other locks).</summary>
    public int GaveUpState;

    /// <summary>Arms <paramref name="flow"/>'s record for a wait on <paramref name="member"/>.</summary>
    public static void Arm(LockOwner flow, LockPrimitive member)
    {
        var report = flow.FlowSetMemberTimeout ??= new SetMemberTimeout();
        report.TimedOut = false;
        report.Holder = default;
        report.GaveUpState = 0;
        report.Member = member;
    }

    /// <summary>Whether <paramref name="flow"/>'s set armed its record for a wait on <paramref name="member"/>.</summary>
    public static bool IsArmedFor(LockOwner flow, LockPrimitive member) =>
        flow.FlowSetMemberTimeout is { } report && ReferenceEquals(report.Member, member) && !report.TimedOut;

    /// <summary>The member's wait timed out: records what its event named.</summary>
    public static void Record(LockOwner flow, ReportedHolder holder, int gaveUpState)
    {
        var report = flow.FlowSetMemberTimeout!;
        report.Holder = holder;
        report.GaveUpState = gaveUpState;
        report.TimedOut = true;
    }

    /// <summary>What the wait on <paramref name="member"/> recorded, if it timed out and recorded it; disarmed either way.</summary>
    public static bool TryTake(LockOwner flow, LockPrimitive member, out ReportedHolder holder, out int gaveUpState)
    {
        holder = default;
        gaveUpState = 0;
        if (flow.FlowSetMemberTimeout is not { } report)
        {
            return false;
        }

        bool recorded = ReferenceEquals(report.Member, member) && report.TimedOut;
        if (recorded)
        {
            holder = report.Holder;
            gaveUpState = report.GaveUpState;
        }

        Disarm(flow);
        return recorded;
    }

    /// <summary>Forgets the armed member (the set leaves), so the record keeps no lock alive.</summary>
    public static void Disarm(LockOwner flow)
    {
        if (flow.FlowSetMemberTimeout is { } report)
        {
            report.Member = null;
            report.Holder = default;
            report.TimedOut = false;
        }
    }
}
