using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Text.RegularExpressions;
using Locksmith.Generators.Diagnostics;
using Microsoft.CodeAnalysis;

namespace Locksmith.Generators.Tests;

/// <summary>
/// The README's diagnostics table and <see cref="DiagnosticDescriptors"/> cannot drift apart: every ID once, the same
/// title and severity, and each descriptor's help link pointing to the anchor of its row.
/// </summary>
public sealed class ReadmeDiagnosticsTableTests
{
    private static readonly Regex s_row = new(
        @"^\| <a id=""(?<anchor>[^""]+)""></a>(?<id>LSM\d{4}) \| (?<severity>[a-z]+) \| (?<title>(?:[^|\\]|\\.)+) \| .+ \| .+ \|$",
        RegexOptions.CultureInvariant);

    [Fact]
    public void TableHasOneRowPerDescriptor_WithItsTitleSeverityAndHelpLinkAnchor()
    {
        var descriptors = Descriptors();
        var rows = Rows();

        Assert.Empty(descriptors.GroupBy(static d => d.Id).Where(static g => g.Count() > 1).Select(static g => g.Key));
        Assert.Empty(rows.GroupBy(static r => r.Id).Where(static g => g.Count() > 1).Select(static g => "twice in README: " + g.Key));
        Assert.Equal(
            descriptors.Select(static d => d.Id).Order(StringComparer.Ordinal),
            rows.Select(static r => r.Id).Order(StringComparer.Ordinal));

        foreach (var descriptor in descriptors)
        {
            var row = rows.Single(r => r.Id == descriptor.Id);
            Assert.Equal(descriptor.Title.ToString(System.Globalization.CultureInfo.InvariantCulture), row.Title);
            Assert.Equal(descriptor.DefaultSeverity.ToString().ToLowerInvariant(), row.Severity);
            Assert.Equal(descriptor.Id.ToLowerInvariant(), row.Anchor);
            Assert.Equal(DiagnosticDescriptors.HelpLinkBase + row.Anchor, descriptor.HelpLinkUri);
        }
    }

    [Fact]
    public void HelpLinksPointAtTheReadmeDiagnosticsTable()
    {
        Assert.EndsWith("/README.md#", DiagnosticDescriptors.HelpLinkBase, StringComparison.Ordinal);
        Assert.StartsWith("https://", DiagnosticDescriptors.HelpLinkBase, StringComparison.Ordinal);
        Assert.All(Descriptors(), static d => Assert.False(string.IsNullOrEmpty(d.HelpLinkUri), d.Id + " has no help link"));
    }

    private static List<DiagnosticDescriptor> Descriptors() =>
    [
        .. typeof(DiagnosticDescriptors).GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(static f => f.FieldType == typeof(DiagnosticDescriptor))
            .Select(static f => (DiagnosticDescriptor)f.GetValue(null)!),
    ];

    /// <summary>The rows of the table under "### Diagnostics"; a row that does not have the expected shape fails the test.</summary>
    private static List<(string Id, string Severity, string Title, string Anchor)> Rows()
    {
        string[] lines = File.ReadAllLines(ReadmePath());
        int start = Array.IndexOf(lines, "### Diagnostics");
        Assert.True(start >= 0, "README.md has no '### Diagnostics' section.");

        var rows = new List<(string, string, string, string)>();
        var malformed = new List<string>();
        for (int i = start + 1; i < lines.Length && !lines[i].StartsWith("#", StringComparison.Ordinal); i++)
        {
            string line = lines[i];
            if (!line.StartsWith("|", StringComparison.Ordinal) || line.StartsWith("| ID ", StringComparison.Ordinal) || line.StartsWith("| ---", StringComparison.Ordinal))
            {
                continue;
            }

            var match = s_row.Match(line);
            if (!match.Success)
            {
                malformed.Add(line);
                continue;
            }

            rows.Add((match.Groups["id"].Value, match.Groups["severity"].Value, match.Groups["title"].Value.Replace("\\|", "|"), match.Groups["anchor"].Value));
        }

        Assert.True(malformed.Count == 0, "Rows without the shape '| <a id=\"lsmNNNN\"></a>LSMNNNN | severity | title | message | fix |':\n" + string.Join("\n", malformed));
        return rows;
    }

    private static string ReadmePath() => Path.Combine(RepositoryPaths.Root, "README.md");
}
