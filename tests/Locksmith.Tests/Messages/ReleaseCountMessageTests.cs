using System;
using System.Threading.Tasks;
using Locksmith.Testing.Support;
using Xunit;

namespace Locksmith.Tests.Messages;

/// <summary>
/// <c>CountingSemaphore.Release(0)</c> names the semaphore and who called it as a release past the maximum does: the
/// thread, or the async flow it runs while that flow holds async locks ("Flow #N (on thread T) tried to release 0
/// permit(s) …"). It always read "Thread T released 0 permit(s) …", though a flow's release past the maximum names the flow.
/// </summary>
public sealed class ReleaseCountMessageTests
{
    private const string Rest = " tried to release 0 permit(s) of semaphore 'release-count'; the count must be at least 1.";

    [Fact]
    public void ReleasingZero_OnAThread_NamesTheThreadAndTheSemaphore()
    {
        var semaphore = new CountingSemaphore(1, 2, "release-count");
        string? message = null;
        int threadId = 0;

        Concurrently.Start("releaser", () =>
        {
            threadId = Environment.CurrentManagedThreadId;
            message = Assert.Throws<ArgumentOutOfRangeException>(() => semaphore.Release(0)).Message;
        }).JoinGuarded();

        Assert.StartsWith($"Thread {threadId} ('releaser')" + Rest, message, StringComparison.Ordinal);
        Assert.Equal(1, semaphore.CurrentCount);
    }

    [Fact]
    public async Task ReleasingZero_InAFlowHoldingAsyncLocks_NamesTheFlowAndItsThread()
    {
        var semaphore = new CountingSemaphore(1, 2, "release-count");
        var gate = new AsyncExclusiveLock("release-count-gate");

        string message = await Task.Run(async () =>
        {
            using (await gate.AcquireAsync())
            {
                var zero = Assert.Throws<ArgumentOutOfRangeException>(() => semaphore.Release(0)).Message;
                var full = Assert.Throws<System.Threading.SemaphoreFullException>(() => semaphore.Release(2)).Message;
                Assert.Matches(@"^Flow #\d+ \(on thread \d+( \('[^']*'\))?\) released 2 permit\(s\)", full);
                return zero;
            }
        });

        Assert.Matches(@"^Flow #\d+ \(on thread \d+( \('[^']*'\))?\)" + System.Text.RegularExpressions.Regex.Escape(Rest), message);
        Assert.Equal(1, semaphore.CurrentCount);
    }
}
