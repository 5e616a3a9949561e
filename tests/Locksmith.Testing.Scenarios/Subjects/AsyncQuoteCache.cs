using System.Collections.Generic;
using System.Threading.Tasks;

namespace Locksmith.Testing.Scenarios.Subjects;

/// <summary>
/// <see cref="QuoteCache"/> for async callers: an <see cref="AsyncExclusiveLock"/>, and generated async wrappers
/// (<c>FindAsync</c>, <c>SetAsync</c>, <c>GetOrAddAsync</c>, <c>OverwritesAsync</c>).
/// </summary>
public sealed partial class AsyncQuoteCache
{
    private readonly AsyncExclusiveLock _lock = new("quotes.async");

    [Guarded(Lock = nameof(_lock))]
    private readonly Dictionary<string, string> _quotes = [];

    [Guarded(Lock = nameof(_lock))]
    private int _overwrites;

    /// <summary>The quote for <paramref name="key"/>, or null.</summary>
    [Guarded(Lock = nameof(_lock))]
    private Task<string?> FindCoreAsync(string key) => Task.FromResult(_quotes.GetValueOrDefault(key));

    /// <summary>Stores a quote; replacing one counts as an overwrite.</summary>
    [Guarded(Lock = nameof(_lock))]
    private Task SetCoreAsync(string key, string quote)
    {
        if (_quotes.ContainsKey(key))
        {
            _overwrites++;
        }

        _quotes[key] = quote;
        return Task.CompletedTask;
    }

    /// <summary>The stored quote, or stores and returns <paramref name="quote"/>, under one hold of the lock.</summary>
    [Guarded(Lock = nameof(_lock))]
    private Task<string> GetOrAddCoreAsync(string key, string quote) =>
        Task.FromResult(_quotes.TryAdd(key, quote) ? quote : _quotes[key]);

    /// <summary>How many times a stored quote was replaced.</summary>
    [Guarded(Lock = nameof(_lock))]
    private Task<int> OverwritesCoreAsync() => Task.FromResult(_overwrites);
}
