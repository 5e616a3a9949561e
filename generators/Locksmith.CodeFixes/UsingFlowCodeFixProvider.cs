using System.Collections.Generic;
using System.Collections.Immutable;
using System.Composition;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Locksmith.CodeFixes.Support;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Editing;
using Microsoft.CodeAnalysis.Operations;

namespace Locksmith.CodeFixes;

/// <summary>
/// LSM0059: keeps the claim <c>AsyncLockFlow.Begin()</c> makes in a <c>using</c> declaration, which ends it where the
/// block ends. A dropped claim (<c>AsyncLockFlow.Begin();</c>, <c>_ = …;</c>) becomes <c>using var flow = …;</c> (a name
/// the member does not use yet); a local never disposed is declared with <c>using</c>; a local whose one
/// <c>flow.Dispose();</c> is the last statement of its block is declared with <c>using</c> and the Dispose dropped (it
/// would end the claim twice, which throws). Only for a statement of a block or of the top-level statements with no label
/// among them (CS8647, CS8648, CS8649), in C# 8 or later; nothing where the Dispose is elsewhere, since moving the end of
/// the claim to the end of the block would change what it covers.
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(UsingFlowCodeFixProvider))]
[Shared]
public sealed class UsingFlowCodeFixProvider : CodeFixProvider
{
    private const string DiagnosticId = "LSM0059";

    /// <inheritdoc/>
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create(DiagnosticId);

    /// <summary>Dropped claims of one member each need a name of their own: the fixes of a document are planned together.</summary>
    public override FixAllProvider GetFixAllProvider() => FixAllProvider.Create(FixAllAsync);

    /// <inheritdoc/>
    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        if (await DiagnosticSite.FindAsync(context).ConfigureAwait(false) is not var (root, model, span, _) ||
            Plan(root, model, span, new Dictionary<SyntaxNode, HashSet<string>>(), context.CancellationToken) is not { } edit)
        {
            return;
        }

        context.RegisterCodeFix(
            CodeAction.Create(edit.Title, token => ApplyAsync(context.Document, [edit], token), DiagnosticId),
            context.Diagnostics[0]);
    }

    private static async Task<Document?> FixAllAsync(FixAllContext context, Document document, ImmutableArray<Diagnostic> diagnostics)
    {
        var token = context.CancellationToken;
        var root = await document.GetSyntaxRootAsync(token).ConfigureAwait(false);
        var model = await document.GetSemanticModelAsync(token).ConfigureAwait(false);
        if (root is null || model is null)
        {
            return null;
        }

        var taken = new Dictionary<SyntaxNode, HashSet<string>>();
        var edits = diagnostics
            .OrderBy(static d => d.Location.SourceSpan.Start)
            .Select(d => Plan(root, model, d.Location.SourceSpan, taken, token))
            .OfType<Edit>()
            .ToList();
        return edits.Count == 0 ? null : await ApplyAsync(document, edits, token).ConfigureAwait(false);
    }

    private static async Task<Document> ApplyAsync(Document document, IReadOnlyList<Edit> edits, CancellationToken token)
    {
        var editor = await DocumentEditor.CreateAsync(document, token).ConfigureAwait(false);
        foreach (var edit in edits)
        {
            editor.ReplaceNode(edit.Statement, edit.Replacement);
            if (edit.Dispose is { } dispose)
            {
                editor.RemoveNode(dispose, SyntaxRemoveOptions.KeepNoTrivia);
            }
        }

        return editor.GetChangedDocument();
    }

    /// <summary>The edit for the claim at <paramref name="span"/>, or null where none fits.</summary>
    private static Edit? Plan(SyntaxNode root, SemanticModel model, Microsoft.CodeAnalysis.Text.TextSpan span, Dictionary<SyntaxNode, HashSet<string>> taken, CancellationToken token)
    {
        // The claim's call, or the whole '?.' it is made through (maker?.BeginFlow()), which is where LSM0059 reports it.
        var claim = root.FullSpan.Contains(span) ? root.FindNode(span, getInnermostNodeForTie: true) as ExpressionSyntax : null;
        if (claim is not (InvocationExpressionSyntax or ConditionalAccessExpressionSyntax) || claim.Span != span)
        {
            return null;
        }

        ExpressionSyntax value = claim;
        while (value.Parent is ParenthesizedExpressionSyntax or CastExpressionSyntax)
        {
            value = (ExpressionSyntax)value.Parent;
        }

        // Dropped: a statement of its own, or '_ = …;'.
        var dropped = value.Parent switch
        {
            ExpressionStatementSyntax statement => statement,
            AssignmentExpressionSyntax { Left: IdentifierNameSyntax { Identifier.ValueText: "_" } discard, Parent: ExpressionStatementSyntax statement } assignment
                when assignment.Right == value && model.GetSymbolInfo(discard, token).Symbol is null or IDiscardSymbol => statement,
            _ => null,
        };
        if (dropped is not null)
        {
            if (!CanDeclareUsing(dropped))
            {
                return null;
            }

            if (Resource(claim, value, model, token) is not { } resource)
            {
                return null;
            }

            string name = FreshName(dropped, taken);
            var declaration = SyntaxFactory.ParseStatement($"using var {name} = {resource.WithoutTrivia()};")
                .WithLeadingTrivia(dropped.GetLeadingTrivia())
                .WithTrailingTrivia(dropped.GetTrailingTrivia());
            return new Edit($"Keep the claim in 'using var {name}'", dropped, declaration, null);
        }

        if (value.Parent is not EqualsValueClauseSyntax { Parent: VariableDeclaratorSyntax { Parent: VariableDeclarationSyntax { Variables.Count: 1 } } declarator } ||
            declarator.Parent?.Parent is not LocalDeclarationStatementSyntax local ||
            local.UsingKeyword.IsKind(SyntaxKind.UsingKeyword) ||
            !CanDeclareUsing(local) ||
            model.GetDeclaredSymbol(declarator, token) is not ILocalSymbol symbol ||
            ScopeShapes.IsWrittenAgain(local, symbol, model, token))
        {
            return null;
        }

        var withUsing = local.WithoutLeadingTrivia().WithUsingKeyword(
            SyntaxFactory.Token(local.GetLeadingTrivia(), SyntaxKind.UsingKeyword, SyntaxFactory.TriviaList(SyntaxFactory.Space)));
        var disposes = Disposes(local, symbol, model, token);
        if (disposes.Count == 0)
        {
            return new Edit($"Declare '{symbol.Name}' with 'using'", local, withUsing, null);
        }

        // One Dispose, last in the declaration's block: 'using' ends the claim at the same place, and on every path.
        return disposes.Count == 1 && disposes[0].Parent is ExpressionStatementSyntax last && Siblings(local).LastOrDefault() == last
            ? new Edit($"Declare '{symbol.Name}' with 'using' and drop its Dispose()", local, withUsing, last)
            : null;
    }

    /// <summary>
    /// What the <c>using</c> declaration of a dropped claim holds: the claim with the parentheses and casts around it, or
    /// without them where a cast leaves a type a <c>using</c> cannot dispose (<c>_ = (object)AsyncLockFlow.Begin();</c>,
    /// CS1674); null where such a cast is a conversion of the user's, which dropping it would skip.
    /// </summary>
    private static ExpressionSyntax? Resource(ExpressionSyntax claim, ExpressionSyntax value, SemanticModel model, CancellationToken token)
    {
        if (value == claim ||
            model.GetTypeInfo(value, token).Type is not { } type ||
            model.Compilation.GetSpecialType(SpecialType.System_IDisposable) is not { TypeKind: TypeKind.Interface } disposable ||
            model.Compilation.ClassifyCommonConversion(type, disposable).IsImplicit)
        {
            return value;
        }

        return claim.Ancestors().TakeWhile(a => a != value.Parent).OfType<CastExpressionSyntax>()
            .All(cast => model.GetOperation(cast, token) is IConversionOperation { Conversion.IsUserDefined: false })
            ? claim
            : null;
    }

    /// <summary>The function that declares the local, or the top-level statements' file.</summary>
    private static SyntaxNode? Body(LocalDeclarationStatementSyntax declaration) =>
        ScopeShapes.EnclosingFunction(declaration) ?? declaration.FirstAncestorOrSelf<CompilationUnitSyntax>();

    /// <summary>The <c>local.Dispose()</c> calls on the local in the function that declares it.</summary>
    private static List<InvocationExpressionSyntax> Disposes(LocalDeclarationStatementSyntax declaration, ILocalSymbol local, SemanticModel model, CancellationToken token)
    {
        if (Body(declaration) is not { } body)
        {
            return [];
        }

        return [.. body.DescendantNodes().OfType<InvocationExpressionSyntax>().Where(call =>
            call is { ArgumentList.Arguments.Count: 0, Expression: MemberAccessExpressionSyntax { Name.Identifier.ValueText: "Dispose", Expression: IdentifierNameSyntax receiver } } &&
            receiver.Identifier.ValueText == local.Name &&
            SymbolEqualityComparer.Default.Equals(model.GetSymbolInfo(receiver, token).Symbol, local))];
    }

    /// <summary>
    /// Whether a <c>using</c> declaration can replace <paramref name="statement"/>: C# 8 or later, a statement of a block
    /// or of the top-level statements (not of a switch section, CS8647), with no label among them that a <c>goto</c> could
    /// jump over it to (CS8648, CS8649).
    /// </summary>
    private static bool CanDeclareUsing(StatementSyntax statement) =>
        statement.SyntaxTree.Options is CSharpParseOptions { LanguageVersion: >= LanguageVersion.CSharp8 } &&
        statement.Parent is BlockSyntax or GlobalStatementSyntax &&
        !Siblings(statement).Any(static s => s is LabeledStatementSyntax);

    /// <summary>The statements of the block (or the top-level statements) that <paramref name="statement"/> is one of.</summary>
    private static IEnumerable<StatementSyntax> Siblings(StatementSyntax statement) => statement.Parent switch
    {
        BlockSyntax block => block.Statements,
        GlobalStatementSyntax { Parent: CompilationUnitSyntax unit } => unit.Members.OfType<GlobalStatementSyntax>().Select(static g => g.Statement),
        _ => Enumerable.Empty<StatementSyntax>(),
    };

    /// <summary>
    /// <c>flow</c>, or <c>flow2</c>, <c>flow3</c>, … : the first name no identifier of the member (or of the top-level
    /// statements' file) spells, nor an earlier fix in it took, so it neither clashes with nor shadows anything there.
    /// </summary>
    private static string FreshName(StatementSyntax statement, Dictionary<SyntaxNode, HashSet<string>> taken)
    {
        SyntaxNode member = statement.FirstAncestorOrSelf<MemberDeclarationSyntax>(static m => m is not GlobalStatementSyntax) is { } declared
            ? declared
            : statement.SyntaxTree.GetRoot();
        if (!taken.TryGetValue(member, out var names))
        {
            names = [.. member.DescendantTokens().Where(static t => t.IsKind(SyntaxKind.IdentifierToken)).Select(static t => t.ValueText)];
            taken.Add(member, names);
        }

        string name = "flow";
        for (int i = 2; names.Contains(name); i++)
        {
            name = "flow" + i.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        names.Add(name);
        return name;
    }

    /// <summary>One fix: the statement replaced by a <c>using</c> declaration, and the Dispose it makes redundant, if any.</summary>
    private sealed class Edit(string title, StatementSyntax statement, StatementSyntax replacement, StatementSyntax? dispose)
    {
        public string Title { get; } = title;

        public StatementSyntax Statement { get; } = statement;

        public StatementSyntax Replacement { get; } = replacement;

        public StatementSyntax? Dispose { get; } = dispose;
    }
}
