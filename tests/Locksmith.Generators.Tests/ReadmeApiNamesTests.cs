using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;

namespace Locksmith.Generators.Tests;

/// <summary>
/// The public API that README.md names in inline code exists: every <c>`Type.Member`</c> whose type is a public Locksmith
/// type; every <c>`new X(…)`</c> of one (written-out parameters by name, order and optionality; arguments by count and
/// name); and in the tables of the runtime's primitives (<c>| type | constructors | acquire … |</c>) every member a row
/// names for its type; and Hosting's tables of settings and event ids. Read from the built assemblies, so inherited members and extension methods count, as for a user.
/// </summary>
public sealed class ReadmeApiNamesTests
{
    private static readonly Assembly[] s_assemblies =
    [
        typeof(ExclusiveLock).Assembly, typeof(Locksmith.Hosting.LocksmithOptions).Assembly,
        typeof(Locksmith.Postgres.PostgresLockProvider).Assembly, typeof(Locksmith.Testing.Scenario).Assembly,
    ];

    private static readonly Dictionary<string, Type[]> s_types = s_assemblies
        .SelectMany(static a => a.GetExportedTypes())
        .GroupBy(static t => SimpleName(t))
        .ToDictionary(static g => g.Key, static g => g.ToArray(), StringComparer.Ordinal);

    // The BCL types the tables mention beside Locksmith's (exceptions, ValueTask<…>): not members.
    private static readonly Assembly[] s_bcl = [typeof(object).Assembly, typeof(System.Threading.Monitor).Assembly, typeof(System.Threading.Lock).Assembly];

    private static readonly Regex s_qualified = new(@"(?<![\w.])(?<type>[A-Z]\w*)(?:<[^<>`]*>)?\.(?<member>[A-Z]\w*)", RegexOptions.CultureInvariant);

    private static readonly Regex s_memberSpan = new(@"^(?:(?:bool|void)\s+)?(?<name>[A-Z]\w*)(?:<[^<>]*>)?(?:\(|…|$)", RegexOptions.CultureInvariant);

    private static readonly Regex s_constructor = new(@"^new (?<type>[A-Z]\w*)(?:<[^<>]*>)?\((?<parameters>.*)\)$", RegexOptions.CultureInvariant);

    [Fact]
    public void QualifiedNames_OfLocksmithTypes_AreTheirMembers()
    {
        var missing = new List<string>();
        int checkedNames = 0;
        foreach (var (line, span) in CodeSpans(ReadmeLines()))
        {
            foreach (Match match in s_qualified.Matches(span))
            {
                if (!s_types.TryGetValue(match.Groups["type"].Value, out var types))
                {
                    continue;
                }

                checkedNames++;
                if (!types.Any(t => HasMember(t, match.Groups["member"].Value)))
                {
                    missing.Add($"README.md line {line}: `{span}` names {match.Value}, which is not public API");
                }
            }
        }

        Assert.True(checkedNames > 50, $"Only {checkedNames} qualified names found: is README still read?");
        Assert.True(missing.Count == 0, string.Join("\n", missing));
    }

    [Fact]
    public void PrimitiveTables_NameMembersTheirTypesHave()
    {
        string[] lines = ReadmeLines();
        var missing = new List<string>();
        int rows = 0;
        for (int i = 0; i < lines.Length; i++)
        {
            if (!lines[i].StartsWith("| type | constructors |", StringComparison.Ordinal))
            {
                continue;
            }

            for (int r = i + 2; r < lines.Length && lines[r].StartsWith('|'); r++)
            {
                var cells = Cells(lines[r]);
                var rowTypes = Spans(cells[0]).SelectMany(static s => s_types.GetValueOrDefault(s.Split('<', ' ')[0], [])).ToList();
                Assert.True(rowTypes.Count > 0, $"README.md line {r + 1}: the row names no Locksmith type: {cells[0]}");
                rows++;

                foreach (string cell in cells.Skip(2))
                {
                    // A member may belong to a type the cell names (`CountingSemaphore.Scope` … `Count`).
                    var owners = rowTypes.Concat(Spans(cell).SelectMany(QualifiedTypes)).ToList();
                    foreach (string span in Spans(cell))
                    {
                        var member = s_memberSpan.Match(span);
                        string name = member.Groups["name"].Value;
                        if (!member.Success || s_types.ContainsKey(name) || IsBclType(name))
                        {
                            continue;
                        }

                        bool prefix = span.StartsWith(name + "…", StringComparison.Ordinal);
                        if (!owners.Any(t => prefix ? HasMemberStartingWith(t, name) : HasMember(t, name)))
                        {
                            missing.Add($"README.md line {r + 1}: `{span}` is no public member of {string.Join(", ", rowTypes.Select(SimpleName).Distinct())}");
                        }
                    }
                }
            }
        }

        Assert.True(rows >= 15, $"Only {rows} rows in the primitives' tables.");
        Assert.True(missing.Count == 0, string.Join("\n", missing));
    }

    [Fact]
    public void Constructors_MatchAPublicOne()
    {
        var missing = new List<string>();
        int constructors = 0;
        foreach (var (line, span) in CodeSpans(ReadmeLines()))
        {
            var ctor = s_constructor.Match(span);
            if (!ctor.Success || !s_types.TryGetValue(ctor.Groups["type"].Value, out var types) || ctor.Groups["parameters"].Value == "…")
            {
                continue;
            }

            constructors++;
            if (!HasConstructor(types, ctor.Groups["parameters"].Value))
            {
                missing.Add($"README.md line {line}: `{span}` matches no public constructor of {ctor.Groups["type"].Value}");
            }
        }

        Assert.True(constructors >= 25, $"Only {constructors} constructors found in README.");
        Assert.True(missing.Count == 0, string.Join("\n", missing));
    }

    /// <summary>Hosting's two reference tables list exactly the settings of <c>LocksmithOptions</c> and the constants of
    /// <c>LocksmithEventIds</c> (name and number), no more and no fewer.</summary>
    [Fact]
    public void HostingTables_ListEverySettingAndEventId()
    {
        string[] lines = ReadmeLines();

        var keys = TableRows(lines, "| key | default | what |").Select(static cells => Spans(cells[0]).Single()).Order(StringComparer.Ordinal);
        var settings = typeof(Locksmith.Hosting.LocksmithOptions).GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(static p => p.SetMethod?.IsPublic == true)
            .Select(static p => p.Name)
            .Order(StringComparer.Ordinal);
        Assert.Equal(settings, keys);

        var events = TableRows(lines, "| EventId | name | level | when | structured fields |")
            .Select(static cells => $"{Spans(cells[1]).Single()} = {cells[0]}")
            .Order(StringComparer.Ordinal);
        var constants = typeof(Locksmith.Hosting.LocksmithEventIds).GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(static f => f.IsLiteral)
            .Select(static f => $"{f.Name} = {f.GetRawConstantValue()}")
            .Order(StringComparer.Ordinal);
        Assert.Equal(constants, events);
    }

    private static List<List<string>> TableRows(string[] lines, string header)
    {
        int start = Array.IndexOf(lines, header);
        Assert.True(start >= 0, $"README.md has no table headed {header}");
        var rows = new List<List<string>>();
        for (int r = start + 2; r < lines.Length && lines[r].StartsWith('|'); r++)
        {
            rows.Add(Cells(lines[r]));
        }

        return rows;
    }

    /// <summary>Parameters written out (<c>int a, string? b = null</c>) must be a public constructor's, by name and in order
    /// (the caller-info parameters the constructors end with stay unwritten), optional where README gives a default;
    /// arguments (<c>"accounts", level: 10</c>) must fit one, named ones by name.</summary>
    private static bool HasConstructor(IEnumerable<Type> types, string parameters)
    {
        string[] parts = parameters.Length == 0 ? [] : SplitTopLevel(parameters);
        bool declared = parts.All(static p => Regex.IsMatch(p.Split('=')[0].Trim(), @"^[\w.<>?,\[\] ]+\s+\w+$"));
        return types.SelectMany(static t => t.GetConstructors()).Any(c =>
        {
            var ps = c.GetParameters();
            var callerInfo = ps.Where(static p => p.GetCustomAttributes().Any(static a => a.GetType().Namespace == typeof(CallerMemberNameAttribute).Namespace && a.GetType().Name.StartsWith("Caller", StringComparison.Ordinal))).Count();
            if (declared)
            {
                string[] names = [.. parts.Select(static p => p.Split('=')[0].Trim().Split(' ')[^1])];
                return names.Length == ps.Length - callerInfo
                    && names.SequenceEqual(ps.Take(names.Length).Select(static p => p.Name!))
                    && parts.Select(static p => p.Contains('=')).SequenceEqual(ps.Take(names.Length).Select(static p => p.IsOptional));
            }

            var named = parts.Where(static p => Regex.IsMatch(p, @"^\w+\s*:")).Select(static p => p.Split(':')[0].Trim()).ToList();
            int positional = parts.Length - named.Count;
            return positional <= ps.Length
                && named.All(n => ps.Skip(positional).Any(p => p.Name == n))
                && ps.Skip(positional).Where(p => !named.Contains(p.Name!)).All(static p => p.IsOptional);
        });
    }

    private static string[] SplitTopLevel(string text)
    {
        var parts = new List<string>();
        int depth = 0, start = 0;
        for (int i = 0; i < text.Length; i++)
        {
            depth += text[i] is '<' or '(' or '[' ? 1 : text[i] is '>' or ')' or ']' ? -1 : 0;
            if (text[i] == ',' && depth == 0)
            {
                parts.Add(text[start..i].Trim());
                start = i + 1;
            }
        }

        parts.Add(text[start..].Trim());
        return [.. parts];
    }

    private static IEnumerable<Type> QualifiedTypes(string span) =>
        s_qualified.Matches(span).SelectMany(static m => s_types.GetValueOrDefault(m.Groups["type"].Value, [])
            .Select(t => t.GetNestedType(m.Groups["member"].Value))
            .OfType<Type>()
            .Concat(s_types.GetValueOrDefault(m.Groups["type"].Value, [])));

    private static bool HasMember(Type type, string name) =>
        type.GetMember(name, MemberTypes.All, BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static | BindingFlags.FlattenHierarchy).Length > 0
        || type.GetInterfaces().Any(i => HasMember(i, name))
        || Extensions(name).Any(m => m.GetParameters()[0].ParameterType is var p && (p.IsAssignableFrom(type) || p.IsGenericParameter || p.IsGenericType && type.IsGenericType && p.GetGenericTypeDefinition() == type.GetGenericTypeDefinition()));

    private static bool HasMemberStartingWith(Type type, string prefix) =>
        type.GetMembers(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static | BindingFlags.FlattenHierarchy)
            .Any(m => m.Name.StartsWith(prefix, StringComparison.Ordinal));

    private static IEnumerable<MethodInfo> Extensions(string name) =>
        s_assemblies.SelectMany(static a => a.GetExportedTypes())
            .Where(static t => t.IsAbstract && t.IsSealed)
            .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.Static))
            .Where(m => m.Name == name && m.IsDefined(typeof(ExtensionAttribute)));

    private static bool IsBclType(string name) =>
        s_bcl.Any(a => a.GetExportedTypes().Any(t => SimpleName(t) == name));

    private static string SimpleName(Type type) => type.Name.Split('`')[0];

    /// <summary>The table's cells, split at the bars outside code spans.</summary>
    private static List<string> Cells(string row)
    {
        var cells = new List<string>();
        bool inCode = false;
        int start = 1;
        for (int i = 1; i < row.Length; i++)
        {
            inCode ^= row[i] == '`';
            if (row[i] == '|' && !inCode && row[i - 1] != '\\')
            {
                cells.Add(row[start..i].Trim());
                start = i + 1;
            }
        }

        return cells;
    }

    private static IEnumerable<string> Spans(string text) =>
        Regex.Matches(text, "`([^`]+)`").Select(static m => m.Groups[1].Value);

    private static IEnumerable<(int Line, string Span)> CodeSpans(string[] lines)
    {
        bool inBlock = false;
        for (int i = 0; i < lines.Length; i++)
        {
            if (lines[i].StartsWith("```", StringComparison.Ordinal))
            {
                inBlock = !inBlock;
                continue;
            }

            if (!inBlock)
            {
                foreach (string span in Spans(lines[i]))
                {
                    yield return (i + 1, span);
                }
            }
        }
    }

    private static string[] ReadmeLines() => File.ReadAllLines(Path.Combine(RepositoryPaths.Root, "README.md"));
}
