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
/// LSM0054 (<c>[field: LockOrder(5)]</c> or <c>[field: Guarded(…)]</c> on a property): moves the attribute to the
/// property. Alone in its list, the list loses its <c>field:</c> target; beside other attributes, which stay on the
/// backing field, it goes into a list of its own before them. Nothing when the property already has that attribute,
/// which would then be there twice (CS0579).
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(BackingFieldAttributeCodeFixProvider))]
[Shared]
public sealed class BackingFieldAttributeCodeFixProvider : CodeFixProvider
{
    private const string DiagnosticId = "LSM0054";

    /// <inheritdoc/>
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create(DiagnosticId);

    /// <summary>Each fix edits its own attribute list.</summary>
    public override FixAllProvider GetFixAllProvider() => WellKnownFixAllProviders.BatchFixer;

    /// <inheritdoc/>
    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        var diagnostic = context.Diagnostics[0];
        if (await DiagnosticSite.FindAsync(context).ConfigureAwait(false) is not var (root, model, span, node) ||
            node.FirstAncestorOrSelf<AttributeSyntax>() is not { } attribute ||
            attribute.Span != span ||
            attribute.Parent is not AttributeListSyntax { Target.Identifier.RawKind: (int)SyntaxKind.FieldKeyword } list ||
            list.Parent is not PropertyDeclarationSyntax property ||
            model.GetSymbolInfo(attribute, context.CancellationToken).Symbol?.ContainingType is not { } attributeType ||
            model.GetDeclaredSymbol(property, context.CancellationToken) is not { } propertySymbol ||
            propertySymbol.GetAttributes().Any(a => SymbolEqualityComparer.Default.Equals(a.AttributeClass, attributeType)))
        {
            return;
        }

        string name = attributeType.Name.EndsWith("Attribute", System.StringComparison.Ordinal)
            ? attributeType.Name.Substring(0, attributeType.Name.Length - "Attribute".Length)
            : attributeType.Name;
        context.RegisterCodeFix(
            CodeAction.Create(
                $"Move [{name}] to the property",
                _ => Task.FromResult(context.Document.WithSyntaxRoot(root.ReplaceNode(property, Moved(property, list, attribute)))),
                DiagnosticId + ".MoveToProperty"),
            diagnostic);
    }

    private static PropertyDeclarationSyntax Moved(PropertyDeclarationSyntax property, AttributeListSyntax list, AttributeSyntax attribute)
    {
        if (list.Attributes.Count == 1)
        {
            return property.ReplaceNode(list, list.WithTarget(null));
        }

        // The others stay on the backing field; this one goes into a list of its own, where the list was. The new
        // list's brackets carry elastic trivia, so the code action's formatting puts the lists on lines of their own.
        // The comments above the list go with the first list, the indentation with both; a comment just before the
        // attribute (after the comma or bracket before it, whose trailing trivia it is) stays in front of it.
        int position = list.Attributes.IndexOf(attribute);
        var before = position == 0 ? (list.Target is { } target ? target.ColonToken : list.OpenBracketToken) : list.Attributes.GetSeparator(position - 1);
        var comments = before.TrailingTrivia.SkipWhile(static t => t.IsKind(SyntaxKind.WhitespaceTrivia));
        var leading = list.GetLeadingTrivia();
        var indentation = leading.Skip(leading.Count - leading.Reverse().TakeWhile(static t => t.IsKind(SyntaxKind.WhitespaceTrivia)).Count());
        // Those comments leave the token before it, which stays in the other list when the attribute is not its last;
        // a line they ended still ends there.
        var left = comments.FirstOrDefault(static t => t.IsKind(SyntaxKind.EndOfLineTrivia)) is { } end && end.IsKind(SyntaxKind.EndOfLineTrivia)
            ? SyntaxFactory.TriviaList(end)
            : SyntaxFactory.TriviaList(before.TrailingTrivia.TakeWhile(static t => t.IsKind(SyntaxKind.WhitespaceTrivia)));
        var stripped = list.ReplaceToken(before, before.WithTrailingTrivia(left));
        var rest = stripped.WithAttributes(stripped.Attributes.RemoveAt(position)).WithLeadingTrivia(indentation);
        var own = SyntaxFactory.AttributeList(SyntaxFactory.SingletonSeparatedList(attribute.WithoutTrivia()))
            .WithOpenBracketToken(SyntaxFactory.Token(leading, SyntaxKind.OpenBracketToken, SyntaxFactory.TriviaList(comments)));
        int index = property.AttributeLists.IndexOf(list);
        var lists = property.AttributeLists.RemoveAt(index).Insert(index, rest).Insert(index, own);
        return property.WithAttributeLists(lists);
    }
}
