using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics.Metrics;
using System.Threading;
using System.Threading.Tasks;
using Npgsql;

namespace Locksmith.Postgres.Tests;

/// <summary>
/// A contended wait for a distributed lock records one contention and one wait however it ends, as the in-process locks
/// do: cancelled by the caller, cancelled by the server (an administrator's pg_cancel_backend), ended by the provider's
/// disposal, or refused as a deadlock; and a listener that throws on either instrument for a cancelled wait makes its
/// exception the acquisition's, with nothing left held or out.
/// </summary>
public sealed class PostgresWaitEndingMetricsTests
{
    public enum Ending
    {
        Canceled,
        CanceledByServer,
        Disposed,
    }

    [Theory]
    [InlineData(Ending.Canceled)]
    [InlineData(Ending.CanceledByServer)]
    [InlineData(Ending.Disposed)]
    public async Task AContendedWait_RecordsOneContentionAndOneWait_HoweverItEnds(Ending ending)
    {
        string name = PostgresServer.Unique($"wait_ending_{ending}".ToLowerInvariant());
        using var counts = new Counts(name);
        var provider = PostgresServer.Provider();
        try
        {
            var wanted = provider.CreateExclusiveLock(name);
            await using var holder = await PostgresServer.HoldOnPlainSessionAsync(name);
            using var cancel = new CancellationTokenSource();
            var waiting = PostgresServer.InAFlowOfItsOwn(async () =>
            {
                try
                {
                    await using var scope = await wanted.AcquireAsync(TimeSpan.FromSeconds(60), cancel.Token);
                    return null;
                }
                catch (Exception e)
                {
                    return e;
                }
            });

            await using (var watcher = await PostgresServer.OpenAsync())
            {
                await PostgresServer.WaitUntilSomeoneWaitsAsync(watcher, wanted.Key);
                switch (ending)
                {
                    case Ending.Canceled:
                        await cancel.CancelAsync();
                        break;
                    case Ending.CanceledByServer:
                        await using (var end = new NpgsqlCommand(
                            "SELECT pg_catalog.pg_cancel_backend(pid) FROM pg_catalog.pg_locks WHERE locktype = 'advisory' AND NOT granted " +
                            "AND classid = $1::oid AND objid = $2::oid AND objsubid = $3", watcher))
                        {
                            end.Parameters.Add(new NpgsqlParameter<int> { TypedValue = wanted.Key.Hi });
                            end.Parameters.Add(new NpgsqlParameter<int> { TypedValue = wanted.Key.Lo });
                            end.Parameters.Add(new NpgsqlParameter<short> { TypedValue = wanted.Key.SubId });
                            await end.ExecuteNonQueryAsync();
                        }

                        break;
                    case Ending.Disposed:
                        await provider.DisposeAsync();
                        break;
                }
            }

            var error = await waiting.WaitAsync(PostgresServer.HangGuard);
            Assert.NotNull(error);
            await PostgresServer.UnlockAllAsync(holder);
        }
        finally
        {
            await provider.DisposeAsync();
        }

        Assert.Equal((1, 1), counts.Read());
    }

    [Fact]
    public async Task ADeadlockedWait_RecordsOneContentionAndOneWait_AsTheGrantedOne()
    {
        string cash = PostgresServer.Unique("wait_ending_cash"), stock = PostgresServer.Unique("wait_ending_stock");
        using var cashCounts = new Counts(cash);
        using var stockCounts = new Counts(stock);
        await using var first = PostgresServer.Provider();
        await using var second = PostgresServer.Provider();
        using var bothHold = new CountdownEvent(2);
        Task<DeadlockException?> one, other;
        using (ExecutionContext.SuppressFlow())
        {
            one = Task.Run(() => PostgresServer.HoldThenAskAsync(first, cash, stock, bothHold));
            other = Task.Run(() => PostgresServer.HoldThenAskAsync(second, stock, cash, bothHold));
        }

        var outcomes = await Task.WhenAll(one, other).WaitAsync(PostgresServer.HangGuard);
        Assert.Single(outcomes, static e => e is not null);

        // Each lock had one contended wait: the victim's, refused, and the other's, granted once the victim let go.
        Assert.Equal((1, 1), cashCounts.Read());
        Assert.Equal((1, 1), stockCounts.Read());
    }

    [Theory]
    [InlineData("locksmith.lock.contentions")]
    [InlineData("locksmith.lock.wait.duration")]
    public async Task AListenerThatThrows_ForACancelledWait_IsTheAcquisitionsError_AndLeavesNothing(string instrument)
    {
        await using var provider = PostgresServer.Provider();
        string name = PostgresServer.Unique("wait_ending_listener");
        var wanted = provider.CreateExclusiveLock(name);
        await using var holder = await PostgresServer.HoldOnPlainSessionAsync(name);
        using (new PostgresListenerCleanupTests.ThrowingListener(instrument, name))
        {
            using var cancel = new CancellationTokenSource();
            var waiting = PostgresServer.InAFlowOfItsOwn(async () =>
            {
                try
                {
                    await using var scope = await wanted.AcquireAsync(TimeSpan.FromSeconds(60), cancel.Token);
                    return (Error: (Exception?)null, Held: true);
                }
                catch (Exception e)
                {
                    return (Error: e, Held: wanted.IsHeldByCurrentFlow);
                }
            });

            await using (var watcher = await PostgresServer.OpenAsync())
            {
                await PostgresServer.WaitUntilSomeoneWaitsAsync(watcher, wanted.Key);
            }

            await cancel.CancelAsync();
            var (error, held) = await waiting.WaitAsync(PostgresServer.HangGuard);
            Assert.Equal($"{instrument} listener refused {name}", Assert.IsType<InvalidOperationException>(error).Message);
            Assert.False(held);
        }

        await PostgresServer.UnlockAllAsync(holder);
        await PostgresListenerCleanupTests.AssertNothingLeftAsync([provider], name);
    }

    /// <summary>Counts the contentions and waits recorded for one lock name.</summary>
    internal sealed class Counts : IDisposable
    {
        private readonly MeterListener _listener;
        private readonly ConcurrentDictionary<string, int> _seen = new(StringComparer.Ordinal);

        public Counts(string name)
        {
            _listener = new MeterListener
            {
                InstrumentPublished = (instrument, l) =>
                {
                    if (instrument.Meter.Name == LocksmithMetrics.MeterName &&
                        instrument.Name is "locksmith.lock.contentions" or "locksmith.lock.wait.duration")
                    {
                        l.EnableMeasurementEvents(instrument);
                    }
                },
            };
            _listener.SetMeasurementEventCallback<long>((instrument, _, tags, _) => Record(instrument, tags));
            _listener.SetMeasurementEventCallback<double>((instrument, _, tags, _) => Record(instrument, tags));
            _listener.Start();

            void Record(Instrument instrument, ReadOnlySpan<KeyValuePair<string, object?>> tags)
            {
                foreach (var tag in tags)
                {
                    if (tag.Key == "lock.name" && tag.Value is string lockName && lockName == name)
                    {
                        _seen.AddOrUpdate(instrument.Name, 1, static (_, n) => n + 1);
                    }
                }
            }
        }

        public (int Contentions, int Waits) Read() =>
            (_seen.GetValueOrDefault("locksmith.lock.contentions"), _seen.GetValueOrDefault("locksmith.lock.wait.duration"));

        public void Dispose() => _listener.Dispose();
    }
}
