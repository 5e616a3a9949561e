using System.Linq;
using Locksmith.Generators.Tests.Support;
using Microsoft.CodeAnalysis;

namespace Locksmith.Generators.Tests;

/// <summary>
/// <c>Parallel.For</c>, <c>Parallel.ForEach</c> and <c>Parallel.Invoke</c> run their delegates before they return, on
/// the calling thread and on pool threads, so under the caller's holds, as <c>List.ForEach</c> does (from a trial of
/// the analyzers: a wrapper of the held lock called in such a body was not reported, being in a lambda that might run
/// after the hold). On the calling thread it takes the lock again (LSM0023), a lower-level lock against the order
/// (LSM0022); on a pool thread it waits for the hold, which waits for the loop. <c>Parallel.ForEachAsync</c> stays
/// work that may outlive the hold (LSM0026 when not awaited in an async lock's hold).
/// </summary>
public sealed class ParallelLoopUnderAHoldTests
{
    [Fact]
    public void LSM0023_AndLSM0022_ForAWrapperCalledInAParallelBody() => Compiles(DiagnosticCheck.Verify("""
        using System.Collections.Generic;
        using System.Threading.Tasks;
        using Locksmith;
        public sealed partial class Ledger
        {
            [LockOrder(10)] private readonly ExclusiveLock _lock = new();
            [Guarded(Lock = nameof(_lock))] private int _n;
            [Guarded(Lock = nameof(_lock))] private void PostCore(int x) => _n += x;
        }

        public sealed partial class Bank
        {
            [LockOrder(20)] private readonly ExclusiveLock _lock = new();
            private readonly Ledger _ledger = new();
            [Guarded(Lock = nameof(_lock))] private int _total;
            [Guarded(Lock = nameof(_lock))] private void AddCore(int x) => _total += x;

            [Guarded(Lock = nameof(_lock))]
            private void SpreadCore(int[] amounts) => Parallel.ForEach(amounts, a => {|LSM0023:Add(a)|});

            public void InAScope(List<int> amounts)
            {
                using (_lock.Acquire())
                {
                    Parallel.For(0, amounts.Count, i => {|LSM0023:Add(amounts[i])|});
                    Parallel.ForEach(amounts, {|LSM0023:Add|});
                    Parallel.Invoke(() => {|LSM0023:Add(1)|}, () => {|LSM0022:_ledger.Post(2)|});
                }
            }

            public void OutsideTheHold(List<int> amounts)
            {
                Parallel.For(0, amounts.Count, i => Add(amounts[i]));
                Parallel.Invoke(() => Add(1), () => _ledger.Post(2));
                using (_lock.Acquire())
                {
                    _total++;
                }
            }
        }
        """));

    [Fact]
    public void LSM0026_OnlyForAParallelForEachAsyncLeftRunning() => Compiles(DiagnosticCheck.Verify("""
        using System.Threading;
        using System.Threading.Tasks;
        using Locksmith;
        public sealed partial class Feed
        {
            private readonly AsyncExclusiveLock _lock = new();
            [Guarded(Lock = nameof(_lock))] private int _seen;

            public async Task PullAsync(int[] ids, CancellationToken ct)
            {
                using (await _lock.AcquireAsync(ct))
                {
                    Parallel.For(0, ids.Length, i => { });
                    await Parallel.ForEachAsync(ids, ct, async (id, c) => await Task.Delay(id, c));
                    _ = {|LSM0026:Parallel.ForEachAsync(ids, ct, async (id, c) => await Task.Delay(id, c))|};
                    _seen++;
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
