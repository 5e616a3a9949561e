using System.Collections.Immutable;
using System.Composition;
using System.Linq;
using System.Threading.Tasks;
using Locksmith.CodeFixes.Support;
using Locksmith.Generators.Symbols;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Locksmith.CodeFixes;

/// <summary>
/// LSM0024 on a <c>lock</c> statement: rewrites <c>lock (x) { … }</c> to <c>using (x.Acquire()) { … }</c>, taking the
/// lock in the mode a <c>lock</c> means, exclusively: <c>Acquire()</c> for an exclusive or reentrant lock (and the
/// other <c>IExclusiveAccessLock</c>s), <c>AcquireWrite()</c> for a read-write lock, and in an <c>async</c> function
/// (or top-level statements that await) <c>await x.AcquireAsync()</c> (<c>AcquireWriteAsync()</c>) for an async lock.
/// Nothing for a keyed lock (which key?), an async lock outside an async function or where a ref struct value (a
/// synchronous lock's scope) may be alive, which the new <c>await</c> would have to keep (CS4007), or the
/// <c>Monitor</c> calls (whose Enter and Exit are apart).
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(LockStatementCodeFixProvider))]
[Shared]
public sealed class LockStatementCodeFixProvider : CodeFixProvider
{
    private const string DiagnosticId = "LSM0024";

    /// <inheritdoc/>
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create(DiagnosticId);

    /// <summary>Each fix rewrites the head of its own statement; nested statements' heads do not overlap.</summary>
    public override FixAllProvider GetFixAllProvider() => WellKnownFixAllProviders.BatchFixer;

    /// <inheritdoc/>
    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        var diagnostic = context.Diagnostics[0];
        if (await DiagnosticSite.FindAsync(context).ConfigureAwait(false) is not var (root, model, span, node) ||
            node is not ExpressionSyntax locked ||
            locked.Span != span ||
            locked.FirstAncestorOrSelf<LockStatementSyntax>() is not { } statement ||
            !statement.Expression.Span.Contains(span) ||
            model.GetTypeInfo(locked, context.CancellationToken).Type is not { } type)
        {
            return;
        }

        var capabilities = LockCapabilitiesReader.Of(type);
        bool isAsync = capabilities.IsAsync();
        if (!capabilities.IsLock() || (capabilities & LockCapabilities.Keyed) != 0 ||
            (isAsync && (!ScopeShapes.CanAwaitAt(statement) || ScopeShapes.RefLikeLiveAt(statement, model, context.CancellationToken))))
        {
            return;
        }

        string method = (capabilities & LockCapabilities.ReadWrite) != 0 ? "AcquireWrite" : "Acquire";
        if (isAsync)
        {
            method += "Async";
        }

        if (Acquisition(type, method, isAsync) is not { } scope || !ScopeShapes.IsDisposable(scope) ||
            (scope.IsRefLikeType && !RefScopeFits(statement)))
        {
            return;
        }

        var receiver = NeedsParentheses(locked) ? SyntaxFactory.ParenthesizedExpression(locked.WithoutTrivia()) : locked.WithoutTrivia();
        if (locked.Ancestors().TakeWhile(a => a != statement).Any(static a => a.IsKind(SyntaxKind.SuppressNullableWarningExpression)))
        {
            // The '!' around the lock goes with the cast or parentheses around it; without it, the call would warn (CS8602).
            // No '!' is added otherwise: on a maybe-null lock 'lock (x)' already warns CS8602, and the call keeps that warning.
            receiver = SyntaxFactory.PostfixUnaryExpression(SyntaxKind.SuppressNullableWarningExpression, receiver);
        }

        ExpressionSyntax acquire = SyntaxFactory.InvocationExpression(
            SyntaxFactory.MemberAccessExpression(SyntaxKind.SimpleMemberAccessExpression, receiver, SyntaxFactory.IdentifierName(method)));
        if (isAsync)
        {
            acquire = SyntaxFactory.AwaitExpression(SyntaxFactory.Token(SyntaxKind.AwaitKeyword).WithTrailingTrivia(SyntaxFactory.Space), acquire);
        }

        // What the fix drops around the lock (a cast, parentheses) may carry comments: they stay on their side of it, a
        // line comment still ending its line. The trivia of the lock expression itself stays where it is.
        var expression = statement.Expression;
        var dropped = expression.DescendantTokens()
            .SelectMany(static t => t.LeadingTrivia.Concat(t.TrailingTrivia))
            .Where(t => expression.Span.Contains(t.Span) && !locked.Span.Contains(t.Span))
            .ToList();
        if (dropped.Any(static t => t.IsDirective || t.IsKind(SyntaxKind.DisabledTextTrivia)))
        {
            return;
        }

        var droppedBefore = dropped.Where(t => t.SpanStart < locked.SpanStart).ToList();
        var droppedAfter = dropped.Where(t => t.SpanStart >= locked.Span.End).ToList();
        int first = droppedBefore.FindIndex(IsComment);
        int last = droppedAfter.FindLastIndex(IsComment);
        if (last >= 0 && droppedAfter[last].IsKind(SyntaxKind.SingleLineCommentTrivia))
        {
            // Its line end, and the next line's indentation.
            int lineEnd = droppedAfter.FindIndex(last, static t => t.IsKind(SyntaxKind.EndOfLineTrivia));
            last = lineEnd < 0 ? droppedAfter.Count - 1 : lineEnd;
            while (last + 1 < droppedAfter.Count && droppedAfter[last + 1].IsKind(SyntaxKind.WhitespaceTrivia))
            {
                last++;
            }
        }

        var before = expression.GetLeadingTrivia().AddRange(first < 0 ? [] : droppedBefore.Skip(first));
        var after = SyntaxFactory.TriviaList(droppedAfter.Take(last + 1)).AddRange(expression.GetTrailingTrivia());
        var rewritten = SyntaxFactory.UsingStatement(
            awaitKeyword: default,
            SyntaxFactory.Token(statement.LockKeyword.LeadingTrivia, SyntaxKind.UsingKeyword, statement.LockKeyword.TrailingTrivia),
            statement.OpenParenToken,
            declaration: null,
            acquire.WithLeadingTrivia(before).WithTrailingTrivia(after),
            statement.CloseParenToken,
            statement.Statement).WithAttributeLists(statement.AttributeLists);
        context.RegisterCodeFix(
            CodeAction.Create(
                $"Use 'using ({acquire})'",
                _ => Task.FromResult(context.Document.WithSyntaxRoot(root.ReplaceNode(statement, rewritten))),
                DiagnosticId + ".UsingAcquire"),
            diagnostic);
    }

    /// <summary>
    /// The scope type of the lock's acquisition <paramref name="name"/> callable without arguments (an async one's
    /// <c>ValueTask&lt;S&gt;</c> or <c>Task&lt;S&gt;</c> unwrapped), or null when the type has none.
    /// </summary>
    private static ITypeSymbol? Acquisition(ITypeSymbol type, string name, bool isAsync)
    {
        for (var current = type; current is not null; current = current.BaseType)
        {
            foreach (var member in current.GetMembers(name))
            {
                if (member is not IMethodSymbol { IsStatic: false, DeclaredAccessibility: Accessibility.Public, IsGenericMethod: false } method ||
                    !method.Parameters.All(static p => p.IsOptional))
                {
                    continue;
                }

                if (!isAsync)
                {
                    return method.ReturnType;
                }

                return method.ReturnType is INamedTypeSymbol { MetadataName: "ValueTask`1" or "Task`1", ContainingNamespace: { Name: "Tasks" } } task
                    ? task.TypeArguments[0]
                    : null;
            }
        }

        return null;
    }

    /// <summary>
    /// Whether a ref struct scope may be a <c>using</c> resource here: not in an iterator, where it would live across a
    /// <c>yield</c>, and in an async function only from C# 13 on (before it, no ref struct local there at all). Top-level
    /// statements are an async function when any of them awaits.
    /// </summary>
    private static bool RefScopeFits(LockStatementSyntax statement)
    {
        bool csharp13 = statement.SyntaxTree.Options is CSharpParseOptions { LanguageVersion: >= LanguageVersion.CSharp13 };
        var function = ScopeShapes.EnclosingFunction(statement);
        if (function is null)
        {
            return csharp13 || !ScopeShapes.TopLevelAwaits(statement);
        }

        bool iterator = function.DescendantNodes(static n => n is not (LocalFunctionStatementSyntax or AnonymousFunctionExpressionSyntax))
            .Any(static n => n is YieldStatementSyntax);
        if (iterator)
        {
            return false;
        }

        return !ScopeShapes.IsInAsyncFunction(statement) || csharp13;
    }

    private static bool IsComment(SyntaxTrivia trivia) =>
        trivia.IsKind(SyntaxKind.SingleLineCommentTrivia) || trivia.IsKind(SyntaxKind.MultiLineCommentTrivia);

    /// <summary>Whether <c>expression.Acquire()</c> would bind otherwise than to the whole expression (<c>a ?? b</c>, <c>(T)x</c>, <c>a?.b</c>).</summary>
    private static bool NeedsParentheses(ExpressionSyntax expression) =>
        expression is not (IdentifierNameSyntax or GenericNameSyntax or MemberAccessExpressionSyntax or ElementAccessExpressionSyntax or
            InvocationExpressionSyntax or ThisExpressionSyntax or BaseExpressionSyntax or ParenthesizedExpressionSyntax or PostfixUnaryExpressionSyntax { RawKind: (int)SyntaxKind.SuppressNullableWarningExpression });
}
