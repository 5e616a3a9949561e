using System;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;
using Xunit;

namespace Locksmith.Tests.Async;

/// <summary>
/// The scope is two fields (a holder and a ticket): a read scope carries its flow's record and finds its lock among the
/// flow's reads, an exclusive or write scope finds its flow as the lock's holder, a semaphore scope its hold's flow.
/// These pin what each must still tell apart without the fields it lost.
/// </summary>
public sealed class AsyncScopeLayoutTests
{
    [Fact]
    public void TheScope_IsAReferenceAndALong()
    {
        // Four fields made every uncontended acquisition copy its ValueTask on the stack right after writing it (a stalled
        // load); a field added back would bring that back.
        Assert.Equal(2 * IntPtr.Size, Unsafe.SizeOf<AsyncLockScope>());
    }

    [Fact]
    public async Task AReadScopeDisposedAgain_AfterItsFlowReadsAnotherLockInItsPlace_NamesItsOwnLock()
    {
        var first = new AsyncReadWriteLock("layout-first-read");
        var second = new AsyncReadWriteLock("layout-second-read");
        var stale = await first.AcquireReadAsync();
        stale.Dispose();

        // The flow's one inline read now is of the second lock: the stale scope must not be taken for it.
        using (await second.AcquireReadAsync())
        {
            var error = Assert.Throws<SynchronizationLockException>(stale.Dispose);
            Assert.Contains("'layout-first-read'", error.Message, StringComparison.Ordinal);
            Assert.DoesNotContain("layout-second-read", error.Message, StringComparison.Ordinal);
            Assert.True(second.IsReadHeldByCurrentFlow);
            Assert.Equal(1, second.CurrentReaderCount);
        }

        Assert.Equal(0, first.CurrentReaderCount);
        Assert.Equal(0, second.CurrentReaderCount);
    }

    [Fact]
    public async Task ASecondReadOfTheFlow_ReleasesItsOwnLock_AndADisposeAgainNamesIt()
    {
        var outer = new AsyncReadWriteLock("layout-outer-read");
        var inner = new AsyncReadWriteLock("layout-inner-read");
        using (await outer.AcquireReadAsync())
        {
            // The flow's inline read is the outer one, so this one is kept in the flow's list.
            var listed = await inner.AcquireReadAsync();
            Assert.Equal(1, inner.CurrentReaderCount);
            listed.Dispose();
            Assert.Equal(0, inner.CurrentReaderCount);
            Assert.Equal(1, outer.CurrentReaderCount);
            Assert.True(outer.IsReadHeldByCurrentFlow);

            var error = Assert.Throws<SynchronizationLockException>(listed.Dispose);
            Assert.Contains("'layout-inner-read'", error.Message, StringComparison.Ordinal);
            Assert.Equal(1, outer.CurrentReaderCount);
        }

        Assert.Equal(0, outer.CurrentReaderCount);
    }

    [Fact]
    public async Task AReadScopeDisposedOnAnotherThread_ReleasesTheAcquiringFlowsHold()
    {
        var rw = new AsyncReadWriteLock("layout-read-elsewhere");
        var scope = await rw.AcquireReadAsync();
        Assert.True(rw.IsReadHeldByCurrentFlow);

        // A thread with no flow of this one's: the scope alone says whose read it releases.
        var thread = new Thread(scope.Dispose);
        using (ExecutionContext.SuppressFlow())
        {
            thread.Start();
        }

        thread.Join();
        Assert.Equal(0, rw.CurrentReaderCount);
        Assert.False(rw.IsReadHeldByCurrentFlow);
        using var write = await rw.TryAcquireWriteAsync(TimeSpan.Zero);
        Assert.True(write.IsAcquired);
    }

    [Fact]
    public async Task AWriteScopeDisposedOnAnotherThread_ReleasesIt_AndADisposeAgainNamesTheLock()
    {
        var rw = new AsyncReadWriteLock("layout-write-elsewhere");
        var scope = await rw.AcquireWriteAsync();
        await Task.Run(scope.Dispose);
        Assert.False(rw.IsWriteHeld);

        var error = Assert.Throws<SynchronizationLockException>(scope.Dispose);
        Assert.Contains("'layout-write-elsewhere'", error.Message, StringComparison.Ordinal);
        Assert.Matches(@"through a scope of flow #\d+ that no longer holds it", error.Message);
        Assert.False(rw.IsWriteHeld);
    }

    [Fact]
    public async Task ASemaphoreScopeDisposedAgain_NamesItsFlow_UntilItsHoldServesAnotherAcquisition()
    {
        var semaphore = new CountingSemaphore(2, 2, "layout-permits");
        var scope = await semaphore.AcquireAsync(2);
        scope.Dispose();

        var right = Assert.Throws<SynchronizationLockException>(scope.Dispose);
        Assert.Contains("give back 2 permit(s) of semaphore 'layout-permits'", right.Message, StringComparison.Ordinal);
        Assert.Matches(@"through a scope flow #\d+ acquired, but that scope already gave them back", right.Message);

        // The released hold is this thread's spare: the next acquisition takes it, so its flow is not the stale scope's.
        using (await semaphore.AcquireAsync())
        {
            var later = Assert.Throws<SynchronizationLockException>(scope.Dispose);
            Assert.Contains("through a scope acquired earlier", later.Message, StringComparison.Ordinal);
            Assert.Equal(1, semaphore.CurrentCount);
        }

        Assert.Equal(2, semaphore.CurrentCount);
    }
}
