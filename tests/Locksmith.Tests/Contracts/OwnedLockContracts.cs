using System;
using System.Threading;

namespace Locksmith.Tests.Contracts;

public sealed class ExclusiveLockContract : OwnedLockContract<ExclusiveLock>
{
    protected override ExclusiveLock Create(string name) => new(name);

    protected override void Locked(ExclusiveLock l, Action body)
    {
        using var scope = l.Acquire();
        body();
    }

    protected override void LockedWithin(ExclusiveLock l, TimeSpan timeout, CancellationToken ct, Action body)
    {
        using var scope = l.Acquire(timeout, ct);
        body();
    }

    protected override bool TryLockBriefly(ExclusiveLock l, TimeSpan timeout)
    {
        bool acquired = l.TryAcquire(timeout, out var scope);
        scope.Dispose();
        return acquired;
    }

    protected override void Release(ExclusiveLock l) => l.Release();

    protected override int OwnerThreadId(ExclusiveLock l) => l.OwnerThreadId;

    protected override void AcquireAndKeep(ExclusiveLock l) => l.Acquire();
}

public sealed class ReentrantLockContract : OwnedLockContract<ReentrantLock>
{
    protected override ReentrantLock Create(string name) => new(name);

    protected override void Locked(ReentrantLock l, Action body)
    {
        using var scope = l.Acquire();
        body();
    }

    protected override void LockedWithin(ReentrantLock l, TimeSpan timeout, CancellationToken ct, Action body)
    {
        using var scope = l.Acquire(timeout, ct);
        body();
    }

    protected override bool TryLockBriefly(ReentrantLock l, TimeSpan timeout)
    {
        bool acquired = l.TryAcquire(timeout, out var scope);
        scope.Dispose();
        return acquired;
    }

    protected override void Release(ReentrantLock l) => l.Release();

    protected override int OwnerThreadId(ReentrantLock l) => l.OwnerThreadId;

    protected override void AcquireAndKeep(ReentrantLock l) => l.Acquire();
}

public sealed class SpinGateContract : OwnedLockContract<SpinGate>
{
    protected override SpinGate Create(string name) => new(name);

    protected override void Locked(SpinGate l, Action body)
    {
        using var scope = l.Acquire();
        body();
    }

    protected override void LockedWithin(SpinGate l, TimeSpan timeout, CancellationToken ct, Action body)
    {
        using var scope = l.Acquire(timeout, ct);
        body();
    }

    protected override bool TryLockBriefly(SpinGate l, TimeSpan timeout)
    {
        bool acquired = l.TryAcquire(timeout, out var scope);
        scope.Dispose();
        return acquired;
    }

    protected override void Release(SpinGate l) => l.Release();

    protected override int OwnerThreadId(SpinGate l) => l.OwnerThreadId;

    protected override void AcquireAndKeep(SpinGate l) => l.Acquire();
}

public sealed class ReadWriteLockWriteContract : OwnedLockContract<ReadWriteLock>
{
    protected override ReadWriteLock Create(string name) => new(name);

    protected override void Locked(ReadWriteLock l, Action body)
    {
        using var scope = l.AcquireWrite();
        body();
    }

    protected override void LockedWithin(ReadWriteLock l, TimeSpan timeout, CancellationToken ct, Action body)
    {
        using var scope = l.AcquireWrite(timeout, ct);
        body();
    }

    protected override bool TryLockBriefly(ReadWriteLock l, TimeSpan timeout)
    {
        bool acquired = l.TryAcquireWrite(timeout, out var scope);
        scope.Dispose();
        return acquired;
    }

    protected override void Release(ReadWriteLock l) => l.ReleaseWrite();

    protected override int OwnerThreadId(ReadWriteLock l) => l.WriterThreadId;

    protected override void AcquireAndKeep(ReadWriteLock l) => l.AcquireWrite();
}
