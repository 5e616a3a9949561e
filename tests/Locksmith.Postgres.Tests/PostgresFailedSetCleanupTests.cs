using System;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using ThrowingHoldListener = Locksmith.Postgres.Tests.PostgresReleaseFailureTests.ThrowingHoldListener;

namespace Locksmith.Postgres.Tests;

/// <summary>
/// A set that times out or is cancelled on its last member gives back the members it took, and that give-back throws (a
/// metrics listener refusing the hold's release): the caller still gets the acquisition's own exception, a
/// <see cref="LockTimeoutException"/> or an <see cref="OperationCanceledException"/> for its token, with the clean-up's
/// error inside. Before, it got an <see cref="AggregateException"/>, which its <c>catch (TimeoutException)</c> or
/// <c>catch (OperationCanceledException)</c> missed.
/// </summary>
public sealed class PostgresFailedSetCleanupTests
{
    private static async Task AssertGivenBackAsync(PostgresLockProvider[] providers, params string[] names)
    {
        foreach (var provider in providers)
        {
            Assert.Equal(0, provider.HeldCount);
            Assert.Equal(0, provider.ConnectionsInUse);
        }

        await using var elsewhere = await PostgresServer.WarmedProviderAsync();
        foreach (string name in names)
        {
            Assert.True(await PostgresServer.TakenAtOnceElsewhereAsync(() => elsewhere.CreateExclusiveLock(name).TryAcquireAsync(TimeSpan.Zero)), name);
        }
    }

    [Fact]
    public async Task ATimedOutSet_WhoseGiveBackThrows_ThrowsItsLockTimeoutException_WithTheErrorInside()
    {
        await using var first = PostgresServer.Provider();
        await using var second = PostgresServer.Provider();
        await using var third = PostgresServer.Provider();
        string a = PostgresServer.Unique("cleanup_a"), b = PostgresServer.Unique("cleanup_b"), c = PostgresServer.Unique("cleanup_c");
        PostgresLockRequest[] requests =
            [first.CreateExclusiveLock(a, level: 1).Request(), second.CreateExclusiveLock(b, level: 2).Request(), third.CreateExclusiveLock(c, level: 3).Request()];
        await using (var elsewhere = await PostgresServer.HoldOnPlainSessionAsync(c))
        using (new ThrowingHoldListener(b))
        {
            var error = await Assert.ThrowsAsync<LockTimeoutException>(async () => await PostgresLockSet.AcquireAsync(TimeSpan.Zero, requests));
            Assert.Equal(c, error.LockName);
            Assert.Contains("timed out", error.Message, StringComparison.Ordinal);
            Assert.Contains(c, error.Message, StringComparison.Ordinal);
            Assert.Equal($"listener refused {b}", Assert.IsType<InvalidOperationException>(error.InnerException).Message);
        }

        await AssertGivenBackAsync([first, second, third], a, b);
    }

    [Fact]
    public async Task ATimedOutSet_WhoseGiveBackThrowsTwice_HasBothErrorsInside()
    {
        await using var first = PostgresServer.Provider();
        await using var second = PostgresServer.Provider();
        await using var third = PostgresServer.Provider();
        string a = PostgresServer.Unique("cleanup_a"), b = PostgresServer.Unique("cleanup_b"), c = PostgresServer.Unique("cleanup_c");
        PostgresLockRequest[] requests =
            [first.CreateExclusiveLock(a, level: 1).Request(), second.CreateExclusiveLock(b, level: 2).Request(), third.CreateExclusiveLock(c, level: 3).Request()];
        await using (var elsewhere = await PostgresServer.HoldOnPlainSessionAsync(c))
        using (new ThrowingHoldListener(a, b))
        {
            var error = await Assert.ThrowsAsync<LockTimeoutException>(async () => await PostgresLockSet.AcquireAsync(TimeSpan.Zero, requests));
            Assert.Equal(c, error.LockName);

            // Given back last to first.
            var inner = Assert.IsType<AggregateException>(error.InnerException);
            Assert.Equal([$"listener refused {b}", $"listener refused {a}"], inner.InnerExceptions.Select(static e => e.Message));
        }

        await AssertGivenBackAsync([first, second, third], a, b);
    }

    [Fact]
    public async Task ACancelledSet_WhoseGiveBackThrows_ThrowsOperationCanceledExceptionForItsToken_WithTheErrorInside()
    {
        await using var first = PostgresServer.Provider();
        await using var second = PostgresServer.Provider();
        await using var third = PostgresServer.Provider();
        string a = PostgresServer.Unique("cleanup_a"), b = PostgresServer.Unique("cleanup_b"), c = PostgresServer.Unique("cleanup_c");
        PostgresLockRequest[] requests =
            [first.CreateExclusiveLock(a, level: 1).Request(), second.CreateExclusiveLock(b, level: 2).Request(), third.CreateExclusiveLock(c, level: 3).Request()];
        await using (var watcher = await PostgresServer.OpenAsync())
        await using (var elsewhere = await PostgresServer.HoldOnPlainSessionAsync(c))
        using (new ThrowingHoldListener(b))
        {
            using var cts = new CancellationTokenSource();
            var acquiring = PostgresServer.InAFlowOfItsOwn(async () =>
            {
                await using var scope = await PostgresLockSet.AcquireAsync(Timeout.InfiniteTimeSpan, requests, cts.Token);
                return scope.IsAcquired;
            });

            // The set holds a and b and waits on the server for c.
            await PostgresServer.WaitUntilSomeoneWaitsAsync(watcher, AdvisoryKey.ForName(c));
            await cts.CancelAsync();
            var error = await Assert.ThrowsAsync<OperationCanceledException>(() => acquiring.WaitAsync(PostgresServer.HangGuard));
            Assert.Equal(cts.Token, error.CancellationToken);
            Assert.Contains(c, error.Message, StringComparison.Ordinal);
            Assert.Equal($"listener refused {b}", Assert.IsType<InvalidOperationException>(error.InnerException).Message);
        }

        await AssertGivenBackAsync([first, second, third], a, b);
    }
}
