using System.Collections.Generic;
using System.Linq;
using Locksmith.Generators.Symbols;
using Microsoft.CodeAnalysis;

namespace Locksmith.Generators.Diagnostics.Analyzers.Support;

/// <summary>A lock a method holds or a wrapper takes, with its declared level.</summary>
internal sealed class LockUse
{
    public LockUse(ISymbol member, LockCapabilities capabilities)
    {
        Member = member;
        Capabilities = capabilities;
        Level = LockMembers.LevelOf(member);
    }

    public ISymbol Member { get; }

    public LockCapabilities Capabilities { get; }

    public int? Level { get; }
}

/// <summary>Maps generated wrappers back to their guarded bodies, by the naming rule the generator uses.</summary>
internal static class WrapperBodies
{
    /// <summary>The locks a guarded (or <c>[AcquiresLocksOf]</c>) method holds while it runs; empty for other methods.</summary>
    public static List<LockUse> LocksOf(IMethodSymbol method)
    {
        var uses = new List<LockUse>();
        if (Guard.Of(method) is { } guard)
        {
            uses.Add(new LockUse(guard.LockMember, guard.Capabilities));
        }
        else if (AcquiresLocksOfAttributeData.Of(method) is { } set)
        {
            foreach (string name in set.ParameterNames)
            {
                var parameter = method.Parameters.FirstOrDefault(p => p.Name == name);
                var member = LockMembers.Find(parameter?.Type, set.Lock);
                var capabilities = LockCapabilitiesReader.Of(LockMembers.TypeOf(member));
                if (member is not null && capabilities.IsLock())
                {
                    uses.Add(new LockUse(member, capabilities));
                }
            }
        }

        return uses;
    }

    /// <summary>The body behind a generated wrapper, or null when <paramref name="wrapper"/> is not one.</summary>
    public static IMethodSymbol? BodyOf(IMethodSymbol wrapper)
    {
        if (!IsGeneratedWrapper(wrapper))
        {
            return null;
        }

        foreach (var candidate in wrapper.ContainingType.GetMembers().OfType<IMethodSymbol>())
        {
            string? explicitName = GuardedAttributeData.Of(candidate)?.WrapperName
                ?? AcquiresLocksOfAttributeData.Of(candidate)?.WrapperName;
            bool attributed = explicitName is not null || GuardedAttributeData.Of(candidate) is not null || AcquiresLocksOfAttributeData.Of(candidate) is not null;
            if (!attributed || WrapperNaming.WrapperName(candidate.Name, explicitName) is not { } name)
            {
                continue;
            }

            bool matches = (wrapper.Name == name && wrapper.Parameters.Length == candidate.Parameters.Length) ||
                (wrapper.Name == WrapperNaming.TryName(name) && wrapper.Parameters.Length > candidate.Parameters.Length);
            if (matches && SameLeadingParameters(candidate, wrapper))
            {
                return candidate;
            }
        }

        return null;
    }

    private static bool IsGeneratedWrapper(IMethodSymbol method) =>
        method.GetAttributes().Any(static a =>
            a.AttributeClass is { Name: "GeneratedCodeAttribute" } &&
            a.ConstructorArguments.Length > 0 &&
            a.ConstructorArguments[0].Value as string == KnownNames.GeneratorName);

    private static bool SameLeadingParameters(IMethodSymbol body, IMethodSymbol wrapper)
    {
        for (int i = 0; i < body.Parameters.Length; i++)
        {
            if (body.Parameters[i].Type.ToDisplayString() != wrapper.Parameters[i].Type.ToDisplayString())
            {
                return false;
            }
        }

        return true;
    }
}
