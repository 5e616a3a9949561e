using System.Linq;
using Locksmith.Generators.Symbols;
using Microsoft.CodeAnalysis;

namespace Locksmith.Generators.Diagnostics.Analyzers.Support;

/// <summary>A lock a method holds or a wrapper takes, with its declared level.</summary>
internal sealed class LockUse
{
    public LockUse(ISymbol member, LockCapabilities capabilities, IParameterSymbol? parameter = null)
    {
        Member = member;
        Capabilities = capabilities;
        Parameter = parameter;
        Level = LockMembers.LevelOf(member);
    }

    public ISymbol Member { get; }

    /// <summary>
    /// The <c>[AcquiresLocksOf]</c> parameter whose object's lock this is; null for the lock of the method's own object
    /// (or a static lock).
    /// </summary>
    public IParameterSymbol? Parameter { get; }

    public LockCapabilities Capabilities { get; }

    public int? Level { get; }
}

/// <summary>Recognises generated wrappers (their bodies are found by the naming rule, in <see cref="LockFacts"/>).</summary>
internal static class WrapperBodies
{
    /// <summary>Whether the method carries the generator's <c>[GeneratedCode("Locksmith.Generators", …)]</c>.</summary>
    public static bool IsGeneratedWrapper(IMethodSymbol method) =>
        method.GetAttributes().Any(static a =>
            a.AttributeClass is { Name: "GeneratedCodeAttribute" } &&
            a.ConstructorArguments.Length > 0 &&
            a.ConstructorArguments[0].Value as string == KnownNames.GeneratorName);

    /// <summary>Whether the wrapper starts with the body's parameters (the timed form adds its own after them).</summary>
    /// <param name="body">The guarded method.</param>
    /// <param name="wrapper">The candidate wrapper.</param>
    /// <param name="skip">A wrapper parameter that is not the body's (the timeout of a timed async form), or -1.</param>
    public static bool SameLeadingParameters(IMethodSymbol body, IMethodSymbol wrapper, int skip = -1)
    {
        for (int i = 0; i < body.Parameters.Length; i++)
        {
            int w = skip >= 0 && i >= skip ? i + 1 : i;
            if (w >= wrapper.Parameters.Length)
            {
                return false;
            }

            if (!SymbolEqualityComparer.Default.Equals(body.Parameters[i].Type.OriginalDefinition, wrapper.Parameters[w].Type.OriginalDefinition) &&
                body.Parameters[i].Type.ToDisplayString() != wrapper.Parameters[w].Type.ToDisplayString())
            {
                return false;
            }
        }

        return true;
    }
}
