using System;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Xunit;

namespace Locksmith.Tests.Diagnostics;

/// <summary>
/// <see cref="DeadlockDetector.CurrentWaits"/> names a flow that holds the lock a wait is behind as the lock's own
/// messages and <see cref="LockPrimitive.DescribeHolder"/> do, with the activity it took its locks in: before, the wait
/// said <c>flow #6</c> where <c>DescribeHolder</c> said <c>flow #6 ('GET /orders')</c> for the same hold.
/// </summary>
public sealed class CurrentWaitsFlowHolderNameTests
{
    [Fact]
    public async Task AWaitBehindAFlow_NamesTheFlowWithItsActivity_AsDescribeHolderDoes()
    {
        var outbox = new AsyncExclusiveLock("cw-holder-activity");
        var flowHold = await Task.Run(async () =>
        {
            using var activity = new Activity("cw-holder-request").Start();
            return await outbox.AcquireAsync();
        });

        Task waiter;
        using (ExecutionContext.SuppressFlow())
        {
            waiter = Task.Run(async () =>
            {
                using var scope = await outbox.AcquireAsync(Guard.HangLimit);
            });
        }

        Guard.SpinUntil(() => DeadlockDetector.CurrentWaits().Any(w => w.LockName == outbox.Name));
        var wait = DeadlockDetector.CurrentWaits().Single(w => w.LockName == outbox.Name);
        string? described = outbox.DescribeHolder();

        flowHold.Dispose();
        await waiter.WaitAsync(Guard.HangLimit);

        Assert.Equal($"flow #{wait.HolderId - (1 << 30)} ('cw-holder-request')", described);
        Assert.Equal(described, wait.Holder);
    }
}
