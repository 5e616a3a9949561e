using System.Linq;
using Locksmith.Generators.Symbols;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Operations;

namespace Locksmith.Generators.Diagnostics.Analyzers.Support;

/// <summary>
/// Where advice that takes an async lock (<c>using var scope = await _lock.AcquireAsync();</c>) would have to go for an
/// access, and why no <c>await</c> can be written there: the innermost method, local function or lambda around it, a
/// lambda run inline (<see cref="InlineDelegates.RunOf"/>) counting as the code around it, whose holds it runs under.
/// </summary>
internal static class SynchronousCode
{
    /// <summary>
    /// Null where an <c>await</c> can be written for <paramref name="access"/> (async code, top-level statements); else
    /// what that code is and how the lock can be taken from there: "'Queue.Bump' is synchronous: make it async ('async
    /// Task' in place of 'void')", or, where it cannot be async, "the property accessor 'Queue.Total' cannot be async:
    /// use it in an async method instead". With <paramref name="atTheSite"/>, the await is to be written at the access
    /// itself (a <c>lock</c> statement replaced where it is), so a lambda run inline is code of its own, not the code around it.
    /// </summary>
    public static string? Where(IOperation access, ISymbol containingSymbol, bool atTheSite = false)
    {
        for (var parent = access.Parent; parent is not null; parent = parent.Parent)
        {
            if (parent is IAnonymousFunctionOperation lambda)
            {
                if (lambda.Symbol.IsAsync)
                {
                    return null;
                }

                if (!atTheSite && InlineDelegates.RunOf(lambda, out _) == DelegateRun.Inline)
                {
                    continue;
                }

                return $"the lambda in '{SymbolNames.Display(lambda.Symbol.ContainingSymbol)}' is synchronous: make it an async lambda (of a delegate type that returns a Task)";
            }

            if (parent is ILocalFunctionOperation local)
            {
                return local.Symbol.IsAsync ? null : Method(local.Symbol, $"the local function '{SymbolNames.Display(local.Symbol)}'");
            }
        }

        return containingSymbol switch
        {
            IMethodSymbol { IsAsync: true } => null,
            // The entry point of top-level statements (a name C# cannot declare), which becomes async where they await.
            IMethodSymbol { Name: WellKnownMemberNames.TopLevelStatementsEntryPointMethodName } => null,
            IMethodSymbol { MethodKind: MethodKind.PropertyGet or MethodKind.PropertySet, AssociatedSymbol: { } property } =>
                $"the property accessor '{SymbolNames.Display(property)}' cannot be async: {Elsewhere}",
            IMethodSymbol method => Method(method, $"'{SymbolNames.Display(method)}'"),
            _ => $"the initializer of '{SymbolNames.Display(containingSymbol)}' cannot be async: {Elsewhere}",
        };
    }

    private const string Elsewhere = "use it in an async method instead";

    /// <summary>
    /// For a <c>Parallel</c> loop whose bodies are synchronous delegates (<c>For</c>, <c>ForEach</c>, <c>Invoke</c>), which
    /// cannot await an async lock (an async lambda there would be <c>async void</c>, its runs not waited for), the loop
    /// whose bodies can: "'Parallel.ForAsync' with an async body". Null for <c>ForAsync</c>, <c>ForEachAsync</c>.
    /// </summary>
    public static string? AsyncLoopFor(IMethodSymbol loop) => loop.Name switch
    {
        "For" => "'Parallel.ForAsync' with an async body",
        "ForEach" => "'Parallel.ForEachAsync' with an async body",
        "Invoke" => "'Task.WhenAll' of async lambdas' tasks",
        _ => null,
    };

    private static string Method(IMethodSymbol method, string name)
    {
        if (method.MethodKind is not (MethodKind.Ordinary or MethodKind.LocalFunction or MethodKind.ExplicitInterfaceImplementation))
        {
            return $"{name} cannot be async: {Elsewhere}";
        }

        if (method.Parameters.Any(static p => p.RefKind != RefKind.None))
        {
            return $"{name} cannot be async (it has a ref or out parameter): {Elsewhere}";
        }

        if (method.ReturnsByRef || method.ReturnsByRefReadonly)
        {
            return $"{name} cannot be async (it returns by reference): {Elsewhere}";
        }

        if (method.Parameters.Any(static p => p.Type.IsRefLikeType))
        {
            return $"{name} cannot be async (a parameter of it is a ref struct): {Elsewhere}";
        }

        if (IsIterator(method))
        {
            return $"{name} is a synchronous iterator: make it an async iterator ('async IAsyncEnumerable<T>')";
        }

        if (IsTask(method.ReturnType))
        {
            return $"{name} is synchronous: make it async";
        }

        // Its return type would change: an override or an implementation of an interface keeps the one it was given.
        if (method.IsOverride || method.MethodKind == MethodKind.ExplicitInterfaceImplementation || ImplementsAnInterface(method))
        {
            return $"{name} cannot be async (its return type is that of the member it overrides or implements): {Elsewhere}";
        }

        string type = method.ReturnType.ToDisplayString(SymbolDisplayFormat.MinimallyQualifiedFormat);
        return method.ReturnsVoid
            ? $"{name} is synchronous: make it async ('async Task' in place of 'void')"
            : $"{name} is synchronous: make it async ('async Task<{type}>' in place of '{type}')";
    }

    // Task, Task<T>, ValueTask or ValueTask<T>: such a method only needs `async` (and its returns of tasks made values).
    private static bool IsTask(ITypeSymbol type) =>
        type is INamedTypeSymbol { Name: "Task" or "ValueTask", ContainingNamespace: { Name: "Tasks", ContainingNamespace: { Name: "Threading", ContainingNamespace: { Name: "System", ContainingNamespace.IsGlobalNamespace: true } } } };

    private static bool ImplementsAnInterface(IMethodSymbol method) =>
        method.ContainingType is { } type && type.AllInterfaces
            .SelectMany(static i => i.GetMembers())
            .Any(member => member is IMethodSymbol && SymbolEqualityComparer.Default.Equals(type.FindImplementationForInterfaceMember(member), method));

    // A method or local function whose own body (not a lambda's or local function's in it) has a yield statement.
    private static bool IsIterator(IMethodSymbol method) =>
        method.DeclaringSyntaxReferences
            .Select(static reference => reference.GetSyntax())
            .Select(static node => node switch
            {
                MethodDeclarationSyntax declaration => (SyntaxNode?)declaration.Body ?? declaration.ExpressionBody,
                LocalFunctionStatementSyntax local => (SyntaxNode?)local.Body ?? local.ExpressionBody,
                _ => null,
            })
            .Any(static body => body is not null && body
                .DescendantNodes(static n => n is not (AnonymousFunctionExpressionSyntax or LocalFunctionStatementSyntax))
                .Any(static n => n is YieldStatementSyntax));
}
