using System;
using System.Diagnostics;
using System.Threading;
using System.Threading.Tasks;
using Xunit;

namespace Locksmith.Tests.Async;

/// <summary>
/// An async wait that times out names its flow as async misuse does, at the start of the sentence and with the thread
/// it resumed on: "Flow #N ('name') (on thread T) timed out …", not "flow #N ('name') timed out …".
/// </summary>
public sealed class AsyncTimeoutNamesTheFlowTests
{
    public static TheoryData<string> Timeouts() =>
        ["AsyncExclusiveLock", "AsyncReadWriteLock write", "CountingSemaphore"];

    [Theory]
    [MemberData(nameof(Timeouts))]
    public async Task AsyncTimeout_NamesTheFlowAndItsThread(string primitive)
    {
        var gate = new AsyncExclusiveLock("timeout-flow-gate");
        var rw = new AsyncReadWriteLock("timeout-flow-rw");
        var semaphore = new CountingSemaphore(0, 1, "timeout-flow-semaphore");
        using var held = primitive == "AsyncReadWriteLock write" ? await rw.AcquireReadAsync() : await gate.AcquireAsync();

        // The waiting flow is a flow of its own: one started from the holder's would share its holds.
        Task<string> waiting;
        using (ExecutionContext.SuppressFlow())
        {
            waiting = Task.Run(async () =>
            {
            using var activity = new Activity("reconcile-orders").Start();
            var timeout = await Assert.ThrowsAsync<LockTimeoutException>(async () =>
            {
                using var scope = primitive switch
                {
                    "AsyncExclusiveLock" => await gate.AcquireAsync(TimeSpan.FromMilliseconds(20)),
                    "AsyncReadWriteLock write" => await rw.AcquireWriteAsync(TimeSpan.FromMilliseconds(20)),
                    _ => await semaphore.AcquireAsync(TimeSpan.FromMilliseconds(20)),
                };
            });
            return timeout.Message;
            });
        }

        string message = await waiting;

        Assert.Matches(@"^Flow #\d+ \('reconcile-orders'\) \(on thread \d+( \('[^']*'\))?\) timed out after ", message);
    }
}
