using System;
using System.Threading;

namespace Locksmith.Tests.Primitives;

public sealed class ExclusiveLockTests
{
    [Fact]
    public void Reacquire_OnOwningThread_ThrowsRecursionAtOnce_NamingLockAndThread()
    {
        var gate = new ExclusiveLock("orders");
        using var scope = gate.Acquire();

        var ex = Assert.Throws<LockRecursionException>(() => gate.Acquire());
        Assert.Contains("'orders'", ex.Message);
        Assert.Contains($"Thread {Environment.CurrentManagedThreadId}", ex.Message);
        Assert.Throws<LockRecursionException>(() => gate.TryAcquire(out _));
        Assert.True(gate.IsHeldByCurrentThread);
    }

    [Fact]
    public void DisposingScopeTwice_ReleasesOnce()
    {
        var gate = new ExclusiveLock("twice");
        var scope = gate.Acquire();
        scope.Dispose();
        scope.Dispose();
        Assert.False(gate.IsHeld);
    }
}
