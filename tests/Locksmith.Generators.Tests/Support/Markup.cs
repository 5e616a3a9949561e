using System.Collections.Generic;
using System.Linq;
using System.Text;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace Locksmith.Generators.Tests.Support;

/// <summary>
/// Sources with expected diagnostics marked in place, as the Roslyn testing libraries do:
/// <c>{|LSM0001:text|}</c> expects diagnostic LSM0001 on exactly <c>text</c>.
/// </summary>
internal static class Markup
{
    public static (string Source, List<(string Id, TextSpan Span)> Expected) Parse(string markup)
    {
        var source = new StringBuilder();
        var expected = new List<(string Id, TextSpan Span)>();
        var open = new Stack<(string Id, int Start)>();
        for (int i = 0; i < markup.Length; i++)
        {
            if (markup[i] == '{' && i + 1 < markup.Length && markup[i + 1] == '|')
            {
                int colon = markup.IndexOf(':', i);
                open.Push((markup.Substring(i + 2, colon - i - 2), source.Length));
                i = colon;
            }
            else if (markup[i] == '|' && i + 1 < markup.Length && markup[i + 1] == '}' && open.Count > 0)
            {
                var (id, start) = open.Pop();
                expected.Add((id, TextSpan.FromBounds(start, source.Length)));
                i++;
            }
            else
            {
                source.Append(markup[i]);
            }
        }

        return (source.ToString(), expected);
    }

    /// <summary>
    /// Runs the generator and analyzers on the marked-up source and asserts that the Locksmith diagnostics in it are
    /// exactly the marked ones; returns the run for further checks. <paramref name="references"/> adds assemblies the
    /// test compilation lacks (Locksmith.Postgres).
    /// </summary>
    public static GeneratorRun AssertDiagnostics(string markup, params MetadataReference[] references)
    {
        var (source, expected) = Parse(markup);
        var run = GeneratorHarness.Run(TestCompilation.Create(source).AddReferences(references));
        var actual = run.LocksmithDiagnostics
            .Where(static d => d.Location.GetLineSpan().Path == "Source0.cs")
            .Select(static d => (d.Id, d.Location.SourceSpan))
            .OrderBy(static d => d.SourceSpan.Start).ThenBy(static d => d.Id)
            .ToList();
        var wanted = expected.OrderBy(static d => d.Span.Start).ThenBy(static d => d.Id).ToList();
        Assert.True(
            wanted.SequenceEqual(actual),
            "Expected:\n" + Describe(source, wanted) + "Actual:\n" + Describe(source, actual) +
            "Messages:\n" + Snapshot.Render(run.LocksmithDiagnostics));
        return run;
    }

    private static string Describe(string source, IEnumerable<(string Id, TextSpan Span)> diagnostics) =>
        string.Concat(diagnostics.Select(d => $"  {d.Id} at {d.Span}: '{source.Substring(d.Span.Start, d.Span.Length)}'\n"));
}
