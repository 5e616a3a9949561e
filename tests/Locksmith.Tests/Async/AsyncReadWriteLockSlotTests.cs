using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Locksmith.Tests.Support;
using Xunit;

namespace Locksmith.Tests.Async;

/// <summary>
/// The per-slot reader counters: a writer's claim (set the bit, sum the slots) racing readers that count themselves in
/// and look again, on the fast paths, where no await separates acquire from release.
/// </summary>
public sealed class AsyncReadWriteLockSlotTests
{
    public static TheoryData<ReadWritePolicy> Policies => new(ReadWritePolicy.ReaderPreferred, ReadWritePolicy.WriterPreferred, ReadWritePolicy.Fair);

    [Theory]
    [MemberData(nameof(Policies))]
    public async Task WriterClaims_RacingReaderIncrements_NeverOverlap(ReadWritePolicy policy)
    {
        const int Flows = 4;
        const int Operations = 20_000;
        var rw = new AsyncReadWriteLock("slots", policy: policy);
        int readersInside = 0, writersInside = 0, overlaps = 0, writes = 0, reads = 0;
        var flows = Enumerable.Range(0, Flows).Select(f => Task.Run(async () =>
        {
            for (int i = 0; i < Operations; i++)
            {
                if ((i + f) % 8 == 0)
                {
                    using var scope = await rw.AcquireWriteAsync();
                    if (Interlocked.Increment(ref writersInside) != 1 || Volatile.Read(ref readersInside) != 0)
                    {
                        Interlocked.Increment(ref overlaps);
                    }

                    writes++;
                    Interlocked.Decrement(ref writersInside);
                }
                else
                {
                    using var scope = await rw.AcquireReadAsync();
                    Interlocked.Increment(ref readersInside);
                    if (Volatile.Read(ref writersInside) != 0)
                    {
                        Interlocked.Increment(ref overlaps);
                    }

                    Interlocked.Increment(ref reads);
                    Interlocked.Decrement(ref readersInside);
                }
            }
        })).ToArray();

        await Task.WhenAll(flows).WaitAsync(Guard.HangLimit);

        Assert.Equal(0, overlaps);
        Assert.Equal(Flows * Operations / 8, writes);
        Assert.Equal(Flows * Operations * 7 / 8, reads);
        Assert.Equal(0, rw.CurrentReaderCount);
        Assert.False(rw.IsWriteHeld);
        Assert.Equal(0, rw.WaitingCount);
    }

    [Fact]
    public async Task ReadersOfManyFlows_SharingSlots_AllCountAndLeave()
    {
        // More flows than slots: some share a slot, and each must still be counted once and leave once.
        var rw = new AsyncReadWriteLock("shared-slots");
        var inside = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var leave = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        const int Readers = 40;
        int entered = 0;
        var readers = Enumerable.Range(0, Readers).Select(_ => Task.Run(async () =>
        {
            using var scope = await rw.AcquireReadAsync();
            if (Interlocked.Increment(ref entered) == Readers)
            {
                inside.SetResult();
            }

            await leave.Task;
        })).ToArray();

        await inside.Task.WaitAsync(Guard.HangLimit);
        Assert.Equal(Readers, rw.CurrentReaderCount);
        var writer = rw.AcquireWriteAsync().AsTask();
        Assert.False(writer.IsCompleted);

        leave.SetResult();
        await Task.WhenAll(readers).WaitAsync(Guard.HangLimit);
        using (var scope = await writer.WaitAsync(Guard.HangLimit))
        {
            Assert.True(rw.IsWriteHeld);
            Assert.Equal(0, rw.CurrentReaderCount);
        }

        Assert.False(rw.IsWriteHeld);
        Assert.Equal(0, rw.WaitingCount);
    }
}
