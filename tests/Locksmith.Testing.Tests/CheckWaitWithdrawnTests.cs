using System;
using System.Threading.Tasks;

namespace Locksmith.Testing.Tests;

/// <summary>
/// A check of the scenario (<c>scenario.Finally</c>) that queues an async wait, with no timeout or token, for a lock only
/// finished flows hold: the run withdraws that wait from the lock's queue and fails it with the reason, so the run reports
/// an <see cref="ControlledFailureKind.Assertion"/> and leaves no wait queued. Before, a sync check blocking on such a
/// wait's task (<c>.AsTask().Result</c>) waited for good and <c>Run</c> never returned; an async check failed, but its
/// wait stayed queued on the lock for good. Each run here is bounded by the hang guard.
/// </summary>
public sealed class CheckWaitWithdrawnTests
{
    private const string KeptByLeaker = "A check of the scenario (scenario.Finally) waits for 'async-cache', held by leaker (finished without releasing it)";

    private static readonly ControlledTestOptions s_once = new() { Seed = 3, Iterations = 1 };

    [Fact]
    public async Task ASyncCheckReadingResultOfAnAsyncAcquisitionAFinishedFlowKept_FailsAndWithdrawsTheWait()
    {
        AsyncExclusiveLock? cache = null;
        var result = await RunGuarded(scenario =>
        {
            var kept = NewKeptLock(scenario);
            cache = kept;
            scenario.Finally(() =>
            {
                using var scope = kept.AcquireAsync().AsTask().Result;
            });
        });

        AssertCheckFailed(result, KeptByLeaker);
        AssertWithdrawn(cache!);
    }

    [Fact]
    public async Task ASyncCheckWaitingOnAnAsyncAcquisitionAFinishedFlowKept_FailsAndWithdrawsTheWait()
    {
        AsyncExclusiveLock? cache = null;
        var result = await RunGuarded(scenario =>
        {
            var kept = NewKeptLock(scenario);
            cache = kept;
            scenario.Finally(() => kept.AcquireAsync().AsTask().Wait());
        });

        AssertCheckFailed(result, KeptByLeaker);
        AssertWithdrawn(cache!);
    }

    [Fact]
    public async Task ASyncCheckGettingTheTasksResultOfAnAsyncAcquisitionAFinishedFlowKept_FailsWithTheReason()
    {
        AsyncExclusiveLock? cache = null;
        var result = await RunGuarded(scenario =>
        {
            var kept = NewKeptLock(scenario);
            cache = kept;
            scenario.Finally(() =>
            {
                using var scope = kept.AcquireAsync().AsTask().GetAwaiter().GetResult();
            });
        });

        // Not wrapped in an AggregateException: the check throws the wait's own exception.
        var failure = AssertCheckFailed(result, $"a check failed: InvalidOperationException: {KeptByLeaker}");
        Assert.Contains("would wait for good", failure.Summary, StringComparison.Ordinal);
        AssertWithdrawn(cache!);
    }

    [Fact]
    public async Task ASyncCheckBlockingOnAPermitAFinishedFlowKept_FailsAndWithdrawsTheWait()
    {
        CountingSemaphore? pool = null;
        var result = await RunGuarded(scenario =>
        {
            var semaphore = new CountingSemaphore(1, 1, "pool");
            pool = semaphore;
            scenario.Flow("leaker", async () =>
            {
                await semaphore.AcquireAsync();
            });
            scenario.Finally(() =>
            {
                using var scope = semaphore.AcquireAsync().AsTask().Result;
            });
        });

        AssertCheckFailed(result, "waits for 'pool', whose permit leaker took and finished without releasing it");
        Assert.Equal(0, pool!.WaitingCount);
        Assert.Equal(0, pool.CurrentCount);
    }

    [Fact]
    public async Task AnAsyncCheckAwaitingALockAFinishedFlowKept_LeavesNoWaitQueued()
    {
        AsyncExclusiveLock? cache = null;
        var result = await RunGuarded(scenario =>
        {
            var kept = NewKeptLock(scenario);
            cache = kept;
            scenario.Finally(async () =>
            {
                using (await kept.AcquireAsync())
                {
                }
            });
        });

        AssertCheckFailed(result, KeptByLeaker);
        AssertWithdrawn(cache!);
    }

    [Fact]
    public async Task AnAsyncCheckWritingBehindAReadAFinishedFlowKept_LeavesNoWaitQueued()
    {
        AsyncReadWriteLock? table = null;
        var result = await RunGuarded(scenario =>
        {
            var rw = new AsyncReadWriteLock("table");
            table = rw;
            scenario.Flow("reader", async () =>
            {
                await rw.AcquireReadAsync();
            });
            scenario.Finally(async () =>
            {
                using (await rw.AcquireWriteAsync())
                {
                }
            });
        });

        AssertCheckFailed(result, "waits for 'table', held for reading by reader (finished without releasing it)");
        Assert.Equal(0, table!.WaitingCount);
    }

    /// <summary>A sync check blocking on an async acquisition of a lock a flow released takes it, as before.</summary>
    [Fact]
    public async Task ASyncCheckBlockingOnAnAsyncAcquisitionOfAReleasedLock_Passes()
    {
        AsyncExclusiveLock? cache = null;
        var result = await RunGuarded(scenario =>
        {
            var tidy = new AsyncExclusiveLock("async-cache");
            cache = tidy;
            scenario.Flow("tidy", async () =>
            {
                using (await tidy.AcquireAsync())
                {
                }
            });
            scenario.Finally(() =>
            {
                using (tidy.AcquireAsync().AsTask().Result)
                {
                    Assert.True(tidy.IsHeld);
                }
            });
        });

        Assert.True(result.Passed, result.ToString());
        Assert.False(cache!.IsHeld);
        Assert.Equal(0, cache.WaitingCount);
    }

    /// <summary>A lock a flow named leaker takes and keeps (it finishes without releasing it).</summary>
    private static AsyncExclusiveLock NewKeptLock(Scenario scenario)
    {
        var cache = new AsyncExclusiveLock("async-cache");
        scenario.Flow("leaker", async () =>
        {
            await cache.AcquireAsync();
        });
        return cache;
    }

    /// <summary>The check's wait left the queue; the finished flow still holds the lock.</summary>
    private static void AssertWithdrawn(AsyncExclusiveLock cache)
    {
        Assert.Equal(0, cache.WaitingCount);
        Assert.True(cache.IsHeld);
    }

    /// <summary>The run failed as an Assertion (a check threw) whose summary has <paramref name="fragment"/>; its report.</summary>
    private static ControlledTestReport AssertCheckFailed(ControlledTestResult result, string fragment)
    {
        var failure = Assert.IsType<ControlledTestReport>(result.Failure);
        Assert.Equal(ControlledFailureKind.Assertion, failure.Kind);
        Assert.Contains(fragment, failure.Summary, StringComparison.Ordinal);
        return failure;
    }

    // A hang guard, not a measurement: the run ends within milliseconds, or hangs for good.
    private static Task<ControlledTestResult> RunGuarded(Action<Scenario> build) =>
        Task.Run(() => ControlledTest.Run(build, s_once)).WaitAsync(TimeSpan.FromMinutes(2), TestContext.Current.CancellationToken);
}
