using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Locksmith.Generators.Diagnostics;
using Locksmith.Generators.Helpers;
using Microsoft.CodeAnalysis;

namespace Locksmith.Generators.Guarded;

/// <summary>
/// LSM0064: generated code names every type from the global namespace (<c>global::System.…</c>,
/// <c>global::Locksmith.…</c>). A non-generic type of that name in the global namespace, declared in the project
/// (CS0437, then CS0426) or public in a reference (CS0434), binds there instead, and no spelling reaches the namespace
/// past it. Every generated file would be errors.
/// </summary>
internal static class HiddenNamespaces
{
    /// <summary>The namespaces generated code names from <c>global::</c>.</summary>
    private static readonly string[] s_roots = ["System", KnownNames.RuntimeNamespace];

    /// <summary>One diagnostic for each type that hides a root; empty when generated code can name them all.</summary>
    public static EquatableArray<DiagnosticInfo> Find(Compilation compilation, CancellationToken token)
    {
        var found = new List<DiagnosticInfo>();
        var global = compilation.GlobalNamespace;
        foreach (string root in s_roots)
        {
            token.ThrowIfCancellationRequested();
            foreach (var type in global.GetTypeMembers(root, 0))
            {
                // An internal type of another assembly (without InternalsVisibleTo) is not seen, so does not hide it.
                if (!compilation.IsSymbolAccessibleWithin(type, compilation.Assembly))
                {
                    continue;
                }

                var location = type.Locations.FirstOrDefault(static l => l.IsInSource);
                found.Add(DiagnosticInfo.Create(
                    DiagnosticDescriptors.NamespaceHiddenFromGeneratedCode,
                    location,
                    root,
                    location is null ? "the type '" + root + "' of assembly '" + type.ContainingAssembly.Name + "' hides it" : "the type '" + root + "' declared here hides it",
                    location is null ? "drop the reference or move that type into a namespace" : "rename the type or move it into a namespace"));
            }
        }

        return found.ToEquatableArray();
    }
}
