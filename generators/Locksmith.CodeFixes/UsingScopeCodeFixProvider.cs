using System.Collections.Generic;
using System.Collections.Immutable;
using System.Composition;
using System.Linq;
using System.Threading.Tasks;
using Locksmith.CodeFixes.Support;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Locksmith.CodeFixes;

/// <summary>
/// LSM0053 on a scope kept in a local: turns <c>var scope = x.Acquire();</c> (or <c>= await x.AcquireAsync();</c>)
/// into <c>using var scope = …;</c>, which disposes it, releasing the lock, where the block ends. Offered where the
/// local's type is or implements <c>IDisposable</c> (every Locksmith scope does, <c>AsyncLockScope</c> included, whose
/// <c>DisposeAsync</c> only calls <c>Dispose</c>), and not for a ref struct scope that an <c>await</c> or <c>yield</c>
/// after it in its block would outlive; in an <c>async</c> function (or top-level statements that await),
/// <c>await using var</c> besides where its type is or implements <c>IAsyncDisposable</c> (a PostgreSQL scope releases
/// without blocking that way; a local typed <c>IAsyncDisposable</c> gets only this one). Only for a declaration of one local that is a statement of a block or of the top-level
/// statements; nothing for a discarded scope or an <c>out</c> one, which have no declaration to change, nor for a local
/// assigned again or passed as <c>out</c> or <c>ref</c>, which a <c>using</c> local cannot be (CS1656, CS1657).
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(UsingScopeCodeFixProvider))]
[Shared]
public sealed class UsingScopeCodeFixProvider : CodeFixProvider
{
    private const string DiagnosticId = "LSM0053";

    /// <inheritdoc/>
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create(DiagnosticId);

    /// <summary>Each fix changes the head of its own declaration.</summary>
    public override FixAllProvider GetFixAllProvider() => WellKnownFixAllProviders.BatchFixer;

    /// <inheritdoc/>
    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        var diagnostic = context.Diagnostics[0];
        if (await DiagnosticSite.FindAsync(context).ConfigureAwait(false) is not var (root, model, span, node) ||
            node is not InvocationExpressionSyntax invocation ||
            invocation.Span != span ||
            Declaration(invocation) is not { } statement ||
            model.GetDeclaredSymbol(statement.Declaration.Variables[0], context.CancellationToken) is not ILocalSymbol { Type: { } type } local ||
            // LSM0053 counts a scope written over ('scope = default;') as never released, but a using local cannot be (CS1656).
            ScopeShapes.IsWrittenAgain(statement, local, model, context.CancellationToken))
        {
            return;
        }

        // A ref struct scope with 'using' lives to the end of its block: across an await or yield after it, which the
        // compiler refuses (CS4007) where, undisposed, the scope was dead by then.
        if (ScopeShapes.IsDisposable(type) && !(type.IsRefLikeType && StatementsAfter(statement).Any(static s => ScopeShapes.AwaitsOrYields(s, yields: true))))
        {
            context.RegisterCodeFix(
                CodeAction.Create(
                    $"Declare '{local.Name}' with 'using'",
                    _ => Task.FromResult(context.Document.WithSyntaxRoot(root.ReplaceNode(statement, WithUsing(statement, awaited: false)))),
                    DiagnosticId + ".Using"),
                diagnostic);
        }

        if (ScopeShapes.IsAsyncDisposable(type) && !type.IsRefLikeType && ScopeShapes.CanAwaitAt(statement))
        {
            context.RegisterCodeFix(
                CodeAction.Create(
                    $"Declare '{local.Name}' with 'await using'",
                    _ => Task.FromResult(context.Document.WithSyntaxRoot(root.ReplaceNode(statement, WithUsing(statement, awaited: true)))),
                    DiagnosticId + ".AwaitUsing"),
                diagnostic);
        }
    }

    /// <summary>
    /// The declaration statement whose one local the acquisition (through <c>await</c>, <c>ConfigureAwait</c>,
    /// parentheses or casts) initializes, when a <c>using</c> can go on it: a statement of a block or of the top-level
    /// statements (not of a switch section, CS8647) with no label among them, before it or after it, that a <c>goto</c>
    /// could jump over it to (CS8648, CS8649).
    /// </summary>
    private static LocalDeclarationStatementSyntax? Declaration(InvocationExpressionSyntax invocation)
    {
        SyntaxNode node = invocation;
        while (node.Parent is AwaitExpressionSyntax or ParenthesizedExpressionSyntax or CastExpressionSyntax ||
               (node.Parent is MemberAccessExpressionSyntax { Name.Identifier.ValueText: "ConfigureAwait" } access && access.Expression == node &&
                access.Parent is InvocationExpressionSyntax))
        {
            node = node.Parent is MemberAccessExpressionSyntax ? node.Parent.Parent! : node.Parent;
        }

        if (node.Parent is not EqualsValueClauseSyntax { Parent: VariableDeclaratorSyntax { Parent: VariableDeclarationSyntax { Variables.Count: 1 } declaration } } ||
            declaration.Parent is not LocalDeclarationStatementSyntax statement ||
            statement.UsingKeyword.IsKind(SyntaxKind.UsingKeyword) ||
            statement.IsConst ||
            statement.Parent is not (BlockSyntax or GlobalStatementSyntax))
        {
            return null;
        }

        return Siblings(statement).Any(static s => s is LabeledStatementSyntax) ? null : statement;
    }

    /// <summary>The statements of the block (or the top-level statements) that <paramref name="statement"/> is one of.</summary>
    private static IEnumerable<StatementSyntax> Siblings(StatementSyntax statement) => statement.Parent switch
    {
        BlockSyntax block => block.Statements,
        GlobalStatementSyntax { Parent: CompilationUnitSyntax unit } => unit.Members.OfType<GlobalStatementSyntax>().Select(static g => g.Statement),
        _ => Enumerable.Empty<StatementSyntax>(),
    };

    /// <summary>The statements after <paramref name="statement"/> in its block (or top-level statements), to its end.</summary>
    private static IEnumerable<StatementSyntax> StatementsAfter(StatementSyntax statement) =>
        Siblings(statement).SkipWhile(s => s != statement).Skip(1);

    /// <summary>The statement with <c>using</c> (<c>await using</c>) in front, where its leading trivia was.</summary>
    private static LocalDeclarationStatementSyntax WithUsing(LocalDeclarationStatementSyntax statement, bool awaited)
    {
        var leading = statement.GetLeadingTrivia();
        var stripped = statement.WithoutLeadingTrivia();
        if (!awaited)
        {
            return stripped.WithUsingKeyword(SyntaxFactory.Token(leading, SyntaxKind.UsingKeyword, SyntaxFactory.TriviaList(SyntaxFactory.Space)));
        }

        return stripped
            .WithAwaitKeyword(SyntaxFactory.Token(leading, SyntaxKind.AwaitKeyword, SyntaxFactory.TriviaList(SyntaxFactory.Space)))
            .WithUsingKeyword(SyntaxFactory.Token(SyntaxKind.UsingKeyword).WithTrailingTrivia(SyntaxFactory.Space));
    }
}
