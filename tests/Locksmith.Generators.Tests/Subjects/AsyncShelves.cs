using System.Collections.Generic;
using System.Threading.Tasks;
using Locksmith;

namespace Locksmith.Generators.Subjects;

/// <summary>Items moved between shelves, two keys of one keyed lock at a time, through a generated keyed-set wrapper.</summary>
public sealed partial class AsyncShelves
{
    [LockOrder(40)]
    private readonly AsyncStripedLock<string> _shelves = new(4);
    private readonly Dictionary<string, Box> _counts = new();

    /// <summary>Creates the shelves, each holding <paramref name="initial"/> items.</summary>
    /// <param name="initial">The items on each shelf.</param>
    /// <param name="names">The shelves.</param>
    public AsyncShelves(long initial, params string[] names)
    {
        foreach (string name in names)
        {
            _counts.Add(name, new Box { Value = initial });
        }
    }

    /// <summary>The shelves' lock, for tests.</summary>
    public AsyncStripedLock<string> Lock => _shelves;

    /// <summary>Reads both counts, yields, then writes both: a lost update unless both keys are held across the await.</summary>
    /// <param name="from">The shelf the item leaves.</param>
    /// <param name="to">The shelf it goes to.</param>
    [AcquiresLocksOf(nameof(from), nameof(to), Lock = nameof(_shelves))]
    private async Task MoveCoreAsync(string from, string to)
    {
        Box source = _counts[from];
        Box target = _counts[to];
        long left = source.Value;
        long right = target.Value;
        await Task.Yield();
        source.Value = left - 1;
        target.Value = right + 1;
    }

    /// <summary>A shelf's count.</summary>
    /// <param name="name">The shelf.</param>
    /// <returns>The count.</returns>
    [Guarded(Lock = nameof(_shelves), StripeBy = nameof(name))]
    private ValueTask<long> CountCoreAsync(string name) => new(_counts[name].Value);

    /// <summary>A mutable count; the dictionary itself is never written after construction.</summary>
    private sealed class Box
    {
        public long Value;
    }
}
