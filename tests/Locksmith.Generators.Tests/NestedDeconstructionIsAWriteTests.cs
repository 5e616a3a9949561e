using Locksmith.Generators.Tests.Support;

namespace Locksmith.Generators.Tests;

/// <summary>
/// A guarded member deconstructed into through a nested tuple (<c>((_hits, _), _last) = …</c>, <c>(_a, (_b, _c)) = …</c>)
/// is written, as one in a flat tuple is: LSM0021 in a read core or read scope, and LSM0020 says "written" (from a trial
/// of the analyzers on realistic code: the inner elements were taken for reads, so a read core wrote them silently).
/// </summary>
public sealed class NestedDeconstructionIsAWriteTests
{
    [Fact]
    public void NestedDeconstructionTargets_AreWrites() => DiagnosticCheck.Verify("""
        using Locksmith;
        public sealed partial class Stats
        {
            private readonly ReadWriteLock _lock = new();
            [Guarded(Lock = nameof(_lock))] private int _hits;
            [Guarded(Lock = nameof(_lock))] private int _misses;
            [Guarded(Lock = nameof(_lock))] private int _last;

            [Guarded(Lock = nameof(_lock), Access = LockAccess.Read)]
            private int PeekCore()
            {
                (({|LSM0021:_hits|}, _), {|LSM0021:_last|}) = ((1, 2), 3);
                return _misses;
            }

            public void Reset() => ({|LSM0020:_hits|}, ({|LSM0020:_misses|}, {|LSM0020:_last|})) = (0, (0, 0));
        }
        """);
}
