using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Globalization;
using System.Linq;
using System.Threading;
using Locksmith.Generators.Guarded.Models;
using Locksmith.Generators.Helpers;

namespace Locksmith.Generators.Guarded;

/// <summary>Gathers the wrappers of each type into one model, so each type gets one generated file.</summary>
internal static class TypeGrouping
{
    private const string HintSuffix = ".Locksmith.g.cs";

    public static ImmutableArray<TypeModel> Group(IEnumerable<WrapperModel> wrappers, CancellationToken token)
    {
        var order = new List<TypeModelKey>();
        var byType = new Dictionary<TypeModelKey, List<WrapperModel>>();
        foreach (var wrapper in wrappers)
        {
            token.ThrowIfCancellationRequested();
            if (!byType.TryGetValue(wrapper.Type, out var list))
            {
                list = new List<WrapperModel>();
                byType.Add(wrapper.Type, list);
                order.Add(wrapper.Type);
            }

            list.Add(wrapper);
        }

        var hintNames = UniqueHintNames(order);
        var builder = ImmutableArray.CreateBuilder<TypeModel>(order.Count);
        foreach (var key in order)
        {
            builder.Add(new TypeModel(hintNames[key], key.Namespace, key.Declarations, byType[key].ToEquatableArray()));
        }

        return builder.MoveToImmutable();
    }

    /// <summary>
    /// The hint name of each type. Roslyn compares hint names ignoring case (they become file names, and file systems
    /// may ignore case too), so types whose names differ only in case (<c>N.Foo</c> and <c>N.foo</c>, namespace <c>N</c>
    /// and <c>n</c>) would otherwise add the same source twice and make the whole generator fail (CS8785). Each of
    /// those gets a suffix that marks its upper-case letters, which depends on its own name only, so a name never
    /// changes with the order of the types or with another type being added.
    /// </summary>
    private static Dictionary<TypeModelKey, string> UniqueHintNames(List<TypeModelKey> keys)
    {
        var clashing = new HashSet<string>(
            keys.GroupBy(static k => k.HintName, StringComparer.OrdinalIgnoreCase).Where(static g => g.Count() > 1).Select(static g => g.Key),
            StringComparer.OrdinalIgnoreCase);
        var names = new Dictionary<TypeModelKey, string>();
        var taken = new HashSet<string>(keys.Where(k => !clashing.Contains(k.HintName)).Select(static k => k.HintName), StringComparer.OrdinalIgnoreCase);

        // Ordinal order: the same types get the same names whatever order the compilation lists them in.
        foreach (var key in keys.OrderBy(static k => k.HintName, StringComparer.Ordinal).ThenBy(static k => k.QualifiedName, StringComparer.Ordinal))
        {
            if (!clashing.Contains(key.HintName))
            {
                names[key] = key.HintName;
                continue;
            }

            string stem = key.HintName.EndsWith(HintSuffix, StringComparison.Ordinal)
                ? key.HintName.Substring(0, key.HintName.Length - HintSuffix.Length)
                : key.HintName;
            string candidate = stem + "." + CasePattern(stem) + HintSuffix;
            for (int n = 2; !taken.Add(candidate); n++)
            {
                candidate = stem + "." + CasePattern(stem) + "-" + n.ToString(CultureInfo.InvariantCulture) + HintSuffix;
            }

            names[key] = candidate;
        }

        return names;
    }

    /// <summary>
    /// The case of a name's letters as hexadecimal, one bit a letter, set for an upper-case one: <c>N.Foo</c> is c
    /// (1100), <c>N.foo</c> is 8 (1000). Names that differ only in case have as many letters, so their patterns differ.
    /// </summary>
    private static string CasePattern(string name)
    {
        var bits = new List<bool>();
        foreach (char c in name)
        {
            if (char.ToUpperInvariant(c) != char.ToLowerInvariant(c))
            {
                bits.Add(char.IsUpper(c));
            }
        }

        var digits = new System.Text.StringBuilder();
        for (int end = bits.Count; end > 0; end -= 4)
        {
            int value = 0;
            for (int i = System.Math.Max(0, end - 4); i < end; i++)
            {
                value = (value << 1) | (bits[i] ? 1 : 0);
            }

            digits.Insert(0, value.ToString("x", CultureInfo.InvariantCulture));
        }

        return digits.Length == 0 ? "0" : digits.ToString();
    }
}
