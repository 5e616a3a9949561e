using System.Collections.Generic;
using System.Linq;
using Locksmith.Generators.Guarded.Models;

namespace Locksmith.Generators.Guarded;

/// <summary>Names of the wrapper's own parameters and locals, chosen so they never clash with the body's parameters.</summary>
internal sealed class LocalNames
{
    public LocalNames(WrapperModel wrapper)
    {
        var taken = new HashSet<string>(wrapper.Parameters.Select(static p => p.Name.TrimStart('@')));
        taken.UnionWith(wrapper.TypeParameters);
        Scope = Unique("__scope", taken);
        Timeout = Unique("timeout", taken);
        Result = Unique("result", taken);
        Release = Unique("__release", taken);
    }

    /// <summary>The local an <c>await using</c> of a round-trip scope releases through (the scope without the captured context).</summary>
    public string Release { get; }

    /// <summary>The local that holds the lock scope.</summary>
    public string Scope { get; }

    /// <summary>The timed form's timeout parameter.</summary>
    public string Timeout { get; }

    /// <summary>The timed form's result parameter.</summary>
    public string Result { get; }

    private static string Unique(string name, HashSet<string> taken)
    {
        string candidate = name;
        for (int i = 1; taken.Contains(candidate); i++)
        {
            candidate = name + i.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        taken.Add(candidate);
        return candidate;
    }
}
