using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;

namespace Locksmith.Tests.Primitives;

/// <summary>
/// What a release tells a scheduling controller it left free: the count its own compare-and-swap wrote, before any waiter
/// took some. Read when the controller hears of the release, <see cref="CountingSemaphore.CurrentCount"/> is lower once a
/// waiter took its permits (an async waiter is handed them under the queue's gate, on the releasing thread, first), and two
/// releases at the same instant each read that count too.
/// </summary>
public sealed class SemaphoreFreeAfterReleaseTests
{
    private static readonly TimeSpan s_guard = TimeSpan.FromSeconds(30);

    [Fact]
    public void Releases_TellTheCountTheyWrote()
    {
        var controller = new ReturnRecorder();
        var semaphore = controller.Create(() => new CountingSemaphore(0, 3, "free-after-release"));

        semaphore.Release();
        semaphore.Release(2);

        Assert.Equal([(1, 1, 1), (2, 3, 3)], controller.Returns);
    }

    [Fact]
    public async Task AReleaseHandingItsPermitsToAnAsyncWaiter_TellsThemFree_ThoughTheWaiterHasThemAlready()
    {
        var controller = new ReturnRecorder();
        var semaphore = controller.Create(() => new CountingSemaphore(0, 3, "free-after-hand-off"));
        var waiting = Task.Run(async () => await semaphore.AcquireAsync(2));
        var spin = default(SpinWait);
        while (semaphore.AsyncWaitingCountForTests == 0)
        {
            Assert.False(waiting.IsCompleted, "the waiter did not queue");
            spin.SpinOnce();
        }

        semaphore.Release(2);

        Assert.True(await Task.WhenAny(waiting, Task.Delay(s_guard)) == waiting, "the waiter was not handed its permits");
        using var scope = await waiting;
        Assert.Equal([(2, 2, 0)], controller.Returns);
    }

    /// <summary>A scheduling controller that runs no flow and records each release: count, free after it, and free when told.</summary>
    private sealed class ReturnRecorder : ISchedulingController
    {
        private readonly List<(int Count, int FreeAfter, int FreeWhenTold)> _returns = [];

        public List<(int Count, int FreeAfter, int FreeWhenTold)> Returns
        {
            get
            {
                lock (_returns)
                {
                    return [.. _returns];
                }
            }
        }

        public bool ControlsCurrentThread => false;

        /// <summary>A lock made with this controller installed on the thread, which keeps it.</summary>
        public T Create<T>(Func<T> make)
        {
            var previous = SchedulingHooks.Install(this);
            try
            {
                return make();
            }
            finally
            {
                SchedulingHooks.Install(previous);
            }
        }

        public void PermitsReturned(CountingSemaphore semaphore, int count, int freeAfter)
        {
            lock (_returns)
            {
                _returns.Add((count, freeAfter, semaphore.CurrentCount));
            }
        }

        public void PermitsTaken(CountingSemaphore semaphore, int count, LockOwner? grantee)
        {
        }

        public void Point(SchedulingOperation operation, object resource, string name)
        {
        }

        public void Enlist(SchedulingOperation operation, object resource, string name, bool canTimeOut)
        {
        }

        public bool Block() => false;

        public void Signal(object resource, bool all)
        {
        }

        public void AcquireEnded(CountingSemaphore semaphore)
        {
        }

        public void OutsideWaiterParks(object resource, bool canEnd, WaitNode node)
        {
        }

        public void OutsideAsyncWaiterQueued(LockPrimitive resource, bool canEnd, AsyncWaitNode node)
        {
        }
    }
}
