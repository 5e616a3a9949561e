using System.Threading.Tasks;
using Locksmith;

namespace Locksmith.Generators.Subjects;

/// <summary>A read-mostly counter behind an AsyncReadWriteLock, read and written through generated async wrappers.</summary>
[ReadMostly(Policy = ReadWritePolicy.WriterPreferred)]
public sealed partial class AsyncPriceBook
{
    [LockOrder(50)]
    private readonly AsyncReadWriteLock _lock = new();

    [Guarded(Lock = nameof(_lock))]
    private long _version;

    /// <summary>The book's lock, for tests.</summary>
    public AsyncReadWriteLock Lock => _lock;

    /// <summary>Reads, yields, then writes: a lost update unless writers exclude each other across the await.</summary>
    [Guarded(Lock = nameof(_lock))]
    private async Task BumpCoreAsync()
    {
        long read = _version;
        await Task.Yield();
        _version = read + 1;
    }

    /// <summary>Reads twice around a yield: the two differ only if a writer got in while the read lock was held.</summary>
    /// <returns>The two readings.</returns>
    [Guarded(Lock = nameof(_lock), Access = LockAccess.Read)]
    private async ValueTask<(long First, long Second)> ReadTwiceCoreAsync()
    {
        long first = _version;
        await Task.Yield();
        return (first, _version);
    }

    /// <summary>Whether the calling flow holds the read lock inside the wrapper.</summary>
    /// <returns>What the lock reports inside the read wrapper.</returns>
    [Guarded(Lock = nameof(_lock), Access = LockAccess.Read)]
    private ValueTask<bool> HoldsReadCoreAsync() => new(_lock.IsReadHeldByCurrentFlow && !_lock.IsWriteHeld);
}
