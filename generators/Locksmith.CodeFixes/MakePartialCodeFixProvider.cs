using System.Collections.Generic;
using System.Collections.Immutable;
using System.Composition;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Locksmith.CodeFixes;

/// <summary>
/// LSM0001 (type with guarded methods is not partial): adds <c>partial</c> to the type declaring the guarded method
/// and to every type containing it that lacks it. The generator reports one LSM0001 per such type, all on the method's
/// name; one fix covers them all.
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(MakePartialCodeFixProvider))]
[Shared]
public sealed class MakePartialCodeFixProvider : CodeFixProvider
{
    private const string DiagnosticId = "LSM0001";

    /// <inheritdoc/>
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create(DiagnosticId);

    /// <summary>
    /// Every guarded method of a type reports it, so the fixes of one document share types: they are applied together,
    /// each type made partial once, rather than merged as text.
    /// </summary>
    public override FixAllProvider GetFixAllProvider() => FixAllProvider.Create(FixAllAsync);

    /// <inheritdoc/>
    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        var root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        if (root is null)
        {
            return;
        }

        var types = TypesToMakePartial(root, context.Diagnostics[0]);
        if (types.Count == 0)
        {
            return;
        }

        var names = types.Select(static t => "'" + t.Identifier.ValueText + "'").ToList();
        string title = "Make " + (names.Count == 1 ? names[0] : string.Join(", ", names.Take(names.Count - 1)) + " and " + names[names.Count - 1]) + " partial";
        context.RegisterCodeFix(
            CodeAction.Create(title, token => Task.FromResult(context.Document.WithSyntaxRoot(MakePartial(root, types))), DiagnosticId),
            context.Diagnostics);
    }

    private static Task<Document?> FixAllAsync(FixAllContext context, Document document, ImmutableArray<Diagnostic> diagnostics) =>
        FixAllCoreAsync(document, diagnostics, context.CancellationToken);

    private static async Task<Document?> FixAllCoreAsync(Document document, ImmutableArray<Diagnostic> diagnostics, CancellationToken cancellationToken)
    {
        var root = await document.GetSyntaxRootAsync(cancellationToken).ConfigureAwait(false);
        if (root is null)
        {
            return null;
        }

        var types = diagnostics.SelectMany(d => TypesToMakePartial(root, d)).Distinct().ToList();
        return types.Count == 0 ? null : document.WithSyntaxRoot(MakePartial(root, types));
    }

    /// <summary>The declarations around the method the diagnostic names that are not partial, innermost first.</summary>
    private static List<TypeDeclarationSyntax> TypesToMakePartial(SyntaxNode root, Diagnostic diagnostic)
    {
        var span = diagnostic.Location.SourceSpan;
        if (!root.FullSpan.Contains(span) ||
            root.FindToken(span.Start).Parent?.FirstAncestorOrSelf<MethodDeclarationSyntax>() is not { } method ||
            method.Identifier.Span != span)
        {
            return [];
        }

        return [.. method.Ancestors().OfType<TypeDeclarationSyntax>().Where(static t => !t.Modifiers.Any(SyntaxKind.PartialKeyword))];
    }

    private static SyntaxNode MakePartial(SyntaxNode root, IReadOnlyCollection<TypeDeclarationSyntax> types) =>
        root.ReplaceNodes(types, static (_, rewritten) => AddPartial(rewritten));

    /// <summary>
    /// Adds <c>partial</c> last among the modifiers, where C# requires it (<c>public ref partial struct</c>); with no
    /// modifiers it takes the keyword's leading trivia (indentation, a doc comment) in front of it.
    /// </summary>
    private static TypeDeclarationSyntax AddPartial(TypeDeclarationSyntax type)
    {
        if (type.Modifiers.Count > 0)
        {
            return type.WithModifiers(type.Modifiers.Add(SyntaxFactory.Token(SyntaxKind.PartialKeyword).WithTrailingTrivia(SyntaxFactory.Space)));
        }

        var keyword = type.Keyword;
        var partial = SyntaxFactory.Token(keyword.LeadingTrivia, SyntaxKind.PartialKeyword, SyntaxFactory.TriviaList(SyntaxFactory.Space));
        return type.WithKeyword(keyword.WithLeadingTrivia(SyntaxFactory.TriviaList())).WithModifiers(SyntaxFactory.TokenList(partial));
    }
}
