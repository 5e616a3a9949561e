using System;
using System.Diagnostics;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Reflection;
using System.Xml.Linq;

namespace Locksmith.Hosting.Tests;

/// <summary>The Locksmith packages that build on the runtime, as <c>dotnet pack</c> writes them from this test run's build.</summary>
public sealed class PackageTests
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
        string root = RepositoryPaths.Root;
        var output = Directory.CreateTempSubdirectory("locksmith-pack-");
        try
        {
            string configuration = typeof(PackageTests).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";
            string project = Path.Combine(root, "src", projectName, projectName + ".csproj");
            var (exitCode, log) = Dotnet(root, $"pack \"{project}\" -c {configuration} --no-build -o \"{output.FullName}\"");
            Assert.True(exitCode == 0, $"dotnet pack failed ({exitCode}):\n{log}");

            string package = Directory.GetFiles(output.FullName, packageId + ".0*.nupkg")
                .Single(static p => !p.EndsWith(".snupkg", StringComparison.Ordinal));
            using var zip = ZipFile.OpenRead(package);
            using var nuspec = zip.Entries.Single(static e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal)).Open();
            var locksmithDependencies = XDocument.Load(nuspec).Descendants()
                .Where(static e => e.Name.LocalName == "dependency" && ((string?)e.Attribute("id"))?.StartsWith("Locksmith.", StringComparison.Ordinal) == true)
                .ToList();

            Assert.Contains(locksmithDependencies, static e => (string?)e.Attribute("id") == "Locksmith.Concurrency");
            Assert.All(locksmithDependencies, static e => Assert.True(e.Attribute("exclude") is null, e.ToString()));
        }
        finally
        {
            output.Delete(recursive: true);
        }
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
