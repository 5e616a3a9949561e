using System.Linq;
using Microsoft.CodeAnalysis;

namespace Locksmith.Generators.Symbols;

/// <summary>
/// When a guarded method gets async wrappers, shared by the generator and the analyzers: it returns <c>Task</c>,
/// <c>Task&lt;T&gt;</c>, <c>ValueTask</c> or <c>ValueTask&lt;T&gt;</c> and its lock (or every lock of its
/// <c>[AcquiresLocksOf]</c>) is async.
/// </summary>
internal static class AsyncWrappers
{
    /// <summary>Whether <paramref name="type"/> is one of the four task types; <paramref name="result"/> is its <c>T</c>, if any.</summary>
    public static bool IsTaskType(ITypeSymbol? type, out ITypeSymbol? result)
    {
        result = null;
        if (type is not INamedTypeSymbol { MetadataName: "Task" or "Task`1" or "ValueTask" or "ValueTask`1" } named ||
            named.ContainingNamespace?.ToDisplayString() != "System.Threading.Tasks" || named.ContainingType is not null)
        {
            return false;
        }

        result = named.TypeArguments.Length == 1 ? named.TypeArguments[0] : null;
        return true;
    }

    /// <summary>Whether the method gets async wrappers (see the class remarks).</summary>
    public static bool IsAsyncForm(IMethodSymbol method) => IsTaskType(method.ReturnType, out _) && TakesAsyncLock(method);

    /// <summary>Whether the lock the method's attribute names (any of them, for <c>[AcquiresLocksOf]</c>) is async.</summary>
    public static bool TakesAsyncLock(IMethodSymbol method)
    {
        if (GuardedAttributeData.Of(method) is { } guarded)
        {
            return method.ContainingType is { } type &&
                LockCapabilitiesReader.Of(LockMembers.TypeOf(LockMembers.Find(type, guarded.Lock))).IsAsync();
        }

        if (AcquiresLocksOfAttributeData.Of(method) is { } set)
        {
            return KeyedSetLock(method, set) is not null || method.Parameters.Any(p => set.ParameterNames.Contains(p.Name) &&
                LockCapabilitiesReader.Of(LockMembers.TypeOf(LockMembers.Find(p.Type, set.Lock))).IsAsync());
        }

        return false;
    }

    /// <summary>
    /// The async keyed lock of the method's own type that an <c>[AcquiresLocksOf]</c> naming key parameters takes
    /// several keys of (<c>AcquireManyAsync</c>); null when a named parameter's type has the lock member itself (then
    /// it is a set of the parameters' locks) or the member is no async keyed lock.
    /// </summary>
    public static ISymbol? KeyedSetLock(IMethodSymbol method, AcquiresLocksOfAttributeData set)
    {
        if (method.ContainingType is not { } type ||
            method.Parameters.Any(p => set.ParameterNames.Contains(p.Name) && LockMembers.Find(p.Type, set.Lock) is not null))
        {
            return null;
        }

        var member = LockMembers.Find(type, set.Lock);
        var capabilities = LockCapabilitiesReader.Of(LockMembers.TypeOf(member));
        return (capabilities & LockCapabilities.Keyed) != 0 && capabilities.IsAsync() ? member : null;
    }

    /// <summary>The body's own <c>CancellationToken</c> parameter, which the wrapper passes to the acquisition too; or null.</summary>
    public static IParameterSymbol? TokenParameter(IMethodSymbol method) =>
        method.Parameters.FirstOrDefault(static p => p.RefKind == RefKind.None && IsCancellationToken(p.Type));

    /// <summary>
    /// Whether the wrappers add an optional <c>CancellationToken</c> last: when the body takes none, unless its last
    /// parameter is <c>params</c> (nothing may follow it).
    /// </summary>
    public static bool AddsToken(IMethodSymbol method) =>
        TokenParameter(method) is null && !(method.Parameters.Length > 0 && method.Parameters[method.Parameters.Length - 1].IsParams);

    /// <summary>Whether the async wrappers pass a token to the acquisition: the body's own, or the one they add.</summary>
    public static bool PassesToken(IMethodSymbol method) => TokenParameter(method) is not null || AddsToken(method);

    public static bool IsCancellationToken(ITypeSymbol type) =>
        type is INamedTypeSymbol { MetadataName: "CancellationToken", ContainingType: null } named &&
        named.ContainingNamespace?.ToDisplayString() == "System.Threading";
}
