using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Reflection;

namespace Locksmith.Generators.Tests.Support;

/// <summary>
/// Packs <c>src/Locksmith</c> once, writes a consumer project outside the repository that restores the package from a
/// local folder feed (as the README's Install section tells a user to), builds it once and runs it once; the package
/// tests then read what each step left. One pack and one consumer build for the whole class, not one per assertion.
/// </summary>
public sealed class PackedConsumer : IDisposable
{
    public const string PackageId = "Locksmith.Concurrency";
    public const string Version = "0.1.0-packtest";

    private static readonly TimeSpan s_commandLimit = TimeSpan.FromMinutes(5);

    private readonly DirectoryInfo _work;

    public PackedConsumer()
    {
        RepositoryRoot = RepositoryPaths.Root;
        _work = Directory.CreateTempSubdirectory("locksmith-pack-");
        try
        {
            Feed = Directory.CreateDirectory(Path.Combine(_work.FullName, "feed")).FullName;
            string consumer = ConsumerDirectory = Directory.CreateDirectory(Path.Combine(_work.FullName, "consumer")).FullName;

            // The build this test run already made (same configuration, so its outputs exist and are current): packing
            // it again from scratch would rebuild the generator and the runtime and race nothing but the clock.
            string configuration = typeof(PackedConsumer).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";
            string project = Path.Combine(RepositoryRoot, "src", "Locksmith", "Locksmith.csproj");
            Require(Dotnet(RepositoryRoot, $"pack \"{project}\" -c {configuration} --no-build -o \"{Feed}\" -p:Version={Version}"));

            WriteConsumer(consumer, Feed, Path.Combine(_work.FullName, "packages"));

            // One process restores (from the feed only, into a private packages folder) and builds.
            var build = Dotnet(consumer, "build");
            Require(build);
            BuildOutput = build.Output;

            var run = Dotnet(consumer, $"\"{Path.Combine(consumer, "bin", "Debug", "net10.0", "Consumer.dll")}\"");
            RunOutput = run.Output;
            RunExitCode = run.ExitCode;
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public string RepositoryRoot { get; }

    public string Feed { get; }

    /// <summary>The consumer project's folder (deleted with the fixture).</summary>
    public string ConsumerDirectory { get; } = "";

    public string PackagePath => Path.Combine(Feed, $"{PackageId}.{Version}.nupkg");

    public string SymbolPackagePath => Path.Combine(Feed, $"{PackageId}.{Version}.snupkg");

    /// <summary>What <c>dotnet build</c> of the consumer printed (restore included): the packaged analyzers' warnings.</summary>
    public string BuildOutput { get; } = "";

    /// <summary>What the consumer printed when run.</summary>
    public string RunOutput { get; } = "";

    public int RunExitCode { get; }

    public void Dispose()
    {
        try
        {
            _work.Delete(recursive: true);
        }
        catch (IOException)
        {
            // A build server may still hold a file for a moment; the folder is in the temp directory.
        }
    }

    private static void Require((int ExitCode, string Output, string Command) result)
    {
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"dotnet {result.Command} exited with {result.ExitCode}:\n{result.Output}");
        }
    }

    private static void WriteConsumer(string directory, string feed, string packages)
    {
        // A user's nuget.config: the local feed beside nuget.org, the package mapped to the feed. The packages folder
        // is private to this run, so a package of the same version from an earlier run is never taken instead.
        File.WriteAllText(Path.Combine(directory, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <config>
                <add key="globalPackagesFolder" value="{packages}" />
              </config>
              <packageSources>
                <clear />
                <add key="local" value="{feed}" />
                <add key="nuget.org" value="https://api.nuget.org/v3/index.json" />
              </packageSources>
              <packageSourceMapping>
                <packageSource key="local"><package pattern="{PackageId}" /></packageSource>
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
                <!-- The trim, AOT and single-file analyzers, over the generated wrappers too. -->
                <IsAotCompatible>true</IsAotCompatible>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="{PackageId}" Version="{Version}" />
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

        // Every kind of wrapper, compiled (not run) under the trim and AOT analyzers.
        File.WriteAllText(Path.Combine(directory, "Shapes.cs"), """
            using System.Collections.Concurrent;
            using Locksmith;

            namespace Demo;

            public sealed partial class Jobs
            {
                [LockOrder(2)] private readonly AsyncExclusiveLock _lock = new();
                [Guarded(Lock = nameof(_lock))] private int _done;

                [Guarded(Lock = nameof(_lock), TimeoutMilliseconds = 100)]
                private async Task<int> FinishCoreAsync(int count) { await Task.Yield(); return _done += count; }

                [Guarded(Lock = nameof(_lock))]
                private async ValueTask ResetCoreAsync(CancellationToken cancellationToken) { await Task.Delay(1, cancellationToken); _done = 0; }
            }

            [ReadMostly(Policy = ReadWritePolicy.Fair)]
            public sealed partial class Prices
            {
                [LockOrder(3)] private readonly ReadWriteLock _lock = new(ReadWritePolicy.Fair);
                [Guarded(Lock = nameof(_lock))] private readonly Dictionary<string, decimal> _prices = [];

                [Guarded(Lock = nameof(_lock), Access = LockAccess.Read)]
                private decimal? FindCore(string sku) => _prices.TryGetValue(sku, out var price) ? price : null;

                [Guarded(Lock = nameof(_lock))]
                private void SetCore(string sku, decimal price) => _prices[sku] = price;
            }

            [ReadMostly]
            public sealed partial class Rates
            {
                [LockOrder(4)] private readonly AsyncReadWriteLock _lock = new();
                [Guarded(Lock = nameof(_lock))] private decimal _rate;

                [Guarded(Lock = nameof(_lock), Access = LockAccess.Read)]
                private async Task<decimal> RateCoreAsync() { await Task.Yield(); return _rate; }

                [Guarded(Lock = nameof(_lock))]
                private async Task SetCoreAsync(decimal rate) { await Task.Yield(); _rate = rate; }
            }

            public sealed partial class Stock
            {
                [LockOrder(5)] private readonly StripedLock<string> _stripes = new();
                [LockOrder(6)] private readonly AsyncStripedLock<int> _shelves = new();
                private readonly ConcurrentDictionary<string, int> _counts = new();

                [Guarded(Lock = nameof(_stripes), StripeBy = nameof(sku))]
                private int TakeCore(string sku, int quantity) => _counts.AddOrUpdate(sku, -quantity, (_, count) => count - quantity);

                [Guarded(Lock = nameof(_shelves), StripeBy = nameof(shelf))]
                private async Task FillCoreAsync(int shelf) => await Task.Yield();
            }

            public sealed partial class Account
            {
                [LockOrder(7)] private readonly ExclusiveLock _lock = new();
                [LockOrder(8)] private readonly AsyncExclusiveLock _asyncLock = new();
                private decimal _balance;

                [AcquiresLocksOf(nameof(from), nameof(to), Lock = nameof(_lock))]
                private static void TransferCore(Account from, Account to, decimal amount) { from._balance -= amount; to._balance += amount; }

                [AcquiresLocksOf(nameof(from), nameof(to), Lock = nameof(_asyncLock))]
                private static async Task MoveCoreAsync(Account from, Account to, decimal amount) { await Task.Yield(); from._balance -= amount; to._balance += amount; }
            }
            """);
    }

    private static (int ExitCode, string Output, string Command) Dotnet(string directory, string arguments)
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

        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.ReadToEndAsync();
        if (!process.WaitForExit(s_commandLimit))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"Hang guard: dotnet {arguments} did not end within {s_commandLimit.TotalMinutes} minutes.");
        }

        process.WaitForExit();
        return (process.ExitCode, output.Result + error.Result, arguments);
    }
}
