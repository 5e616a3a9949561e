using System.Collections.Generic;
using System.Linq;
using Locksmith.Generators;
using Locksmith.Generators.Symbols;
using Microsoft.CodeAnalysis;

namespace Locksmith.CodeFixes.Support;

/// <summary>A lock member a <c>[Guarded]</c> may name, with what its type can do.</summary>
internal sealed class LockCandidate
{
    public LockCandidate(ISymbol member, ITypeSymbol type, LockCapabilities capabilities)
    {
        Member = member;
        Type = type;
        Capabilities = capabilities;
    }

    public ISymbol Member { get; }

    public ITypeSymbol Type { get; }

    public LockCapabilities Capabilities { get; }

    public bool IsKeyed => (Capabilities & LockCapabilities.Keyed) != 0;

    public bool IsReadWrite => (Capabilities & LockCapabilities.ReadWrite) != 0;
}

/// <summary>
/// The lock members and key parameters the generator accepts, found by its rules (GuardedGenerator.Parser.Locks.cs,
/// LockMembers.cs), so a fix never names one that the generator would then refuse.
/// </summary>
internal static class LockCandidates
{
    /// <summary>
    /// The field or readable (non-indexer) property named <paramref name="name"/> in the type or a base type (a base
    /// type's private one excluded), as the generator resolves <c>Lock</c>; else null.
    /// </summary>
    public static ISymbol? Find(INamedTypeSymbol type, string? name)
    {
        if (string.IsNullOrEmpty(name))
        {
            return null;
        }

        bool inherited = false;
        for (var current = type; current is not null; current = current.BaseType, inherited = true)
        {
            foreach (var member in current.GetMembers(name!))
            {
                if (inherited && member.DeclaredAccessibility == Accessibility.Private)
                {
                    continue;
                }

                if (member is IFieldSymbol or IPropertySymbol { IsIndexer: false, GetMethod: not null })
                {
                    return member;
                }
            }
        }

        return null;
    }

    /// <summary>The Locksmith locks of the type and its bases that <c>Lock</c> can name from it, nearest first, in declaration order.</summary>
    public static IEnumerable<LockCandidate> Of(INamedTypeSymbol type, Compilation compilation)
    {
        var seen = new HashSet<string>();
        for (var current = type; current is not null; current = current.BaseType)
        {
            foreach (var member in current.GetMembers())
            {
                var memberType = member switch
                {
                    IFieldSymbol { IsImplicitlyDeclared: false, AssociatedSymbol: null } field => field.Type,
                    IPropertySymbol { IsIndexer: false, GetMethod: not null } property => property.Type,
                    _ => null,
                };
                var capabilities = LockCapabilitiesReader.Of(memberType);
                if (memberType is null || !capabilities.IsLock() || !seen.Add(member.Name) ||
                    !SymbolEqualityComparer.Default.Equals(Find(type, member.Name), member) ||
                    !compilation.IsSymbolAccessibleWithin(member, type) ||
                    member.GetAttributes().Any(static a => a.AttributeClass is { Name: "ObsoleteAttribute", ContainingNamespace.Name: "System" }))
                {
                    continue;
                }

                yield return new LockCandidate(member, memberType, capabilities);
            }
        }
    }

    /// <summary>
    /// The key type of a keyed lock: the parameter of its one-argument <c>Acquire</c> (<c>AcquireWrite</c>,
    /// <c>AcquireRead</c>), or the first of an async one's <c>AcquireAsync(key, CancellationToken)</c>; else null.
    /// </summary>
    public static ITypeSymbol? KeyTypeOf(ITypeSymbol lockType)
    {
        for (var type = lockType; type is not null; type = type.BaseType)
        {
            foreach (var member in type.GetMembers())
            {
                if (member is IMethodSymbol { IsStatic: false, Parameters.Length: 1, Name: KnownNames.Acquire or KnownNames.AcquireWrite or KnownNames.AcquireRead } acquire)
                {
                    return acquire.Parameters[0].Type;
                }

                if (member is IMethodSymbol { IsStatic: false, Parameters.Length: 2, Name: "AcquireAsync" or "AcquireWriteAsync" or "AcquireReadAsync" } acquireAsync &&
                    acquireAsync.Parameters[1].Type is { Name: "CancellationToken", ContainingNamespace: { Name: "Threading", ContainingNamespace.Name: "System" } })
                {
                    return acquireAsync.Parameters[0].Type;
                }
            }
        }

        return null;
    }

    /// <summary>
    /// The parameters of <paramref name="method"/> that <c>StripeBy</c> may name for a keyed lock of
    /// <paramref name="lockType"/>: input parameters whose type converts implicitly to the key type, and would not pass
    /// a null where the key may not be null. None when the key type cannot be read.
    /// </summary>
    public static IEnumerable<IParameterSymbol> KeyParameters(Compilation compilation, IMethodSymbol method, ITypeSymbol lockType)
    {
        if (KeyTypeOf(lockType) is not { } keyType)
        {
            return Enumerable.Empty<IParameterSymbol>();
        }

        return method.Parameters.Where(p =>
            p.RefKind != RefKind.Out &&
            compilation.ClassifyCommonConversion(p.Type, keyType).IsImplicit &&
            !(!p.Type.IsValueType && p.Type.NullableAnnotation == NullableAnnotation.Annotated &&
              !keyType.IsValueType && keyType.NullableAnnotation == NullableAnnotation.NotAnnotated));
    }

    /// <summary>Whether a parameter named <paramref name="name"/> is one <see cref="KeyParameters"/> allows.</summary>
    public static bool IsKeyParameter(Compilation compilation, IMethodSymbol method, ITypeSymbol lockType, string name) =>
        KeyParameters(compilation, method, lockType).Any(p => p.Name == name);

    /// <summary>Whether a method is asynchronous code: declared <c>async</c>, or returning something awaitable.</summary>
    public static bool IsAsyncCode(IMethodSymbol method) => method.IsAsync || IsAwaitable(method.ReturnType);

    /// <summary>Whether the method returns Task, Task&lt;T&gt;, ValueTask or ValueTask&lt;T&gt;, the results async wrappers await.</summary>
    public static bool ReturnsTaskType(IMethodSymbol method) =>
        method.ReturnType is INamedTypeSymbol { MetadataName: "Task" or "Task`1" or "ValueTask" or "ValueTask`1", ContainingType: null } named &&
        named.ContainingNamespace?.ToDisplayString() == "System.Threading.Tasks";

    private static bool IsAwaitable(ITypeSymbol type)
    {
        if (type is INamedTypeSymbol { MetadataName: "IAsyncEnumerable`1" or "IAsyncEnumerator`1" })
        {
            return true;
        }

        for (var current = type; current is not null; current = current.BaseType)
        {
            if (current.GetMembers("GetAwaiter").Any(static m => m is IMethodSymbol { IsStatic: false, Parameters.Length: 0 }))
            {
                return true;
            }
        }

        return false;
    }
}
