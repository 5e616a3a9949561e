using System;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Locksmith.Hosting.Tests;

/// <summary>
/// The host's policy handlers log on the waiter's thread, inside the lock call: a log sink that fails must not change
/// what that call returns or throws.
/// </summary>
public sealed class PolicyLogFailureTests
{
    private const string Settings = """{ "Locksmith": { "OrderViolationAction": "Report", "LongWaitThreshold": "00:00:00" } }""";

    [Fact]
    public async Task A_timed_out_TryAcquire_returns_false_and_Acquire_throws_its_LockTimeoutException_when_the_sink_throws()
    {
        var ct = TestContext.Current.CancellationToken;
        var sink = new ThrowingSink();
        using var host = TestHost.Build(Settings, l => l.AddExclusiveLock("ledger").AddAsyncExclusiveLock("outbox"), s => s.AddLogging(b => b.AddProvider(sink)));
        var ledger = host.Services.GetRequiredKeyedService<ExclusiveLock>("ledger");
        var outbox = host.Services.GetRequiredKeyedService<AsyncExclusiveLock>("outbox");
        await host.StartAsync(ct);

        bool tried;
        Exception? thrown;
        using (HeldOnOtherThread.Hold("holder", release =>
        {
            using var scope = ledger.Acquire();
            release.Wait();
        }))
        {
            // Before, both threw the sink's AggregateException (IOException) from the 14001 line instead.
            tried = ledger.TryAcquire(TimeSpan.FromMilliseconds(1), out _);
            thrown = Record.Exception(() => ledger.Acquire(TimeSpan.FromMilliseconds(1)).Dispose());
        }

        Exception? asyncThrown;
        await using (var held = await outbox.AcquireAsync(ct))
        {
            // Another flow: this one holds the lock, and a flow that holds it may not wait for it.
            Task<Exception?> waiter;
            using (ExecutionContext.SuppressFlow())
            {
                waiter = Task.Run(async () => await Record.ExceptionAsync(async () => (await outbox.AcquireAsync(TimeSpan.FromMilliseconds(1))).Dispose()), ct);
            }

            asyncThrown = await waiter;
        }

        await host.StopAsync(ct);

        Assert.False(tried);
        Assert.IsType<LockTimeoutException>(thrown);
        Assert.IsType<LockTimeoutException>(asyncThrown);
        Assert.Equal(3, sink.Thrown(LocksmithEventIds.LockTimeout));
    }

    [Fact]
    public async Task A_long_wait_and_a_reported_order_violation_acquire_when_the_sink_throws()
    {
        var ct = TestContext.Current.CancellationToken;
        var sink = new ThrowingSink();
        using var host = TestHost.Build(Settings, l => l.AddExclusiveLock("low", 1).AddExclusiveLock("high", 2), s => s.AddLogging(b => b.AddProvider(sink)));
        var low = host.Services.GetRequiredKeyedService<ExclusiveLock>("low");
        var high = host.Services.GetRequiredKeyedService<ExclusiveLock>("high");
        await host.StartAsync(ct);

        // Against the order (high, then low): reported, then acquired. Before, the sink's exception came out of Acquire.
        var violation = Record.Exception(() =>
        {
            using var outer = high.Acquire();
            using var inner = low.Acquire();
        });

        // A wait of any length is long at threshold 0: the 14003 line is written once the waiter has the lock.
        var holder = HeldOnOtherThread.Hold("holder", release =>
        {
            using var scope = low.Acquire();
            release.Wait();
        });
        holder.WaitUntilHeld(() => low.IsHeld);
        var waiter = Task.Run(() => Record.Exception(() =>
        {
            using var scope = low.Acquire();
        }), ct);
        Guard.SpinUntil(() => DeadlockDetector.CurrentWaits().Count > 0);
        holder.Release();
        var longWait = await waiter.WaitAsync(Guard.HangLimit, ct);

        await host.StopAsync(ct);

        Assert.Null(violation);
        Assert.Null(longWait);
        Assert.Equal(1, sink.Thrown(LocksmithEventIds.LockOrderViolation));
        Assert.Equal(1, sink.Thrown(LocksmithEventIds.LongWait));
        Assert.False(low.IsHeld);
    }

    /// <summary>A log sink that fails (a full disk, a broken exporter) on Locksmith's lock events.</summary>
    private sealed class ThrowingSink : ILoggerProvider, ILogger
    {
        private readonly int[] _thrown = new int[3];

        public int Thrown(int eventId) => Volatile.Read(ref _thrown[eventId - LocksmithEventIds.LockTimeout]);

        public ILogger CreateLogger(string categoryName) => this;

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId id, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (id.Id is LocksmithEventIds.LockTimeout or LocksmithEventIds.LockOrderViolation or LocksmithEventIds.LongWait)
            {
                Interlocked.Increment(ref _thrown[id.Id - LocksmithEventIds.LockTimeout]);
                throw new System.IO.IOException("No space left on device");
            }
        }

        public void Dispose()
        {
        }
    }
}
