using System;
using System.Collections.Generic;
using System.Diagnostics.Metrics;
using System.Threading;
using System.Threading.Tasks;

namespace Locksmith.Tests.Metrics;

/// <summary>
/// A metrics listener of the application's that throws while an async lock is recorded: its exception is the
/// acquisition's, and nothing is left held by a flow that never got its scope, nor a waiter stranded by a release whose
/// hand-off the listener broke. Before, an acquisition's counter that threw left the lock held for good, and one that
/// threw under the queue's gate, granting to a waiter, failed the holder's release and left the waiter waiting forever.
/// </summary>
public sealed class ThrowingListenerTests
{
    private static readonly TimeSpan s_hangGuard = TimeSpan.FromSeconds(30);

    /// <summary>A real <see cref="MeterListener"/> that throws when <paramref name="instrument"/> records the named lock.</summary>
    internal sealed class ThrowingListener : IDisposable
    {
        private readonly MeterListener _listener;

        public ThrowingListener(string instrument, string lockName) =>
            _listener = LockInstrumentListener.Start(instrument, name =>
            {
                if (name == lockName)
                {
                    throw new InvalidOperationException($"{instrument} listener refused {lockName}");
                }
            });

        public void Dispose() => _listener.Dispose();
    }

    /// <summary>One async lock under test, in one mode, and a mode that keeps it from a waiter in that mode.</summary>
    private sealed class Subject(string kind)
    {
        public readonly string Name = $"throwing-listener-{kind}-{Guid.NewGuid():N}";
        private AsyncExclusiveLock? _exclusive;
        private AsyncReadWriteLock? _readWrite;
        private CountingSemaphore? _semaphore;

        public void Create()
        {
            switch (kind)
            {
                case "exclusive": _exclusive = new AsyncExclusiveLock(Name); break;
                case "semaphore": _semaphore = new CountingSemaphore(1, 1, Name); break;
                default: _readWrite = new AsyncReadWriteLock(Name); break;
            }
        }

        public ValueTask<AsyncLockScope> AcquireAsync(TimeSpan timeout) => kind switch
        {
            "exclusive" => _exclusive!.TryAcquireAsync(timeout),
            "semaphore" => _semaphore!.TryAcquireAsync(timeout),
            "read" => _readWrite!.TryAcquireReadAsync(timeout),
            _ => _readWrite!.TryAcquireWriteAsync(timeout),
        };

        /// <summary>A hold that makes an acquisition in this subject's mode wait (a writer for a reader).</summary>
        public ValueTask<AsyncLockScope> AcquireBlockerAsync() =>
            _readWrite is not null ? _readWrite.AcquireWriteAsync() : AcquireAsync(Timeout.InfiniteTimeSpan);

        public int Waiting => _exclusive?.WaitingCount ?? _readWrite?.WaitingCount ?? _semaphore!.AsyncWaitingCountForTests;

        /// <summary>Nothing held, nobody queued: for the semaphore, every permit back.</summary>
        public void AssertFree()
        {
            Assert.Equal(0, Waiting);
            if (_exclusive is not null)
            {
                Assert.False(_exclusive.IsHeld);
            }
            else if (_readWrite is not null)
            {
                Assert.False(_readWrite.IsWriteHeld);
                Assert.Equal(0, _readWrite.CurrentReaderCount);
            }
            else
            {
                Assert.Equal(1, _semaphore!.CurrentCount);
            }
        }
    }

    public static TheoryData<string> Kinds => ["exclusive", "semaphore", "read", "write"];

    private static async Task<Subject> NewSubjectAsync(string kind)
    {
        var subject = new Subject(kind);
        subject.Create();

        // A first hold and release with nothing listening, so the lock's instruments are published before the listener.
        using (var warm = await subject.AcquireAsync(s_hangGuard))
        {
            Assert.True(warm.IsAcquired);
        }

        return subject;
    }

    /// <summary>Takes the blocking hold in a flow of its own, so the flows this test starts do not share it.</summary>
    private static Task<AsyncLockScope> HolderAsync(Subject subject) => Task.Run(async () => await subject.AcquireBlockerAsync());

    /// <summary>Starts a flow of its own that waits for the subject; returns once it is queued.</summary>
    private static async Task<Task<AsyncLockScope>> QueuedWaiterAsync(Subject subject)
    {
        var waiter = Task.Run(async () => await subject.AcquireAsync(TimeSpan.FromMinutes(5)));
        for (int i = 0; subject.Waiting == 0; i++)
        {
            Assert.True(i < 30_000 && !waiter.IsCompleted, "The waiter never queued.");
            await Task.Delay(1);
        }

        return waiter;
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task AnAcquisitionWhoseCounterThrows_ThrowsTheListenersError_AndLeavesTheLockFree(string kind)
    {
        var subject = await NewSubjectAsync(kind);
        using (new ThrowingListener("locksmith.lock.acquisitions", subject.Name))
        {
            var error = await Assert.ThrowsAsync<InvalidOperationException>(async () => await subject.AcquireAsync(s_hangGuard));
            Assert.Equal($"locksmith.lock.acquisitions listener refused {subject.Name}", error.Message);
        }

        subject.AssertFree();
        using var again = await subject.AcquireAsync(TimeSpan.Zero);
        Assert.True(again.IsAcquired);
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task AGrantWhoseCounterThrows_FailsTheWaiter_NotTheRelease_AndLeavesTheLockFree(string kind)
    {
        var subject = await NewSubjectAsync(kind);
        var holder = await HolderAsync(subject);
        var waiter = await QueuedWaiterAsync(subject);
        using (new ThrowingListener("locksmith.lock.acquisitions", subject.Name))
        {
            // The release hands the lock to the waiter: the listener's code runs in the waiter's flow, not under the gate.
            holder.Dispose();
            var error = await Assert.ThrowsAsync<InvalidOperationException>(() => waiter.WaitAsync(s_hangGuard));
            Assert.Equal($"locksmith.lock.acquisitions listener refused {subject.Name}", error.Message);
        }

        subject.AssertFree();
        using var again = await subject.AcquireAsync(TimeSpan.Zero);
        Assert.True(again.IsAcquired);
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task AWaitWhoseDurationThrows_FailsTheWaiter_AndLeavesTheLockFree(string kind)
    {
        var subject = await NewSubjectAsync(kind);
        var holder = await HolderAsync(subject);
        using (new ThrowingListener("locksmith.lock.wait.duration", subject.Name))
        {
            // Listening before the wait begins, so the wait reads the clock and is measured as it completes.
            var waiter = await QueuedWaiterAsync(subject);
            holder.Dispose();
            var error = await Assert.ThrowsAsync<InvalidOperationException>(() => waiter.WaitAsync(s_hangGuard));
            Assert.Equal($"locksmith.lock.wait.duration listener refused {subject.Name}", error.Message);
        }

        subject.AssertFree();
        using var again = await subject.AcquireAsync(TimeSpan.Zero);
        Assert.True(again.IsAcquired);
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task AContentionCounterThatThrows_EndsTheFlowsClaim_SoATaskItStartsIsAFlowOfItsOwn(string kind)
    {
        var subject = await NewSubjectAsync(kind);
        var other = new AsyncExclusiveLock($"{subject.Name}-other");
        var holder = await HolderAsync(subject);
        var outcome = await Task.Run(async () =>
        {
            // Asked in this frame (not in a lambda of its own), where the acquisition's claim is made.
            InvalidOperationException? error = null;
            using (new ThrowingListener("locksmith.lock.contentions", subject.Name))
            {
                try
                {
                    using var never = await subject.AcquireAsync(s_hangGuard);
                }
                catch (InvalidOperationException thrown)
                {
                    error = thrown;
                }
            }

            Assert.Equal($"locksmith.lock.contentions listener refused {subject.Name}", error?.Message);

            // Had the failed wait kept its reservation, this frame would still be claimed, and a task it starts while it
            // holds nothing would share what it takes later: the task's ask would throw LockRecursionException instead
            // of waiting for the frame's hold.
            var go = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var asker = Task.Run(async () =>
            {
                await go.Task;
                using var asked = await other.TryAcquireAsync(TimeSpan.FromMilliseconds(50));
                return asked.IsAcquired;
            });
            using var held = await other.AcquireAsync();
            go.SetResult();
            return await asker.WaitAsync(s_hangGuard);
        });

        Assert.False(outcome);
        Assert.Equal(0, subject.Waiting);
        holder.Dispose();
        subject.AssertFree();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AnAsyncSetWhoseMembersCounterThrows_ReleasesEveryMember_ThenThrows(bool memberBusyFirst)
    {
        string prefix = $"throwing-listener-set-{Guid.NewGuid():N}";
        var first = new AsyncExclusiveLock($"{prefix}-a", level: 1);
        var second = new AsyncExclusiveLock($"{prefix}-b", level: 2);
        var third = new AsyncExclusiveLock($"{prefix}-c", level: 3);
        foreach (var member in new[] { first, second, third })
        {
            using var warm = await member.AcquireAsync();
        }

        // Busy first: the set waits for the member, whose counter then runs as its wait completes.
        var holder = memberBusyFirst ? await Task.Run(async () => await second.AcquireAsync()) : default;
        using (new ThrowingListener("locksmith.lock.acquisitions", second.Name))
        {
            var set = Task.Run(async () => await LockSet.AcquireAsync(TimeSpan.FromMinutes(5), [first, second, third]));
            if (memberBusyFirst)
            {
                for (int i = 0; second.WaitingCount == 0; i++)
                {
                    Assert.True(i < 30_000 && !set.IsCompleted, "The set never queued for its member.");
                    await Task.Delay(1);
                }

                holder.Dispose();
            }

            var error = await Assert.ThrowsAsync<InvalidOperationException>(() => set.WaitAsync(s_hangGuard));
            Assert.Equal($"locksmith.lock.acquisitions listener refused {second.Name}", error.Message);
        }

        Assert.All(new[] { first, second, third }, static member => Assert.False(member.IsHeld, member.Name));
        using var again = await LockSet.AcquireAsync(TimeSpan.Zero, [first, second, third]);
        Assert.True(first.IsHeldByCurrentFlow && second.IsHeldByCurrentFlow && third.IsHeldByCurrentFlow);
    }
}
