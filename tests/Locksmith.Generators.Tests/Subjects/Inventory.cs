using System.Collections.Generic;
using Locksmith;

namespace Locksmith.Generators.Subjects;

/// <summary>Stock counts locked one stripe per item.</summary>
public sealed partial class Inventory
{
    private readonly StripedLock<string> _stripes = new();
    private readonly Dictionary<string, StrongBox> _counts = new();

    /// <summary>Creates an inventory of the given items, each at zero.</summary>
    /// <param name="skus">The items.</param>
    public Inventory(params string[] skus)
    {
        foreach (string sku in skus)
        {
            _counts.Add(sku, new StrongBox());
        }
    }

    /// <summary>Adds one to an item's count.</summary>
    /// <param name="sku">The item.</param>
    [Guarded(Lock = nameof(_stripes), StripeBy = nameof(sku))]
    private void AddOneCore(string sku) => _counts[sku].Value++;

    /// <summary>An item's count.</summary>
    /// <param name="sku">The item.</param>
    /// <returns>The count.</returns>
    [Guarded(Lock = nameof(_stripes), StripeBy = nameof(sku))]
    private long CountCore(string sku) => _counts[sku].Value;

    /// <summary>A mutable count; the dictionary itself is never written after construction.</summary>
    private sealed class StrongBox
    {
        public long Value;
    }
}
