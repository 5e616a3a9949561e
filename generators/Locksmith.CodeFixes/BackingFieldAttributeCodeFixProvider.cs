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
/// which would then be there twice (CS0579). On a record's positional parameter, the target becomes <c>property:</c>.
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
            list.Parent is not (PropertyDeclarationSyntax or ParameterSyntax) ||
            model.GetSymbolInfo(attribute, context.CancellationToken).Symbol?.ContainingType is not { } attributeType ||
            PropertyOf(list.Parent, model, context.CancellationToken) is not { } propertySymbol ||
            propertySymbol.GetAttributes().Any(a => SymbolEqualityComparer.Default.Equals(a.AttributeClass, attributeType)) ||
            // A directive inside the list (not the one above it) would need its lines kept as they are.
            list.DescendantTokens().Skip(1).Any(static t => t.ContainsDirectives))
        {
            return;
        }

        string name = attributeType.Name.EndsWith("Attribute", System.StringComparison.Ordinal)
            ? attributeType.Name.Substring(0, attributeType.Name.Length - "Attribute".Length)
            : attributeType.Name;
        context.RegisterCodeFix(
            CodeAction.Create(
                $"Move [{name}] to the property",
                _ => Task.FromResult(context.Document.WithSyntaxRoot(list.Parent is PropertyDeclarationSyntax property
                    ? root.ReplaceNode(property, Moved(property, list, attribute))
                    : root.ReplaceNode(list.Parent!, MovedToPropertyTarget((ParameterSyntax)list.Parent!, list, attribute)))),
                DiagnosticId + ".MoveToProperty"),
            diagnostic);
    }

    /// <summary>The property the attribute should be on: the declared one, or the one a record makes of its positional parameter.</summary>
    private static IPropertySymbol? PropertyOf(SyntaxNode declaration, SemanticModel model, System.Threading.CancellationToken cancellationToken)
    {
        if (declaration is PropertyDeclarationSyntax property)
        {
            return model.GetDeclaredSymbol(property, cancellationToken);
        }

        if (declaration is not ParameterSyntax { Parent: ParameterListSyntax { Parent: RecordDeclarationSyntax record } } parameter ||
            model.GetDeclaredSymbol(record, cancellationToken) is not { } type)
        {
            return null;
        }

        return type.GetMembers(parameter.Identifier.ValueText).OfType<IPropertySymbol>()
            .FirstOrDefault(p => p.DeclaringSyntaxReferences.Any(r => r.SyntaxTree == parameter.SyntaxTree && r.Span == parameter.Span));
    }

    /// <summary>
    /// A record's positional parameter: the attribute's target becomes <c>property:</c>, which reaches the property the
    /// compiler makes. Alone in its list, the list's target changes; beside others (which stay on the backing field), it
    /// gets a <c>[property: …]</c> list of its own before theirs, on the same line.
    /// </summary>
    private static ParameterSyntax MovedToPropertyTarget(ParameterSyntax parameter, AttributeListSyntax list, AttributeSyntax attribute)
    {
        var field = list.Target!.Identifier;
        var propertyKeyword = SyntaxFactory.Token(field.LeadingTrivia, SyntaxKind.PropertyKeyword, field.TrailingTrivia);
        if (list.Attributes.Count == 1)
        {
            return parameter.ReplaceNode(list, list.WithTarget(list.Target.WithIdentifier(propertyKeyword)));
        }

        // Its comments go with it: those before it (after the token before it) and after it into its own list, a line
        // comment after that list, ending its line; a comment after the comma that follows it stays with the next one.
        int position = list.Attributes.IndexOf(attribute);
        var before = position == 0 ? list.Target.ColonToken : list.Attributes.GetSeparator(position - 1);
        var commentsBefore = before.TrailingTrivia.Concat(attribute.GetLeadingTrivia()).Where(IsComment).ToList();
        var commentsAfter = attribute.GetTrailingTrivia().Where(IsComment).ToList();
        var others = WithCommentAfterCommaOnNext(list.Attributes, position);

        var rest = list.WithAttributes(others);
        if (position < list.Attributes.Count - 1 && commentsBefore.Count > 0)
        {
            // The token before it stays in the other list: without its comments, a line it ended still ending there.
            var left = before.TrailingTrivia.FirstOrDefault(static t => t.IsKind(SyntaxKind.EndOfLineTrivia)) is { RawKind: (int)SyntaxKind.EndOfLineTrivia } end
                ? SyntaxFactory.TriviaList(end)
                : SyntaxFactory.TriviaList(SyntaxFactory.Space);
            rest = position == 0
                ? rest.WithTarget(rest.Target!.WithColonToken(before.WithTrailingTrivia(left)))
                : rest.WithAttributes(others.ReplaceSeparator(others.GetSeparator(position - 1), before.WithTrailingTrivia(left)));
        }

        rest = rest.WithAttributes(rest.Attributes.RemoveAt(position)).WithLeadingTrivia();
        var lineComments = commentsBefore.Concat(commentsAfter).Where(static t => t.IsKind(SyntaxKind.SingleLineCommentTrivia)).ToList();
        var leading = parameter.GetLeadingTrivia();
        var close = lineComments.Count == 0
            ? SyntaxFactory.TriviaList(SyntaxFactory.Space)
            : SyntaxFactory.TriviaList(lineComments.SelectMany(static c => new[] { SyntaxFactory.Space, c }))
                .Add(parameter.SyntaxTree.GetRoot().DescendantTrivia().FirstOrDefault(static t => t.IsKind(SyntaxKind.EndOfLineTrivia)) is { RawKind: (int)SyntaxKind.EndOfLineTrivia } lineEnd ? lineEnd : SyntaxFactory.LineFeed)
                .AddRange(leading.Skip(leading.Count - leading.Reverse().TakeWhile(static t => t.IsKind(SyntaxKind.WhitespaceTrivia)).Count()));
        var own = SyntaxFactory.AttributeList(
            list.OpenBracketToken.WithTrailingTrivia(),
            SyntaxFactory.AttributeTargetSpecifier(propertyKeyword, list.Target.ColonToken.WithTrailingTrivia(SyntaxFactory.Space)),
            SyntaxFactory.SingletonSeparatedList(attribute.WithoutTrivia()
                .WithLeadingTrivia(commentsBefore.Where(static c => c.IsKind(SyntaxKind.MultiLineCommentTrivia)).SelectMany(static c => new[] { c, SyntaxFactory.Space }))
                .WithTrailingTrivia(commentsAfter.Where(static c => c.IsKind(SyntaxKind.MultiLineCommentTrivia)).SelectMany(static c => new[] { SyntaxFactory.Space, c }))),
            // Not elastic: the fix's formatting would take the space between the two lists away.
            SyntaxFactory.Token(SyntaxTriviaList.Empty, SyntaxKind.CloseBracketToken, close));
        int index = parameter.AttributeLists.IndexOf(list);
        return parameter.WithAttributeLists(parameter.AttributeLists.RemoveAt(index).Insert(index, rest).Insert(index, own));
    }

    private static PropertyDeclarationSyntax Moved(PropertyDeclarationSyntax property, AttributeListSyntax list, AttributeSyntax attribute)
    {
        var leading = list.GetLeadingTrivia();
        var indentation = SyntaxFactory.TriviaList(leading.Skip(leading.Count - leading.Reverse().TakeWhile(static t => t.IsKind(SyntaxKind.WhitespaceTrivia)).Count()));
        if (list.Attributes.Count == 1)
        {
            // The comments around the target go with the list's open bracket.
            var target = list.Target!;
            var (above, inside) = Comments(
                list.OpenBracketToken.TrailingTrivia
                    .Concat(target.Identifier.LeadingTrivia).Concat(target.Identifier.TrailingTrivia)
                    .Concat(target.ColonToken.LeadingTrivia).Concat(target.ColonToken.TrailingTrivia)
                    .Concat(attribute.GetLeadingTrivia()),
                indentation);
            return property.ReplaceNode(list, list
                .WithTarget(null)
                .WithOpenBracketToken(list.OpenBracketToken.WithLeadingTrivia(leading.AddRange(above)).WithTrailingTrivia(inside))
                .WithAttributes(SyntaxFactory.SingletonSeparatedList(attribute.WithLeadingTrivia())));
        }

        // The others stay on the backing field; this one goes into a list of its own, where the list was, on a line of
        // its own. The comments above the list go with the first list, the indentation with both; a comment just before
        // the attribute (after the comma or bracket before it, whose trailing trivia it is) stays in front of it, above
        // it when it is a line comment.
        int position = list.Attributes.IndexOf(attribute);
        var before = position == 0 ? (list.Target is { } listTarget ? listTarget.ColonToken : list.OpenBracketToken) : list.Attributes.GetSeparator(position - 1);
        var comments = before.TrailingTrivia.SkipWhile(static t => t.IsKind(SyntaxKind.WhitespaceTrivia));
        // Those comments leave the token before it, which stays in the other list when the attribute is not its last;
        // a line they ended still ends there.
        var left = comments.FirstOrDefault(static t => t.IsKind(SyntaxKind.EndOfLineTrivia)) is { } end && end.IsKind(SyntaxKind.EndOfLineTrivia)
            ? SyntaxFactory.TriviaList(end)
            : SyntaxFactory.TriviaList(before.TrailingTrivia.TakeWhile(static t => t.IsKind(SyntaxKind.WhitespaceTrivia)));
        var stripped = list.ReplaceToken(before, before.WithTrailingTrivia(left));
        var others = WithCommentAfterCommaOnNext(stripped.Attributes, position);
        var rest = stripped.WithAttributes(others.RemoveAt(position)).WithLeadingTrivia(indentation);
        var (commentsAbove, commentsInside) = Comments(comments.Concat(attribute.GetLeadingTrivia()), indentation);
        var after = attribute.GetTrailingTrivia().Where(static t => t.IsKind(SyntaxKind.MultiLineCommentTrivia))
            .SelectMany(static t => new[] { SyntaxFactory.Space, t });
        // A line comment after it ends the new list's line.
        var lineComments = attribute.GetTrailingTrivia().Where(static t => t.IsKind(SyntaxKind.SingleLineCommentTrivia))
            .SelectMany(static t => new[] { SyntaxFactory.Space, t });
        var own = SyntaxFactory.AttributeList(
            SyntaxFactory.Token(leading.AddRange(commentsAbove), SyntaxKind.OpenBracketToken, commentsInside),
            target: null,
            SyntaxFactory.SingletonSeparatedList(attribute.WithoutTrivia().WithTrailingTrivia(after)),
            SyntaxFactory.Token(SyntaxTriviaList.Empty, SyntaxKind.CloseBracketToken, SyntaxFactory.TriviaList(lineComments).Add(LineEnd(list))));
        int index = property.AttributeLists.IndexOf(list);
        var lists = property.AttributeLists.RemoveAt(index).Insert(index, rest).Insert(index, own);
        return property.WithAttributeLists(lists);
    }

    /// <summary>
    /// Comments that end up right after a list's open bracket: those up to the last line comment go above the list, at
    /// its indentation, each line of its own; the rest stay after the bracket. Runs of spaces become one.
    /// </summary>
    private static (SyntaxTriviaList Above, SyntaxTriviaList Inside) Comments(System.Collections.Generic.IEnumerable<SyntaxTrivia> trivia, SyntaxTriviaList indentation)
    {
        var items = trivia.SkipWhile(static t => t.IsKind(SyntaxKind.WhitespaceTrivia) || t.IsKind(SyntaxKind.EndOfLineTrivia)).ToList();
        int lastLine = items.FindLastIndex(static t => t.IsKind(SyntaxKind.EndOfLineTrivia));
        var above = SyntaxFactory.TriviaList();
        foreach (var item in items.Take(lastLine + 1))
        {
            if (item.IsKind(SyntaxKind.WhitespaceTrivia))
            {
                continue;
            }

            if (item.IsKind(SyntaxKind.EndOfLineTrivia))
            {
                // A blank line among them goes.
                if (above.Count > 0 && !above.Last().IsKind(SyntaxKind.EndOfLineTrivia))
                {
                    above = above.Add(item);
                }

                continue;
            }

            if (above.Count > 0)
            {
                above = above.Last().IsKind(SyntaxKind.EndOfLineTrivia) ? above.AddRange(indentation) : above.Add(SyntaxFactory.Space);
            }

            above = above.Add(item);
        }

        if (above.Count > 0)
        {
            above = above.AddRange(indentation);
        }

        var inside = SyntaxFactory.TriviaList();
        foreach (var item in items.Skip(lastLine + 1).SkipWhile(static t => t.IsKind(SyntaxKind.WhitespaceTrivia)))
        {
            if (!(item.IsKind(SyntaxKind.WhitespaceTrivia) && inside.Count > 0 && inside.Last().IsKind(SyntaxKind.WhitespaceTrivia)))
            {
                inside = inside.Add(item.IsKind(SyntaxKind.WhitespaceTrivia) ? SyntaxFactory.Space : item);
            }
        }

        return (above, inside);
    }

    /// <summary>
    /// The list with the comment after the comma that follows <paramref name="position"/> moved in front of the next
    /// attribute: the comma goes with the moved attribute, but that comment is the next one's (as the one before an
    /// attribute is its own).
    /// </summary>
    private static SeparatedSyntaxList<AttributeSyntax> WithCommentAfterCommaOnNext(SeparatedSyntaxList<AttributeSyntax> attributes, int position)
    {
        if (position >= attributes.Count - 1)
        {
            return attributes;
        }

        var carried = attributes.GetSeparator(position).TrailingTrivia.SkipWhile(static t => t.IsKind(SyntaxKind.WhitespaceTrivia)).ToList();
        if (!carried.Any(IsComment))
        {
            return attributes;
        }

        var next = attributes[position + 1];
        return attributes.Replace(next, next.WithLeadingTrivia(carried.Concat(next.GetLeadingTrivia())));
    }

    private static bool IsComment(SyntaxTrivia trivia) =>
        trivia.IsKind(SyntaxKind.SingleLineCommentTrivia) || trivia.IsKind(SyntaxKind.MultiLineCommentTrivia);

    /// <summary>The file's line end, as the line before the list ends.</summary>
    private static SyntaxTrivia LineEnd(AttributeListSyntax list) =>
        list.GetFirstToken().GetPreviousToken().TrailingTrivia.Concat(list.GetLeadingTrivia()).Concat(list.DescendantTrivia())
            .FirstOrDefault(static t => t.IsKind(SyntaxKind.EndOfLineTrivia)) is { RawKind: (int)SyntaxKind.EndOfLineTrivia } end
            ? end
            : SyntaxFactory.LineFeed;
}
