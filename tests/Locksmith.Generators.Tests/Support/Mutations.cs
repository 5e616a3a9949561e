using System;
using System.Linq;
using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis.CSharp;

namespace Locksmith.Generators.Tests.Support;

/// <summary>Breaks valid sources the way half-typed code is broken: tokens deleted or inserted, braces lost, text cut, attribute arguments wrong.</summary>
internal static class Mutations
{
    private static readonly (string Pattern, string[] Replacements)[] s_attributeBreaks =
    [
        (@"nameof\(\w+\)", ["42", "typeof(int)", "null", "\"missing\"", "nameof(Missing)", "\"\"", "nameof(System)"]),
        (@"Lock = ", ["Lok = ", "Lock = 1 + ", "StripeBy = ", ""]),
        (@"Access = LockAccess\.\w+", ["Access = (LockAccess)7", "Access = \"Read\"", "Access = LockAccess.Missing"]),
        (@"TimeoutMilliseconds = -?\d+", ["TimeoutMilliseconds = \"soon\"", "TimeoutMilliseconds = -7", "TimeoutMilliseconds = int.MaxValue", "TimeoutMilliseconds = 1.5"]),
        (@"WrapperName = ""\w+""", ["WrapperName = \"1bad\"", "WrapperName = null", "WrapperName = \"Lock\"", "WrapperName = \"class\"", "WrapperName = 5"]),
        (@"Visibility = WrapperVisibility\.\w+", ["Visibility = (WrapperVisibility)42", "Visibility = WrapperVisibility.Protected", "Visibility = 1"]),
        (@"\[LockOrder\(\d+\)\]", ["[LockOrder(\"x\")]", "[LockOrder]", "[LockOrder(1, 2)]", "[LockOrder(10)][LockOrder(10)]"]),
        (@"\[Guarded\(", ["[Guarded(nameof(Guarded), ", "[Guarded(Lock: ", "[Guarded][Guarded(", "[AcquiresLocksOf(Lock = \"_lock\", "]),
        (@"StripeBy = nameof\(\w+\)", ["StripeBy = 3", "StripeBy = null", "StripeBy = \"nope\""]),
        (@"AcquiresLocksOf\(", ["AcquiresLocksOf(1, ", "AcquiresLocksOf(null, ", "AcquiresLocksOf(new string[0], "]),
        (@"\bprivate\b", ["public static", "protected", "private async", "private extern", "private abstract", "protected virtual", "protected abstract", "internal", "public override"]),
        (@"\bpublic\b", ["internal", "private", "protected", "public abstract", "file"]),
        (@"\bpartial\b", ["", "static partial", "file partial", "ref partial"]),
        (@"\bclass\b", ["interface", "struct", "record", "enum"]),
    ];

    private static readonly string[] s_insertions =
    [
        "partial", "static", "async", "ref", "[Guarded]", "[Guarded(Lock = nameof(_lock))]", "[LockOrder(1)]",
        "yield return 1;", "where T : class", "{", "}", "(", ")", ";", "unsafe", "readonly", "file", "<T>", "?", "await",
        "[AcquiresLocksOf(nameof(x))]", "[ReadMostly]", "this", "params", "out", "=>", "#if X", "///", "@",
    ];

    // Members named like a lock, a core or a wrapper, which C# lets hide or clash with what the wrappers use ({0} is the name).
    private static readonly string[] s_namedMembers =
    [
        "public void {0}() { }", "public new void {0}() { }", "public class {0} { }", "public new sealed class {0} { }",
        "public int {0};", "public int {0} { set { } }", "public event System.Action? {0};", "public static int {0}() => 0;",
        "public const int {0} = 1;", "public delegate void {0}();", "public enum {0} { A }", "public int {0}(int x) => x;",
        "public struct {0}<T> { }", "public static readonly object {0} = new();",
    ];

    public static string Apply(string source, Random random) => random.Next(7) switch
    {
        0 => DeleteToken(source, random),
        1 => DropBrace(source, random),
        2 => source.Substring(0, random.Next(source.Length)),
        3 => BreakAttribute(source, random),
        4 => Insert(source, random),
        5 => InsertNamedMember(source, random),
        _ => DeleteToken(BreakAttribute(source, random), random),
    };

    /// <summary>
    /// Adds, after a random opening brace, a member named like a lock (<c>nameof(x)</c>), a core (<c>XCore</c>) or its
    /// wrapper (<c>X</c>, <c>TryX</c>): valid C# where it hides a base member, a clash (CS0102) where it does not.
    /// </summary>
    private static string InsertNamedMember(string source, Random random)
    {
        var names = Regex.Matches(source, @"nameof\((\w+)\)").Select(static m => m.Groups[1].Value)
            .Concat(Regex.Matches(source, @"\b(\w+)Core(Async)?\b").SelectMany(static m => new[] { m.Groups[1].Value + "Core" + m.Groups[2].Value, m.Groups[1].Value + m.Groups[2].Value, "Try" + m.Groups[1].Value + m.Groups[2].Value }))
            .Distinct(StringComparer.Ordinal)
            .ToList();
        var braces = Enumerable.Range(0, source.Length).Where(i => source[i] == '{').ToList();
        if (names.Count == 0 || braces.Count == 0)
        {
            return Insert(source, random);
        }

        string member = s_namedMembers[random.Next(s_namedMembers.Length)].Replace("{0}", names[random.Next(names.Count)], StringComparison.Ordinal);
        return source.Insert(braces[random.Next(braces.Count)] + 1, " " + member + " ");
    }

    private static string DeleteToken(string source, Random random)
    {
        var tokens = CSharpSyntaxTree.ParseText(source).GetRoot().DescendantTokens().ToList();
        if (tokens.Count == 0)
        {
            return source;
        }

        var span = tokens[random.Next(tokens.Count)].Span;
        return source.Remove(span.Start, span.Length);
    }

    private static string DropBrace(string source, Random random)
    {
        var braces = Enumerable.Range(0, source.Length).Where(i => source[i] is '{' or '}' or '(' or ')' or '[' or ']').ToList();
        return braces.Count == 0 ? source : source.Remove(braces[random.Next(braces.Count)], 1);
    }

    private static string BreakAttribute(string source, Random random)
    {
        var applicable = s_attributeBreaks.Where(b => Regex.IsMatch(source, b.Pattern)).ToList();
        if (applicable.Count == 0)
        {
            return source;
        }

        var (pattern, replacements) = applicable[random.Next(applicable.Count)];
        var matches = Regex.Matches(source, pattern);
        var match = matches[random.Next(matches.Count)];
        return source.Remove(match.Index, match.Length).Insert(match.Index, replacements[random.Next(replacements.Length)]);
    }

    private static string Insert(string source, Random random)
    {
        var tokens = CSharpSyntaxTree.ParseText(source).GetRoot().DescendantTokens().ToList();
        int position = tokens.Count == 0 ? 0 : tokens[random.Next(tokens.Count)].SpanStart;
        return source.Insert(position, s_insertions[random.Next(s_insertions.Length)] + " ");
    }
}
