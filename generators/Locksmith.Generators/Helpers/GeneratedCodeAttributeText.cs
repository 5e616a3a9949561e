using System.Reflection;

namespace Locksmith.Generators.Helpers;

/// <summary>The <c>[GeneratedCode]</c> attribute every generated type carries, naming the generator and its package version.</summary>
internal static class GeneratedCodeAttributeText
{
    /// <summary>
    /// The package's version: the build's informational version (the <c>Version</c> NuGet shows) without its
    /// <c>+commit</c> suffix, so a deterministic build writes the same text at every commit; the assembly version
    /// (<c>0.1.0.0</c>) when there is none.
    /// </summary>
    public static string Version { get; } = PackageVersion();

    /// <summary><c>[global::System.CodeDom.Compiler.GeneratedCode("Locksmith.Generators", "0.1.0")]</c>.</summary>
    public static string Attribute { get; } =
        "[global::System.CodeDom.Compiler.GeneratedCode(\"" + KnownNames.GeneratorName + "\", \"" + Version + "\")]";

    private static string PackageVersion()
    {
        var assembly = typeof(GeneratedCodeAttributeText).Assembly;
        string? informational = assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion;
        if (string.IsNullOrEmpty(informational))
        {
            return assembly.GetName().Version?.ToString() ?? string.Empty;
        }

        int metadata = informational!.IndexOf('+');
        return metadata < 0 ? informational : informational.Substring(0, metadata);
    }
}
