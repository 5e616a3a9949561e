using System;
using System.Diagnostics;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Reflection;
using System.Xml.Linq;

namespace Locksmith.Hosting.Tests;

/// <summary>The Locksmith packages that build on the runtime, as <c>dotnet pack</c> writes them from this test run's build.</summary>
public sealed class PackageTests(PackageTests.Packs packs) : IClassFixture<PackageTests.Packs>
{
    private static readonly TimeSpan s_commandLimit = TimeSpan.FromMinutes(5);

    [Theory]
    [InlineData("Locksmith.Hosting", "Locksmith.Concurrency.Hosting")]
    [InlineData("Locksmith.Testing", "Locksmith.Concurrency.Testing")]
    [InlineData("Locksmith.Postgres", "Locksmith.Concurrency.Postgres")]
    public void Package_depends_on_the_runtime_package_with_its_generator_and_analyzers(string projectName, string packageId)
    {
        // Before, the ProjectReference's default PrivateAssets wrote exclude="Build,Analyzers" on the dependency: an app
        // or test project referencing only this package got [Guarded] wrappers and LSM diagnostics only because today's
        // SDK ignores that exclude for analyzers (NuGet/Home#6279); once it is honoured, the generator would silently stop
        // running for those projects.
        using var zip = ZipFile.OpenRead(packs.Pack(projectName, packageId));
        var locksmithDependencies = Nuspec(zip).Descendants()
            .Where(static e => e.Name.LocalName == "dependency" && ((string?)e.Attribute("id"))?.StartsWith("Locksmith.", StringComparison.Ordinal) == true)
            .ToList();

        Assert.Contains(locksmithDependencies, static e => (string?)e.Attribute("id") == "Locksmith.Concurrency");
        Assert.All(locksmithDependencies, static e => Assert.True(e.Attribute("exclude") is null, e.ToString()));
    }

    // nuget.org shows the package's readme on its page. Before, each of these packed the repository's whole README.md
    // (over 300 KB, mostly about other packages); now each packs its own short src/<project>/PACKAGE.md, whose C# blocks
    // Locksmith.Generators.Tests compiles against that package's assemblies (ReadmeSnippetTests.PackageReadmeBlock_Compiles).
    [Theory]
    [InlineData("Locksmith.Hosting", "Locksmith.Concurrency.Hosting")]
    [InlineData("Locksmith.Testing", "Locksmith.Concurrency.Testing")]
    [InlineData("Locksmith.Postgres", "Locksmith.Concurrency.Postgres")]
    public void Package_readme_is_the_package_own_PACKAGE_md(string projectName, string packageId)
    {
        using var zip = ZipFile.OpenRead(packs.Pack(projectName, packageId));
        var metadata = Nuspec(zip).Root!.Elements().Single(static e => e.Name.LocalName == "metadata");
        string? readmePath = metadata.Elements().SingleOrDefault(static e => e.Name.LocalName == "readme")?.Value;
        Assert.Equal("PACKAGE.md", readmePath);

        var entry = zip.GetEntry("PACKAGE.md");
        Assert.NotNull(entry);
        using var reader = new StreamReader(entry.Open());
        string packed = reader.ReadToEnd();
        Assert.Equal(File.ReadAllText(Path.Combine(RepositoryPaths.Root, "src", projectName, "PACKAGE.md")), packed);
        Assert.StartsWith("# " + packageId + "\n", packed.ReplaceLineEndings("\n"), StringComparison.Ordinal);
        Assert.Null(zip.GetEntry("README.md"));
    }

    private static XDocument Nuspec(ZipArchive zip)
    {
        using var nuspec = zip.Entries.Single(static e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal)).Open();
        return XDocument.Load(nuspec);
    }

    /// <summary>Packs each project once for the class (with --no-build: this test run's build), into one temporary folder.</summary>
    public sealed class Packs : IDisposable
    {
        private readonly DirectoryInfo _output = Directory.CreateTempSubdirectory("locksmith-pack-");

        private readonly System.Collections.Concurrent.ConcurrentDictionary<string, Lazy<string>> _packages = new(StringComparer.Ordinal);

        public string Pack(string projectName, string packageId) => _packages.GetOrAdd(projectName, name => new Lazy<string>(() =>
        {
            string root = RepositoryPaths.Root;
            string configuration = typeof(PackageTests).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";
            string project = Path.Combine(root, "src", name, name + ".csproj");
            string output = Directory.CreateDirectory(Path.Combine(_output.FullName, name)).FullName;
            var (exitCode, log) = Dotnet(root, $"pack \"{project}\" -c {configuration} --no-build -o \"{output}\"");
            Assert.True(exitCode == 0, $"dotnet pack failed ({exitCode}):\n{log}");
            return Directory.GetFiles(output, packageId + ".0*.nupkg").Single(static p => !p.EndsWith(".snupkg", StringComparison.Ordinal));
        })).Value;

        public void Dispose() => _output.Delete(recursive: true);
    }

    private static (int ExitCode, string Output) Dotnet(string directory, string arguments)
    {
        var start = new ProcessStartInfo("dotnet", arguments)
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };

        // The test host inherits MSBuild settings from `dotnet test`; a child build must pick its own.
        foreach (string name in start.Environment.Keys.Where(static k => k.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            start.Environment.Remove(name);
        }

        // Its own build nodes, ended with it: a node reused from another build on the machine (the test run's, a
        // parallel one's) may exit under it ("Child node exited prematurely", seen once in a loaded full run).
        start.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        start.Environment["DOTNET_CLI_USE_MSBUILD_SERVER"] = "0";

        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEndAsync();
        if (!process.WaitForExit(s_commandLimit))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"Hang guard: dotnet {arguments} did not end within {s_commandLimit.TotalMinutes} minutes.");
        }

        process.WaitForExit();
        return (process.ExitCode, stdout.Result + error.Result);
    }
}
