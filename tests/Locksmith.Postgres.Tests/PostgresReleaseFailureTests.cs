using System;
using System.Collections.Generic;
using System.Diagnostics.Metrics;
using System.Linq;
using System.Threading.Tasks;

namespace Locksmith.Postgres.Tests;

/// <summary>
/// A set's release, or its clean-up after a failed acquisition, where one member's release throws: every other member is
/// still unlocked and its session returned, and the error surfaces once all are handled (several as an AggregateException).
/// Before, the first error ended the loop: the members after it kept their locks on the server and their connections out
/// of the budget, until the provider was disposed.
/// </summary>
public sealed class PostgresReleaseFailureTests
{
    /// <summary>
    /// What makes a release throw here: a metrics listener of the application's that throws when a hold of one of the named
    /// locks is recorded (user code that runs inside every release). Other tests' locks are left alone.
    /// </summary>
    internal sealed class ThrowingHoldListener : IDisposable
    {
        private readonly MeterListener _listener;

        public ThrowingHoldListener(params string[] names)
        {
            var refused = new HashSet<string>(names, StringComparer.Ordinal);
            _listener = new MeterListener
            {
                InstrumentPublished = (instrument, l) =>
                {
                    if (instrument.Meter.Name == LocksmithMetrics.MeterName && instrument.Name == "locksmith.lock.hold.duration")
                    {
                        l.EnableMeasurementEvents(instrument);
                    }
                },
            };
            _listener.SetMeasurementEventCallback<double>((_, _, tags, _) =>
            {
                foreach (var tag in tags)
                {
                    if (tag.Key == "lock.name" && tag.Value is string name && refused.Contains(name))
                    {
                        throw new InvalidOperationException($"listener refused {name}");
                    }
                }
            });
            _listener.Start();
        }

        public void Dispose() => _listener.Dispose();
    }

    private static async Task AssertAllReturnedAsync(PostgresLockProvider[] providers, params string[] names)
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

    /// <summary>
    /// A single lock whose hold's metric throws as it is released: the lock is still unlocked and its session returned, then
    /// the error is thrown. Before, it was thrown first, and the lock stayed held on the server, its connection out of the budget.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ALocksRelease_WhoseMetricThrows_StillUnlocksAndReturnsTheSession_ThenThrows(bool sync)
    {
        await using var provider = PostgresServer.Provider();
        string name = PostgresServer.Unique("release_single");
        var scope = await provider.CreateExclusiveLock(name).AcquireAsync();
        using (new ThrowingHoldListener(name))
        {
            var error = sync
                ? Assert.Throws<InvalidOperationException>(() => scope.Dispose())
                : await Assert.ThrowsAsync<InvalidOperationException>(async () => await scope.DisposeAsync());
            Assert.Equal($"listener refused {name}", error.Message);
        }

        await AssertAllReturnedAsync([provider], name);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ASetsRelease_WhereOneMembersReleaseThrows_StillReleasesEveryOther_ThenThrowsThatError(bool sync)
    {
        await using var first = PostgresServer.Provider();
        await using var second = PostgresServer.Provider();
        await using var third = PostgresServer.Provider();
        string a = PostgresServer.Unique("release_a"), b = PostgresServer.Unique("release_b"), c = PostgresServer.Unique("release_c");
        var scope = await PostgresLockSet.AcquireAsync(
            [first.CreateExclusiveLock(a, level: 1).Request(), second.CreateExclusiveLock(b, level: 2).Request(), third.CreateExclusiveLock(c, level: 3).Request()]);

        // Released last to first: b's error comes before a's release.
        using (new ThrowingHoldListener(b))
        {
            var error = sync
                ? Assert.Throws<InvalidOperationException>(() => scope.Dispose())
                : await Assert.ThrowsAsync<InvalidOperationException>(async () => await scope.DisposeAsync());
            Assert.Equal($"listener refused {b}", error.Message);
        }

        await AssertAllReturnedAsync([first, second, third], a, b, c);

        // Disposed once already: refused at once, as before.
        Assert.Throws<System.Threading.SynchronizationLockException>(() => scope.Dispose());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ASetsRelease_WhereTwoMembersReleasesThrow_ReleasesEveryMember_ThenThrowsBothErrors(bool sync)
    {
        await using var first = PostgresServer.Provider();
        await using var second = PostgresServer.Provider();
        await using var third = PostgresServer.Provider();
        string a = PostgresServer.Unique("release_a"), b = PostgresServer.Unique("release_b"), c = PostgresServer.Unique("release_c");
        var scope = await PostgresLockSet.AcquireAsync(
            [first.CreateExclusiveLock(a, level: 1).Request(), second.CreateExclusiveLock(b, level: 2).Request(), third.CreateExclusiveLock(c, level: 3).Request()]);

        using (new ThrowingHoldListener(c, b))
        {
            var error = sync
                ? Assert.Throws<AggregateException>(() => scope.Dispose())
                : await Assert.ThrowsAsync<AggregateException>(async () => await scope.DisposeAsync());
            Assert.Equal([$"listener refused {c}", $"listener refused {b}"], error.InnerExceptions.Select(static e => e.Message));
        }

        await AssertAllReturnedAsync([first, second, third], a, b, c);
    }

    /// <summary>
    /// A set that cannot have its last member gives back the two it took; the release of the later one throws. The earlier
    /// one is still released, and the error surfaces: alone for a try (which found nothing wrong itself), inside the
    /// timeout for an acquisition that throws on timeout.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ASetsCleanUp_WhereOneTakenMembersReleaseThrows_StillReleasesTheOthers(bool throwOnTimeout)
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
            if (throwOnTimeout)
            {
                // The timeout a caller catches, the release's error inside (PostgresFailedSetCleanupTests).
                var error = await Assert.ThrowsAsync<LockTimeoutException>(async () => await PostgresLockSet.AcquireAsync(TimeSpan.Zero, requests));
                Assert.Equal($"listener refused {b}", Assert.IsType<InvalidOperationException>(error.InnerException).Message);
            }
            else
            {
                var error = await Assert.ThrowsAsync<InvalidOperationException>(async () => await PostgresLockSet.TryAcquireAsync(TimeSpan.Zero, requests));
                Assert.Equal($"listener refused {b}", error.Message);
            }
        }

        // c's plain session went back to its pool still holding it (the pool's reset is lazy): only a and b are asked for.
        await AssertAllReturnedAsync([first, second, third], a, b);
    }
}
