using System;
using System.Diagnostics;
using System.Threading;
using System.Threading.Tasks;
using Locksmith.Testing.Support;
using Locksmith.Tests.Support;
using Xunit;

namespace Locksmith.Tests.Ordering;

/// <summary>
/// An order violation names the flow as other async messages do, with the thread it ran on as it asked: "Lock order
/// violation in flow #N ('name') (on thread T): acquiring …"; it read "in flow #N ('name'): …", with no thread. A thread's
/// violation keeps "Lock order violation on thread T ('name'): …".
/// </summary>
public sealed class OrderViolationNamesTheFlowTests
{
    private const string Rest =
        ": acquiring 'flow-order-low' (level 10) while holding 'flow-order-high' (level 20). Locks must be acquired in increasing " +
        "level order; acquire 'flow-order-low' first, or use LockSet to take both in the global order.";

    [Fact]
    public async Task AFlowsViolation_NamesTheFlowAndItsThread()
    {
        using var policy = PolicyScope.OrderViolations(OrderViolationAction.Throw);
        var high = new AsyncExclusiveLock("flow-order-high", level: 20);
        var low = new AsyncExclusiveLock("flow-order-low", level: 10);

        string message = await Task.Run(async () =>
        {
            using var activity = new Activity("reconcile-orders").Start();
            using (await high.AcquireAsync())
            {
                return Assert.Throws<LockOrderViolationException>(() => { _ = low.AcquireAsync(); }).Message;
            }
        });

        Assert.Matches(@"^Lock order violation in flow #\d+ \('reconcile-orders'\) \(on thread \d+( \('[^']*'\))?\): acquiring ", message);
        Assert.EndsWith(Rest, message, StringComparison.Ordinal);
        Assert.False(low.IsHeld);
    }

    [Fact]
    public void AThreadsViolation_NamesTheThread()
    {
        using var policy = PolicyScope.OrderViolations(OrderViolationAction.Throw);
        var high = new ExclusiveLock("flow-order-high", level: 20);
        var low = new ExclusiveLock("flow-order-low", level: 10);
        string? message = null;
        int threadId = 0;

        Concurrently.Start("order-thread", () =>
        {
            threadId = Environment.CurrentManagedThreadId;
            using (high.Acquire())
            {
                message = Assert.Throws<LockOrderViolationException>(() => low.Acquire().Dispose()).Message;
            }
        }).JoinGuarded();

        Assert.Equal($"Lock order violation on thread {threadId} ('order-thread')" + Rest, message);
    }
}
