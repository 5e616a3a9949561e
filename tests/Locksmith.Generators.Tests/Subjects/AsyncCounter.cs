using System.Threading;
using System.Threading.Tasks;
using Locksmith;

namespace Locksmith.Generators.Subjects;

/// <summary>A counter whose increments await inside the lock, through generated async wrappers.</summary>
public sealed partial class AsyncCounter
{
    [LockOrder(40)]
    private readonly AsyncExclusiveLock _lock = new();

    [Guarded(Lock = nameof(_lock))]
    private long _value;

    /// <summary>The lock, so a test can hold it.</summary>
    public AsyncExclusiveLock Lock => _lock;

    /// <summary>Reads, yields, then writes: a lost update unless the lock is held across the await.</summary>
    [Guarded(Lock = nameof(_lock))]
    private async Task IncrementCoreAsync()
    {
        long read = _value;
        await Task.Yield();
        _value = read + 1;
    }

    /// <summary>Adds <paramref name="amount"/>.</summary>
    /// <param name="amount">How much to add.</param>
    /// <returns>The new value.</returns>
    [Guarded(Lock = nameof(_lock))]
    private async ValueTask<long> AddAsyncCore(long amount)
    {
        await Task.Yield();
        _value += amount;
        return _value;
    }

    /// <summary>The current value; the token cancels the wait for the lock.</summary>
    [Guarded(Lock = nameof(_lock), TimeoutMilliseconds = 5000)]
    private Task<long> ReadCoreAsync(CancellationToken cancellationToken) => Task.FromResult(_value);
}
