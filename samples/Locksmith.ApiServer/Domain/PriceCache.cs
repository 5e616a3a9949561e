using System;
using System.Collections.Generic;
using System.Threading.Tasks;
using Microsoft.Extensions.DependencyInjection;

namespace Locksmith.ApiServer;

/// <summary>
/// The seed's shared cache: many readers, a few writers. The container hands it the <c>prices</c> async read-write
/// lock; the generator writes <c>FindAsync</c> (read lock) and <c>SetAsync</c> (write lock).
/// </summary>
[ReadMostly(Policy = ReadWritePolicy.WriterPreferred)]
public sealed partial class PriceCache([FromKeyedServices(ApiServerLocks.Prices)] AsyncReadWriteLock pricesLock)
{
    [LockOrder(ApiServerLocks.PricesLevel)]
    private readonly AsyncReadWriteLock _lock = pricesLock;

    [Guarded(Lock = nameof(_lock))]
    private readonly Dictionary<string, decimal> _prices = new(StringComparer.OrdinalIgnoreCase);

    [Guarded(Lock = nameof(_lock))]
    private long _writes;

    [Guarded(Lock = nameof(_lock), Access = LockAccess.Read)]
    private Task<decimal?> FindCoreAsync(string symbol) =>
        Task.FromResult(_prices.TryGetValue(symbol, out decimal price) ? price : (decimal?)null);

    [Guarded(Lock = nameof(_lock))]
    private Task SetCoreAsync(string symbol, decimal price)
    {
        _prices[symbol] = price;
        _writes++;
        return Task.CompletedTask;
    }

    [Guarded(Lock = nameof(_lock), Access = LockAccess.Read)]
    private Task<(int Symbols, long Writes)> CountsCoreAsync() => Task.FromResult((_prices.Count, _writes));

    [Guarded(Lock = nameof(_lock))]
    private Task ClearCoreAsync()
    {
        _prices.Clear();
        _writes = 0;
        return Task.CompletedTask;
    }
}
