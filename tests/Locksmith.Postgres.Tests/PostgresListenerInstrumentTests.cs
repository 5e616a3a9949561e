using System;
using System.Threading.Tasks;

namespace Locksmith.Postgres.Tests;

/// <summary>
/// A metrics listener that throws on each instrument a distributed lock records, for a wait that is granted and for one
/// that times out, with an async and a sync release: the listener's exception reaches the call that recorded it (the
/// acquisition, or the release for the hold's duration), and the session and the advisory lock end as they would without
/// the listener: nothing held in the provider's books or on the server, no connection out, the flow not left reading as a
/// holder, and the key free for the next acquirer.
/// </summary>
public sealed class PostgresListenerInstrumentTests
{
    [Theory]
    [InlineData("locksmith.lock.acquisitions", false, false)]
    [InlineData("locksmith.lock.contentions", false, false)]
    [InlineData("locksmith.lock.wait.duration", false, false)]
    [InlineData("locksmith.lock.timeouts", false, false)]
    [InlineData("locksmith.lock.hold.duration", false, false)]
    [InlineData("locksmith.lock.hold.duration", false, true)]
    [InlineData("locksmith.lock.acquisitions", true, false)]
    [InlineData("locksmith.lock.contentions", true, false)]
    [InlineData("locksmith.lock.wait.duration", true, false)]
    [InlineData("locksmith.lock.timeouts", true, false)]
    [InlineData("locksmith.lock.hold.duration", true, false)]
    public async Task AListenerThatThrows_OnAnyInstrument_LeavesTheSessionAndTheLockAsWithoutIt(string instrument, bool timesOut, bool syncRelease)
    {
        await using var provider = PostgresServer.Provider();
        string name = PostgresServer.Unique("listener_instrument");
        var wanted = provider.CreateExclusiveLock(name);
        string refused = $"{instrument} listener refused {name}";

        // Recorded for this outcome: a granted wait records its acquisition, contention and wait (and its hold on release);
        // a timed-out one its contention, wait and timeout.
        bool recordedByAcquisition = timesOut
            ? instrument is "locksmith.lock.contentions" or "locksmith.lock.wait.duration" or "locksmith.lock.timeouts"
            : instrument is "locksmith.lock.acquisitions" or "locksmith.lock.contentions" or "locksmith.lock.wait.duration";
        bool recordedByRelease = !timesOut && instrument == "locksmith.lock.hold.duration";

        await using var holder = await PostgresServer.HoldOnPlainSessionAsync(name);

        // The timed-out wait's 300 ms go to the wait, not to opening the session (the warm-up's lock is not the listener's).
        await PostgresServer.WarmUpAsync(provider);
        using (new PostgresListenerCleanupTests.ThrowingListener(instrument, name))
        {
            var waiting = PostgresServer.InAFlowOfItsOwn(async () =>
            {
                Exception? acquisitionError = null, releaseError = null;
                PostgresLockScope scope = default;
                try
                {
                    scope = await wanted.AcquireAsync(timesOut ? TimeSpan.FromMilliseconds(300) : TimeSpan.FromSeconds(60));
                }
                catch (Exception e)
                {
                    acquisitionError = e;
                }

                bool heldAfterAcquiring = wanted.IsHeldByCurrentFlow;
                try
                {
                    if (syncRelease)
                    {
                        scope.Dispose();
                    }
                    else
                    {
                        await scope.DisposeAsync();
                    }
                }
                catch (Exception e)
                {
                    releaseError = e;
                }

                return (acquisitionError, releaseError, scope.IsAcquired, heldAfterAcquiring, heldAfterRelease: wanted.IsHeldByCurrentFlow);
            });

            if (!timesOut)
            {
                await using (var watcher = await PostgresServer.OpenAsync())
                {
                    await PostgresServer.WaitUntilSomeoneWaitsAsync(watcher, wanted.Key);
                }

                await PostgresServer.UnlockAllAsync(holder);
            }

            var (acquisitionError, releaseError, acquired, heldAfterAcquiring, heldAfterRelease) = await waiting.WaitAsync(PostgresServer.HangGuard);
            if (recordedByAcquisition)
            {
                Assert.Equal(refused, Assert.IsType<InvalidOperationException>(acquisitionError).Message);
                Assert.False(acquired);
                Assert.False(heldAfterAcquiring);
            }
            else if (timesOut)
            {
                Assert.IsType<LockTimeoutException>(acquisitionError);
                Assert.False(heldAfterAcquiring);
            }
            else
            {
                Assert.Null(acquisitionError);
                Assert.True(acquired);
                Assert.True(heldAfterAcquiring);
            }

            if (recordedByRelease && acquired)
            {
                Assert.Equal(refused, Assert.IsType<InvalidOperationException>(releaseError).Message);
            }
            else
            {
                Assert.Null(releaseError);
            }

            Assert.False(heldAfterRelease);
        }

        await PostgresServer.UnlockAllAsync(holder);
        await PostgresListenerCleanupTests.AssertNothingLeftAsync([provider], name);
    }
}
