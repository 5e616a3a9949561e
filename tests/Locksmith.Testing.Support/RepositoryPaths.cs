using System;
using System.IO;

namespace Locksmith.Testing.Support;

/// <summary>
/// Where the repository is at run time: the first folder holding <c>Framework.sln</c> above the test binary.
/// </summary>
/// <remarks>
/// Never from <c>[CallerFilePath]</c>: a CI build (<c>ContinuousIntegrationBuild</c>) maps source paths to
/// <c>/_/</c>, so a path compiled into the test names no folder on disk.
/// </remarks>
public static class RepositoryPaths
{
    private static readonly Lazy<string> s_root = new(FindRoot);

    /// <summary>The folder that holds <c>Framework.sln</c>.</summary>
    /// <exception cref="InvalidOperationException">No folder above the test binary holds <c>Framework.sln</c>.</exception>
    public static string Root => s_root.Value;

    /// <summary>An existing folder of the repository, e.g. <c>Folder("tests", "Locksmith.Generators.Tests")</c>.</summary>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist (so nothing is written to a wrong place).</exception>
    public static string Folder(params string[] parts)
    {
        string path = Path.Combine([Root, .. parts]);
        return Directory.Exists(path) ? path : throw new DirectoryNotFoundException($"No folder {path} in the repository at {Root}.");
    }

    private static string FindRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Framework.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"No Framework.sln above the test binary's directory {AppContext.BaseDirectory}.");
    }
}
