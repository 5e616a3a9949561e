using System;
using System.IO;
using System.Linq;
using System.Reflection;
using Locksmith.Generators.Tests.Support;

namespace Locksmith.Generators.Tests;

/// <summary>Snapshots do not bake in the generator's version: a version bump changes no snapshot.</summary>
public sealed class SnapshotVersionTests
{
    [Fact]
    public void Snapshots_HoldAVersionPlaceholder_NotTheGeneratorVersion()
    {
        var generated = GeneratorHarness.Run(Samples.ExclusiveLockMethods).Result.GeneratedTrees.Single(static t => t.FilePath.EndsWith("Bank.Account.Locksmith.g.cs", StringComparison.Ordinal)).ToString();
        Assert.False(string.IsNullOrEmpty(Snapshot.GeneratorVersion));
        Assert.Contains(Snapshot.GeneratedCodeArguments(Snapshot.GeneratorVersion), generated, StringComparison.Ordinal);

        string scrubbed = Snapshot.ScrubVersion(generated);
        Assert.DoesNotContain(Snapshot.GeneratedCodeArguments(Snapshot.GeneratorVersion), scrubbed, StringComparison.Ordinal);
        Assert.Contains(Snapshot.GeneratedCodeArguments(Snapshot.VersionPlaceholder), scrubbed, StringComparison.Ordinal);

        var files = Directory.GetFiles(Snapshot.Folder, "*.verified.cs");
        Assert.NotEmpty(files);
        Assert.All(files, file =>
        {
            string text = File.ReadAllText(file);
            Assert.DoesNotContain(Snapshot.GeneratedCodeArguments(Snapshot.GeneratorVersion), text, StringComparison.Ordinal);
            Assert.Contains(Snapshot.GeneratedCodeArguments(Snapshot.VersionPlaceholder), text, StringComparison.Ordinal);
        });
    }

    /// <summary>
    /// <c>[GeneratedCode]</c> names the package's version (the build's <c>PackageVersion</c>, which this project records),
    /// not the assembly version (<c>0.1.0.0</c>), and never the informational version's <c>+commit</c> suffix, which would
    /// make a deterministic build's output depend on the commit.
    /// </summary>
    [Fact]
    public void GeneratedCode_CarriesThePackageVersion()
    {
        string packageVersion = typeof(SnapshotVersionTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .Single(static a => a.Key == "LocksmithPackageVersion").Value!;
        var trees = GeneratorHarness.Run(Samples.ExclusiveLockMethods)
            .Result.GeneratedTrees.Select(static t => (t.FilePath, Text: t.ToString())).ToArray();

        Assert.Contains(trees, static t => t.FilePath.EndsWith("LockOrderManifest.g.cs", StringComparison.Ordinal));
        Assert.All(trees, t => Assert.Contains("GeneratedCode" + Snapshot.GeneratedCodeArguments(packageVersion), t.Text, StringComparison.Ordinal));
        Assert.DoesNotContain('+', packageVersion);
    }
}
