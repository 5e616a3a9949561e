using System;
using System.Threading;
using System.Threading.Tasks;

namespace Locksmith.Tests.Metrics;

/// <summary>
/// <see cref="ThrowingListenerTests"/> for the sync locks: a listener's exception as the thread's acquisition is
/// recorded is the acquisition's, and the thread gives back what it took; one as its contention is recorded leaves its
/// record not waiting. Before, the lock stayed held by the thread that got the exception instead of its scope (a
/// <see cref="ReentrantLock"/> for good, as its own thread could not tell), and a thread whose contention counter threw
/// read as waiting for the lock to the deadlock detector from then on.
/// </summary>
public sealed class ThrowingListenerSyncTests
{
    private static readonly TimeSpan s_hangGuard = TimeSpan.FromSeconds(30);

    /// <summary>A sync lock under test in one mode: acquire on this thread, and a check run on another.</summary>
    private sealed class Subject
    {
        public readonly string Name;
        private readonly Action<Action> _holdWhile;
        private readonly Func<bool> _tryAcquireAndRelease;
        private readonly Func<bool> _free;

        public Subject(string kind)
        {
            Name = $"throwing-listener-sync-{kind}-{Guid.NewGuid():N}";
            switch (kind)
            {
                case "exclusive":
                    var exclusive = new ExclusiveLock(Name);
                    _holdWhile = body => { using (exclusive.Acquire()) { body(); } };
                    _tryAcquireAndRelease = () => { bool took = exclusive.TryAcquire(out var s); s.Dispose(); return took; };
                    _free = () => !exclusive.IsHeld;
                    break;
                case "ordered":
                    var ordered = new ExclusiveLock(Name, level: 7);
                    _holdWhile = body => { using (ordered.Acquire()) { body(); } };
                    _tryAcquireAndRelease = () => { bool took = ordered.TryAcquire(out var s); s.Dispose(); return took; };
                    _free = () => !ordered.IsHeld;
                    break;
                case "reentrant":
                    var reentrant = new ReentrantLock(Name);
                    _holdWhile = body => { using (reentrant.Acquire()) { body(); } };
                    _tryAcquireAndRelease = () => { bool took = reentrant.TryAcquire(out var s); s.Dispose(); return took; };
                    _free = () => !reentrant.IsHeld;
                    break;
                case "spin":
                    var spin = new SpinGate(Name);
                    _holdWhile = body => { using (spin.Acquire()) { body(); } };
                    _tryAcquireAndRelease = () => { bool took = spin.TryAcquire(out var s); s.Dispose(); return took; };
                    _free = () => !spin.IsHeld;
                    break;
                case "read":
                    var forRead = new ReadWriteLock(Name);
                    _holdWhile = body => { using (forRead.AcquireRead()) { body(); } };
                    _tryAcquireAndRelease = () => { bool took = forRead.TryAcquireWrite(out var s); s.Dispose(); return took; };
                    _free = () => forRead.CurrentReaderCount == 0 && forRead.WriterThreadId == 0;
                    break;
                case "write":
                    var forWrite = new ReadWriteLock(Name);
                    _holdWhile = body => { using (forWrite.AcquireWrite()) { body(); } };
                    _tryAcquireAndRelease = () => { bool took = forWrite.TryAcquireWrite(out var s); s.Dispose(); return took; };
                    _free = () => forWrite.CurrentReaderCount == 0 && forWrite.WriterThreadId == 0;
                    break;
                default:
                    var semaphore = new CountingSemaphore(2, 2, Name);
                    _holdWhile = body => { using (semaphore.Acquire(2)) { body(); } };
                    _tryAcquireAndRelease = () => { bool took = semaphore.TryAcquire(2, out var s); s.Dispose(); return took; };
                    _free = () => semaphore.CurrentCount == 2;
                    break;
            }
        }

        /// <summary>Takes the lock on this thread, runs <paramref name="body"/> holding it, releases it.</summary>
        public void HoldWhile(Action body) => _holdWhile(body);

        /// <summary>Free, and taken at once by another thread: a hold left on this one would make it fail.</summary>
        public async Task AssertFreeAsync()
        {
            Assert.True(_free(), Name);
            Assert.True(await Task.Run(_tryAcquireAndRelease).WaitAsync(s_hangGuard), Name);
        }
    }

    public static TheoryData<string> Kinds => ["exclusive", "ordered", "reentrant", "spin", "read", "write", "semaphore"];

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task AnAcquisitionWhoseCounterThrows_ThrowsTheListenersError_AndLeavesTheLockFree(string kind)
    {
        var subject = new Subject(kind);
        subject.HoldWhile(static () => { });
        await Task.Run(() =>
        {
            using (new ThrowingListenerTests.ThrowingListener("locksmith.lock.acquisitions", subject.Name))
            {
                var error = Assert.Throws<InvalidOperationException>(() => subject.HoldWhile(static () => Assert.Fail("Held after the listener threw.")));
                Assert.Equal($"locksmith.lock.acquisitions listener refused {subject.Name}", error.Message);
            }
        }).WaitAsync(s_hangGuard);

        await subject.AssertFreeAsync();
    }

    [Theory]
    [InlineData("exclusive")]
    [InlineData("spin")]
    [InlineData("write")]
    [InlineData("semaphore")]
    public async Task AContentionCounterThatThrows_LeavesTheThreadNotWaiting_AndTheLockUsable(string kind)
    {
        var subject = new Subject(kind);
        var held = new TaskCompletionSource();
        var release = new TaskCompletionSource();
        var holder = Task.Factory.StartNew(
            () =>
            {
                subject.HoldWhile(() =>
                {
                    held.SetResult();
                    release.Task.Wait(s_hangGuard);
                });
            },
            TaskCreationOptions.LongRunning);
        await held.Task.WaitAsync(s_hangGuard);

        var waitingAfter = await Task.Factory.StartNew(
            () =>
            {
                using (new ThrowingListenerTests.ThrowingListener("locksmith.lock.contentions", subject.Name))
                {
                    var error = Assert.Throws<InvalidOperationException>(() => subject.HoldWhile(static () => Assert.Fail("Held after the listener threw.")));
                    Assert.Equal($"locksmith.lock.contentions listener refused {subject.Name}", error.Message);
                }

                return LockOwner.Current.WaitingFor?.Name;
            },
            TaskCreationOptions.LongRunning).WaitAsync(s_hangGuard);

        Assert.Null(waitingAfter);
        release.SetResult();
        await holder.WaitAsync(s_hangGuard);
        await subject.AssertFreeAsync();
    }
}
