using System;
using System.Collections.Generic;
using System.Linq;
using Locksmith.Generators.Tests.Support;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Locksmith.Generators.Tests;

/// <summary>
/// The two declarations of a partial method may differ in parameter names and nullable annotations (the compiler warns,
/// CS8826, CS8611, CS8819, on the user's declarations). Callers see the defining declaration, and so do the wrappers:
/// its names, which the attributes' nameof names too, and its types, whichever declaration carries the attribute. The
/// generated code compiles without a warning, and the analyzers read the body's parameters by position.
/// </summary>
public sealed class PartialMethodPartsTests
{
    private const string Source = """
        using System.Threading.Tasks;
        using Locksmith;
        namespace N;
        /// <summary>Partial bodies whose declarations differ.</summary>
        public sealed partial class P
        {
            private readonly ExclusiveLock _lock = new();
            private readonly AsyncExclusiveLock _async = new();
            private readonly StripedLock<string> _stripes = new();
            [Guarded(Lock = nameof(_lock))] private int _count;
            [Guarded(Lock = nameof(_lock))] private int CountCore() => _count;

            /// <summary>Echoes.</summary>
            /// <param name="text">The text.</param>
            /// <returns>It.</returns>
            private partial string EchoCore(string text);
            [Guarded(Lock = nameof(_lock))] private partial string EchoCore(string? value) => value ?? "";

            private partial string? FindCore(string key);
            [Guarded(Lock = nameof(_lock))] private partial string FindCore(string key) => key;

            private partial void TakeCore(string? key);
            [Guarded(Lock = nameof(_lock))] private partial void TakeCore(string key) { }

            private partial void OutCore(out string? key);
            [Guarded(Lock = nameof(_lock))] private partial void OutCore(out string key) { key = "o"; }

            private partial Task<string?> GetCoreAsync(string? key);
            [Guarded(Lock = nameof(_async))] private partial Task<string> GetCoreAsync(string key) => Task.FromResult(key);

            private partial int StripeCore(string key);
            [Guarded(Lock = nameof(_stripes), StripeBy = nameof(key))] private partial int StripeCore(string? k) => k?.Length ?? 0;

            [AcquiresLocksOf(nameof(from), nameof(to), Lock = nameof(_lock))] private static partial void MoveCore(P from, P to);
            private static partial void MoveCore(P a, P b) { a._count--; b._count++; }

            /// <summary>Calls the wrappers.</summary>
            /// <returns>What they returned.</returns>
            public async Task<string> Run()
            {
                Take(key: "t");
                Out(out string? o);
                Move(from: this, to: new P());
                return Echo(text: null!) + "|" + Find(key: "f") + "|" + o + "|" + await GetAsync(key: "g") + "|" + Stripe(key: "abc") + "|" + Count();
            }
        }
        """;

    [Fact]
    public async System.Threading.Tasks.Task WrappersTakeTheDefiningDeclarationsSignature_AndCompileWithoutAWarning()
    {
        var compilation = TestCompilation.Create(Source);
        compilation = compilation.WithOptions(compilation.Options.WithNullableContextOptions(NullableContextOptions.Enable));
        var run = GeneratorHarness.Run(compilation);

        Assert.True(run.LocksmithDiagnostics.IsEmpty, Snapshot.Render(run.LocksmithDiagnostics));
        var generated = run.CompilerDiagnostics
            .Where(static d => d.Severity >= DiagnosticSeverity.Warning && d.Location.SourceTree?.FilePath.EndsWith(".g.cs", StringComparison.Ordinal) == true)
            .ToList();
        Assert.True(generated.Count == 0, Snapshot.Render(generated) + "\n" + run.GeneratedText);

        // The user's own declarations carry the compiler's warnings about the differences, and nothing else.
        var user = run.CompilerDiagnostics.Where(static d => d.Severity >= DiagnosticSeverity.Warning).Select(static d => d.Id).Distinct().Order(StringComparer.Ordinal);
        Assert.Equal(["CS8611", "CS8819", "CS8826"], user);

        string wrappers = run.GeneratedText;
        Assert.Contains("public string Echo(string text)", wrappers, StringComparison.Ordinal);
        Assert.Contains("/// <param name=\"text\">The text.</param>", wrappers, StringComparison.Ordinal);
        Assert.Contains("public string? Find(string key)", wrappers, StringComparison.Ordinal);
        Assert.Contains("public void Take(string? key)", wrappers, StringComparison.Ordinal);

        using var loaded = LoadedAssembly.Load(run, "partial-parts");
        var p = loaded.Create("N.P");
        var task = (System.Threading.Tasks.Task<string>)p.GetType().GetMethod("Run")!.Invoke(p, null)!;
        Assert.Equal("|f|o|g|3|-1", await task);
    }

    /// <summary>The analyzers find the body's parameters by position: LSM0023 and LSM0020 see the names of the declaration [AcquiresLocksOf] is not on.</summary>
    [Fact]
    public void AnalyzersReadThePartialBodysParametersByPosition() => DiagnosticCheck.Verify("""
        using Locksmith;
        public sealed partial class Box
        {
            private readonly ExclusiveLock _lock = new();
            [Guarded(Lock = nameof(_lock))] private int _count;

            [AcquiresLocksOf(nameof(from), nameof(to), Lock = nameof(_lock))] private static partial void MoveCore(Box from, Box to);
            private static partial void MoveCore(Box a, Box b) { a._count--; b._count++; {|LSM0023:a.Peek()|}; }

            private static partial void SwapCore(Box left, Box right);
            [AcquiresLocksOf(nameof(left), nameof(right), Lock = nameof(_lock))] private static partial void SwapCore(Box x, Box y) { x._count++; {|LSM0023:y.Peek()|}; }

            [Guarded(Lock = nameof(_lock))] private int PeekCore() => _count;
            [Guarded(Lock = nameof(_lock))] private void GiveCore(Box other) { {|LSM0023:Move(this, other)|}; {|LSM0023:Swap(left: other, right: this)|}; }
        }
        """);

    /// <summary>An iterator is refused (LSM0016) whichever declaration [Guarded] is on: the body is the implementing one's.</summary>
    [Fact]
    public void AnIteratorBody_IsRefused_WhenGuardedOnTheDefiningDeclaration() => DiagnosticCheck.Verify("""
        using System.Collections.Generic;
        using Locksmith;
        public partial class Shelf
        {
            private readonly ExclusiveLock _lock = new();
            [Guarded(Lock = nameof(_lock))] private partial IEnumerable<int> {|LSM0016:ItemsCore|}();
            private partial IEnumerable<int> ItemsCore() { yield return 1; }
            private partial IEnumerable<int> RowsCore();
            [Guarded(Lock = nameof(_lock))] private partial IEnumerable<int> {|LSM0016:RowsCore|}() { yield return 1; }
            [Guarded(Lock = nameof(_lock))] private partial IEnumerable<int> ListCore();
            private partial IEnumerable<int> ListCore() => new List<int> { 1 };
        }
        """);
}
