using System;
using System.Threading.Tasks;
using Locksmith.Testing.Support;
using Xunit;

namespace Locksmith.Tests.Async;

/// <summary>
/// A throwing acquisition with a zero timeout that finds the lock taken fails its task, as a queued wait's timeout does,
/// instead of throwing from the call: code that starts acquisitions and awaits them together
/// (<c>Task.WhenAll(a.AcquireAsync(TimeSpan.Zero).AsTask(), …)</c>) sees the timeout as that task's fault. Before, the
/// call itself threw (a soak found it); misuse (re-entry, order) still throws at once.
/// </summary>
public sealed class ZeroTimeoutFaultsTheTaskTests
{
    public static TheoryData<string> Kinds() => ["exclusive", "read behind a writer", "write", "permits", "stripe", "set", "many keys"];

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task AZeroTimeoutOnATakenLock_FaultsTheTask_NamingTheLock_AndTheFlowHoldsNothing(string kind)
    {
        var exclusive = new AsyncExclusiveLock($"zero-{kind}-exclusive");
        var readWrite = new AsyncReadWriteLock($"zero-{kind}-rw");
        var semaphore = new CountingSemaphore(1, 1, $"zero-{kind}-permits");
        var striped = new AsyncStripedLock<int>(4, $"zero-{kind}-striped");
        var holding = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        // Another flow holds the lock the call asks for.
        var holder = Task.Run(async () =>
        {
            using var scope = kind switch
            {
                "read behind a writer" or "write" => await readWrite.AcquireWriteAsync(),
                "permits" => await semaphore.AcquireAsync(),
                "stripe" or "many keys" => await striped.AcquireAsync(1),
                _ => await exclusive.AcquireAsync(),
            };
            holding.SetResult();
            await release.Task;
        });
        await holding.Task.WaitAsync(Guard.HangLimit);

        Task call = null!;
        var thrown = Record.Exception(() =>
        {
            call = kind switch
            {
                "read behind a writer" => readWrite.AcquireReadAsync(TimeSpan.Zero).AsTask(),
                "write" => readWrite.AcquireWriteAsync(TimeSpan.Zero).AsTask(),
                "permits" => semaphore.AcquireAsync(TimeSpan.Zero).AsTask(),
                "stripe" => striped.AcquireAsync(1, TimeSpan.Zero).AsTask(),
                "many keys" => striped.AcquireManyAsync([0, 1], TimeSpan.Zero).AsTask(),
                "set" => LockSet.AcquireAsync(TimeSpan.Zero, [new AsyncExclusiveLock($"zero-{kind}-free"), exclusive]).AsTask(),
                _ => exclusive.AcquireAsync(TimeSpan.Zero).AsTask(),
            };
        });

        Assert.Null(thrown);
        Assert.True(call.IsFaulted, kind + ": " + call.Status);
        var timeout = await Assert.ThrowsAsync<LockTimeoutException>(() => call);
        string name = kind switch
        {
            "read behind a writer" or "write" => readWrite.Name,
            "permits" => semaphore.Name,
            "stripe" or "many keys" => striped.Name + "[1]",
            _ => exclusive.Name,
        };
        Assert.Contains($"'{name}'", timeout.Message, StringComparison.Ordinal);
        Assert.False(exclusive.IsHeldByCurrentFlow || readWrite.IsReadHeldByCurrentFlow || readWrite.IsWriteHeldByCurrentFlow);

        release.SetResult();
        await holder.WaitAsync(Guard.HangLimit);

        // Nothing was taken or left queued: every lock is free again.
        Assert.False(exclusive.IsHeld);
        Assert.False(readWrite.IsWriteHeld);
        Assert.Equal(0, readWrite.CurrentReaderCount);
        Assert.Equal(1, semaphore.CurrentCount);
        Assert.Equal(0, exclusive.WaitingCount + semaphore.WaitingCount);
        using var again = await striped.AcquireManyAsync([0, 1, 2, 3], TimeSpan.Zero);
        Assert.True(again.IsAcquired);
    }
}
