using System;
using System.Collections.Generic;
using System.Threading.Tasks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Locksmith.ApiServer;

/// <summary>
/// The seed's shared cache: many readers, a few writers. The container hands it the <c>prices</c> async read-write
/// lock; the generator writes <c>FindAsync</c> (read lock) and <c>SetAsync</c> (write lock). It holds at most
/// <see cref="ApiServerOptions.PriceCapacity"/> symbols: a new symbol when it is full evicts the one written longest ago
/// (a cache forgets; a read of an evicted symbol answers <c>null</c>, as for one never set). Least recently
/// <em>written</em>, not read: reads run under the shared lock, where they may not reorder anything.
/// </summary>
[ReadMostly(Policy = ReadWritePolicy.WriterPreferred)]
public sealed partial class PriceCache(
    [FromKeyedServices(ApiServerLocks.Prices)] AsyncReadWriteLock pricesLock, IOptions<ApiServerOptions> options)
{
    private readonly int _capacity = options.Value.PriceCapacity;

    [LockOrder(ApiServerLocks.PricesLevel)]
    private readonly AsyncReadWriteLock _lock = pricesLock;

    [Guarded(Lock = nameof(_lock))]
    private readonly Dictionary<string, LinkedListNode<(string Symbol, decimal Price)>> _prices = new(StringComparer.OrdinalIgnoreCase);

    // Oldest write first: the next to go when a new symbol comes to a full cache.
    [Guarded(Lock = nameof(_lock))]
    private readonly LinkedList<(string Symbol, decimal Price)> _byWrite = new();

    [Guarded(Lock = nameof(_lock))]
    private long _writes;

    [Guarded(Lock = nameof(_lock))]
    private long _evictions;

    [Guarded(Lock = nameof(_lock), Access = LockAccess.Read)]
    private Task<decimal?> FindCoreAsync(string symbol) =>
        Task.FromResult(_prices.TryGetValue(symbol, out var node) ? node.Value.Price : (decimal?)null);

    [Guarded(Lock = nameof(_lock))]
    private Task SetCoreAsync(string symbol, decimal price)
    {
        if (_prices.TryGetValue(symbol, out var node))
        {
            _byWrite.Remove(node);
        }
        else if (_prices.Count >= _capacity && _byWrite.First is { } oldest)
        {
            _byWrite.RemoveFirst();
            _prices.Remove(oldest.Value.Symbol);
            _evictions++;
        }

        // The symbol keeps the spelling it was first written with, as the dictionary's key does.
        _prices[symbol] = _byWrite.AddLast((node?.Value.Symbol ?? symbol, price));
        _writes++;
        return Task.CompletedTask;
    }

    [Guarded(Lock = nameof(_lock), Access = LockAccess.Read)]
    private Task<(int Symbols, long Writes, long Evictions)> CountsCoreAsync() => Task.FromResult((_prices.Count, _writes, _evictions));

    [Guarded(Lock = nameof(_lock))]
    private Task ClearCoreAsync()
    {
        _prices.Clear();
        _byWrite.Clear();
        _writes = 0;
        _evictions = 0;
        return Task.CompletedTask;
    }
}
