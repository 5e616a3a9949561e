using System.Linq;
using Locksmith.Generators.Tests.Support;
using Microsoft.CodeAnalysis;

namespace Locksmith.Generators.Tests;

/// <summary>
/// Wrappers over the async locks (AsyncReadWriteLock, AsyncStripedLock&lt;TKey&gt;, the async LockSet), generated
/// against the real runtime types: each snapshot's input and generated code compile together, nullable enabled and
/// every warning an error.
/// </summary>
public sealed class AsyncLockShapesSnapshotTests
{
    /// <summary>[ReadMostly] with an AsyncReadWriteLock: read cores take AcquireReadAsync, the rest AcquireWriteAsync, declared with the policy.</summary>
    [Fact]
    public void AsyncReadWriteLock() => Verify("""
        using System.Collections.Generic;
        using System.Threading;
        using System.Threading.Tasks;
        using Locksmith;

        namespace Pricing;

        /// <summary>A subject.</summary>
        [ReadMostly(Policy = ReadWritePolicy.WriterPreferred)]
        public partial class AsyncPriceCache
        {
            [LockOrder(20)]
            private readonly AsyncReadWriteLock _lock = new();

            [Guarded(Lock = nameof(_lock))]
            private readonly Dictionary<string, decimal> _prices = new();

            [Guarded(Lock = nameof(_lock), Access = LockAccess.Read)]
            private ValueTask<decimal?> FindCoreAsync(string sku) => new(_prices.TryGetValue(sku, out var p) ? p : null);

            [Guarded(Lock = nameof(_lock), TimeoutMilliseconds = 100)]
            private Task SetCoreAsync(string sku, decimal price, CancellationToken cancellationToken)
            {
                _prices[sku] = price;
                return Task.CompletedTask;
            }
        }
        """);

    /// <summary>StripeBy with an AsyncStripedLock: the key goes first, then the timeout, then the token.</summary>
    [Fact]
    public void AsyncStripedLock() => Verify("""
        using System.Threading.Tasks;
        using Locksmith;

        namespace Stock;

        /// <summary>A subject.</summary>
        public partial class AsyncInventory
        {
            private readonly AsyncStripedLock<string> _stripes = new();

            [Guarded(Lock = nameof(_stripes), StripeBy = nameof(sku))]
            private Task<int> TakeCoreAsync(string sku, int quantity) => Task.FromResult(quantity);

            [Guarded(Lock = nameof(_stripes), StripeBy = nameof(sku), TimeoutMilliseconds = 50)]
            private ValueTask PutCoreAsync(string sku) => default;
        }
        """);

    /// <summary>[AcquiresLocksOf] over async locks: LockSet.AcquireAsync(first, second, token), the list overload with a timeout or more locks.</summary>
    [Fact]
    public void AsyncLockSet() => Verify("""
        using System.Threading.Tasks;
        using Locksmith;

        namespace Bank;

        /// <summary>A subject.</summary>
        public partial class AsyncAccount
        {
            [LockOrder(10)]
            private readonly AsyncReadWriteLock _lock = new();

            [Guarded(Lock = nameof(_lock))]
            private decimal _balance;

            [AcquiresLocksOf(nameof(from), nameof(to), Lock = nameof(_lock))]
            private static async Task TransferCoreAsync(AsyncAccount from, AsyncAccount to, decimal amount)
            {
                await Task.Yield();
                from._balance -= amount;
                to._balance += amount;
            }

            [AcquiresLocksOf(nameof(a), nameof(b), nameof(c), Lock = nameof(_lock), TimeoutMilliseconds = 200)]
            private static Task<decimal> TotalCoreAsync(AsyncAccount a, AsyncAccount b, AsyncAccount c) =>
                Task.FromResult(a._balance + b._balance + c._balance);
        }
        """);

    private static void Verify(string source, [System.Runtime.CompilerServices.CallerMemberName] string testMethod = "")
    {
        var compilation = TestCompilation.Create(source);
        compilation = compilation.WithOptions(compilation.Options
            .WithNullableContextOptions(NullableContextOptions.Enable)
            .WithGeneralDiagnosticOption(ReportDiagnostic.Error));
        var run = GeneratorHarness.Run(compilation);

        Assert.True(run.LocksmithDiagnostics.IsEmpty, "Unexpected diagnostics:\n" + Snapshot.Render(run.LocksmithDiagnostics));
        Assert.NotEmpty(run.Result.GeneratedTrees);

        // Against the real runtime types, the generated code must compile with every warning an error.
        var problems = run.CompilerDiagnostics
            .Where(static d => d.Severity >= DiagnosticSeverity.Warning || d.IsWarningAsError)
            .ToList();
        Assert.True(
            problems.Count == 0,
            "Diagnostics:\n" + Snapshot.Render(problems) + "\n" +
            string.Join("\n", run.Result.GeneratedTrees.Select(static t => "// " + t.FilePath + "\n" + t)));
        Snapshot.VerifyGenerated(run, testMethod: testMethod);
    }
}
