using System.Collections.Generic;
using System.Collections.Immutable;
using System.Threading;
using Locksmith.Generators.Diagnostics;
using Locksmith.Generators.Guarded.Models;
using Locksmith.Generators.Helpers;

namespace Locksmith.Generators.Guarded;

/// <summary>Finds locks of one type that declare the same <c>[LockOrder]</c> level.</summary>
internal static class LockOrderLevels
{
    public static EquatableArray<DiagnosticInfo> FindClashes(ImmutableArray<LockOrderEntry> entries, CancellationToken token)
    {
        var first = new Dictionary<(string Type, int Level), LockOrderEntry>();
        var diagnostics = new List<DiagnosticInfo>();
        foreach (var entry in entries)
        {
            token.ThrowIfCancellationRequested();
            var key = (entry.TypeName, entry.Level);
            if (!first.TryGetValue(key, out var earlier))
            {
                first.Add(key, entry);
                continue;
            }

            // The same lock again: a property returning a lock field names the field (see ParseLockOrder).
            if (earlier.MemberName == entry.MemberName)
            {
                continue;
            }

            diagnostics.Add(new DiagnosticInfo(
                DiagnosticDescriptors.DuplicateLockOrderLevel,
                entry.Location,
                new EquatableArray<string>([earlier.MemberName, entry.MemberName, entry.TypeName, entry.Level.ToString(System.Globalization.CultureInfo.InvariantCulture)])));
        }

        return diagnostics.ToEquatableArray();
    }
}
