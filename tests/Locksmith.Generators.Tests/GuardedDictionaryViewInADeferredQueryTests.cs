using Locksmith.Generators.Tests.Support;

namespace Locksmith.Generators.Tests;

/// <summary>
/// A deferred query over the <c>Keys</c> or <c>Values</c> of a guarded dictionary (<c>q = _sessions.Values.Where(…)</c>),
/// made in the hold and kept in a local, reads the dictionary where it is enumerated: those collections are live views of
/// it, not copies. So each use of the local where the lock is not held is LSM0020, as for a query over the dictionary
/// itself (from a trial of the analyzers on realistic code: it was silent). A view materialized in the hold
/// (<c>_sessions.Values.ToList()</c>) and a <c>ConcurrentDictionary</c>'s <c>Keys</c> (a copy) are not reported.
/// </summary>
public sealed class GuardedDictionaryViewInADeferredQueryTests
{
    [Fact]
    public void LSM0020_ForAQueryOverADictionaryViewUsedAfterTheHold() => DiagnosticCheck.Verify("""
        using System.Collections.Concurrent;
        using System.Collections.Generic;
        using System.Linq;
        using Locksmith;
        public sealed partial class Sessions
        {
            private readonly ExclusiveLock _lock = new();
            [Guarded(Lock = nameof(_lock))] private readonly Dictionary<string, int> _ages = new();
            [Guarded(Lock = nameof(_lock))] private readonly SortedDictionary<string, int> _sorted = new();
            [Guarded(Lock = nameof(_lock))] private readonly ConcurrentDictionary<string, int> _concurrent = new();

            public int Old()
            {
                IEnumerable<int> q;
                using (_lock.Acquire()) { q = _ages.Values.Where(a => a > 10); }
                return {|LSM0020:q|}.Sum();
            }

            public string Names()
            {
                IEnumerable<string> q;
                using (_lock.Acquire()) { q = _sorted.Keys.Select(k => k.ToUpperInvariant()); }
                return string.Join(",", {|LSM0020:q|});
            }

            public int Copied()
            {
                IEnumerable<int> q;
                using (_lock.Acquire()) { q = _ages.Values.ToList().Where(a => a > 10); }
                return q.Sum();
            }

            public int Snapshot()
            {
                IEnumerable<string> q;
                using (_lock.Acquire()) { q = _concurrent.Keys.Where(k => k.Length > 1); }
                return q.Count();
            }
        }
        """);
}
