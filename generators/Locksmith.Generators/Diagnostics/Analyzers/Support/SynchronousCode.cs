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
                return local.Symbol.IsAsync ? null : Method(local.Symbol, $"the local function '{SymbolNames.Display(local.Symbol)}'", access.SemanticModel);
            }
        }

        return containingSymbol switch
        {
            IMethodSymbol { IsAsync: true } => null,
            // The entry point of top-level statements (a name C# cannot declare), which becomes async where they await.
            IMethodSymbol { Name: WellKnownMemberNames.TopLevelStatementsEntryPointMethodName } => null,
            IMethodSymbol { MethodKind: MethodKind.PropertyGet or MethodKind.PropertySet, AssociatedSymbol: { } property } =>
                $"the property accessor '{SymbolNames.Display(property)}' cannot be async: {Elsewhere}",
            IMethodSymbol method => Method(method, $"'{SymbolNames.Display(method)}'", access.SemanticModel),
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

    private static string Method(IMethodSymbol method, string name, SemanticModel? model)
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

        // A task-returning method only needs `async` (and its returns of tasks made values).
        if (AsyncWrappers.IsTaskType(method.ReturnType, out _))
        {
            return $"{name} is synchronous: make it async";
        }

        // Its return type would change: an override or an implementation of an interface keeps the one it was given.
        if (method.IsOverride || method.MethodKind == MethodKind.ExplicitInterfaceImplementation || ImplementsAnInterface(method))
        {
            return $"{name} cannot be async (its return type is that of the member it overrides or implements): {Elsewhere}";
        }

        // A void method a delegate that returns void is made of keeps that void: 'async Task' would not convert to it.
        if (method.ReturnsVoid && AsADelegate(method, model) is { } target)
        {
            return $"{name} {target}: make it 'async void', the only async form that delegate allows, and let no exception escape it";
        }

        string type = method.ReturnType.ToDisplayString(SymbolDisplayFormat.MinimallyQualifiedFormat);
        return method.ReturnsVoid
            ? $"{name} is synchronous: make it async ('async Task' in place of 'void')"
            : $"{name} is synchronous: make it async ('async Task<{type}>' in place of '{type}')";
    }

    /// <summary>
    /// How a void method is a delegate's target, or null: given as a method group where it can be named (<c>button.Click +=
    /// OnClick;</c>, <c>Later(Tick)</c>, <c>other.Click += owner.OnClick</c> in a nested or sibling type), or shaped as an
    /// event handler (<c>(object sender, EventArgs e)</c>), which may be subscribed where it is not seen (markup, a designer).
    /// </summary>
    /// <remarks>
    /// Where it can be named: a private method (of a type private all the way out), only in its outermost type's
    /// declarations; any other, in every file of the compilation, each looked into only when a name token matches. Read
    /// only while a message with this advice is made.
    /// </remarks>
    private static string? AsADelegate(IMethodSymbol method, SemanticModel? model)
    {
        if (model is not null && method.ContainingType is { } type)
        {
            foreach (var place in PlacesNaming(method, type, model.Compilation))
            {
                if (!place.DescendantTokens().Any(token => token.ValueText == method.Name))
                {
                    continue;
                }

                var semantic = place.SyntaxTree == model.SyntaxTree ? model : model.Compilation.GetSemanticModel(place.SyntaxTree);
                foreach (var name in place.DescendantNodes().OfType<SimpleNameSyntax>())
                {
                    SyntaxNode group = name.Parent is MemberAccessExpressionSyntax member && member.Name == name ? member : name;
                    if (name.Identifier.ValueText == method.Name &&
                        semantic.GetOperation(group) is IMethodReferenceOperation { Parent: IDelegateCreationOperation } reference &&
                        SymbolEqualityComparer.Default.Equals(reference.Method.OriginalDefinition, method.OriginalDefinition))
                    {
                        return "is given as a delegate that returns void";
                    }
                }
            }
        }

        return method.Parameters.Length == 2 && method.Parameters[0].Type.SpecialType == SpecialType.System_Object && IsEventArgs(method.Parameters[1].Type)
            ? "is an event handler, whose delegate returns void"
            : null;
    }

    // The syntax where a method group of the method may be written: its outermost type's parts for a method only they can
    // name (private, in types private out to that one), else every file's root.
    private static System.Collections.Generic.IEnumerable<SyntaxNode> PlacesNaming(IMethodSymbol method, INamedTypeSymbol type, Compilation compilation)
    {
        bool onlyOutermost = method.DeclaredAccessibility == Accessibility.Private;
        var outermost = type;
        for (; outermost.ContainingType is { } outer; outermost = outer)
        {
            onlyOutermost |= outermost.DeclaredAccessibility == Accessibility.Private;
        }

        return onlyOutermost
            ? outermost.DeclaringSyntaxReferences.Select(static reference => reference.GetSyntax())
            : compilation.SyntaxTrees.Select(static tree => tree.GetRoot());
    }

    private static bool IsEventArgs(ITypeSymbol? type)
    {
        for (; type is not null; type = type.BaseType)
        {
            if (type is { Name: "EventArgs", ContainingNamespace: { Name: "System", ContainingNamespace.IsGlobalNamespace: true } })
            {
                return true;
            }
        }

        return false;
    }

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
