using System.Linq;
using Locksmith.Generators.Tests.Support;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Locksmith.Generators.Tests;

/// <summary>
/// A .NET 10 project may set an older LangVersion. From C# 8 on, the wrappers compile without a warning (before C# 13,
/// LockSet gets its locks as an array where its params-span overloads would be called); before C# 8 a method gets
/// no wrappers but LSM0055, which says which setting to change.
/// </summary>
public sealed class LanguageVersionTests
{
    private const string LockSets = """
        using System.Threading;
        using System.Threading.Tasks;
        using Locksmith;
        namespace N
        {
            public partial class Acct
            {
                [LockOrder(3)] private readonly ExclusiveLock _lock = new ExclusiveLock();
                private readonly ReadWriteLock _rw = new ReadWriteLock();
                private readonly AsyncExclusiveLock _async = new AsyncExclusiveLock();
                private readonly AsyncReadWriteLock _arw = new AsyncReadWriteLock();
                private readonly AsyncStripedLock<string> _keys = new AsyncStripedLock<string>();
                [AcquiresLocksOf(nameof(a), nameof(b), nameof(c), Lock = nameof(_lock), TimeoutMilliseconds = 100)] private static void RotateCore(Acct a, Acct b, Acct c) { }
                [AcquiresLocksOf(nameof(a), nameof(b), nameof(c), Lock = nameof(_rw))] private static void ThreeCore(Acct a, Acct b, Acct c) { }
                [AcquiresLocksOf(nameof(a), nameof(b), Lock = nameof(_lock))] private static int PairCore(Acct a, Acct b, params int[] rest) => rest.Length;
                [AcquiresLocksOf(nameof(a), nameof(b), Lock = nameof(_async), TimeoutMilliseconds = 100)] private static Task SwapCoreAsync(Acct a, Acct b) => Task.CompletedTask;
                [AcquiresLocksOf(nameof(a), nameof(b), nameof(c), Lock = nameof(_arw))] private static Task<int> SumCoreAsync(Acct a, Acct b, Acct c, CancellationToken ct) => Task.FromResult(1);
                [AcquiresLocksOf(nameof(x), nameof(y), Lock = nameof(_keys), TimeoutMilliseconds = 100)] private Task MoveCoreAsync(string x, string y) => Task.CompletedTask;
            }
        }
        """;

    /// <summary>Every [AcquiresLocksOf] call shape (two or three locks, timed or not, sync, async, keyed) compiles from C# 8 on.</summary>
    [Theory]
    [InlineData(LanguageVersion.CSharp8)]
    [InlineData(LanguageVersion.CSharp9)]
    [InlineData(LanguageVersion.CSharp11)]
    [InlineData(LanguageVersion.CSharp12)]
    [InlineData(LanguageVersion.CSharp13)]
    public void LockSetShapes_CompileWithoutWarnings(LanguageVersion version)
    {
        var (run, _) = Run(LockSets, version);

        var problems = GeneratorHarness.CompileProblems(run).Concat(run.LocksmithDiagnostics).ToList();
        Assert.True(problems.Count == 0, version + ":\n" + Snapshot.Render(problems) + "\n" + run.GeneratedText);
        Assert.Contains(run.Result.GeneratedTrees, static t => t.FilePath.EndsWith("N.Acct.Locksmith.g.cs", System.StringComparison.Ordinal));
    }

    /// <summary>C# 7.3 has no using declarations nor nullable annotations: LSM0055 on each method, and no generated code in error.</summary>
    [Fact]
    public void LSM0055_BeforeCSharp8_NoWrappers()
    {
        var (source, expected) = Markup.Parse("""
            using System.Threading.Tasks;
            using Locksmith;
            public partial class Account
            {
                private readonly ExclusiveLock _lock = new ExclusiveLock();
                private readonly AsyncExclusiveLock _async = new AsyncExclusiveLock();
                [Guarded(Lock = nameof(_lock))] private int _balance;
                [Guarded(Lock = nameof(_lock))] private void {|LSM0055:DepositCore|}(int amount) { _balance += amount; }
                [Guarded(Lock = nameof(_async))] private Task {|LSM0055:SaveCoreAsync|}() { return Task.CompletedTask; }
                [AcquiresLocksOf(nameof(a), nameof(b), Lock = nameof(_lock))] private static void {|LSM0055:MoveCore|}(Account a, Account b) { }
            }
            """);
        var (run, compileProblems) = Run(source, LanguageVersion.CSharp7_3);

        Assert.Equal(
            expected.Select(static e => (e.Id, e.Span)).OrderBy(static e => e.Span.Start),
            run.LocksmithDiagnostics.Select(static d => (d.Id, d.Location.SourceSpan)).OrderBy(static e => e.SourceSpan.Start));
        Assert.True(compileProblems.Count == 0, Snapshot.Render(compileProblems) + "\n" + run.GeneratedText);
        Snapshot.VerifyText("diagnostics", Snapshot.Render(run.LocksmithDiagnostics));
    }

    private static (GeneratorRun Run, System.Collections.Generic.List<Diagnostic> CompileProblems) Run(string source, LanguageVersion version)
    {
        var parse = new CSharpParseOptions(version, DocumentationMode.None);
        var compilation = TestCompilation.Create().AddSyntaxTrees(CSharpSyntaxTree.ParseText(source, parse, "Source0.cs"));
        compilation = compilation.WithOptions(compilation.Options
            .WithGeneralDiagnosticOption(ReportDiagnostic.Error)
            .WithNullableContextOptions(version < LanguageVersion.CSharp8 ? NullableContextOptions.Disable : NullableContextOptions.Enable));
        var driver = CSharpGeneratorDriver.Create([new Locksmith.Generators.Guarded.GuardedGenerator().AsSourceGenerator()], parseOptions: parse);
        var run = GeneratorHarness.Run(compilation, driver);
        return (run, GeneratorHarness.CompileProblems(run));
    }
}
