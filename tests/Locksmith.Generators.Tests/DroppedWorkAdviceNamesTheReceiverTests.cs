using System.Linq;
using Locksmith.Generators.Tests.Support;
using Microsoft.CodeAnalysis;

namespace Locksmith.Generators.Tests;

/// <summary>
/// LSM0020's advice for another object's state written in a parallel body of work the hold does not wait for
/// (<c>_ = Task.Run(() =&gt; Parallel.For(0, n, i =&gt; other._n++))</c> under <c>other._lock</c>) names that object's lock
/// (<c>using var scope = other._lock.Acquire();</c>), as the advice for a plain access does
/// (<see cref="GuardedStateOfAnotherObjectAdviceTests"/>): it said <c>_lock</c>, this object's lock. LSM0056's advice for
/// such a body under the hold names it alike. This object's state and a static lock keep the lock's name alone.
/// </summary>
public sealed class DroppedWorkAdviceNamesTheReceiverTests
{
    [Fact]
    public void LSM0020_InDroppedWork_NamesTheOtherObjectsLock() => Compiles(DiagnosticCheck.Verify("""
        using System.Threading.Tasks;
        using Locksmith;
        public sealed partial class Counter
        {
            private readonly ExclusiveLock _lock = new();
            private readonly ReadWriteLock _rw = new();
            [Guarded(Lock = nameof(_lock))] private int _n;
            [Guarded(Lock = nameof(_rw))] private int _rate;

            public static void Loop(Counter other)
            {
                using (other._lock.Acquire())
                {
                    _ = Task.Run(() => Parallel.For(0, 4, i => {|LSM0020:other._n|}++));
                }
            }

            public static void Lambda(Counter other)
            {
                using (other._rw.AcquireWrite())
                {
                    _ = Task.Run(() => {|LSM0020:other._rate|}++);
                }
            }

            public void Own()
            {
                using (_lock.Acquire())
                {
                    _ = Task.Run(() => Parallel.For(0, 4, i => {|LSM0020:_n|}++));
                }
            }

            public static void Held(Counter other)
            {
                using (other._lock.Acquire())
                {
                    Parallel.For(0, 4, i => {|LSM0056:other._n|}++);
                }
            }
        }
        """));

    private static void Compiles(GeneratorRun run)
    {
        var errors = run.CompilerDiagnostics.Where(static d => d.Severity == DiagnosticSeverity.Error).ToList();
        Assert.True(errors.Count == 0, Snapshot.Render(errors));
    }
}
