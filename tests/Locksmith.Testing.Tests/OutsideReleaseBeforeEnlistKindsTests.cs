using System;
using System.Threading;
using System.Threading.Tasks;
using static Locksmith.Testing.Tests.OutsideAsyncReleaseBeforeEnlistTests;

namespace Locksmith.Testing.Tests;

/// <summary>
/// The interleaving of <see cref="OutsideAsyncReleaseBeforeEnlistTests"/> (code outside the run frees what a flow's try
/// found taken, after that try and before the flow enlists; the release's signal reaches the run only once the scheduler
/// waits for it) for the other kinds a flow can block on: read-write locks (a write or reads held outside), a spin gate
/// and a semaphore's permits. The run waits for the signal, never a deadlock, and no idle wait runs out.
/// </summary>
public sealed class OutsideReleaseBeforeEnlistKindsTests
{
    /// <summary>A <see cref="ReadWriteLock"/> a pool thread writes, and a thread flow of the run asks to read.</summary>
    [Fact]
    public Task AWriteAThreadOutsideTheRunEndsBetweenAFlowsTryAndItsBlocking_ReadIsWaitedFor() => Passes(
        static () => new ReadWriteLock("desk"),
        static (desk, hold) =>
        {
            using (desk.AcquireWrite())
            {
                hold();
            }

            return Task.CompletedTask;
        },
        static (scenario, desk, tookDesk) => scenario.Thread("holder", () =>
        {
            Assert.True(tookDesk.Wait(Guard));
            using (desk.AcquireRead())
            {
            }
        }));

    /// <summary>A <see cref="ReadWriteLock"/> a pool thread writes, and a thread flow of the run asks to write.</summary>
    [Fact]
    public Task AWriteAThreadOutsideTheRunEndsBetweenAFlowsTryAndItsBlocking_WriteIsWaitedFor() => Passes(
        static () => new ReadWriteLock("desk"),
        static (desk, hold) =>
        {
            using (desk.AcquireWrite())
            {
                hold();
            }

            return Task.CompletedTask;
        },
        static (scenario, desk, tookDesk) => scenario.Thread("holder", () =>
        {
            Assert.True(tookDesk.Wait(Guard));
            using (desk.AcquireWrite())
            {
            }
        }));

    /// <summary>A <see cref="ReadWriteLock"/> a pool thread reads, and a thread flow of the run asks to write.</summary>
    [Fact]
    public Task AReadAThreadOutsideTheRunEndsBetweenAFlowsTryAndItsBlocking_WriteIsWaitedFor() => Passes(
        static () => new ReadWriteLock("desk"),
        static (desk, hold) =>
        {
            using (desk.AcquireRead())
            {
                hold();
            }

            return Task.CompletedTask;
        },
        static (scenario, desk, tookDesk) => scenario.Thread("holder", () =>
        {
            Assert.True(tookDesk.Wait(Guard));
            using (desk.AcquireWrite())
            {
            }
        }));

    /// <summary>An <see cref="AsyncReadWriteLock"/> a task's own flow writes, and an async flow of the run asks to read.</summary>
    [Fact]
    public Task AnAsyncWriteATaskOutsideTheRunEndsBetweenAFlowsTryAndItsBlocking_ReadIsWaitedFor() => Passes(
        static () => new AsyncReadWriteLock("desk"),
        static async (desk, hold) =>
        {
            using (await desk.AcquireWriteAsync())
            {
                hold();
            }
        },
        static (scenario, desk, tookDesk) => scenario.Flow("holder", async () =>
        {
            Assert.True(tookDesk.Wait(Guard));
            using (await desk.AcquireReadAsync())
            {
            }
        }));

    /// <summary>An <see cref="AsyncReadWriteLock"/> a task's own flow writes, and an async flow of the run asks to write.</summary>
    [Fact]
    public Task AnAsyncWriteATaskOutsideTheRunEndsBetweenAFlowsTryAndItsBlocking_WriteIsWaitedFor() => Passes(
        static () => new AsyncReadWriteLock("desk"),
        static async (desk, hold) =>
        {
            using (await desk.AcquireWriteAsync())
            {
                hold();
            }
        },
        static (scenario, desk, tookDesk) => scenario.Flow("holder", async () =>
        {
            Assert.True(tookDesk.Wait(Guard));
            using (await desk.AcquireWriteAsync())
            {
            }
        }));

    /// <summary>An <see cref="AsyncReadWriteLock"/> a task's own flow reads, and an async flow of the run asks to write.</summary>
    [Fact]
    public Task AnAsyncReadATaskOutsideTheRunEndsBetweenAFlowsTryAndItsBlocking_WriteIsWaitedFor() => Passes(
        static () => new AsyncReadWriteLock("desk"),
        static async (desk, hold) =>
        {
            using (await desk.AcquireReadAsync())
            {
                hold();
            }
        },
        static (scenario, desk, tookDesk) => scenario.Flow("holder", async () =>
        {
            Assert.True(tookDesk.Wait(Guard));
            using (await desk.AcquireWriteAsync())
            {
            }
        }));

    /// <summary>A <see cref="SpinGate"/> a pool thread holds, and a thread flow of the run asks for.</summary>
    [Fact]
    public Task AGateAThreadOutsideTheRunFreesBetweenAFlowsTryAndItsBlocking_IsWaitedFor() => Passes(
        static () => new SpinGate("desk"),
        static (desk, hold) =>
        {
            using (desk.Acquire())
            {
                hold();
            }

            return Task.CompletedTask;
        },
        static (scenario, desk, tookDesk) => scenario.Thread("holder", () =>
        {
            Assert.True(tookDesk.Wait(Guard));
            using (desk.Acquire())
            {
            }
        }));

    /// <summary>The one permit of a <see cref="CountingSemaphore"/> a pool thread holds, and a thread flow of the run asks for.</summary>
    [Fact]
    public Task APermitAThreadOutsideTheRunGivesBackBetweenAFlowsTryAndItsBlocking_IsWaitedFor() => Passes(
        static () => new CountingSemaphore(1, 1, "desk"),
        static (desk, hold) =>
        {
            using (desk.Acquire())
            {
                hold();
            }

            return Task.CompletedTask;
        },
        static (scenario, desk, tookDesk) => scenario.Thread("holder", () =>
        {
            Assert.True(tookDesk.Wait(Guard));
            using (desk.Acquire())
            {
            }
        }));

    /// <summary>The one permit of a <see cref="CountingSemaphore"/> a task's own flow holds, and an async flow of the run asks for.</summary>
    [Fact]
    public Task APermitATaskOutsideTheRunGivesBackBetweenAFlowsTryAndItsBlocking_IsWaitedFor() => Passes(
        static () => new CountingSemaphore(1, 1, "desk"),
        static async (desk, hold) =>
        {
            using (await desk.AcquireAsync())
            {
                hold();
            }
        },
        static (scenario, desk, tookDesk) => scenario.Flow("holder", async () =>
        {
            Assert.True(tookDesk.Wait(Guard));
            using (await desk.AcquireAsync())
            {
            }
        }));

    /// <summary>Runs the interleaving once (see <see cref="OutsideAsyncReleaseBeforeEnlistTests"/>): the run passes, its idle wait never ran out.</summary>
    private static async Task Passes<TLock>(
        Func<TLock> make, Func<TLock, Action, Task> takeOutside, Action<Scenario, TLock, ManualResetEventSlim> addHolder)
        where TLock : class
    {
        var (result, ranOut) = await RunWithReleaseBeforeEnlist(make, takeOutside, addHolder);
        Assert.True(result.Passed, result.ToString());
        Assert.Equal(0, ranOut);
    }
}
