using System;
using System.Threading;

namespace Locksmith.Hosting;

/// <summary>
/// The hosts of this process that watch the same process-wide facts (every running watchdog sees every deadlock cycle,
/// every stopping host every lock wait), in the order they joined, and which of them logs each fact, so that it is logged
/// once: the first whose container owns it, else the first.
/// </summary>
/// <remarks>
/// Each member works the answer out alone from the same list, so none waits for another. The list is copied on write
/// under a gate and read without it.
/// </remarks>
internal sealed class ReportingHosts<T>
    where T : class
{
    private readonly Lock _gate = new();
    private T[] _members = [];

    public void Join(T member)
    {
        lock (_gate)
        {
            _members = [.. _members, member];
        }
    }

    /// <summary>The members now, in the order they joined; a copy the list no longer changes.</summary>
    public T[] Members => Volatile.Read(ref _members);

    /// <summary>Whether <paramref name="member"/> is in the list now.</summary>
    public bool Contains(T member) => Array.IndexOf(Volatile.Read(ref _members), member) >= 0;

    /// <summary>Removes <paramref name="member"/>; nothing if it is not in the list.</summary>
    public void Leave(T member)
    {
        lock (_gate)
        {
            _members = Array.FindAll(_members, m => m != member);
        }
    }

    /// <summary>
    /// Whether <paramref name="member"/> logs <paramref name="fact"/>: the first member that <paramref name="owns"/> it
    /// does; when none does, the first member (or <paramref name="member"/> itself while the list is empty).
    /// </summary>
    public bool Reports<TFact>(T member, TFact fact, Func<T, TFact, bool> owns)
    {
        var members = Volatile.Read(ref _members);
        foreach (var candidate in members)
        {
            if (owns(candidate, fact))
            {
                return candidate == member;
            }
        }

        return members.Length == 0 || members[0] == member;
    }
}
