using System;
using System.Globalization;
using System.Linq;
using Locksmith.Generators.Tests.Support;
using Microsoft.CodeAnalysis;

namespace Locksmith.Generators.Tests;

/// <summary>
/// A CountingSemaphore keeps LSM0010 around awaits (it has async acquisitions but no async marker, so the generator
/// writes no async wrapper for it); the message's in-code alternative must be code that compiles and that the
/// analyzers accept as holding the semaphore across the awaits.
/// </summary>
public sealed class SemaphoreAroundAwaitsTests
{
    private const string Refused = """
        using System.Threading.Tasks;
        using Locksmith;

        /// <summary>A pool.</summary>
        public partial class Pool
        {
            private readonly CountingSemaphore _slots = new(2, 2);
            [Guarded(Lock = nameof(_slots))] private Task UseCore() => Task.CompletedTask;
            [AcquiresLocksOf(nameof(a), nameof(b), Lock = nameof(_slots))] private static Task MoveCore(Pool a, Pool b) => Task.CompletedTask;
            [AcquiresLocksOf(nameof(a), nameof(b), nameof(c), Lock = nameof(_slots))] private static ValueTask<int> SumCore(Pool a, Pool b, Pool c) => new(0);
        }
        """;

    private const string Fixed = """
        using System.Threading.Tasks;
        using Locksmith;

        /// <summary>A pool.</summary>
        public partial class Pool
        {
            private readonly CountingSemaphore _slots = new(2, 2);
            [Guarded(Lock = nameof(_slots))] private int _uses;

            /// <summary>Uses a slot.</summary>
            /// <returns>A task.</returns>
            public async Task UseAsync()
            {
                using var scope = await _slots.AcquireAsync();
                await Task.Yield();
                _uses++;
            }

            /// <summary>Moves between pools.</summary>
            /// <param name="a">One pool.</param>
            /// <param name="b">The other.</param>
            /// <returns>A task.</returns>
            public static async Task MoveAsync(Pool a, Pool b)
            {
                using var scope = await LockSet.AcquireAsync(a._slots, b._slots);
                await Task.Yield();
            }

            /// <summary>Sums three pools.</summary>
            /// <param name="a">One pool.</param>
            /// <param name="b">Another.</param>
            /// <param name="c">A third.</param>
            /// <returns>The sum.</returns>
            public static async ValueTask<int> SumAsync(Pool a, Pool b, Pool c)
            {
                using var scope = await LockSet.AcquireLocksOfAsync(new IAsyncLockSetMember[] { a._slots, b._slots, c._slots });
                await Task.Yield();
                return 0;
            }
        }
        """;

    [Fact]
    public void Lsm0010Suggestion_IsCodeThatCompiles_WithWarningsAsErrors_AndNoLocksmithDiagnostic()
    {
        var refused = GeneratorHarness.Run(Refused).LocksmithDiagnostics.Where(static d => d.Id == "LSM0010").ToList();
        Assert.Equal(3, refused.Count);

        // Each message quotes one statement; the fixed source uses exactly those statements.
        foreach (var diagnostic in refused)
        {
            string message = diagnostic.GetMessage(CultureInfo.InvariantCulture);
            const string Marker = "in code with '";
            int start = message.IndexOf(Marker, StringComparison.Ordinal);
            Assert.True(start >= 0, message);
            start += Marker.Length;
            int end = message.IndexOf(";'", start, StringComparison.Ordinal);
            Assert.True(end > start, message);
            string statement = message[start..(end + 1)];
            Assert.Contains(statement, Fixed, StringComparison.Ordinal);
        }

        var compilation = TestCompilation.Create(Fixed);
        compilation = compilation.WithOptions(compilation.Options.WithGeneralDiagnosticOption(ReportDiagnostic.Error));
        var run = GeneratorHarness.Run(compilation);
        var problems = run.CompilerDiagnostics.Concat(run.LocksmithDiagnostics)
            .Where(static d => d.Severity >= DiagnosticSeverity.Warning || d.IsWarningAsError)
            .ToList();
        Assert.True(problems.Count == 0, Snapshot.Render(problems));
    }
}
