using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;

namespace Locksmith.Generators.Symbols;

/// <summary>
/// Whether a lock type has the methods a wrapper calls on it. The capability markers declare no members, so a user's
/// type can carry one without the methods it promises; the wrapper would then not compile (CS1061), and the generator
/// says which method is missing instead (LSM0044).
/// </summary>
internal static class LockContract
{
    /// <summary>What the wrapper passes: a value of a type, or an <c>out var</c>.</summary>
    private readonly struct Argument
    {
        private Argument(ITypeSymbol? type, string display)
        {
            Type = type;
            Display = display;
        }

        /// <summary>The value's type; null for an <c>out var</c>.</summary>
        public ITypeSymbol? Type { get; }

        public string Display { get; }

        public static Argument Of(ITypeSymbol type, string display) => new(type, display);

        public static Argument Out(string display) => new(null, display);
    }

    /// <summary>
    /// The first method the wrappers call on <paramref name="lockType"/> that it cannot take, as the message shows it
    /// (name, arguments and what its result must offer); null when it has them all.
    /// </summary>
    /// <param name="method">The acquisition's name without <c>Try</c> or <c>Async</c>: <c>Acquire</c>, <c>AcquireRead</c>, <c>AcquireWrite</c>.</param>
    /// <param name="key">The key argument's type for a keyed lock, else null.</param>
    /// <param name="passesTimeout">Whether the throwing form passes a timeout (a <c>TimeoutMilliseconds</c> is set).</param>
    /// <param name="passesToken">Whether the async forms pass a cancellation token.</param>
    public static string? FirstMissing(
        Compilation compilation, ITypeSymbol lockType, INamedTypeSymbol within, string method, ITypeSymbol? key, bool isAsync, bool passesTimeout, bool passesToken)
    {
        var timeSpan = compilation.GetTypeByMetadataName("System.TimeSpan");
        var token = compilation.GetTypeByMetadataName("System.Threading.CancellationToken");
        var disposable = compilation.GetSpecialType(SpecialType.System_IDisposable);
        if (timeSpan is null || token is null)
        {
            return null;
        }

        var leading = key is null ? new List<Argument>() : [Argument.Of(key, key.ToDisplayString(SymbolDisplayFormat.MinimallyQualifiedFormat))];
        var timeout = Argument.Of(timeSpan, "TimeSpan");
        var cancel = Argument.Of(token, "CancellationToken");
        if (!isAsync)
        {
            var throwing = leading.Concat(passesTimeout ? [timeout] : []).ToList();
            if (Find(compilation, lockType, within, method, throwing) is not { } acquire || !HasDispose(compilation, acquire.ReturnType, within))
            {
                return Signature("scope", method, throwing) + ", whose scope has a Dispose() method";
            }

            var timed = leading.Concat([timeout, Argument.Out("out scope")]).ToList();
            if (Find(compilation, lockType, within, KnownNames.TryPrefix + method, timed) is not { } tryAcquire ||
                tryAcquire.ReturnType.SpecialType != SpecialType.System_Boolean ||
                !HasDispose(compilation, tryAcquire.Parameters[timed.Count - 1].Type, within))
            {
                return Signature("bool", KnownNames.TryPrefix + method, timed) + ", whose scope has a Dispose() method";
            }

            return null;
        }

        var asyncThrowing = leading.Concat(passesTimeout ? [timeout] : []).Concat(passesToken ? [cancel] : []).ToList();
        if (Find(compilation, lockType, within, method + KnownNames.AsyncSuffix, asyncThrowing) is not { } acquireAsync ||
            ResultOf(acquireAsync.ReturnType) is not { } scope || !Implements(scope, disposable))
        {
            return Signature("ValueTask<scope>", method + KnownNames.AsyncSuffix, asyncThrowing) + ", whose scope is IDisposable";
        }

        var asyncTimed = leading.Concat([timeout]).Concat(passesToken ? [cancel] : []).ToList();
        if (Find(compilation, lockType, within, KnownNames.TryPrefix + method + KnownNames.AsyncSuffix, asyncTimed) is not { } tryAcquireAsync ||
            ResultOf(tryAcquireAsync.ReturnType) is not { } timedScope || !Implements(timedScope, disposable) || !HasIsAcquired(compilation, timedScope, within))
        {
            return Signature("ValueTask<scope>", KnownNames.TryPrefix + method + KnownNames.AsyncSuffix, asyncTimed) + ", whose scope is IDisposable and has a bool IsAcquired";
        }

        return null;
    }

    /// <summary>
    /// Whether the scope that <paramref name="method"/> of <paramref name="lockType"/> returns (in a task) is released by a
    /// round trip of its own: it is <see cref="System.IAsyncDisposable"/> and not one of the runtime's in-process scopes,
    /// whose release is synchronous and allocation-free.
    /// </summary>
    public static bool ReleasesAsynchronously(Compilation compilation, ITypeSymbol lockType, string method)
    {
        var asyncDisposable = compilation.GetTypeByMetadataName("System.IAsyncDisposable");
        if (asyncDisposable is null)
        {
            return false;
        }

        foreach (var type in TypeAndBases(lockType))
        {
            foreach (var member in type.GetMembers(method))
            {
                if (member is IMethodSymbol { IsStatic: false } candidate && ResultOf(candidate.ReturnType) is { } scope)
                {
                    return Implements(scope, asyncDisposable) &&
                        !RuntimeSymbols.IsRuntimeType(scope, "AsyncLockScope") && !RuntimeSymbols.IsRuntimeType(scope, "AsyncLockSetScope");
                }
            }
        }

        return false;
    }

    private static string Signature(string returns, string name, List<Argument> arguments) =>
        returns + " " + name + "(" + string.Join(", ", arguments.Select(static a => a.Display)) + ")";

    /// <summary>An accessible instance method of the type (or a base type) that takes these arguments; the rest of its parameters optional.</summary>
    private static IMethodSymbol? Find(Compilation compilation, ITypeSymbol lockType, INamedTypeSymbol within, string name, List<Argument> arguments)
    {
        foreach (var type in TypeAndBases(lockType))
        {
            foreach (var member in type.GetMembers(name))
            {
                if (member is IMethodSymbol { IsStatic: false, MethodKind: MethodKind.Ordinary } candidate &&
                    compilation.IsSymbolAccessibleWithin(candidate, within) &&
                    Takes(compilation, candidate, arguments))
                {
                    return candidate;
                }
            }
        }

        return null;
    }

    private static bool Takes(Compilation compilation, IMethodSymbol candidate, List<Argument> arguments)
    {
        if (candidate.IsGenericMethod || candidate.Parameters.Length < arguments.Count)
        {
            // A generic acquisition is not inferred here: taken as callable rather than refused on a guess.
            return candidate.IsGenericMethod;
        }

        for (int i = 0; i < candidate.Parameters.Length; i++)
        {
            var parameter = candidate.Parameters[i];
            if (i >= arguments.Count)
            {
                if (!parameter.IsOptional && !parameter.IsParams)
                {
                    return false;
                }

                continue;
            }

            var argument = arguments[i];
            bool fits = argument.Type is null
                ? parameter.RefKind == RefKind.Out
                : parameter.RefKind is RefKind.None or RefKind.In or RefKind.RefReadOnlyParameter &&
                    compilation.ClassifyCommonConversion(argument.Type, parameter.Type).IsImplicit;
            if (!fits)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The <c>T</c> of a <c>ValueTask&lt;T&gt;</c> or <c>Task&lt;T&gt;</c> (the wrappers call <c>ConfigureAwait(false)</c> on it).</summary>
    private static ITypeSymbol? ResultOf(ITypeSymbol type) =>
        type is INamedTypeSymbol { Arity: 1, MetadataName: "ValueTask`1" or "Task`1" } named &&
        named.ContainingNamespace?.ToDisplayString() == "System.Threading.Tasks"
            ? named.TypeArguments[0]
            : null;

    private static bool Implements(ITypeSymbol type, INamedTypeSymbol disposable) =>
        SymbolEqualityComparer.Default.Equals(type, disposable) ||
        type.AllInterfaces.Any(i => SymbolEqualityComparer.Default.Equals(i, disposable));

    /// <summary>Whether <c>scope.Dispose()</c> compiles: an accessible parameterless instance <c>Dispose</c>, or IDisposable on an interface type.</summary>
    private static bool HasDispose(Compilation compilation, ITypeSymbol type, INamedTypeSymbol within) =>
        Find(compilation, type, within, "Dispose", []) is not null ||
        (type.TypeKind == TypeKind.Interface && Implements(type, compilation.GetSpecialType(SpecialType.System_IDisposable)));

    private static bool HasIsAcquired(Compilation compilation, ITypeSymbol type, INamedTypeSymbol within)
    {
        foreach (var current in TypeAndBases(type))
        {
            foreach (var member in current.GetMembers("IsAcquired"))
            {
                var memberType = member switch
                {
                    IPropertySymbol { IsStatic: false, GetMethod: not null } property when compilation.IsSymbolAccessibleWithin(property.GetMethod, within) => property.Type,
                    IFieldSymbol { IsStatic: false } field when compilation.IsSymbolAccessibleWithin(field, within) => field.Type,
                    _ => null,
                };
                if (memberType?.SpecialType == SpecialType.System_Boolean)
                {
                    return true;
                }
            }
        }

        return false;
    }

    /// <summary>The type and its bases; for an interface or a type parameter, the interfaces it has too.</summary>
    private static IEnumerable<ITypeSymbol> TypeAndBases(ITypeSymbol type)
    {
        for (ITypeSymbol? current = type; current is not null; current = current.BaseType)
        {
            yield return current;
        }

        if (type.TypeKind is TypeKind.Interface or TypeKind.TypeParameter)
        {
            foreach (var implemented in type.AllInterfaces)
            {
                yield return implemented;
            }
        }
    }
}
