using System.Threading.Tasks;

namespace Locksmith.Testing.Scenarios.Subjects;

/// <summary>
/// A tally whose guarded cores really await (<see cref="Task.Yield"/> between the read and the write), so the generated
/// async wrappers resume after an incomplete await with <c>ConfigureAwait(false)</c>, on a thread-pool thread.
/// </summary>
public sealed partial class AsyncTally
{
    private readonly AsyncExclusiveLock _lock = new("tally.async");

    [Guarded(Lock = nameof(_lock))]
    private int _value;

    /// <summary>Adds one: the read, the await and the write under one hold of the lock.</summary>
    [Guarded(Lock = nameof(_lock))]
    private async Task IncrementCoreAsync()
    {
        int seen = _value;
        await Task.Yield();
        _value = seen + 1;
    }

    /// <summary>The value.</summary>
    [Guarded(Lock = nameof(_lock))]
    private async Task<int> ReadCoreAsync()
    {
        await Task.Yield();
        return _value;
    }

    /// <summary>Stores <paramref name="value"/>.</summary>
    [Guarded(Lock = nameof(_lock))]
    private async Task WriteCoreAsync(int value)
    {
        await Task.Yield();
        _value = value;
    }
}
