using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Text;
using DiffPlex.Renderer;
using Locksmith.Generators.Guarded;
using Microsoft.CodeAnalysis;

namespace Locksmith.Generators.Tests.Support;

/// <summary>
/// Snapshot files with Verify's conventions: each generated source is compared with
/// <c>Snapshots/&lt;TestClass&gt;.&lt;TestMethod&gt;#&lt;HintName&gt;.verified.cs</c> beside the tests. A mismatch
/// writes <c>.received.cs</c> next to it and fails with a unified diff; <c>LOCKSMITH_ACCEPT_SNAPSHOTS=1</c> accepts
/// every received file instead. The folder is found from the test binary (<see cref="RepositoryPaths"/>), so it works
/// from <c>dotnet test</c> whatever the working directory, and in CI's deterministic build too; the class is the running
/// test's (xunit's <see cref="TestContext"/>) and the method the caller's. The generator's version in
/// <c>[GeneratedCode]</c> is replaced by <see cref="VersionPlaceholder"/> (as the LoggerMessage baselines do), so a
/// version bump changes no snapshot.
/// </summary>
internal static class Snapshot
{
    public const string AcceptVariable = "LOCKSMITH_ACCEPT_SNAPSHOTS";

    /// <summary>What snapshots hold instead of the generator's version.</summary>
    public const string VersionPlaceholder = "%VERSION%";

    /// <summary>The version the generator writes into <c>[GeneratedCode]</c> (its package version).</summary>
    public static string GeneratorVersion => Locksmith.Generators.Helpers.GeneratedCodeAttributeText.Version;

    /// <summary>The <c>Snapshots</c> folder beside the tests, in the source tree.</summary>
    public static string Folder => RepositoryPaths.Folder("tests", "Locksmith.Generators.Tests", "Snapshots");

    private static bool Accepting => Environment.GetEnvironmentVariable(AcceptVariable) == "1";

    /// <summary>Verifies every source the generator produced, and that no snapshot of this test is left without one.</summary>
    public static void VerifyGenerated(GeneratorRun run, [CallerMemberName] string testMethod = "")
    {
        var files = run.Result.Results
            .SelectMany(static r => r.GeneratedSources)
            .ToDictionary(static s => Path.GetFileNameWithoutExtension(s.HintName), static s => ScrubVersion(s.SourceText.ToString()));
        Assert.NotEmpty(files);
        Verify(files, ".cs", testMethod);
    }

    /// <summary>Verifies a text (e.g. diagnostics rendered one a line) as <c>…#&lt;name&gt;.verified.txt</c>.</summary>
    public static void VerifyText(string name, string text, [CallerMemberName] string testMethod = "") =>
        Verify(new Dictionary<string, string> { [name] = text }, ".txt", testMethod);

    /// <summary>Diagnostics as stable text: id, severity, line span, message.</summary>
    public static string Render(IEnumerable<Diagnostic> diagnostics) =>
        string.Concat(diagnostics
            .OrderBy(static d => d.Location.SourceSpan.Start)
            .ThenBy(static d => d.Id, StringComparer.Ordinal)
            .Select(static d =>
            {
                var span = d.Location.GetLineSpan().Span;
                return $"{d.Id} {d.Severity} ({span.Start.Line + 1},{span.Start.Character + 1})-({span.End.Line + 1},{span.End.Character + 1}): {d.GetMessage(System.Globalization.CultureInfo.InvariantCulture)}\n";
            }));

    private static void Verify(Dictionary<string, string> files, string extension, string testMethod)
    {
        string directory = Folder;
        string prefix = TestClassName() + "." + testMethod + "#";
        var failures = new StringBuilder();

        foreach (var (name, text) in files.OrderBy(static f => f.Key, StringComparer.Ordinal))
        {
            string verified = Path.Combine(directory, prefix + name + ".verified" + extension);
            string received = Path.Combine(directory, prefix + name + ".received" + extension);
            string actual = Normalize(text);
            string? expected = File.Exists(verified) ? Normalize(File.ReadAllText(verified)) : null;
            if (expected == actual)
            {
                File.Delete(received);
                continue;
            }

            if (Accepting)
            {
                File.WriteAllText(verified, actual);
                File.Delete(received);
                continue;
            }

            File.WriteAllText(received, actual);
            failures.Append(expected is null
                ? $"No snapshot {Path.GetFileName(verified)}; wrote {Path.GetFileName(received)}.\n"
                : UnidiffRenderer.GenerateUnidiff(expected, actual, Path.GetFileName(verified), Path.GetFileName(received), false, false, 3));
        }

        foreach (string stale in Directory.GetFiles(directory, prefix + "*.verified" + extension))
        {
            string name = Path.GetFileName(stale);
            name = name.Substring(prefix.Length, name.Length - prefix.Length - (".verified" + extension).Length);
            if (!files.ContainsKey(name))
            {
                if (Accepting)
                {
                    File.Delete(stale);
                }
                else
                {
                    failures.Append($"Snapshot {Path.GetFileName(stale)} has no generated counterpart any more.\n");
                }
            }
        }

        Assert.True(failures.Length == 0, $"Snapshots differ (set {AcceptVariable}=1 to accept):\n{failures}");
    }

    // Each test class lives in the file of its name, so this is the name the snapshots were made under.
    private static string TestClassName() =>
        TestContext.Current.TestClass?.TestClassSimpleName
        ?? throw new InvalidOperationException("A snapshot is verified outside a running test; call it from a test method.");

    /// <summary>Replaces the generator's version in <c>[GeneratedCode("Locksmith.Generators", "…")]</c> with <see cref="VersionPlaceholder"/>.</summary>
    public static string ScrubVersion(string text) =>
        text.Replace(GeneratedCodeArguments(GeneratorVersion), GeneratedCodeArguments(VersionPlaceholder));

    /// <summary>The arguments of the generator's <c>[GeneratedCode]</c> attribute as they appear in generated text.</summary>
    public static string GeneratedCodeArguments(string version) => "(\"" + KnownNames.GeneratorName + "\", \"" + version + "\")";

    private static string Normalize(string text) => text.Replace("\r\n", "\n").TrimStart('\uFEFF');
}
