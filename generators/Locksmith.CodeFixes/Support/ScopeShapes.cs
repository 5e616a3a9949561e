using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Locksmith.CodeFixes.Support;

/// <summary>What a <c>using</c> can dispose, and the function a statement runs in.</summary>
internal static class ScopeShapes
{
    /// <summary>
    /// Whether a plain <c>using</c> disposes a value of the type: it implements <c>IDisposable</c>, or is a ref struct
    /// with a public parameterless <c>Dispose()</c> (the scopes of the synchronous locks).
    /// </summary>
    public static bool IsDisposable(ITypeSymbol type) =>
        // The interface itself too: a scope kept as 'IDisposable s = await _lock.AcquireAsync();'.
        IsSystemInterface(type, "IDisposable") || type.AllInterfaces.Any(static i => IsSystemInterface(i, "IDisposable")) ||
        (type.IsRefLikeType && type.GetMembers("Dispose").Any(static m =>
            m is IMethodSymbol { IsStatic: false, DeclaredAccessibility: Accessibility.Public, Parameters.Length: 0 }));

    /// <summary>Whether <c>await using</c> disposes a value of the type: it implements <c>IAsyncDisposable</c>.</summary>
    public static bool IsAsyncDisposable(ITypeSymbol type) =>
        IsSystemInterface(type, "IAsyncDisposable") || type.AllInterfaces.Any(static i => IsSystemInterface(i, "IAsyncDisposable"));

    private static bool IsSystemInterface(ITypeSymbol type, string name) =>
        type is { TypeKind: TypeKind.Interface, ContainingNamespace: { Name: "System", ContainingNamespace.IsGlobalNamespace: true } } && type.Name == name;

    /// <summary>The method, local function, lambda or accessor whose body holds <paramref name="node"/>, or null.</summary>
    public static SyntaxNode? EnclosingFunction(SyntaxNode node) =>
        node.Ancestors().FirstOrDefault(static a =>
            a is BaseMethodDeclarationSyntax or LocalFunctionStatementSyntax or AnonymousFunctionExpressionSyntax or AccessorDeclarationSyntax);

    /// <summary>
    /// Whether the local is assigned after its declaration or passed as <c>out</c> or <c>ref</c>: a <c>using</c> local
    /// cannot be (CS1656, CS1657), so declaring it with <c>using</c> would not compile.
    /// </summary>
    public static bool IsWrittenAgain(LocalDeclarationStatementSyntax declaration, ILocalSymbol local, SemanticModel model, CancellationToken cancellationToken) =>
        (EnclosingFunction(declaration) ?? declaration.FirstAncestorOrSelf<CompilationUnitSyntax>()) is { } body &&
        body.DescendantNodes().OfType<IdentifierNameSyntax>().Any(name =>
            name.Identifier.ValueText == local.Name &&
            name.Parent switch
            {
                AssignmentExpressionSyntax assignment => assignment.Left == name,
                ArgumentSyntax argument => !argument.RefKindKeyword.IsKind(SyntaxKind.None),
                RefExpressionSyntax => true,
                _ => false,
            } &&
            SymbolEqualityComparer.Default.Equals(model.GetSymbolInfo(name, cancellationToken).Symbol, local));

    /// <summary>
    /// Whether an <c>await</c> can go at <paramref name="node"/>: its function is <c>async</c>, and it is neither in the
    /// body of a <c>lock</c> of that function (CS1996) nor in an unsafe context (CS4004).
    /// </summary>
    public static bool CanAwaitAt(SyntaxNode node)
    {
        if (!IsInAsyncFunction(node))
        {
            return false;
        }

        var function = EnclosingFunction(node);
        bool inFunction = true;
        foreach (var ancestor in node.Ancestors())
        {
            inFunction &= ancestor != function;
            if ((inFunction && ancestor is LockStatementSyntax) ||
                ancestor is UnsafeStatementSyntax ||
                (ancestor is MemberDeclarationSyntax member && member.Modifiers.Any(SyntaxKind.UnsafeKeyword)) ||
                (ancestor is LocalFunctionStatementSyntax local && local.Modifiers.Any(SyntaxKind.UnsafeKeyword)))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// Whether the function around <paramref name="node"/> is declared <c>async</c>, or is top-level statements of
    /// which one awaits (they compile to an async <c>Main</c>).
    /// </summary>
    public static bool IsInAsyncFunction(SyntaxNode node) => EnclosingFunction(node) switch
    {
        MethodDeclarationSyntax method => method.Modifiers.Any(SyntaxKind.AsyncKeyword),
        LocalFunctionStatementSyntax local => local.Modifiers.Any(SyntaxKind.AsyncKeyword),
        AnonymousFunctionExpressionSyntax lambda => lambda.AsyncKeyword.IsKind(SyntaxKind.AsyncKeyword),
        null => IsInTopLevelStatements(node) && TopLevelAwaits(node),
        _ => false,
    };

    /// <summary>Whether <paramref name="node"/> is in top-level statements, outside their lambdas and local functions.</summary>
    public static bool IsInTopLevelStatements(SyntaxNode node) =>
        EnclosingFunction(node) is null && node.FirstAncestorOrSelf<GlobalStatementSyntax>() is not null;

    /// <summary>Whether the top-level statements of <paramref name="node"/>'s file await (outside lambdas and local functions).</summary>
    public static bool TopLevelAwaits(SyntaxNode node) =>
        node.FirstAncestorOrSelf<CompilationUnitSyntax>() is { } unit &&
        unit.Members.OfType<GlobalStatementSyntax>().Any(static global => AwaitsOrYields(global, yields: false));

    /// <summary>
    /// Whether <paramref name="node"/> holds an <c>await</c> (<c>await foreach</c>, <c>await using</c> included) or,
    /// with <paramref name="yields"/>, a <c>yield</c>, outside its lambdas and local functions.
    /// </summary>
    public static bool AwaitsOrYields(SyntaxNode node, bool yields) =>
        node.DescendantTokens(static n => n is not (LocalFunctionStatementSyntax or AnonymousFunctionExpressionSyntax))
            .Any(t => t.IsKind(SyntaxKind.AwaitKeyword) || (yields && t.IsKind(SyntaxKind.YieldKeyword)));

    /// <summary>
    /// Whether a ref struct value or a ref local of the function around <paramref name="statement"/> may be alive when it
    /// starts, so that an <c>await</c> there would keep it across (CS4007): the resource of a <c>using</c> around it, the
    /// enumerator of a <c>foreach</c> around it, a local declared before it and still in scope that a <c>using</c>
    /// disposes later or whose value may still be read from there on (in a loop around it, anywhere in the loop). One
    /// disposed or last read before it is not alive. In top-level statements, and in a function with a <c>goto</c>
    /// (whose jumps this does not follow), every such local in scope counts.
    /// </summary>
    public static bool RefLikeLiveAt(StatementSyntax statement, SemanticModel model, CancellationToken cancellationToken)
    {
        var function = EnclosingFunction(statement);
        foreach (var ancestor in statement.Ancestors())
        {
            if (ancestor == function)
            {
                break;
            }

            if ((ancestor is UsingStatementSyntax { Expression: { } resource } &&
                 model.GetTypeInfo(resource, cancellationToken).Type is { IsRefLikeType: true }) ||
                (ancestor is CommonForEachStatementSyntax forEach &&
                 model.GetForEachStatementInfo(forEach).GetEnumeratorMethod?.ReturnType is { IsRefLikeType: true }))
            {
                return true;
            }
        }

        var locals = model.LookupSymbols(statement.SpanStart).OfType<ILocalSymbol>().Where(local =>
            (local.IsRef || local.Type.IsRefLikeType) &&
            local.DeclaringSyntaxReferences.Any(reference =>
                reference.SyntaxTree == statement.SyntaxTree &&
                reference.Span.End <= statement.SpanStart &&
                EnclosingFunction(reference.GetSyntax(cancellationToken)) == function)).ToList();
        if (locals.Count == 0)
        {
            return false;
        }

        // A using local is disposed at the end of its scope, after the statement. Jumps of a goto could lead back to a
        // read before the statement, and top-level statements are not one list a region can span.
        if (function is null || locals.Any(static local => local.IsUsing) ||
            function.DescendantNodes().Any(static n => n is GotoStatementSyntax))
        {
            return true;
        }

        // From the statement to the end of its list, then from each statement around it to the end of that one's list: a
        // value from before the statement read in one of those regions is alive at the statement. A loop around it is
        // in its own region whole, so a read earlier in the loop (the next time round) counts too.
        foreach (var region in statement.AncestorsAndSelf().TakeWhile(n => n != function).OfType<StatementSyntax>())
        {
            if (region is ForStatementSyntax { Declaration: { } declaration } &&
                locals.Any(local => local.DeclaringSyntaxReferences.Any(r => declaration.Span.Contains(r.Span))))
            {
                // Its incrementors read it after the body, though they come first in the text.
                return true;
            }

            // A statement in no list (the body of an if, a loop, a clause) is in the region of the statement around it.
            var list = region.Parent switch
            {
                BlockSyntax block => block.Statements,
                SwitchSectionSyntax section => section.Statements,
                _ => default,
            };
            if (list.Count == 0)
            {
                continue;
            }

            var flow = model.AnalyzeDataFlow(region, list.Last());
            if (flow is null || !flow.Succeeded || locals.Any(local => flow.DataFlowsIn.Contains(local, SymbolEqualityComparer.Default)))
            {
                return true;
            }
        }

        return false;
    }
}
