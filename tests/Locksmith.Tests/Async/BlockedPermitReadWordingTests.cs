using System;
using System.Threading.Tasks;

namespace Locksmith.Tests.Async;

/// <summary>A blocking read of a pending permit wait names the permits and the semaphore, as its cancellation and timeout do.</summary>
public sealed class BlockedPermitReadWordingTests
{
    [Fact]
    public async Task ABlockingReadOfAPendingPermitWait_NamesItsPermitsAndTheSemaphore()
    {
        // Before: "… read the result of its wait for permit access to 'slots' before the wait completed …", where the
        // cancellation and the timeout of the same wait say "2 permit(s) of semaphore 'slots'".
        var slots = new CountingSemaphore(1, 2, "slots-wording");
        var blocked = await Task.Run(() => Assert.Throws<InvalidOperationException>(() => slots.AcquireAsync(2).GetAwaiter().GetResult()));
        Assert.Contains("read the result of its wait for 2 permit(s) of semaphore 'slots-wording' before the wait completed", blocked.Message, StringComparison.Ordinal);
        Assert.Equal(1, slots.CurrentCount);
        Assert.Equal(0, slots.QueuedWaiterCount);
    }
}
