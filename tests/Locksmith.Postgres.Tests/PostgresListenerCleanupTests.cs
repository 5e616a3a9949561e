using System;
using System.Collections.Generic;
using System.Diagnostics.Metrics;
using System.Linq;
using System.Threading.Tasks;
using Npgsql;

namespace Locksmith.Postgres.Tests;

/// <summary>
/// A metrics listener of the application's that throws as a granted lock is recorded (its acquisition, or the contention
/// and wait of a lock it had to wait for): its exception is the acquisition's, and the lock it got is released first, its
/// session returned. Before, the exception escaped with the hold still in the provider's books and the advisory lock still
/// held on the server, by a session no caller could release until the provider was disposed.
/// </summary>
public sealed class PostgresListenerCleanupTests
{
    /// <summary>A real <see cref="MeterListener"/> that throws when <paramref name="instrument"/> records one of the named locks.</summary>
    internal sealed class ThrowingListener : IDisposable
    {
        private readonly MeterListener _listener;

        public ThrowingListener(string instrument, params string[] names)
        {
            var refused = new HashSet<string>(names, StringComparer.Ordinal);
            _listener = new MeterListener
            {
                InstrumentPublished = (published, l) =>
                {
                    if (published.Meter.Name == LocksmithMetrics.MeterName && published.Name == instrument)
                    {
                        l.EnableMeasurementEvents(published);
                    }
                },
            };
            _listener.SetMeasurementEventCallback<long>((_, _, tags, _) => Refuse(tags));
            _listener.SetMeasurementEventCallback<double>((_, _, tags, _) => Refuse(tags));
            _listener.Start();

            void Refuse(ReadOnlySpan<KeyValuePair<string, object?>> tags)
            {
                foreach (var tag in tags)
                {
                    if (tag.Key == "lock.name" && tag.Value is string name && refused.Contains(name))
                    {
                        throw new InvalidOperationException($"{instrument} listener refused {name}");
                    }
                }
            }
        }

        public void Dispose() => _listener.Dispose();
    }

    /// <summary>How many sessions the server shows holding the named lock's advisory lock (pg_locks, from a session of its own).</summary>
    internal static async Task<long> GrantedOnServerAsync(string name)
    {
        var key = AdvisoryKey.ForName(name);
        await using var watcher = await PostgresServer.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT count(*) FROM pg_catalog.pg_locks WHERE locktype = 'advisory' AND granted AND classid = $1::oid AND objid = $2::oid AND objsubid = $3",
            watcher);
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = key.Hi });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = key.Lo });
        command.Parameters.Add(new NpgsqlParameter<short> { TypedValue = key.SubId });
        return (long)(await command.ExecuteScalarAsync())!;
    }

    internal static async Task AssertNothingLeftAsync(PostgresLockProvider[] providers, params string[] names)
    {
        foreach (var provider in providers)
        {
            Assert.Equal(0, provider.HeldCount);
            Assert.Equal(0, provider.ConnectionsInUse);
        }

        await using var elsewhere = await PostgresServer.WarmedProviderAsync();
        foreach (string name in names)
        {
            Assert.Equal(0, await GrantedOnServerAsync(name));
            Assert.True(await PostgresServer.TakenAtOnceElsewhereAsync(() => elsewhere.CreateExclusiveLock(name).TryAcquireAsync(TimeSpan.Zero)), name);
        }
    }

    [Fact]
    public async Task ALockWhoseAcquisitionCounterThrows_ReleasesTheLockItGot_ThenThrows()
    {
        await using var provider = PostgresServer.Provider();
        string name = PostgresServer.Unique("listener_acquired");
        var gate = provider.CreateExclusiveLock(name);
        using (new ThrowingListener("locksmith.lock.acquisitions", name))
        {
            var error = await Assert.ThrowsAsync<InvalidOperationException>(async () => await gate.AcquireAsync(TimeSpan.FromSeconds(30)));
            Assert.Equal($"locksmith.lock.acquisitions listener refused {name}", error.Message);
            Assert.False(gate.IsHeldByCurrentFlow);
        }

        await AssertNothingLeftAsync([provider], name);

        // The flow is not left reading as a holder: it takes the lock again.
        await using var again = await gate.AcquireAsync(TimeSpan.Zero);
        Assert.True(gate.IsHeldByCurrentFlow);
    }

    [Fact]
    public async Task ALockWhoseContentionCounterThrowsAfterAWait_ReleasesTheLockItGot_ThenThrows()
    {
        await using var holderProvider = PostgresServer.Provider();
        await using var waiterProvider = PostgresServer.Provider();
        string name = PostgresServer.Unique("listener_waited");
        var wanted = waiterProvider.CreateExclusiveLock(name);
        using (new ThrowingListener("locksmith.lock.contentions", name))
        {
            var holder = await holderProvider.CreateExclusiveLock(name).AcquireAsync(TimeSpan.FromSeconds(30));
            var waiter = PostgresServer.InAFlowOfItsOwn(async () => await wanted.AcquireAsync(TimeSpan.FromSeconds(60)));
            await using (var watcher = await PostgresServer.OpenAsync())
            {
                await PostgresServer.WaitUntilSomeoneWaitsAsync(watcher, wanted.Key);
            }

            await holder.DisposeAsync();
            var error = await Assert.ThrowsAsync<InvalidOperationException>(() => waiter.WaitAsync(PostgresServer.HangGuard));
            Assert.Equal($"locksmith.lock.contentions listener refused {name}", error.Message);
        }

        await AssertNothingLeftAsync([holderProvider, waiterProvider], name);
    }

    [Fact]
    public async Task ASetWhoseMembersAcquisitionCounterThrows_ReleasesEveryMember_ThenThrows()
    {
        await using var first = PostgresServer.Provider();
        await using var second = PostgresServer.Provider();
        await using var third = PostgresServer.Provider();
        string a = PostgresServer.Unique("listener_set_a"), b = PostgresServer.Unique("listener_set_b"), c = PostgresServer.Unique("listener_set_c");
        using (new ThrowingListener("locksmith.lock.acquisitions", b))
        {
            var error = await Assert.ThrowsAsync<InvalidOperationException>(async () => await PostgresLockSet.AcquireAsync(
                TimeSpan.FromSeconds(30),
                [first.CreateExclusiveLock(a, level: 1).Request(), second.CreateExclusiveLock(b, level: 2).Request(), third.CreateExclusiveLock(c, level: 3).Request()]));
            Assert.Equal($"locksmith.lock.acquisitions listener refused {b}", error.Message);
        }

        await AssertNothingLeftAsync([first, second, third], a, b, c);
    }

    /// <summary>
    /// The release of the lock the acquisition got throws too (the same application's hold-duration listener): neither error
    /// is lost, the acquisition's comes first (as a failed set's clean-up errors come beside its failure).
    /// </summary>
    [Fact]
    public async Task ALockWhoseAcquisitionCounterAndReleaseBothThrow_ThrowsBothErrors_AndLeavesNothingHeld()
    {
        await using var provider = PostgresServer.Provider();
        string name = PostgresServer.Unique("listener_both");
        var gate = provider.CreateExclusiveLock(name);
        using (new ThrowingListener("locksmith.lock.acquisitions", name))
        using (new ThrowingListener("locksmith.lock.hold.duration", name))
        {
            var error = await Assert.ThrowsAsync<AggregateException>(async () => await gate.AcquireAsync(TimeSpan.FromSeconds(30)));
            Assert.Equal(
                [$"locksmith.lock.acquisitions listener refused {name}", $"locksmith.lock.hold.duration listener refused {name}"],
                error.InnerExceptions.Select(static e => e.Message));
        }

        await AssertNothingLeftAsync([provider], name);
    }
}
