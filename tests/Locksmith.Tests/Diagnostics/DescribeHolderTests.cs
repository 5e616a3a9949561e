using System;
using System.Diagnostics;
using System.Threading;
using System.Threading.Tasks;
using Locksmith.Tests.Support;

namespace Locksmith.Tests.Diagnostics;

/// <summary>
/// <see cref="LockPrimitive.DescribeHolder"/> names a lock's holder from another thread as the lock's timeout message
/// does (<c>held by …</c>), so a catalog shows which thread or request holds it; null when no single holder is known.
/// </summary>
public sealed class DescribeHolderTests
{
    [Fact]
    public void ASyncHolderThread_IsNamedWithItsName_AsTheTimeoutNamesIt()
    {
        var gate = new ExclusiveLock("describe-sync");
        using var holder = new HeldOnOtherThread("ledger-writer", release =>
        {
            using var scope = gate.Acquire();
            release.Wait();
        });
        holder.WaitUntilHeld(() => gate.IsHeld);

        string? described = gate.DescribeHolder();

        Assert.Equal($"thread {holder.ThreadId} ('ledger-writer')", described);
        var timeout = Assert.Throws<LockTimeoutException>(() => gate.Acquire(TimeSpan.Zero));
        Assert.Contains($"held by {described}.", timeout.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ASyncHolderOfEachKind_IsNamed()
    {
        var reentrant = new ReentrantLock("describe-reentrant");
        var spin = new SpinGate("describe-spin");
        var rw = new ReadWriteLock("describe-rw-write");
        using var holder = new HeldOnOtherThread("kinds-holder", release =>
        {
            using var a = reentrant.Acquire();
            using var b = spin.Acquire();
            using var c = rw.AcquireWrite();
            release.Wait();
        });
        holder.WaitUntilHeld(() => reentrant.IsHeld && spin.IsHeld && rw.WriterThreadId != 0);

        string expected = $"thread {holder.ThreadId} ('kinds-holder')";
        Assert.Equal(expected, reentrant.DescribeHolder());
        Assert.Equal(expected, spin.DescribeHolder());
        Assert.Equal(expected, rw.DescribeHolder());
    }

    [Fact]
    public async Task AnAsyncHolderFlow_IsNamedWithItsActivity_AsTheTimeoutNamesIt()
    {
        var gate = new AsyncExclusiveLock("describe-async");
        using var held = new SemaphoreSlim(0);
        using var leave = new SemaphoreSlim(0);
        var holding = Task.Run(async () =>
        {
            using var activity = new Activity("GET /orders").Start();
            using (await gate.AcquireAsync())
            {
                held.Release();
                Assert.True(await leave.WaitAsync(Guard.HangLimit));
            }
        });

        try
        {
            Assert.True(await held.WaitAsync(Guard.HangLimit));
            string? described = gate.DescribeHolder();

            Assert.Equal($"flow #{gate.HolderFlowId - (1 << 30)} ('GET /orders')", described);
            var timeout = await Assert.ThrowsAsync<LockTimeoutException>(() => Task.Run(async () => await gate.AcquireAsync(TimeSpan.Zero)));
            Assert.Contains($"held by {described}.", timeout.Message, StringComparison.Ordinal);
        }
        finally
        {
            leave.Release();
            await holding.WaitAsync(Guard.HangLimit);
        }

        Assert.Null(gate.DescribeHolder());
    }

    [Fact]
    public async Task AnAsyncWriter_IsNamed_AndReadersAreNot()
    {
        var rw = new AsyncReadWriteLock("describe-async-rw");
        var scope = await Task.Run(async () =>
        {
            using var activity = new Activity("PUT /prices").Start();
            return await rw.AcquireWriteAsync();
        });
        try
        {
            Assert.Equal($"flow #{rw.WriterFlowId - (1 << 30)} ('PUT /prices')", rw.DescribeHolder());
        }
        finally
        {
            scope.Dispose();
        }

        using (await rw.AcquireReadAsync())
        {
            Assert.Null(rw.DescribeHolder());
        }
    }

    [Fact]
    public void AFreeLock_HasNoHolder()
    {
        var exclusive = new ExclusiveLock("describe-free");
        Assert.Null(exclusive.DescribeHolder());
        using (exclusive.Acquire())
        {
            Assert.Equal($"thread {ThreadNames.Current()}", exclusive.DescribeHolder());
        }

        Assert.Null(exclusive.DescribeHolder());
        Assert.Null(new ReentrantLock("describe-free-reentrant").DescribeHolder());
        Assert.Null(new SpinGate("describe-free-spin").DescribeHolder());
        Assert.Null(new ReadWriteLock("describe-free-rw").DescribeHolder());
        Assert.Null(new AsyncExclusiveLock("describe-free-async").DescribeHolder());
        Assert.Null(new AsyncReadWriteLock("describe-free-async-rw").DescribeHolder());
    }

    [Fact]
    public void AReadHeldLock_OrATakenSemaphore_HasNoSingleHolder()
    {
        var rw = new ReadWriteLock("describe-read-held");
        var semaphore = new CountingSemaphore(1, 1, "describe-semaphore");
        using var holder = new HeldOnOtherThread("reader", release =>
        {
            using var read = rw.AcquireRead();
            using var permit = semaphore.Acquire();
            release.Wait();
        });
        holder.WaitUntilHeld(() => rw.CurrentReaderCount == 1 && semaphore.CurrentCount == 0);

        Assert.Null(rw.DescribeHolder());
        Assert.Null(semaphore.DescribeHolder());
    }

    [Fact]
    public void ReadWhileHoldersComeAndGo_ItNamesOneOfThemOrNone_NeverAMix()
    {
        const int Rounds = 2_000;
        var gate = new ExclusiveLock("describe-churn");
        int[] ids = new int[2];
        int finished = 0;
        void Churn(int index)
        {
            Volatile.Write(ref ids[index], Environment.CurrentManagedThreadId);
            for (int i = 0; i < Rounds; i++)
            {
                using (gate.Acquire())
                {
                    Thread.SpinWait(20);
                }
            }

            Interlocked.Increment(ref finished);
        }

        var first = new Thread(() => Churn(0)) { Name = "churn-a", IsBackground = true };
        var second = new Thread(() => Churn(1)) { Name = "churn-b", IsBackground = true };
        first.Start();
        second.Start();
        Guard.SpinUntil(() => Volatile.Read(ref ids[0]) != 0 && Volatile.Read(ref ids[1]) != 0);

        // A holder is named by id alone when it left as it was read, or held before its thread's name was noted (its
        // first acquisition): either holder's id with its own name, or its id alone; never one's id with the other's name.
        string[] expected = [$"thread {ids[0]} ('churn-a')", $"thread {ids[1]} ('churn-b')", $"thread {ids[0]}", $"thread {ids[1]}"];
        for (int read = 0; read < Rounds * 4 && Volatile.Read(ref finished) < 2; read++)
        {
            string? described = gate.DescribeHolder();
            if (described is not null)
            {
                Assert.Contains(described, expected);
            }
        }

        first.JoinGuarded();
        second.JoinGuarded();
        Assert.Null(gate.DescribeHolder());
    }
}
