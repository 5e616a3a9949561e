using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Text.RegularExpressions;
using Locksmith.CodeFixes;
using Locksmith.Generators.Diagnostics;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeFixes;

namespace Locksmith.Generators.Tests;

/// <summary>
/// The code-fix assembly as the IDE loads it: every provider public, exported for C#, fixing Locksmith diagnostics
/// that exist, with a fix-all; and the README's diagnostics table marks exactly the IDs that have a fix.
/// </summary>
public sealed class CodeFixProvidersTests
{
    private static readonly List<Type> s_providers =
    [
        .. typeof(MakePartialCodeFixProvider).Assembly.GetTypes()
            .Where(static t => !t.IsAbstract && typeof(CodeFixProvider).IsAssignableFrom(t))
            .OrderBy(static t => t.Name, StringComparer.Ordinal),
    ];

    [Fact]
    public void EveryProvider_IsExportedForCSharp_FixesLocksmithDiagnostics_AndHasAFixAll()
    {
        var descriptorIds = typeof(DiagnosticDescriptors).GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(static f => f.FieldType == typeof(DiagnosticDescriptor))
            .Select(static f => ((DiagnosticDescriptor)f.GetValue(null)!).Id)
            .ToHashSet(StringComparer.Ordinal);

        Assert.Equal(7, s_providers.Count);
        foreach (var type in s_providers)
        {
            Assert.True(type.IsPublic && type.IsSealed, type.Name + " must be public and sealed: the IDE creates it from the package");
            var export = type.GetCustomAttribute<ExportCodeFixProviderAttribute>();
            Assert.NotNull(export);
            Assert.Equal([LanguageNames.CSharp], export.Languages);
            Assert.Equal(type.Name, export.Name);

            var provider = (CodeFixProvider)Activator.CreateInstance(type)!;
            Assert.NotEmpty(provider.FixableDiagnosticIds);
            Assert.All(provider.FixableDiagnosticIds, id => Assert.Contains(id, descriptorIds));
            Assert.NotNull(provider.GetFixAllProvider());
        }
    }

    [Fact]
    public void ReadmeTable_MarksExactlyTheIdsThatHaveACodeFix()
    {
        var fixable = s_providers
            .SelectMany(static t => ((CodeFixProvider)Activator.CreateInstance(t)!).FixableDiagnosticIds)
            .Order(StringComparer.Ordinal)
            .ToList();
        var marked = File.ReadAllLines(Path.Combine(RepositoryPaths.Root, "README.md"))
            .Select(static line => Regex.Match(line, @"^\| <a id=""lsm\d{4}""></a>(?<id>LSM\d{4}) \|.*\*\*Code fix\*\*"))
            .Where(static m => m.Success)
            .Select(static m => m.Groups["id"].Value)
            .Order(StringComparer.Ordinal)
            .ToList();

        Assert.Equal(["LSM0001", "LSM0008", "LSM0024", "LSM0031", "LSM0042", "LSM0053", "LSM0054", "LSM0059"], fixable);
        Assert.Equal(fixable, marked);
    }
}
