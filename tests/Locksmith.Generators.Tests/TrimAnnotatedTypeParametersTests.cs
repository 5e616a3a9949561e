using System.Linq;
using Locksmith.Generators.Tests.Support;
using Microsoft.CodeAnalysis;

namespace Locksmith.Generators.Tests;

/// <summary>
/// A core whose type parameter is annotated for the trimmer (<c>[DynamicallyAccessedMembers]</c>, as
/// <c>Activator.CreateInstance&lt;T&gt;()</c> needs) passes that type parameter on to nothing but the wrappers' own:
/// unless they carry the same annotation, the trim analyzer of a trimmed, AOT-compatible or trimmable project
/// (<c>IsAotCompatible</c>, <c>IsTrimmable</c>) reports IL2091 on every generated call to the core, an error under
/// <c>TreatWarningsAsErrors</c> that the user cannot fix.
/// </summary>
public sealed class TrimAnnotatedTypeParametersTests
{
    private const string Source = """
        using System;
        using System.Diagnostics.CodeAnalysis;
        using System.Threading.Tasks;
        using Locksmith;

        namespace Factories;

        public sealed partial class Factory
        {
            private readonly ExclusiveLock _lock = new();
            private readonly AsyncExclusiveLock _async = new();

            [Guarded(Lock = nameof(_lock))]
            private T MakeCore<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicParameterlessConstructor)] T>() => Activator.CreateInstance<T>();

            [Guarded(Lock = nameof(_async))]
            private Task<TValue> MakeCoreAsync<TKey, [DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors | DynamicallyAccessedMemberTypes.PublicMethods)] TValue>(TKey key)
                where TValue : class => Task.FromResult(Activator.CreateInstance<TValue>());
        }
        """;

    [Fact]
    public void EveryWrapper_CarriesTheCoresTypeParameterAnnotations()
    {
        var run = GeneratorHarness.RunStrict(Source);
        Clean.Assert(run);

        var factory = run.Output.GetTypeByMetadataName("Factories.Factory")!;
        var expected = Annotations(factory.GetMembers("MakeCore").OfType<IMethodSymbol>().Single());
        var expectedAsync = Annotations(factory.GetMembers("MakeCoreAsync").OfType<IMethodSymbol>().Single());
        Assert.Equal(["1"], expected); // PublicParameterlessConstructor
        Assert.Equal(["", "11"], expectedAsync); // PublicConstructors | PublicMethods
        foreach (string name in new[] { "Make", "TryMake" })
        {
            Assert.Equal(expected, Annotations(factory.GetMembers(name).OfType<IMethodSymbol>().Single()));
        }

        foreach (string name in new[] { "MakeAsync", "TryMakeAsync" })
        {
            Assert.Equal(expectedAsync, Annotations(factory.GetMembers(name).OfType<IMethodSymbol>().Single()));
        }
    }

    [Fact]
    public void AnnotatedTypeParameters()
    {
        var run = GeneratorHarness.RunStrict(Source);

        Clean.Assert(run);
        Snapshot.VerifyGenerated(run);
    }

    /// <summary>Each type parameter's <c>[DynamicallyAccessedMembers]</c> argument as a number, or empty.</summary>
    private static string[] Annotations(IMethodSymbol method) =>
        [.. method.TypeParameters.Select(static p => string.Join(";", p.GetAttributes()
            .Where(static a => a.AttributeClass?.Name == "DynamicallyAccessedMembersAttribute")
            .Select(static a => System.Convert.ToString(a.ConstructorArguments[0].Value, System.Globalization.CultureInfo.InvariantCulture))))];
}
