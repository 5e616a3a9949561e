using System.Collections.Generic;
using Locksmith;

namespace Locksmith.Generators.Subjects;

/// <summary>The read-mostly price cache.</summary>
[ReadMostly(Policy = ReadWritePolicy.WriterPreferred)]
public sealed partial class PriceCache
{
    [LockOrder(20)]
    private readonly ReadWriteLock _lock = new();

    [Guarded(Lock = nameof(_lock))]
    private readonly Dictionary<string, decimal> _prices = new();

    /// <summary>The cache's lock, for tests.</summary>
    public ReadWriteLock Lock => _lock;

    /// <summary>Finds a price.</summary>
    /// <param name="sku">The stock-keeping unit.</param>
    /// <returns>The price, or null.</returns>
    [Guarded(Lock = nameof(_lock), Access = LockAccess.Read)]
    private decimal? FindCore(string sku) => _prices.TryGetValue(sku, out var price) ? price : null;

    /// <summary>Sets a price.</summary>
    /// <param name="sku">The stock-keeping unit.</param>
    /// <param name="price">The price.</param>
    [Guarded(Lock = nameof(_lock))]
    private void SetCore(string sku, decimal price) => _prices[sku] = price;
}
