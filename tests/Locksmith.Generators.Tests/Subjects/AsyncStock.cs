using System.Collections.Generic;
using System.Threading.Tasks;
using Locksmith;

namespace Locksmith.Generators.Subjects;

/// <summary>Stock counts locked one stripe per item, through generated async wrappers.</summary>
public sealed partial class AsyncStock
{
    private readonly AsyncStripedLock<string> _stripes = new(8);
    private readonly Dictionary<string, Box> _counts = new();

    /// <summary>Creates a stock of the given items, each at zero.</summary>
    /// <param name="skus">The items.</param>
    public AsyncStock(params string[] skus)
    {
        foreach (string sku in skus)
        {
            _counts.Add(sku, new Box());
        }
    }

    /// <summary>The stock's lock, for tests.</summary>
    public AsyncStripedLock<string> Lock => _stripes;

    /// <summary>Reads, yields, then writes one item's count: a lost update unless its stripe is held across the await.</summary>
    /// <param name="sku">The item.</param>
    [Guarded(Lock = nameof(_stripes), StripeBy = nameof(sku))]
    private async Task AddOneCoreAsync(string sku)
    {
        Box box = _counts[sku];
        long read = box.Value;
        await Task.Yield();
        box.Value = read + 1;
    }

    /// <summary>An item's count.</summary>
    /// <param name="sku">The item.</param>
    /// <returns>The count.</returns>
    [Guarded(Lock = nameof(_stripes), StripeBy = nameof(sku), TimeoutMilliseconds = 5000)]
    private ValueTask<long> CountCoreAsync(string sku) => new(_counts[sku].Value);

    /// <summary>A mutable count; the dictionary itself is never written after construction.</summary>
    private sealed class Box
    {
        public long Value;
    }
}
