using System.Collections.Generic;

namespace Locksmith.Testing.Scenarios.Subjects;

/// <summary>
/// A cache of quotes, each written once: a second write replaces a quote a caller may already have served. Its
/// wrappers (<c>Find</c>, <c>Set</c>, <c>GetOrAdd</c>, <c>Overwrites</c>) are generated from the guarded cores.
/// </summary>
public sealed partial class QuoteCache
{
    private readonly ExclusiveLock _lock = new();

    [Guarded(Lock = nameof(_lock))]
    private readonly Dictionary<string, string> _quotes = [];

    [Guarded(Lock = nameof(_lock))]
    private int _overwrites;

    /// <summary>The quote for <paramref name="key"/>, or null.</summary>
    [Guarded(Lock = nameof(_lock))]
    private string? FindCore(string key) => _quotes.GetValueOrDefault(key);

    /// <summary>Stores a quote; replacing one counts as an overwrite.</summary>
    [Guarded(Lock = nameof(_lock))]
    private void SetCore(string key, string quote)
    {
        if (_quotes.ContainsKey(key))
        {
            _overwrites++;
        }

        _quotes[key] = quote;
    }

    /// <summary>The quote already stored for <paramref name="key"/>, or stores and returns <paramref name="quote"/>: check and act under one lock.</summary>
    [Guarded(Lock = nameof(_lock))]
    private string GetOrAddCore(string key, string quote)
    {
        if (_quotes.TryGetValue(key, out var stored))
        {
            return stored;
        }

        _quotes.Add(key, quote);
        return quote;
    }

    /// <summary>How many times a stored quote was replaced.</summary>
    [Guarded(Lock = nameof(_lock))]
    private int OverwritesCore() => _overwrites;
}
