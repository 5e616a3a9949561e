using System;
using System.Diagnostics;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Runtime.CompilerServices;

namespace Locksmith.Generators.Tests;

/// <summary>
/// The package users get: <c>dotnet pack src/Locksmith</c> yields one package carrying the generator, and a consumer
/// that restores it from a local folder gets working wrappers and the analyzers.
/// </summary>
public sealed class PackageTests
{
    private const string Version = "0.1.0-packtest";

    [Fact]
    public void Pack_CarriesTheGenerator_AndAConsumerBuildsAndRuns()
    {
        string root = RepositoryRoot();
        var work = Directory.CreateTempSubdirectory("locksmith-pack-");
        try
        {
            string feed = Directory.CreateDirectory(Path.Combine(work.FullName, "feed")).FullName;
            string consumer = Directory.CreateDirectory(Path.Combine(work.FullName, "consumer")).FullName;

            // Release, so the pack does not race the Debug build of this test run.
            Dotnet(root, $"pack \"{Path.Combine(root, "src", "Locksmith", "Locksmith.csproj")}\" -c Release -o \"{feed}\" -p:Version={Version}");
            using (var package = ZipFile.OpenRead(Path.Combine(feed, $"Locksmith.{Version}.nupkg")))
            {
                var entries = package.Entries.Select(static e => e.FullName).ToList();
                Assert.Contains("analyzers/dotnet/cs/Locksmith.Generators.dll", entries);
                Assert.Contains("lib/net10.0/Locksmith.dll", entries);
            }

            WriteConsumer(consumer, feed);
            string output = Dotnet(consumer, $"run -c Release -p:RestorePackagesPath=\"{Path.Combine(work.FullName, "packages")}\"");

            Assert.Contains("tally=1000", output, StringComparison.Ordinal);
            Assert.Contains("LSM0020", output, StringComparison.Ordinal);
        }
        finally
        {
            work.Delete(recursive: true);
        }
    }

    private static void WriteConsumer(string directory, string feed)
    {
        File.WriteAllText(Path.Combine(directory, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <clear />
                <add key="local" value="{feed}" />
                <add key="nuget.org" value="https://api.nuget.org/v3/index.json" />
              </packageSources>
              <packageSourceMapping>
                <packageSource key="local"><package pattern="Locksmith" /></packageSource>
                <packageSource key="nuget.org"><package pattern="*" /></packageSource>
              </packageSourceMapping>
            </configuration>
            """);
        File.WriteAllText(Path.Combine(directory, "Consumer.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
                <ImplicitUsings>enable</ImplicitUsings>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="Locksmith" Version="{Version}" />
              </ItemGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(directory, "Program.cs"), """
            using Locksmith;

            var tally = new Demo.Tally();
            Parallel.For(0, 1000, _ => tally.Add(1));
            Console.WriteLine($"tally={tally.Total()}");
            return tally.Total() == 1000 ? 0 : 1;

            namespace Demo
            {
                public sealed partial class Tally
                {
                    [LockOrder(1)] private readonly ExclusiveLock _lock = new();
                    [Guarded(Lock = nameof(_lock))] private int _total;

                    [Guarded(Lock = nameof(_lock))] private void AddCore(int amount) => _total += amount;
                    [Guarded(Lock = nameof(_lock))] private int TotalCore() => _total;

                    // Read without the lock on purpose: the packaged analyzer must warn (LSM0020).
                    public int Peek() => _total;
                }
            }
            """);
    }

    private static string Dotnet(string directory, string arguments)
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

        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        string output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        string all = output + error.Result;
        Assert.True(process.ExitCode == 0, $"dotnet {arguments} exited with {process.ExitCode}:\n{all}");
        return all;
    }

    private static string RepositoryRoot([CallerFilePath] string thisFile = "") =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(thisFile)!, "..", ".."));
}
