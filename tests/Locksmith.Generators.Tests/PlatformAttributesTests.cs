using System.Linq;
using Locksmith.Generators.Tests.Support;
using Microsoft.CodeAnalysis;

namespace Locksmith.Generators.Tests;

/// <summary>
/// A core marked for some platforms (<c>[SupportedOSPlatform]</c>, <c>[UnsupportedOSPlatform]</c>,
/// <c>[ObsoletedOSPlatform]</c>) or for preview features (<c>[RequiresPreviewFeatures]</c>) hands that contract to its
/// wrappers, which call it: without it the SDK's analyzers report CA2252, an error, on the generated call to a preview
/// core, and callers of a wrapper of a Windows-only core get no CA1416 (the platform analyzer skips generated code).
/// </summary>
public sealed class PlatformAttributesTests
{
    private const string Source = """
        using System.Runtime.Versioning;
        using System.Threading.Tasks;
        using Locksmith;

        namespace Platforms;

        public sealed partial class Registry
        {
            private readonly ExclusiveLock _lock = new();
            private readonly AsyncExclusiveLock _async = new();

            [SupportedOSPlatform("windows")]
            [Guarded(Lock = nameof(_lock))]
            private int ReadCore(string key) => key.Length;

            [UnsupportedOSPlatform("browser")]
            [ObsoletedOSPlatform("ios13.0", "Use the keychain.")]
            [Guarded(Lock = nameof(_async))]
            private Task<int> ReadCoreAsync(string key) => Task.FromResult(key.Length);

            [RequiresPreviewFeatures("Not final.")]
            [Guarded(Lock = nameof(_lock))]
            private void TryOutCore() { }
        }
        """;

    [Fact]
    public void EveryWrapper_CarriesTheCoresPlatformAndPreviewAttributes()
    {
        var run = GeneratorHarness.RunStrict(Source);
        Clean.Assert(run);

        var registry = run.Output.GetTypeByMetadataName("Platforms.Registry")!;
        foreach (var (core, wrappers) in new[]
        {
            ("ReadCore", new[] { "Read", "TryRead" }),
            ("ReadCoreAsync", new[] { "ReadAsync", "TryReadAsync" }),
            ("TryOutCore", new[] { "TryOut", "TryOutWithin" }),
        })
        {
            string expected = Versioning(registry, core);
            Assert.NotEmpty(expected);
            foreach (string wrapper in wrappers)
            {
                Assert.Equal(expected, Versioning(registry, wrapper));
            }
        }
    }

    [Fact]
    public void PlatformAndPreviewCores()
    {
        var run = GeneratorHarness.RunStrict(Source);

        Clean.Assert(run);
        Snapshot.VerifyGenerated(run);
    }

    /// <summary>The method's System.Runtime.Versioning attributes with their arguments, one a line.</summary>
    private static string Versioning(INamedTypeSymbol type, string method) =>
        string.Join("\n", type.GetMembers(method).OfType<IMethodSymbol>().Single().GetAttributes()
            .Where(static a => a.AttributeClass?.ContainingNamespace.ToDisplayString() == "System.Runtime.Versioning")
            .Select(static a => a.AttributeClass!.Name + "(" + string.Join(", ", a.ConstructorArguments.Select(static c => c.Value)) + ")"));
}
