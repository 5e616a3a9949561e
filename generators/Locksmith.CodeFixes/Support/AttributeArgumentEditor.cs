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
                SyntaxFactory.IdentifierName(name).WithTrailingTrivia(SyntaxFactory.Space),
                SyntaxFactory.Token(SyntaxKind.EqualsToken).WithTrailingTrivia(SyntaxFactory.Space)),
            nameColon: null,
            SyntaxFactory.ParseExpression(expression));
        if (list is null || list.Arguments.Count == 0)
        {
            var empty = list ?? SyntaxFactory.AttributeArgumentList();
            return attribute.WithArgumentList(empty.WithArguments(SyntaxFactory.SingletonSeparatedList(argument)));
        }

        var nodes = new List<AttributeArgumentSyntax>(list.Arguments);
        var separators = new List<SyntaxToken>(list.Arguments.GetSeparators());
        var comma = SyntaxFactory.Token(SyntaxKind.CommaToken).WithTrailingTrivia(SyntaxFactory.Space);

        // After the positional arguments, which must come first.
        int index = first ? nodes.Count(static a => a.NameEquals is null && a.NameColon is null) : nodes.Count;
        if (index < nodes.Count)
        {
            // The new argument takes the place, and so the leading trivia, of the one it goes before.
            argument = argument.WithLeadingTrivia(nodes[index].GetLeadingTrivia());
            nodes[index] = nodes[index].WithoutLeadingTrivia();
            nodes.Insert(index, argument);
            separators.Insert(index, comma);
        }
        else
        {
            nodes.Add(argument);
            separators.Add(comma);
        }

        return attribute.WithArgumentList(list.WithArguments(SyntaxFactory.SeparatedList(nodes, separators)));
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
