using System;
using System.Linq;
using System.Threading;
using Locksmith;
using Xunit;

// Outside the Locksmith namespace on purpose: a user's file imports both namespaces, and every name must resolve.
namespace Consumer.NameCollisions;

public sealed class NameCollisionTests
{
    [Fact]
    public void EveryPublicName_ResolvesWithSystemThreadingImportedToo()
    {
        Type[] locksmith =
        [
            typeof(ExclusiveLock), typeof(ReentrantLock), typeof(CountingSemaphore), typeof(ConditionVariable),
            typeof(SpinGate), typeof(PhaseBarrier), typeof(AtomicCounter), typeof(StripedCounter), typeof(ReadWriteLock),
            typeof(ReadWritePolicy), typeof(StripedLock<int>), typeof(StripedReadWriteLock<int>), typeof(LockSet),
            typeof(LockSetScope), typeof(LockTimeoutException), typeof(LockOrderViolationException),
            typeof(BrokenBarrierException), typeof(DeadlockDetector), typeof(LocksmithPolicy), typeof(LocksmithMetrics),
            typeof(GuardedAttribute), typeof(LockOrderAttribute), typeof(ReadMostlyAttribute), typeof(AcquiresLocksOfAttribute),
        ];
        Type[] bcl = [typeof(Lock), typeof(Monitor), typeof(SemaphoreSlim), typeof(Barrier), typeof(SpinLock), typeof(ReaderWriterLockSlim)];

        Assert.All(locksmith, t => Assert.Equal("Locksmith", t.Namespace));
        Assert.All(bcl, t => Assert.Equal("System.Threading", t.Namespace));

        // Every public type of the runtime, not just the ones named above, stays clear of System.Threading's names.
        var threadingNames = typeof(Lock).Assembly.GetExportedTypes()
            .Where(t => t.Namespace == "System.Threading" && !t.IsNested).Select(t => t.Name).ToHashSet();
        var clashes = typeof(ExclusiveLock).Assembly.GetExportedTypes().Where(t => !t.IsNested && threadingNames.Contains(t.Name)).Select(t => t.Name);
        Assert.Empty(clashes);
    }
}
