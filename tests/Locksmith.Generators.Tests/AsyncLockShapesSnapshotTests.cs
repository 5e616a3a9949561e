using Locksmith.Generators.Tests.Support;

namespace Locksmith.Generators.Tests;

/// <summary>
/// Wrappers over the async locks other branches add (AsyncReadWriteLock, AsyncStripedLock&lt;TKey&gt;, the async
/// LockSet): the generator knows them by their marker interfaces' names, so it is checked against stand-ins of the
/// agreed API shapes. Snapshot only: the stand-ins cannot derive from LockPrimitive, so the compilation has errors of
/// its own and the generated code is not compile-checked here (GeneratedCodeCompilesTests covers AsyncExclusiveLock).
/// </summary>
public sealed class AsyncLockShapesSnapshotTests
{
    private const string StandIns =
        """
        using System;
        using System.Collections.Generic;
        using System.Threading;
        using System.Threading.Tasks;

        namespace Locksmith
        {
            public interface IAsyncReadWriteAccessLock { }
            public interface IAsyncKeyedAccessLock { }
            public interface IAsyncLockSetMember { }

            public sealed class AsyncReadWriteLock : LockPrimitive, IAsyncReadWriteAccessLock, IAsyncLockSetMember
            {
                public void EnsureDeclared(string declaredName, int? declaredLevel, ReadWritePolicy declaredPolicy) { }
                public ValueTask<AsyncLockScope> AcquireReadAsync(CancellationToken cancellationToken = default) => default;
                public ValueTask<AsyncLockScope> AcquireReadAsync(TimeSpan timeout, CancellationToken cancellationToken = default) => default;
                public ValueTask<AsyncLockScope> TryAcquireReadAsync(TimeSpan timeout, CancellationToken cancellationToken = default) => default;
                public ValueTask<AsyncLockScope> AcquireWriteAsync(CancellationToken cancellationToken = default) => default;
                public ValueTask<AsyncLockScope> AcquireWriteAsync(TimeSpan timeout, CancellationToken cancellationToken = default) => default;
                public ValueTask<AsyncLockScope> TryAcquireWriteAsync(TimeSpan timeout, CancellationToken cancellationToken = default) => default;
            }

            public sealed class AsyncStripedLock<TKey> : LockPrimitive, IAsyncKeyedAccessLock
            {
                public ValueTask<AsyncLockScope> AcquireAsync(TKey key, CancellationToken cancellationToken = default) => default;
                public ValueTask<AsyncLockScope> AcquireAsync(TKey key, TimeSpan timeout, CancellationToken cancellationToken = default) => default;
                public ValueTask<AsyncLockScope> TryAcquireAsync(TKey key, TimeSpan timeout, CancellationToken cancellationToken = default) => default;
            }
        }
        """;

    /// <summary>[ReadMostly] with an AsyncReadWriteLock: read cores take AcquireReadAsync, the rest AcquireWriteAsync, declared with the policy.</summary>
    [Fact]
    public void AsyncReadWriteLock() => Verify("""
        using System.Collections.Generic;
        using System.Threading;
        using System.Threading.Tasks;
        using Locksmith;

        namespace Pricing;

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
        var run = GeneratorHarness.Run(source, StandIns);

        Assert.True(run.LocksmithDiagnostics.IsEmpty, "Unexpected diagnostics:\n" + Snapshot.Render(run.LocksmithDiagnostics));
        Assert.NotEmpty(run.Result.GeneratedTrees);
        Snapshot.VerifyGenerated(run, testMethod: testMethod);
    }
}
