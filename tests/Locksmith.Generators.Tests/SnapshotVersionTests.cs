using System;
using System.IO;
using System.Linq;
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
}
