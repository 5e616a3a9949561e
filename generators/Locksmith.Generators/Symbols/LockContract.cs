using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;

namespace Locksmith.Generators.Symbols;

/// <summary>
/// Whether a lock type has the methods a wrapper calls on it. The capability markers declare no members, so a user's
/// type can carry one without the methods it promises; the wrapper would then not compile (CS1061), and the generator
/// says which method is missing instead (LSM0044). Methods are looked up as the wrapper's call would find them: the
/// type's accessible instance methods and extension methods in scope at the guarded method.
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

    /// <summary>Where the wrapper's calls are bound: the guarded method's model and position, and the generated file's namespace.</summary>
    /// <param name="Model">The semantic model of the guarded method's tree.</param>
    /// <param name="Position">A position inside the guarded method's declaration.</param>
    /// <param name="Namespace">
    /// The namespace the generated file declares the type in. The file has no usings, so of the extension methods only
    /// those declared in that namespace or one enclosing it are in scope there.
    /// </param>
    internal readonly record struct CallSite(SemanticModel Model, int Position, INamespaceSymbol? Namespace);

    /// <summary>What the async forms' calls return: whether each form releases its scope with <c>await using</c>.</summary>
    /// <param name="Throwing">The throwing form's scope is released by a round trip of its own.</param>
    /// <param name="Timed">The timed form's scope is.</param>
    internal readonly record struct AsyncRelease(bool Throwing, bool Timed);

    /// <summary>
    /// The first method the wrappers call on <paramref name="lockType"/> that it cannot take, as the message shows it
    /// (name, arguments and what its result must offer); null when it has them all, and then, for async forms, how each
    /// form releases its scope.
    /// </summary>
    /// <param name="method">The acquisition's name without <c>Try</c> or <c>Async</c>: <c>Acquire</c>, <c>AcquireRead</c>, <c>AcquireWrite</c>.</param>
    /// <param name="key">The key argument's type for a keyed lock, else null.</param>
    /// <param name="passesTimeout">Whether the throwing form passes a timeout (a <c>TimeoutMilliseconds</c> is set).</param>
    /// <param name="passesToken">Whether the async forms pass a cancellation token.</param>
    /// <param name="outOfScope">
    /// When the missing method exists as an extension method that the generated file does not see (declared in another
    /// namespace): what it is and how to bring it into scope, as LSM0044's arguments 5 and 6; else two empty strings.
    /// </param>
    public static string? FirstMissing(
        CallSite site, ITypeSymbol lockType, string method, ITypeSymbol? key, bool isAsync, bool passesTimeout, bool passesToken, out AsyncRelease release,
        out (string Problem, string Fix) outOfScope)
    {
        release = default;
        outOfScope = (string.Empty, string.Empty);
        var compilation = site.Model.Compilation;
        if (Arguments(compilation, key, isAsync, passesTimeout, passesToken) is not var (throwing, timed))
        {
            return null;
        }

        if (!isAsync)
        {
            if (Find(site, lockType, method, throwing, out string? problem) is not { } acquire || !HasDispose(site, acquire.ReturnType) ||
                (problem = NullableScope(acquire.ReturnType, acquire.GetReturnTypeAttributes(), "NotNullAttribute", "[return: NotNull]")) is not null)
            {
                outOfScope = OutOfScope(site, lockType, method, throwing);
                return Signature("scope", method, throwing) + ", whose scope has a Dispose() method" + problem;
            }

            if (Find(site, lockType, KnownNames.TryPrefix + method, timed, out problem) is not { } tryAcquire ||
                tryAcquire.ReturnType.SpecialType != SpecialType.System_Boolean ||
                !HasDispose(site, tryAcquire.Parameters[timed.Count - 1].Type) ||
                (problem = NullableScope(tryAcquire.Parameters[timed.Count - 1].Type, tryAcquire.Parameters[timed.Count - 1].GetAttributes(), "NotNullWhenAttribute", "[NotNullWhen(true)]")) is not null)
            {
                outOfScope = OutOfScope(site, lockType, KnownNames.TryPrefix + method, timed);
                return Signature("bool", KnownNames.TryPrefix + method, timed) + ", whose scope has a Dispose() method" + problem;
            }

            return null;
        }

        if (Find(site, lockType, method + KnownNames.AsyncSuffix, throwing, out string? asyncProblem) is not { } acquireAsync ||
            ResultOf(acquireAsync.ReturnType) is not { } scope || ReleaseOf(compilation, scope) is not { } throwingRelease ||
            (asyncProblem = NullableScope(scope, [], null, null)) is not null)
        {
            outOfScope = OutOfScope(site, lockType, method + KnownNames.AsyncSuffix, throwing);
            return Signature("ValueTask<scope>", method + KnownNames.AsyncSuffix, throwing) + ", whose scope is IDisposable or IAsyncDisposable" + asyncProblem;
        }

        if (Find(site, lockType, KnownNames.TryPrefix + method + KnownNames.AsyncSuffix, timed, out asyncProblem) is not { } tryAcquireAsync ||
            ResultOf(tryAcquireAsync.ReturnType) is not { } timedScope || ReleaseOf(compilation, timedScope) is not { } timedRelease ||
            !HasIsAcquired(site, timedScope) ||
            (asyncProblem = NullableScope(timedScope, [], null, null)) is not null)
        {
            outOfScope = OutOfScope(site, lockType, KnownNames.TryPrefix + method + KnownNames.AsyncSuffix, timed);
            return Signature("ValueTask<scope>", KnownNames.TryPrefix + method + KnownNames.AsyncSuffix, timed) +
                ", whose scope is IDisposable or IAsyncDisposable and has a bool IsAcquired" + asyncProblem;
        }

        release = new AsyncRelease(throwingRelease, timedRelease);
        return null;
    }

    /// <summary>
    /// The methods the wrappers' acquisitions may bind to, the throwing (or async) form's and the timed form's: those
    /// of <see cref="Best"/>; none for a form the type lacks (then <see cref="FirstMissing"/> says so).
    /// </summary>
    public static (IReadOnlyList<IMethodSymbol> Throwing, IReadOnlyList<IMethodSymbol> Timed) Calls(
        CallSite site, ITypeSymbol lockType, string method, ITypeSymbol? key, bool isAsync, bool passesTimeout, bool passesToken)
    {
        if (Arguments(site.Model.Compilation, key, isAsync, passesTimeout, passesToken) is not var (throwing, timed))
        {
            return ([], []);
        }

        string suffix = isAsync ? KnownNames.AsyncSuffix : string.Empty;
        return (Best(site, lockType, method + suffix, throwing), Best(site, lockType, KnownNames.TryPrefix + method + suffix, timed));
    }

    /// <summary>
    /// What the wrappers pass to the lock: the throwing (or async) form (key, timeout when one is set, token) and the
    /// timed form (key, timeout, <c>out scope</c> or token); null when the compilation lacks TimeSpan or CancellationToken.
    /// </summary>
    private static (List<Argument> Throwing, List<Argument> Timed)? Arguments(
        Compilation compilation, ITypeSymbol? key, bool isAsync, bool passesTimeout, bool passesToken)
    {
        var timeSpan = compilation.GetTypeByMetadataName("System.TimeSpan");
        var token = compilation.GetTypeByMetadataName("System.Threading.CancellationToken");
        if (timeSpan is null || token is null)
        {
            return null;
        }

        var leading = key is null ? new List<Argument>() : [Argument.Of(key, key.ToDisplayString(SymbolDisplayFormat.MinimallyQualifiedFormat))];
        var timeout = Argument.Of(timeSpan, "TimeSpan");
        var cancel = Argument.Of(token, "CancellationToken");
        if (!isAsync)
        {
            return (leading.Concat(passesTimeout ? [timeout] : []).ToList(), leading.Concat([timeout, Argument.Out("out scope")]).ToList());
        }

        return (
            leading.Concat(passesTimeout ? [timeout] : []).Concat(passesToken ? [cancel] : []).ToList(),
            leading.Concat([timeout]).Concat(passesToken ? [cancel] : []).ToList());
    }

    /// <summary>
    /// How a wrapper releases a scope of this type: <c>await using</c> (true) when it is <c>IAsyncDisposable</c> and not
    /// one of the runtime's in-process scopes, whose release is synchronous and allocation-free; <c>using</c> (false)
    /// when it is <c>IDisposable</c>; null when it is neither.
    /// </summary>
    public static bool? ReleaseOf(Compilation compilation, ITypeSymbol scope)
    {
        var asyncDisposable = compilation.GetTypeByMetadataName("System.IAsyncDisposable");
        bool isAsyncDisposable = asyncDisposable is not null && Implements(scope, asyncDisposable);
        bool inProcess = RuntimeSymbols.IsRuntimeType(scope, "AsyncLockScope") || RuntimeSymbols.IsRuntimeType(scope, "AsyncLockSetScope");
        if (isAsyncDisposable && !inProcess)
        {
            return true;
        }

        return Implements(scope, compilation.GetSpecialType(SpecialType.System_IDisposable)) ? false : null;
    }

    /// <summary>The <c>T</c> of a <c>ValueTask&lt;T&gt;</c> or <c>Task&lt;T&gt;</c> (the wrappers call <c>ConfigureAwait(false)</c> on it).</summary>
    public static ITypeSymbol? ResultOf(ITypeSymbol type) =>
        type is INamedTypeSymbol { Arity: 1, MetadataName: "ValueTask`1" or "Task`1" } named &&
        named.ContainingNamespace?.ToDisplayString() == "System.Threading.Tasks"
            ? named.TypeArguments[0]
            : null;

    private static string Signature(string returns, string name, List<Argument> arguments) =>
        returns + " " + name + "(" + string.Join(", ", arguments.Select(static a => a.Display)) + ")";

    /// <summary>
    /// What a scope declared nullable lacks: the wrapper disposes it in a <c>finally</c> (CS8602 on a maybe-null one),
    /// unless the method promises it is not null with <paramref name="promise"/> (<c>NotNull</c> on the return,
    /// <c>NotNullWhen(true)</c> on the <c>out</c> scope; a task's result cannot promise). Null when the scope is fine.
    /// </summary>
    private static string? NullableScope(ITypeSymbol scope, IEnumerable<AttributeData> attributes, string? promise, string? promiseDisplay)
    {
        if (scope.IsValueType || scope.NullableAnnotation != NullableAnnotation.Annotated)
        {
            return null;
        }

        if (promise is not null && attributes.Any(a =>
            (a.AttributeClass?.Name == promise || a.AttributeClass?.Name == "NotNullAttribute") && a.AttributeClass.ContainingNamespace?.ToDisplayString() == "System.Diagnostics.CodeAnalysis" &&
            (a.ConstructorArguments.Length == 0 || a.ConstructorArguments[0].Value is true)))
        {
            return null;
        }

        return " and is declared non-nullable (not '" + scope.ToDisplayString() + "'" + (promiseDisplay is null ? string.Empty : ", or marked " + promiseDisplay) +
            "), as the wrapper disposes it";
    }

    /// <summary>The message of the symbol's <c>[Obsolete(…, error: true)]</c> (empty when it has none); null when it is not obsolete as an error.</summary>
    public static string? ObsoleteAsError(ISymbol symbol)
    {
        foreach (var attribute in symbol.GetAttributes())
        {
            if (attribute.AttributeClass is { Name: "ObsoleteAttribute" } type && type.ContainingNamespace?.ToDisplayString() == "System" &&
                attribute.ConstructorArguments.Length == 2 && attribute.ConstructorArguments[1].Value is true)
            {
                return attribute.ConstructorArguments[0].Value as string ?? string.Empty;
            }
        }

        return null;
    }

    /// <summary>
    /// An accessible instance method of the type, or an extension method in scope, that takes these arguments (the rest
    /// of its parameters optional), as the wrapper's call would bind it.
    /// </summary>
    private static IMethodSymbol? Find(CallSite site, ITypeSymbol lockType, string name, List<Argument> arguments) =>
        Find(site, lockType, name, arguments, out _);

    /// <summary>
    /// <see cref="Find(CallSite, ITypeSymbol, string, List{Argument})"/>, and why none fits when one nearly does, as a
    /// clause for the message: an overload that takes an argument as <c>ref readonly</c> (the wrapper passes values),
    /// or overloads that all need defaults, between which the call would be ambiguous (CS0121).
    /// </summary>
    private static IMethodSymbol? Find(CallSite site, ITypeSymbol lockType, string name, List<Argument> arguments, out string? problem)
    {
        var contenders = Contenders(site, lockType, name, arguments, out problem);
        return contenders.FirstOrDefault(c => c.Parameters.Length == arguments.Count) ?? contenders.FirstOrDefault();
    }

    /// <summary>
    /// The overloads a call may bind to, without ranking conversions: those that take exactly the arguments if any do,
    /// else every contender (which then needs its defaults); empty when none fits or the call would be ambiguous.
    /// </summary>
    private static List<IMethodSymbol> Best(CallSite site, ITypeSymbol lockType, string name, List<Argument> arguments)
    {
        var contenders = Contenders(site, lockType, name, arguments, out _);
        var exact = contenders.Where(c => c.Parameters.Length == arguments.Count).ToList();
        return exact.Count > 0 ? exact : contenders;
    }

    /// <summary>
    /// The overloads that take the arguments and between which C# would choose: the instance methods, else the extension
    /// methods; those in their normal form, if any. Empty, with <paramref name="problem"/> saying why, when none fits or
    /// the call would be ambiguous.
    /// </summary>
    private static List<IMethodSymbol> Contenders(CallSite site, ITypeSymbol lockType, string name, List<Argument> arguments, out string? problem)
    {
        problem = null;
        var instance = new List<IMethodSymbol>();
        var extension = new List<IMethodSymbol>();
        bool refReadonly = false;
        foreach (var symbol in site.Model.LookupSymbols(site.Position, lockType, name, includeReducedExtensionMethods: true))
        {
            if (symbol is IMethodSymbol { IsStatic: false } candidate &&
                (candidate.MethodKind == MethodKind.Ordinary || (candidate.MethodKind == MethodKind.ReducedExtension && InScopeOfGeneratedFile(candidate, site))))
            {
                // One obsolete as an error is there, but a call to it would not compile (CS0619).
                if (ObsoleteAsError(candidate) is null && Takes(site.Model.Compilation, candidate, arguments))
                {
                    (candidate.MethodKind == MethodKind.Ordinary ? instance : extension).Add(candidate);
                }
                else
                {
                    refReadonly |= candidate.Parameters.Any(static p => p.RefKind == RefKind.RefReadOnlyParameter);
                }
            }
        }

        // An applicable instance method hides every extension method.
        var fitting = instance.Count > 0 ? instance : extension;
        if (fitting.Count == 0)
        {
            problem = refReadonly ? ", taking its arguments by value or 'in' (not 'ref readonly': the wrapper passes values)" : null;
            return [];
        }

        // A call that fits an overload in its normal form beats one that needs an empty params array (C#'s tie-break).
        var normal = fitting.Where(c => !c.Parameters.Skip(arguments.Count).Any(static p => p.IsParams)).ToList();
        var contenders = normal.Count > 0 ? normal : fitting;

        // Overloads that all need a default (or an empty params array) for the arguments left out: no overload is better.
        if (contenders.Count > 1 && !contenders.Any(static c => c.IsGenericMethod) && !contenders.Any(c => c.Parameters.Length == arguments.Count))
        {
            problem = ", and one overload that fits (a call '" + name + "(" + string.Join(", ", arguments.Select(static a => a.Display)) + ")' is ambiguous between " +
                string.Join(" and ", contenders.Take(2).Select(static c => "'" + c.ToDisplayString(SymbolDisplayFormat.MinimallyQualifiedFormat) + "'")) + ")";
            return [];
        }

        return contenders;
    }

    /// <summary>
    /// An extension method the call would take but the generated file does not see (its class is in a namespace the
    /// file, which has no usings, neither is in nor is inside): LSM0044 says so instead of "no such method".
    /// </summary>
    private static (string Problem, string Fix) OutOfScope(CallSite site, ITypeSymbol lockType, string name, List<Argument> arguments)
    {
        foreach (var symbol in site.Model.LookupSymbols(site.Position, lockType, name, includeReducedExtensionMethods: true))
        {
            if (symbol is IMethodSymbol { MethodKind: MethodKind.ReducedExtension, ReducedFrom.ContainingType: { } holder } candidate &&
                !InScopeOfGeneratedFile(candidate, site) &&
                Takes(site.Model.Compilation, candidate, arguments))
            {
                string generated = site.Namespace is { IsGlobalNamespace: false } ns ? "namespace '" + ns.ToDisplayString() + "'" : "the global namespace";
                string where = site.Namespace is { IsGlobalNamespace: false } target ? "namespace '" + target.ToDisplayString() + "' or one enclosing it" : "the global namespace";
                return (
                    $" (the extension method '{holder.ToDisplayString()}.{name}' has it, but the generated code, in {generated} without usings, does not see namespace '{holder.ContainingNamespace.ToDisplayString()}')",
                    $"declare '{holder.Name}' in {where}, or ");
            }
        }

        return (string.Empty, string.Empty);
    }

    /// <summary>Whether an extension method's class is in the generated file's namespace or one enclosing it.</summary>
    private static bool InScopeOfGeneratedFile(IMethodSymbol extension, CallSite site)
    {
        var declared = extension.ReducedFrom?.ContainingType?.ContainingNamespace;
        for (var scope = site.Namespace; scope is not null; scope = scope.ContainingNamespace)
        {
            if (SymbolEqualityComparer.Default.Equals(scope, declared))
            {
                return true;
            }
        }

        return declared is { IsGlobalNamespace: true };
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
                : parameter.RefKind is RefKind.None or RefKind.In &&
                    compilation.ClassifyCommonConversion(argument.Type, parameter.Type).IsImplicit;
            if (!fits)
            {
                return false;
            }
        }

        return true;
    }

    private static bool Implements(ITypeSymbol type, INamedTypeSymbol @interface) =>
        SymbolEqualityComparer.Default.Equals(type, @interface) ||
        type.AllInterfaces.Any(i => SymbolEqualityComparer.Default.Equals(i, @interface));

    /// <summary>Whether <c>scope.Dispose()</c> compiles: a parameterless <c>Dispose</c> the call finds, or IDisposable on an interface type.</summary>
    private static bool HasDispose(CallSite site, ITypeSymbol type) =>
        Find(site, type, "Dispose", []) is not null ||
        (type.TypeKind == TypeKind.Interface && Implements(type, site.Model.Compilation.GetSpecialType(SpecialType.System_IDisposable)));

    private static bool HasIsAcquired(CallSite site, ITypeSymbol type)
    {
        foreach (var member in site.Model.LookupSymbols(site.Position, type, "IsAcquired"))
        {
            var memberType = member switch
            {
                IPropertySymbol { IsStatic: false, GetMethod: { } getter } property when site.Model.IsAccessible(site.Position, getter) => property.Type,
                IFieldSymbol { IsStatic: false } field => field.Type,
                _ => null,
            };
            if (memberType?.SpecialType == SpecialType.System_Boolean)
            {
                return true;
            }
        }

        return false;
    }
}
