using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;
using System.Xml.Linq;

namespace Locksmith.Generators.Tests;

/// <summary>
/// Each package carries a short README of its own, <c>src/&lt;project&gt;/PACKAGE.md</c>, which nuget.org shows on the
/// package's page (before, all four packed the repository's whole README.md, over 300 KB). Its <c>```csharp</c> blocks
/// compile against the package (<see cref="ReadmeSnippetTests.PackageReadmeBlock_Compiles"/>); here: the project packs
/// it, it stays short and says how to install its own package, the API its inline code names exists, and its links into
/// the repository README land on a heading or anchor that exists.
/// </summary>
public sealed class PackageReadmeTests
{
    private const string ReadmeUrl = "https://github.com/locksmith-dotnet/locksmith/blob/main/README.md";

    private const int MaxLines = 120;

    private static readonly string[] s_projects = ["Locksmith", "Locksmith.Hosting", "Locksmith.Postgres", "Locksmith.Testing"];

    private static readonly Assembly[] s_locksmith =
    [
        typeof(ExclusiveLock).Assembly, typeof(Locksmith.Hosting.LocksmithOptions).Assembly,
        typeof(Locksmith.Postgres.PostgresLockProvider).Assembly, typeof(Locksmith.Testing.Scenario).Assembly,
    ];

    // Types from outside Locksmith that the pages may name (CancellationToken, Monitor, Meter, IMeterFactory, Host, …).
    private static readonly Assembly[] s_others =
    [
        typeof(object).Assembly, typeof(System.Threading.Monitor).Assembly, typeof(System.Diagnostics.Metrics.Meter).Assembly,
        typeof(Microsoft.Extensions.DependencyInjection.IServiceCollection).Assembly,
        typeof(Microsoft.Extensions.Hosting.Host).Assembly, typeof(Npgsql.NpgsqlDataSource).Assembly,
    ];

    private static readonly Type[] s_locksmithTypes = [.. s_locksmith.SelectMany(static a => a.GetExportedTypes())];

    private static readonly HashSet<string> s_typeNames = [.. s_locksmithTypes.Concat(s_others.SelectMany(static a => a.GetExportedTypes())).Select(SimpleName)];

    private static readonly HashSet<string> s_namespaces = [.. s_locksmithTypes.Concat(s_others.SelectMany(static a => a.GetExportedTypes())).Select(static t => t.Namespace ?? "")];

    // Every public member name of a Locksmith type (extension methods and enum values included).
    private static readonly HashSet<string> s_memberNames =
    [
        .. s_locksmithTypes.SelectMany(static t => t.GetMembers(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static | BindingFlags.FlattenHierarchy))
            .Select(static m => m.Name.Split('`')[0]),
    ];

    private static readonly Regex s_qualified = new(@"(?<![\w.])(?<type>[A-Z]\w*)(?:<[^<>`]*>)?\.(?<member>[A-Z]\w*)", RegexOptions.CultureInvariant);

    private static readonly Regex s_bare = new(@"^(?<name>[A-Z]\w*)(?:<[^<>]*>)?(?:\(.*\))?$", RegexOptions.CultureInvariant);

    private static readonly Regex s_attribute = new(@"^\[(?<name>[A-Z]\w*)(?:\(.*\))?\]", RegexOptions.CultureInvariant);

    public static TheoryData<string> Projects() => [.. s_projects];

    /// <summary>The project packs its PACKAGE.md as the package's readme, and no longer the repository's README.md.</summary>
    [Theory]
    [MemberData(nameof(Projects))]
    public void Project_PacksItsPackageMd_AsTheReadme(string project)
    {
        var root = XDocument.Load(ProjectFile(project)).Root!;
        Assert.Equal("PACKAGE.md", Single(root, "PackageReadmeFile").Value);

        var packed = root.Descendants().Where(static e => e.Name.LocalName == "None" && (string?)e.Attribute("Pack") == "true").ToList();
        Assert.Contains(packed, static e => ((string?)e.Attribute("Update") ?? (string?)e.Attribute("Include")) == "PACKAGE.md");
        Assert.DoesNotContain(packed, static e => ((string?)e.Attribute("Include") ?? "").EndsWith("README.md", StringComparison.OrdinalIgnoreCase));
        Assert.True(File.Exists(PackageMd(project)), PackageMd(project) + " is missing");
    }

    /// <summary>Short, with the install line of its own package id, an example, and the other packages named.</summary>
    [Theory]
    [MemberData(nameof(Projects))]
    public void PackageMd_IsShort_InstallsItsPackage_AndNamesTheOthers(string project)
    {
        string[] lines = File.ReadAllLines(PackageMd(project));
        string text = string.Join("\n", lines);
        string id = PackageId(project);

        Assert.True(lines.Length <= MaxLines, $"{Relative(project)} has {lines.Length} lines; keep it under {MaxLines} and link the repository README for the rest.");
        Assert.Equal("# " + id, lines[0]);
        Assert.Matches(new Regex(@"```bash\ndotnet add package " + Regex.Escape(id) + @"\n```", RegexOptions.CultureInvariant), text);
        Assert.Contains("```csharp", text, StringComparison.Ordinal);
        Assert.All(s_projects.Where(p => p != project).Select(PackageId), other => Assert.Contains("`" + other + "`", text, StringComparison.Ordinal));
        if (project == "Locksmith")
        {
            // The generator and the analyzers ride in this package: a user must learn here that they get them.
            Assert.Contains("source generator", text, StringComparison.Ordinal);
            Assert.Contains("analyzers", text, StringComparison.Ordinal);
            Assert.Contains("analyzers/dotnet/cs/Locksmith.Generators.dll", text, StringComparison.Ordinal);
        }
    }

    /// <summary>
    /// Inline code that names Locksmith API names API that exists: a Locksmith type's member (<c>`LockSet.Acquire(a, b)`</c>),
    /// an attribute (<c>`[Guarded]`</c>), and a bare name (<c>`LockTimeoutException`</c>, <c>`AddExclusiveLock`</c>,
    /// <c>`Pct(depth)`</c>), which must be a public type (Locksmith's or one of the few others the pages mention), a namespace,
    /// a public member of a Locksmith type, or a name the page's own examples declare or have generated.
    /// </summary>
    [Theory]
    [MemberData(nameof(Projects))]
    public void InlineCode_NamesOnlyPublicApiThatExists(string project)
    {
        string text = File.ReadAllText(PackageMd(project));
        var own = OwnNames(text);
        var missing = new List<string>();
        foreach (string span in InlineCode(text))
        {
            foreach (Match match in s_qualified.Matches(span))
            {
                var types = s_locksmithTypes.Where(t => SimpleName(t) == match.Groups["type"].Value).ToList();
                if (types.Count > 0 && !types.Any(t => HasMember(t, match.Groups["member"].Value)))
                {
                    missing.Add($"`{span}`: {match.Value} is no public member");
                }
            }

            var attribute = s_attribute.Match(span);
            if (attribute.Success && !s_locksmithTypes.Any(t => t.Name == attribute.Groups["name"].Value + "Attribute") && !s_typeNames.Contains(attribute.Groups["name"].Value + "Attribute"))
            {
                missing.Add($"`{span}`: no attribute {attribute.Groups["name"].Value}Attribute");
            }

            var bare = s_bare.Match(span);
            string name = bare.Groups["name"].Value;
            if (bare.Success && !s_typeNames.Contains(name) && !s_namespaces.Contains(name) && !s_memberNames.Contains(name) && !own.Contains(name))
            {
                missing.Add($"`{span}`: {name} is no public type or member");
            }
        }

        Assert.True(missing.Count == 0, Relative(project) + ":\n" + string.Join("\n", missing));
    }

    /// <summary>Links into the repository README (nuget.org shows no relative link) land on a heading or an anchor it has.</summary>
    [Theory]
    [MemberData(nameof(Projects))]
    public void Links_ToTheRepositoryReadme_LandOnAnAnchorItHas(string project)
    {
        string text = File.ReadAllText(PackageMd(project));
        var anchors = ReadmeAnchors();
        var links = Regex.Matches(text, @"\]\((?<url>[^)\s]+)\)").Select(static m => m.Groups["url"].Value).ToList();

        Assert.NotEmpty(links);
        Assert.All(links, static url => Assert.StartsWith("https://", url, StringComparison.Ordinal));
        var broken = links.Where(static url => url.StartsWith(ReadmeUrl + "#", StringComparison.Ordinal))
            .Where(url => !anchors.Contains(url[(ReadmeUrl.Length + 1)..]))
            .ToList();
        Assert.True(broken.Count == 0, Relative(project) + " links to anchors README.md does not have:\n" + string.Join("\n", broken));
    }

    /// <summary>GitHub's anchors: each heading's slug (lower case, punctuation dropped, spaces to hyphens, numbered when
    /// repeated) and every explicit <c>&lt;a id="…"&gt;</c>.</summary>
    private static HashSet<string> ReadmeAnchors()
    {
        string[] lines = File.ReadAllLines(Path.Combine(RepositoryPaths.Root, "README.md"));
        var anchors = new HashSet<string>(StringComparer.Ordinal);
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        bool inBlock = false;
        foreach (string line in lines)
        {
            if (line.TrimStart().StartsWith("```", StringComparison.Ordinal))
            {
                inBlock = !inBlock;
                continue;
            }

            if (inBlock)
            {
                continue;
            }

            var heading = Regex.Match(line, @"^#{1,6}\s+(?<text>.+?)\s*$");
            if (heading.Success)
            {
                string slug = Regex.Replace(heading.Groups["text"].Value.ToLowerInvariant(), @"[^\p{L}\p{Nd}\s_-]", "").Replace(' ', '-');
                int count = seen.GetValueOrDefault(slug);
                seen[slug] = count + 1;
                anchors.Add(count == 0 ? slug : $"{slug}-{count}");
            }

            foreach (Match id in Regex.Matches(line, @"<a id=""(?<id>[^""]+)""></a>"))
            {
                anchors.Add(id.Groups["id"].Value);
            }
        }

        return anchors;
    }

    /// <summary>The identifiers the page's C# blocks use, with the wrappers the generator writes for a <c>XxxCore</c>.</summary>
    private static HashSet<string> OwnNames(string text)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (Match block in Regex.Matches(text, @"```csharp\n(?<code>.*?)\n```", RegexOptions.Singleline))
        {
            foreach (Match identifier in Regex.Matches(block.Groups["code"].Value, @"\b[A-Za-z_]\w*\b"))
            {
                string name = identifier.Value;
                names.Add(name);
                if (name.EndsWith("Core", StringComparison.Ordinal) && name.Length > 4)
                {
                    names.Add(name[..^4]);
                    names.Add("Try" + name[..^4]);
                }
            }
        }

        return names;
    }

    /// <summary>The inline code spans outside fenced blocks (a span may run over a line break, as Markdown allows).</summary>
    private static IEnumerable<string> InlineCode(string text)
    {
        string prose = Regex.Replace(text, @"^```.*?^```", "", RegexOptions.Singleline | RegexOptions.Multiline);
        return Regex.Matches(prose, "`([^`]+)`").Select(static m => Regex.Replace(m.Groups[1].Value, @"\s*\n\s*", " "));
    }

    private static bool HasMember(Type type, string name) =>
        type.GetMember(name, MemberTypes.All, BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static | BindingFlags.FlattenHierarchy).Length > 0
        || type.GetInterfaces().Any(i => HasMember(i, name))
        || s_locksmithTypes.Where(static t => t.IsAbstract && t.IsSealed)
            .SelectMany(static t => t.GetMethods(BindingFlags.Public | BindingFlags.Static))
            .Any(m => m.Name == name && m.IsDefined(typeof(ExtensionAttribute)) && m.GetParameters()[0].ParameterType.IsAssignableFrom(type));

    private static XElement Single(XElement root, string name) => root.Descendants().Single(e => e.Name.LocalName == name);

    private static string PackageId(string project) => Single(XDocument.Load(ProjectFile(project)).Root!, "PackageId").Value;

    private static string ProjectFile(string project) => Path.Combine(RepositoryPaths.Root, "src", project, project + ".csproj");

    private static string PackageMd(string project) => Path.Combine(RepositoryPaths.Root, "src", project, "PACKAGE.md");

    private static string Relative(string project) => $"src/{project}/PACKAGE.md";

    private static string SimpleName(Type type) => type.Name.Split('`')[0];
}
