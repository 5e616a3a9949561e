using System;
using System.IO;
using System.Reflection;
using System.Runtime.Loader;

namespace Locksmith.Generators.Tests.Support;

/// <summary>
/// A run's output compilation (generated code included), emitted and loaded into a collectible context of its own so
/// the test can call the generated wrappers; disposing unloads it, so each test's types leave with it.
/// </summary>
internal sealed class LoadedAssembly : IDisposable
{
    private readonly AssemblyLoadContext _context;

    private LoadedAssembly(AssemblyLoadContext context, Assembly assembly)
    {
        _context = context;
        Assembly = assembly;
    }

    public Assembly Assembly { get; }

    /// <summary>Emits the run's output, asserting it emitted (the failure shows the errors and the generated code), and loads it.</summary>
    public static LoadedAssembly Load(GeneratorRun run, string contextName)
    {
        using var image = new MemoryStream();
        var emitted = run.Output.Emit(image);
        Assert.True(emitted.Success, Snapshot.Render(emitted.Diagnostics) + "\n" + run.GeneratedText);

        var context = new AssemblyLoadContext(contextName, isCollectible: true);
        try
        {
            image.Position = 0;
            return new LoadedAssembly(context, context.LoadFromStream(image));
        }
        catch
        {
            context.Unload();
            throw;
        }
    }

    /// <summary>The loaded type of that full name; throws if there is none.</summary>
    public Type Type(string fullName) => Assembly.GetType(fullName, throwOnError: true)!;

    /// <summary>A new instance of the loaded type of that full name, by its parameterless constructor.</summary>
    public object Create(string fullName) => Activator.CreateInstance(Type(fullName))!;

    public void Dispose() => _context.Unload();
}
