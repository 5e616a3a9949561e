using Locksmith;

namespace Locksmith.Generators.Subjects;

/// <summary>A counter whose increments go through a generated wrapper.</summary>
public sealed partial class Counter
{
    [LockOrder(10)]
    private readonly ExclusiveLock _lock = new();

    [Guarded(Lock = nameof(_lock))]
    private long _value;

    /// <summary>The lock, so a test can hold it from another thread.</summary>
    public ExclusiveLock Lock => _lock;

    /// <summary>Adds one.</summary>
    [Guarded(Lock = nameof(_lock))]
    private void IncrementCore() => _value++;

    /// <summary>Adds <paramref name="amount"/>.</summary>
    /// <param name="amount">How much to add.</param>
    /// <returns>The new value.</returns>
    [Guarded(Lock = nameof(_lock))]
    private long AddCore(long amount)
    {
        _value += amount;
        return _value;
    }

    /// <summary>The current value.</summary>
    [Guarded(Lock = nameof(_lock), WrapperName = "Read", TimeoutMilliseconds = 5000)]
    private long ReadValue() => _value;

    /// <summary>The current value, waiting at most 20 ms for the lock.</summary>
    [Guarded(Lock = nameof(_lock), TimeoutMilliseconds = 20)]
    private long PeekQuicklyCore() => _value;
}
