using System.Linq;
using Locksmith.Generators.Tests.Support;
using Microsoft.CodeAnalysis;

namespace Locksmith.Generators.Tests;

/// <summary>
/// LSM0060 at <c>await foreach (var row in RowsAsync())</c>, where <c>RowsAsync</c> is the user's async iterator that
/// holds an async lock across <c>yield return</c>: its steps after the first run in the consumer's execution context, so
/// a consumer that holds no async lock and began no flow does not own the lock there (<c>AsyncIteratorOwnershipTests</c>
/// shows it at run time); also where the enumerable is kept in a local first, or its enumerator moved by hand
/// (<c>while (await e.MoveNextAsync())</c>), reported at the call. Not reported where the consumer's flow is owned at the loop, for a lock released before each yield, a semaphore's permits, an iterator whose body
/// is not known, a local written again or used other than by this method's loops, or a loop in a lambda.
/// </summary>
public sealed class LSM0060AsyncIteratorOwnershipTests
{
    private const string Iterators = """
        public static class Ledger
        {
            public static readonly AsyncExclusiveLock Lock = new();
            public static readonly AsyncReadWriteLock Table = new();
            public static readonly CountingSemaphore Slots = new(2, 2);

            public static async IAsyncEnumerable<int> RowsAsync()
            {
                using (await Lock.AcquireAsync())
                {
                    yield return 1;
                    yield return 2;
                }
            }

            public static async IAsyncEnumerable<int> ReadRowsAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
            {
                using var read = await Table.AcquireReadAsync(cancellationToken);
                await Task.Yield();
                yield return 1;
            }

            public static async IAsyncEnumerable<int> KeptByHandAsync()
            {
                var scope = await Lock.AcquireAsync();
                try
                {
                    yield return 1;
                }
                finally
                {
                    scope.Dispose();
                }
            }

            // Taken and released between yields: nothing is held across one.
            public static async IAsyncEnumerable<int> ReleasedBeforeEachYieldAsync()
            {
                for (int i = 0; i < 2; i++)
                {
                    int row;
                    using (await Lock.AcquireAsync())
                    {
                        row = i;
                    }

                    yield return row;
                }
            }

            public static async IAsyncEnumerable<int> ThrottledAsync()
            {
                using (await Slots.AcquireAsync())
                {
                    yield return 1;
                }
            }

            public static IAsyncEnumerable<int> ForwardedAsync() => RowsAsync();

            // Released before the yield only on a path that does not reach it.
            public static async IAsyncEnumerable<int> ReleasedOnlyOnAnEarlyExitAsync(bool empty)
            {
                var scope = await Lock.AcquireAsync();
                if (empty)
                {
                    scope.Dispose();
                    yield break;
                }

                try
                {
                    yield return 1;
                }
                finally
                {
                    scope.Dispose();
                }
            }

            // Kept in a local and disposed by hand before each yield (in a finally, or plainly): nothing is held across one.
            public static async IAsyncEnumerable<int> DisposedBeforeEachYieldAsync()
            {
                for (int i = 0; i < 2; i++)
                {
                    int row;
                    var scope = await Lock.AcquireAsync();
                    try
                    {
                        row = i;
                    }
                    finally
                    {
                        scope.Dispose();
                    }

                    yield return row;
                    var again = await Lock.AcquireAsync();
                    again.Dispose();
                    yield return row;
                }
            }

            public static async IAsyncEnumerator<int> CursorAsync()
            {
                using (await Lock.AcquireAsync())
                {
                    yield return 1;
                }
            }
        }
        """;

    [Fact]
    public void LSM0060_ForAPlainConsumer_OfEachFormOfHold() => Compiles(DiagnosticCheck.Verify("""
        using System.Collections.Generic;
        using System.Runtime.CompilerServices;
        using System.Threading;
        using System.Threading.Tasks;
        using Locksmith;
        public sealed class Report
        {
            public async Task<int> SumAsync()
            {
                int sum = 0;
                await foreach (int row in {|LSM0060:Ledger.RowsAsync()|})
                {
                    sum += row;
                }

                return sum;
            }

            public async Task ConfiguredAsync(CancellationToken cancellationToken)
            {
                await foreach (int row in {|LSM0060:Ledger.ReadRowsAsync()|}.WithCancellation(cancellationToken).ConfigureAwait(false))
                {
                }
            }

            public async Task ByHandAsync()
            {
                await foreach (int row in {|LSM0060:Ledger.KeptByHandAsync()|})
                {
                }
            }

            // A synchronous lock gives the flow no ownership.
            public async Task UnderASyncLockAsync(ExclusiveLock sync)
            {
                using (sync.Acquire())
                {
                }

                await foreach (int row in {|LSM0060:Ledger.RowsAsync()|})
                {
                }
            }

            // An iterator that is a local function: its body is read as a method's.
            public async Task FromALocalIteratorAsync()
            {
                await foreach (int row in {|LSM0060:Rows()|})
                {
                }

                static async IAsyncEnumerable<int> Rows()
                {
                    using (await Ledger.Lock.AcquireAsync())
                    {
                        yield return 1;
                    }
                }
            }

            public async Task EarlyExitAsync()
            {
                await foreach (int row in {|LSM0060:Ledger.ReleasedOnlyOnAnEarlyExitAsync(false)|})
                {
                }
            }
        }
        """ + Iterators));

    [Fact]
    public void NoLSM0060_WhereTheConsumersFlowIsOwned_OrNothingIsHeldAcrossAYield() => Compiles(DiagnosticCheck.Verify("""
        using System.Collections.Generic;
        using System.Runtime.CompilerServices;
        using System.Threading;
        using System.Threading.Tasks;
        using Locksmith;
        public sealed partial class Report
        {
            private readonly AsyncExclusiveLock _outer = new();

            public async Task BegunAsync()
            {
                using var flow = AsyncLockFlow.Begin();
                await foreach (int row in Ledger.RowsAsync())
                {
                }
            }

            public async Task BegunAroundAsync()
            {
                using (AsyncLockFlow.Begin())
                {
                    await foreach (int row in Ledger.RowsAsync())
                    {
                    }
                }
            }

            public async Task HoldingAnAsyncLockAsync()
            {
                using var held = await _outer.AcquireAsync();
                await foreach (int row in Ledger.RowsAsync())
                {
                }
            }

            public async Task NothingHeldAcrossAYieldAsync()
            {
                await foreach (int row in Ledger.ReleasedBeforeEachYieldAsync())
                {
                }

                await foreach (int row in Ledger.ThrottledAsync())
                {
                }

                await foreach (int row in Ledger.DisposedBeforeEachYieldAsync())
                {
                }
            }

            // Not an async iterator itself (its body is RowsAsync's, which this rule does not follow).
            public async Task ForwardedAsync()
            {
                await foreach (int row in Ledger.ForwardedAsync())
                {
                }
            }

            // A lambda may run inside a caller's hold.
            public System.Func<Task> InALambda() => async () =>
            {
                await foreach (int row in Ledger.RowsAsync())
                {
                }
            };

            [Guarded(Lock = nameof(_outer))]
            private async Task InAGuardedCoreAsync()
            {
                await foreach (int row in Ledger.RowsAsync())
                {
                }
            }
        }
        """ + Iterators));

    [Fact]
    public void LSM0060_ForAnEnumerableKeptInALocal() => Compiles(DiagnosticCheck.Verify("""
        using System.Collections.Generic;
        using System.Runtime.CompilerServices;
        using System.Threading;
        using System.Threading.Tasks;
        using Locksmith;
        public sealed class Report
        {
            public async Task<int> KeptAsync()
            {
                int sum = 0;
                var rows = {|LSM0060:Ledger.RowsAsync()|};
                await foreach (int row in rows)
                {
                    sum += row;
                }

                return sum;
            }

            public async Task ConfiguredOnTheLocalAsync(CancellationToken cancellationToken)
            {
                IAsyncEnumerable<int> rows = {|LSM0060:Ledger.ReadRowsAsync()|};
                await foreach (int row in rows.WithCancellation(cancellationToken).ConfigureAwait(false))
                {
                }
            }

            public async Task ConfiguredIntoTheLocalAsync(CancellationToken cancellationToken)
            {
                var rows = {|LSM0060:Ledger.KeptByHandAsync()|}.WithCancellation(cancellationToken);
                await foreach (int row in rows)
                {
                }
            }

            // One call enumerated twice: one report.
            public async Task TwiceAsync()
            {
                var rows = {|LSM0060:Ledger.RowsAsync()|};
                await foreach (int row in rows)
                {
                }

                await foreach (int row in rows)
                {
                }
            }

            // The flow begun after the first loop: that loop's steps ran unowned.
            public async Task BegunBetweenTheLoopsAsync()
            {
                var rows = {|LSM0060:Ledger.RowsAsync()|};
                await foreach (int row in rows)
                {
                }

                using var flow = AsyncLockFlow.Begin();
                await foreach (int row in rows)
                {
                }
            }
        }
        """ + Iterators));

    [Fact]
    public void NoLSM0060_ForAKeptEnumerable_OwnedAtTheLoop_ReassignedOrEscaping() => Compiles(DiagnosticCheck.Verify("""
        using System;
        using System.Collections.Generic;
        using System.Runtime.CompilerServices;
        using System.Threading;
        using System.Threading.Tasks;
        using Locksmith;
        public sealed partial class Report
        {
            private readonly AsyncExclusiveLock _outer = new();
            private IAsyncEnumerable<int>? _kept;

            // Its steps run in the loop, where the flow is begun.
            public async Task BegunBeforeTheLoopAsync()
            {
                var rows = Ledger.RowsAsync();
                using var flow = AsyncLockFlow.Begin();
                await foreach (int row in rows)
                {
                }
            }

            public async Task HoldingAnAsyncLockAsync(CancellationToken cancellationToken)
            {
                using var held = await _outer.AcquireAsync();
                var rows = Ledger.RowsAsync();
                await foreach (int row in rows.WithCancellation(cancellationToken))
                {
                }
            }

            public async Task ReassignedAsync(bool released)
            {
                var rows = Ledger.RowsAsync();
                if (released)
                {
                    rows = Ledger.ReleasedBeforeEachYieldAsync();
                }

                await foreach (int row in rows)
                {
                }
            }

            // Whoever it is passed to may enumerate it in an owned flow; so may a later reader of the field.
            public async Task PassedOnAsync()
            {
                var rows = Ledger.RowsAsync();
                Keep(rows);
                await foreach (int row in rows)
                {
                }
            }

            public async Task StoredAsync()
            {
                var rows = Ledger.RowsAsync();
                _kept = rows;
                await foreach (int row in rows)
                {
                }
            }

            public async Task CapturedAsync()
            {
                var rows = Ledger.RowsAsync();
                Func<Task> later = async () =>
                {
                    await foreach (int row in rows)
                    {
                    }
                };
                await later();
            }

            public async Task NothingHeldAcrossAYieldAsync()
            {
                var rows = Ledger.ReleasedBeforeEachYieldAsync();
                await foreach (int row in rows)
                {
                }
            }

            public Func<Task> InALambda() => async () =>
            {
                var rows = Ledger.RowsAsync();
                await foreach (int row in rows)
                {
                }
            };

            [Guarded(Lock = nameof(_outer))]
            private async Task InAGuardedCoreAsync()
            {
                var rows = Ledger.RowsAsync();
                await foreach (int row in rows)
                {
                }
            }

            private static void Keep(IAsyncEnumerable<int> rows)
            {
            }
        }
        """ + Iterators));

    [Fact]
    public void LSM0060_ForAManualLoopOverTheEnumerator() => Compiles(DiagnosticCheck.Verify("""
        using System.Collections.Generic;
        using System.Runtime.CompilerServices;
        using System.Threading;
        using System.Threading.Tasks;
        using Locksmith;
        public sealed class Report
        {
            public async Task<int> AwaitUsingAsync()
            {
                int sum = 0;
                await using var rows = {|LSM0060:Ledger.RowsAsync()|}.GetAsyncEnumerator();
                while (await rows.MoveNextAsync())
                {
                    sum += rows.Current;
                }

                return sum;
            }

            public async Task PlainLocalAsync(CancellationToken cancellationToken)
            {
                var rows = {|LSM0060:Ledger.ReadRowsAsync()|}.GetAsyncEnumerator(cancellationToken);
                try
                {
                    while (await rows.MoveNextAsync())
                    {
                    }
                }
                finally
                {
                    await rows.DisposeAsync();
                }
            }

            public async Task AwaitUsingStatementAsync()
            {
                await using (var rows = {|LSM0060:Ledger.KeptByHandAsync()|}.ConfigureAwait(false).GetAsyncEnumerator())
                {
                    while (await rows.MoveNextAsync())
                    {
                    }
                }
            }

            public async Task FromAKeptEnumerableAsync()
            {
                var rows = {|LSM0060:Ledger.RowsAsync()|};
                await using var cursor = rows.GetAsyncEnumerator();
                while (await cursor.MoveNextAsync())
                {
                }
            }

            // An async iterator that returns its enumerator.
            public async Task CursorAsync()
            {
                await using var cursor = {|LSM0060:Ledger.CursorAsync()|};
                while (await cursor.MoveNextAsync())
                {
                }
            }
        }
        """ + Iterators));

    [Fact]
    public void NoLSM0060_ForAManualLoop_OwnedAtTheLoop_ReassignedOrEscaping() => Compiles(DiagnosticCheck.Verify("""
        using System;
        using System.Collections.Generic;
        using System.Runtime.CompilerServices;
        using System.Threading;
        using System.Threading.Tasks;
        using Locksmith;
        public sealed partial class Report
        {
            private readonly AsyncExclusiveLock _outer = new();

            public async Task BegunBeforeTheLoopAsync()
            {
                await using var rows = Ledger.RowsAsync().GetAsyncEnumerator();
                using var flow = AsyncLockFlow.Begin();
                while (await rows.MoveNextAsync())
                {
                }
            }

            public async Task HoldingAnAsyncLockAsync()
            {
                using var held = await _outer.AcquireAsync();
                await using var rows = Ledger.CursorAsync();
                while (await rows.MoveNextAsync())
                {
                }
            }

            public async Task ReassignedAsync(bool released)
            {
                var rows = Ledger.RowsAsync().GetAsyncEnumerator();
                if (released)
                {
                    rows = Ledger.ReleasedBeforeEachYieldAsync().GetAsyncEnumerator();
                }

                while (await rows.MoveNextAsync())
                {
                }
            }

            // Whoever it is passed to, or returned to, may move it on in an owned flow.
            public async Task PassedOnAsync()
            {
                await using var rows = Ledger.RowsAsync().GetAsyncEnumerator();
                if (await rows.MoveNextAsync())
                {
                    await DrainAsync(rows);
                }
            }

            public async Task<IAsyncEnumerator<int>> ReturnedAsync()
            {
                var rows = Ledger.RowsAsync().GetAsyncEnumerator();
                await rows.MoveNextAsync();
                return rows;
            }

            public async Task NothingHeldAcrossAYieldAsync()
            {
                await using var rows = Ledger.ReleasedBeforeEachYieldAsync().GetAsyncEnumerator();
                while (await rows.MoveNextAsync())
                {
                }
            }

            public Func<Task> InALambda() => async () =>
            {
                await using var rows = Ledger.RowsAsync().GetAsyncEnumerator();
                while (await rows.MoveNextAsync())
                {
                }
            };

            private static async Task DrainAsync(IAsyncEnumerator<int> rows)
            {
                using var flow = AsyncLockFlow.Begin();
                while (await rows.MoveNextAsync())
                {
                }
            }
        }
        """ + Iterators));

    /// <summary>
    /// A local declared first and assigned the call once, and an enumerator disposed by <c>await using</c> on the existing
    /// local, are followed as an initialized local is; a flow begun in the loop's body comes too late (the iterator's first
    /// step ran unowned, and a <c>using</c> in the body ends before the next <c>MoveNextAsync</c>), so it is reported.
    /// </summary>
    [Fact]
    public void LSM0060_ForALocalAssignedLater_AnAwaitUsingOfAnExistingLocal_AndAFlowBegunInTheLoop() => Compiles(Markup.AssertDiagnostics("""
        using System.Collections.Generic;
        using System.Runtime.CompilerServices;
        using System.Threading;
        using System.Threading.Tasks;
        using Locksmith;
        public sealed class Report
        {
            public async Task AssignedLaterAsync()
            {
                IAsyncEnumerable<int> rows;
                rows = {|LSM0060:Ledger.RowsAsync()|};
                await foreach (int row in rows)
                {
                }
            }

            public async Task EnumeratorAssignedLaterAsync()
            {
                IAsyncEnumerator<int> cursor;
                cursor = {|LSM0060:Ledger.RowsAsync()|}.GetAsyncEnumerator();
                await using (cursor)
                {
                    while (await cursor.MoveNextAsync())
                    {
                    }
                }
            }

            public async Task AwaitUsingAnExistingLocalAsync()
            {
                var cursor = {|LSM0060:Ledger.CursorAsync()|};
                await using (cursor.ConfigureAwait(false))
                {
                    while (await cursor.MoveNextAsync())
                    {
                    }
                }
            }

            public async Task BegunInTheLoopBodyAsync()
            {
                await foreach (int row in {|LSM0060:Ledger.RowsAsync()|})
                {
                    using var flow = AsyncLockFlow.Begin();
                }
            }

            public async Task BegunInTheManualLoopBodyAsync()
            {
                await using var cursor = {|LSM0060:Ledger.RowsAsync()|}.GetAsyncEnumerator();
                while (await cursor.MoveNextAsync())
                {
                    using (AsyncLockFlow.Begin())
                    {
                    }
                }
            }

            public async Task BegunInADoBodyAsync()
            {
                await using var cursor = {|LSM0060:Ledger.RowsAsync()|}.GetAsyncEnumerator();
                do
                {
                    using var flow = AsyncLockFlow.Begin();
                }
                while (await cursor.MoveNextAsync());
            }
        }
        """ + Iterators));

    /// <summary>
    /// Not followed: a local assigned twice, or one declared with a value and assigned the call, or passed on after the
    /// assignment; an existing enumerator passed on besides its <c>await using</c>. Not reported where the flow is begun
    /// before the loop.
    /// </summary>
    [Fact]
    public void NoLSM0060_ForALocalAssignedLater_WrittenTwiceOrEscaping_OrOwnedAtTheLoop() => Compiles(Markup.AssertDiagnostics("""
        using System.Collections.Generic;
        using System.Runtime.CompilerServices;
        using System.Threading;
        using System.Threading.Tasks;
        using Locksmith;
        public sealed class Report
        {
            public async Task AssignedTwiceAsync(bool released)
            {
                IAsyncEnumerable<int> rows;
                rows = Ledger.RowsAsync();
                if (released)
                {
                    rows = Ledger.ReleasedBeforeEachYieldAsync();
                }

                await foreach (int row in rows)
                {
                }
            }

            public async Task DeclaredWithAValueAsync()
            {
                IAsyncEnumerable<int> rows = Ledger.ReleasedBeforeEachYieldAsync();
                await foreach (int row in rows)
                {
                }

                rows = Ledger.RowsAsync();
                await foreach (int row in rows)
                {
                }
            }

            public async Task PassedOnAsync()
            {
                IAsyncEnumerable<int> rows;
                rows = Ledger.RowsAsync();
                await DrainAsync(rows.GetAsyncEnumerator());
            }

            public async Task ExistingLocalPassedOnAsync()
            {
                var cursor = Ledger.RowsAsync().GetAsyncEnumerator();
                await using (cursor)
                {
                    await DrainAsync(cursor);
                }
            }

            public async Task BegunBeforeTheLoopAsync()
            {
                IAsyncEnumerator<int> cursor;
                cursor = Ledger.RowsAsync().GetAsyncEnumerator();
                using var flow = AsyncLockFlow.Begin();
                await using (cursor)
                {
                    while (await cursor.MoveNextAsync())
                    {
                    }
                }
            }

            private static async Task DrainAsync(IAsyncEnumerator<int> rows)
            {
                using var flow = AsyncLockFlow.Begin();
                while (await rows.MoveNextAsync())
                {
                }
            }
        }
        """ + Iterators));

    private static void Compiles(GeneratorRun run)
    {
        var errors = run.CompilerDiagnostics.Where(static d => d.Severity == DiagnosticSeverity.Error).ToList();
        Assert.True(errors.Count == 0, Snapshot.Render(errors));
    }
}
