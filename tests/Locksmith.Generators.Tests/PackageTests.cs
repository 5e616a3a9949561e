using System;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using Locksmith.Generators.Tests.Support;

namespace Locksmith.Generators.Tests;

/// <summary>
/// The package users get: <c>dotnet pack src/Locksmith</c> yields one package carrying the runtime, the generator and
/// analyzers, its own README (PACKAGE.md) and the license, plus a symbol package; a consumer outside the repository that restores it
/// from a local folder gets working wrappers and the analyzers' warnings.
/// </summary>
public sealed class PackageTests(PackedConsumer packed) : IClassFixture<PackedConsumer>
{
    [Fact]
    public void Package_CarriesTheRuntimeAndTheGeneratorAsAnAnalyzer_WithItsCodeFixes()
    {
        var entries = Entries(packed.PackagePath);

        Assert.Contains("lib/net10.0/Locksmith.dll", entries);
        Assert.Contains("lib/net10.0/Locksmith.xml", entries);
        Assert.Contains("analyzers/dotnet/cs/Locksmith.Generators.dll", entries);
        // The IDE's code fixes, beside the analyzers whose diagnostics they fix (the compiler does not load them).
        Assert.Contains("analyzers/dotnet/cs/Locksmith.CodeFixes.dll", entries);
        // An analyzer only: the consumer's code never references the generator assembly, nor the code fixes.
        Assert.DoesNotContain(entries, static e => e.StartsWith("lib/", StringComparison.Ordinal) &&
            (e.Contains("Generators", StringComparison.Ordinal) || e.Contains("CodeFixes", StringComparison.Ordinal)));
    }

    // README's Install tells a user what one reference brings; a file packed but missing from its table (the code fixes
    // were) is one the user cannot know they have.
    [Fact]
    public void ReadmePackageTable_NamesEveryAssemblyAndDocFileOfThePackage()
    {
        string readme = File.ReadAllText(Path.Combine(packed.RepositoryRoot, "README.md"));
        int start = readme.IndexOf("What the package holds", StringComparison.Ordinal);
        Assert.True(start >= 0, "README has no 'What the package holds' table");
        int end = readme.IndexOf("\n\n", readme.IndexOf("| --- |", start, StringComparison.Ordinal), StringComparison.Ordinal);
        string table = readme[start..end];

        var shipped = Entries(packed.PackagePath)
            .Where(static e => e.StartsWith("lib/", StringComparison.Ordinal) || e.StartsWith("analyzers/", StringComparison.Ordinal))
            .ToArray();
        Assert.NotEmpty(shipped);
        Assert.All(shipped, entry => Assert.True(
            table.Contains("`" + Path.GetFileName(entry) + "`", StringComparison.Ordinal) ||
            table.Contains("/" + Path.GetFileName(entry) + "`", StringComparison.Ordinal),
            $"README's package table does not name {entry}"));
    }

    // nuget.org shows the package's readme on its page: the package's own short PACKAGE.md (PackageReadmeTests checks its
    // content, ReadmeSnippetTests compiles its examples), not the repository's README.md of over 300 KB.
    [Fact]
    public void Package_CarriesItsOwnReadme_TheLicenseAndTheRepository()
    {
        using var package = ZipFile.OpenRead(packed.PackagePath);
        var readme = package.GetEntry("PACKAGE.md");
        Assert.NotNull(readme);
        using (var reader = new StreamReader(readme.Open()))
        {
            Assert.Equal(File.ReadAllText(Path.Combine(packed.RepositoryRoot, "src", "Locksmith", "PACKAGE.md")), reader.ReadToEnd());
        }

        Assert.Null(package.GetEntry("README.md"));

        var nuspecEntry = Assert.Single(package.Entries, static e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal));
        XElement metadata;
        using (var stream = nuspecEntry.Open())
        {
            metadata = XDocument.Load(stream).Root!.Elements().Single(static e => e.Name.LocalName == "metadata");
        }

        string? Value(string name) => metadata.Elements().SingleOrDefault(e => e.Name.LocalName == name)?.Value;
        Assert.Equal(PackedConsumer.PackageId, Value("id"));
        Assert.Equal(PackedConsumer.Version, Value("version"));
        Assert.Equal("PACKAGE.md", Value("readme"));

        var license = metadata.Elements().Single(static e => e.Name.LocalName == "license");
        Assert.Equal("expression", (string?)license.Attribute("type"));
        Assert.Equal("MIT", license.Value);

        var repository = metadata.Elements().Single(static e => e.Name.LocalName == "repository");
        Assert.Equal("git", (string?)repository.Attribute("type"));
        Assert.StartsWith("https://", (string?)repository.Attribute("url"), StringComparison.Ordinal);
        Assert.StartsWith("https://", Value("projectUrl"), StringComparison.Ordinal);
        Assert.False(string.IsNullOrWhiteSpace(Value("description")));
        Assert.Contains("concurrency", Value("tags") ?? "", StringComparison.Ordinal);
    }

    [Fact]
    public void Pack_ProducesASymbolPackage_WithTheRuntimesPdb()
    {
        Assert.True(File.Exists(packed.SymbolPackagePath), $"No symbol package in {packed.Feed}: {string.Join(", ", Directory.GetFiles(packed.Feed).Select(Path.GetFileName))}");
        Assert.Contains("lib/net10.0/Locksmith.pdb", Entries(packed.SymbolPackagePath));
    }

    [Fact]
    public void Consumer_BuildsWithThePackagedAnalyzers()
    {
        // Peek reads a guarded field without its lock: only the analyzer inside the package can know that.
        Assert.Contains("warning LSM0020", packed.BuildOutput, StringComparison.Ordinal);
    }

    [Fact]
    public void Consumer_GeneratedWrappers_RaiseNoTrimOrAotWarning_NorAnyOther()
    {
        // IsAotCompatible turns the trim, AOT and single-file analyzers on; they print IL2xxx/IL3xxx.
        Assert.Contains("Shapes.cs", string.Join(",", Directory.GetFiles(packed.ConsumerDirectory)), StringComparison.Ordinal);
        var lines = packed.BuildOutput.Split('\n').Where(static l => Regex.IsMatch(l, @"\b(warning|error) IL[23]\d{3}\b")).ToList();
        Assert.True(lines.Count == 0, string.Join("\n", lines));

        // Nor any other warning: the only one the consumer has is Program.cs's deliberate LSM0020.
        var others = packed.BuildOutput.Split('\n').Where(static l => l.Contains(": warning ", StringComparison.Ordinal) && !l.Contains("warning LSM0020", StringComparison.Ordinal)).ToList();
        Assert.True(others.Count == 0, string.Join("\n", others));
    }

    [Fact]
    public void Consumer_RunsTheGeneratedWrappers()
    {
        Assert.True(packed.RunExitCode == 0, $"The consumer exited with {packed.RunExitCode}:\n{packed.RunOutput}");
        Assert.Contains("tally=1000", packed.RunOutput, StringComparison.Ordinal);
    }

    private static string[] Entries(string package)
    {
        using var zip = ZipFile.OpenRead(package);
        return [.. zip.Entries.Select(static e => e.FullName)];
    }
}
