using Microsoft.CodeAnalysis;

namespace Locksmith.Generators.Symbols;

/// <summary>Recognises runtime types and attributes by the names in <see cref="KnownNames"/>.</summary>
internal static class RuntimeSymbols
{
    /// <summary>Whether <paramref name="type"/> is the top-level type <c>Locksmith.{name}</c>.</summary>
    public static bool IsRuntimeType(ITypeSymbol? type, string name) =>
        type is INamedTypeSymbol { ContainingType: null } named &&
        named.MetadataName == name &&
        named.ContainingNamespace is { Name: KnownNames.RuntimeNamespace } ns &&
        ns.ContainingNamespace is { IsGlobalNamespace: true };

    /// <summary>
    /// Whether <paramref name="type"/> is declared in <c>Locksmith</c> or <c>Locksmith.Postgres</c>: read off the
    /// namespace symbols, no string built, as analyzers ask it of nearly every call in a project.
    /// </summary>
    public static bool IsInLocksmithNamespaces(ITypeSymbol? type) =>
        type?.ContainingNamespace is { } ns &&
        (IsTopLevelLocksmith(ns) || (ns.Name == KnownNames.DistributedNamespaceName && ns.ContainingNamespace is { } parent && IsTopLevelLocksmith(parent)));

    private static bool IsTopLevelLocksmith(INamespaceSymbol ns) =>
        ns.Name == KnownNames.RuntimeNamespace && ns.ContainingNamespace is { IsGlobalNamespace: true };

    /// <summary>Whether the attribute is <c>Locksmith.{name}</c>.</summary>
    public static bool IsAttribute(AttributeData attribute, string metadataName) =>
        IsRuntimeType(attribute.AttributeClass, metadataName.Substring(KnownNames.RuntimeNamespace.Length + 1));

    /// <summary>The first attribute of <paramref name="symbol"/> that is <c>Locksmith.{name}</c>, or null.</summary>
    public static AttributeData? FindAttribute(ISymbol symbol, string metadataName)
    {
        foreach (var attribute in symbol.GetAttributes())
        {
            if (IsAttribute(attribute, metadataName))
            {
                return attribute;
            }
        }

        return null;
    }

    /// <summary>Whether <paramref name="type"/> derives from <c>Locksmith.LockPrimitive</c>.</summary>
    public static bool DerivesFromLockPrimitive(ITypeSymbol type)
    {
        for (var current = type.BaseType; current is not null; current = current.BaseType)
        {
            if (IsRuntimeType(current, KnownNames.LockPrimitive))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Whether <paramref name="type"/> implements <c>Locksmith.ILockSetMember</c>, the parameter type of <c>LockSet</c>.</summary>
    public static bool IsLockSetMember(ITypeSymbol type) => Implements(type, KnownNames.LockSetMember);

    /// <summary>Whether <paramref name="type"/> implements <c>Locksmith.IAsyncLockSetMember</c>, the parameter type of <c>LockSet.AcquireAsync</c>.</summary>
    public static bool IsAsyncLockSetMember(ITypeSymbol type) => Implements(type, KnownNames.AsyncLockSetMember);

    private static bool Implements(ITypeSymbol type, string name)
    {
        foreach (var implemented in type.AllInterfaces)
        {
            if (IsRuntimeType(implemented, name))
            {
                return true;
            }
        }

        return false;
    }
}
