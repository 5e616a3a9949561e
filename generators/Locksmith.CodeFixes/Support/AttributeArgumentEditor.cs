using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Locksmith.CodeFixes.Support;

/// <summary>Sets named arguments of an attribute, keeping the trivia of what is there.</summary>
internal static class AttributeArgumentEditor
{
    /// <summary>
    /// <paramref name="attribute"/> with <c>name = expression</c>: the expression of an existing argument of that name
    /// replaced, or a new argument inserted first (<paramref name="first"/>) or last among the named ones.
    /// </summary>
    public static AttributeSyntax Set(AttributeSyntax attribute, string name, string expression, bool first)
    {
        var list = attribute.ArgumentList;
        var existing = list?.Arguments.FirstOrDefault(a => a.NameEquals?.Name.Identifier.ValueText == name);
        if (existing is not null)
        {
            return attribute.ReplaceNode(existing.Expression, SyntaxFactory.ParseExpression(expression).WithTriviaFrom(existing.Expression));
        }

        var argument = SyntaxFactory.AttributeArgument(
            SyntaxFactory.NameEquals(
                SyntaxFactory.IdentifierName(SyntaxFactory.Identifier(SyntaxTriviaList.Empty, name, SyntaxFactory.TriviaList(SyntaxFactory.Space))),
                Token(SyntaxKind.EqualsToken, SyntaxFactory.TriviaList(SyntaxFactory.Space))),
            nameColon: null,
            SyntaxFactory.ParseExpression(expression));
        if (list is null || list.Arguments.Count == 0)
        {
            if (list is null)
            {
                // A comment after the name ("[Guarded /* … */]") goes after the new parentheses.
                return attribute.WithName(attribute.Name.WithoutTrailingTrivia()).WithArgumentList(
                    SyntaxFactory.AttributeArgumentList(SyntaxFactory.SingletonSeparatedList(argument)).WithTrailingTrivia(attribute.Name.GetTrailingTrivia()));
            }

            return attribute.WithArgumentList(list.WithArguments(SyntaxFactory.SingletonSeparatedList(argument)));
        }

        var nodes = new List<AttributeArgumentSyntax>(list.Arguments);
        var separators = new List<SyntaxToken>(list.Arguments.GetSeparators());

        // After the positional arguments, which must come first.
        int index = first ? nodes.Count(static a => a.NameEquals is null && a.NameColon is null) : nodes.Count;

        // Arguments a line each (or aligned under the first) get the new one on a line of its own, indented as they
        // are: the formatter never breaks an argument list, so the trivia is copied from the neighbours, as Roslyn's
        // own Change Signature does. On one line, ", " does.
        var lineStarter = nodes.Skip(nodes.Count == 1 ? 0 : 1).FirstOrDefault(StartsLine);
        if (lineStarter is null)
        {
            var comma = Token(SyntaxKind.CommaToken, SyntaxFactory.TriviaList(SyntaxFactory.Space));
            if (index < nodes.Count)
            {
                // The new argument takes the whitespace before the one it goes before; a comment there (the trailing
                // trivia of the token before it) stays with its argument, after the new comma.
                var leading = nodes[index].GetLeadingTrivia();
                int spaces = leading.TakeWhile(static t => t.IsKind(SyntaxKind.WhitespaceTrivia)).Count();
                argument = argument.WithLeadingTrivia(leading.Take(spaces));
                nodes[index] = nodes[index].WithLeadingTrivia(leading.Skip(spaces));
                var before = index == 0 ? list.OpenParenToken : separators[index - 1];
                if (before.TrailingTrivia.Any(static t => t.IsKind(SyntaxKind.MultiLineCommentTrivia)) &&
                    !before.TrailingTrivia.Any(static t => t.IsKind(SyntaxKind.EndOfLineTrivia)))
                {
                    comma = comma.WithTrailingTrivia(before.TrailingTrivia[0].IsKind(SyntaxKind.WhitespaceTrivia)
                        ? before.TrailingTrivia
                        : before.TrailingTrivia.Insert(0, SyntaxFactory.Space));
                    if (index == 0)
                    {
                        list = list.WithOpenParenToken(before.WithTrailingTrivia());
                    }
                    else
                    {
                        separators[index - 1] = before.WithTrailingTrivia(SyntaxFactory.Space);
                    }
                }

                nodes.Insert(index, argument);
                separators.Insert(index, comma);
            }
            else
            {
                // A comment that ends the line after the last argument ends it still, after the new one.
                var last = nodes[nodes.Count - 1];
                if (last.GetTrailingTrivia().Any(static t => t.IsKind(SyntaxKind.EndOfLineTrivia)))
                {
                    argument = argument.WithTrailingTrivia(last.GetTrailingTrivia());
                    nodes[nodes.Count - 1] = last.WithoutTrailingTrivia();
                }

                nodes.Add(argument);
                separators.Add(comma);
            }

            return attribute.WithArgumentList(list.WithArguments(SyntaxFactory.SeparatedList(nodes, separators)));
        }

        var endOfLine = lineStarter.GetFirstToken().GetPreviousToken().TrailingTrivia.Last(static t => t.IsKind(SyntaxKind.EndOfLineTrivia));
        var newLineComma = Token(SyntaxKind.CommaToken, SyntaxFactory.TriviaList(endOfLine));
        if (index < nodes.Count)
        {
            if (StartsLine(nodes[index]))
            {
                argument = argument.WithLeadingTrivia(Indentation(nodes[index]));
            }
            else
            {
                // The first, on the line of the parenthesis: the new argument takes its place, it goes to a line of its own.
                argument = argument.WithLeadingTrivia(nodes[index].GetLeadingTrivia());
                nodes[index] = nodes[index].WithLeadingTrivia(Indentation(lineStarter));
            }

            nodes.Insert(index, argument);
            separators.Insert(index, newLineComma);
        }
        else
        {
            var last = nodes[nodes.Count - 1];
            argument = argument.WithLeadingTrivia(Indentation(StartsLine(last) ? last : lineStarter));
            var trailing = last.GetTrailingTrivia();
            if (trailing.Any(static t => t.IsKind(SyntaxKind.EndOfLineTrivia)))
            {
                // A comment (and the line end) after the last argument, the closing parenthesis on the next line: the
                // comma goes before the comment, which stays with its argument, and the new argument ends that line.
                nodes[nodes.Count - 1] = last.WithoutTrailingTrivia();
                newLineComma = newLineComma.WithTrailingTrivia(trailing);
                argument = argument.WithTrailingTrivia(endOfLine);
            }

            nodes.Add(argument);
            separators.Add(newLineComma);
        }

        return attribute.WithArgumentList(list.WithArguments(SyntaxFactory.SeparatedList(nodes, separators)));
    }

    /// <summary>
    /// A token without elastic trivia: around an elastic one the fix's formatting rewrites the line ends nearby with its
    /// own (LF by default), which mixes them into a CRLF file.
    /// </summary>
    private static SyntaxToken Token(SyntaxKind kind, SyntaxTriviaList trailing) =>
        SyntaxFactory.Token(SyntaxTriviaList.Empty, kind, trailing);

    /// <summary>Whether the argument is the first on its line: the token before it ends the line before.</summary>
    private static bool StartsLine(AttributeArgumentSyntax argument) =>
        argument.GetFirstToken().GetPreviousToken().TrailingTrivia.Any(static t => t.IsKind(SyntaxKind.EndOfLineTrivia));

    /// <summary>The whitespace in front of an argument that starts its line, after any comment lines above it.</summary>
    private static SyntaxTriviaList Indentation(AttributeArgumentSyntax argument)
    {
        var leading = argument.GetLeadingTrivia();
        int spaces = leading.Reverse().TakeWhile(static t => t.IsKind(SyntaxKind.WhitespaceTrivia)).Count();
        return SyntaxFactory.TriviaList(leading.Skip(leading.Count - spaces));
    }

    /// <summary><c>nameof(name)</c>, escaping a keyword (<c>nameof(@lock)</c>).</summary>
    public static string NameOf(string name) => "nameof(" + Identifier(name) + ")";

    /// <summary>
    /// How an attribute on a method names one of its parameters: <c>nameof(key)</c> from C# 11 on, which lets
    /// <c>nameof</c> see the parameters there; a string literal before it.
    /// </summary>
    public static string NameOfParameter(string name, SyntaxTree tree) =>
        tree.Options is CSharpParseOptions { LanguageVersion: >= LanguageVersion.CSharp11 }
            ? NameOf(name)
            : SymbolDisplay.FormatLiteral(name, quote: true);

    /// <summary>The identifier as source writes it: a reserved keyword gets <c>@</c>.</summary>
    public static string Identifier(string name) =>
        SyntaxFacts.GetKeywordKind(name) != SyntaxKind.None ? "@" + name : name;
}
