using System.Linq;
using Locksmith.Generators.Tests.Support;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Locksmith.Generators.Tests;

/// <summary>
/// Shapes a review found the generator mishandling: each either compiles with its wrappers (nullable enabled, every
/// warning an error) or is refused with exactly the diagnostic that says why, and no other.
/// </summary>
public sealed class AsyncWrapperEdgeCaseTests
{
    public static TheoryData<string, string> AcceptedShapes() => new()
    {
        {
            "lower-case type and type parameter names whose warning the user silenced (CS8981 is not repeated in generated code)",
            """
            using System.Threading.Tasks;
            using Locksmith;
            internal partial class Picker
            {
                private readonly ExclusiveLock _lock = new();
                private readonly AsyncExclusiveLock _async = new();
            #pragma warning disable CS8981 // the wrappers' own parameter 'timeout' must not clash with it either
                [Guarded(Lock = nameof(_lock))] private timeout PickCore<timeout>(timeout item) => item;
                [Guarded(Lock = nameof(_async))] private Task<timeout> FetchCoreAsync<timeout>(timeout item) => Task.FromResult(item);
            #pragma warning restore CS8981
                private int Callers() => Pick(1) + (TryPick("a", System.TimeSpan.Zero, out string? got) ? got!.Length : 0) + FetchAsync(2).Result;
            }
            #pragma warning disable CS8981
            internal partial class box<item>
            #pragma warning restore CS8981
            {
                private readonly ExclusiveLock _lock = new();
                [Guarded(Lock = nameof(_lock))] private int CountCore() => 0;
            }
            """
        },
        {
            "a namespace with a verbatim identifier (the hint name has no '@')",
            """
            using System.Threading.Tasks;
            using Locksmith;
            namespace Shop.@class;
            internal partial class Cart
            {
                private readonly AsyncExclusiveLock _lock = new();
                [Guarded(Lock = nameof(_lock))] private int _items = 3;
                [Guarded(Lock = nameof(_lock))] private Task<int> CountCoreAsync() => Task.FromResult(_items);
            }
            """
        },
        {
            "cores declared under #nullable disable (their wrappers stay oblivious, so enabled callers may pass null as to the cores)",
            """
            using System;
            using System.Threading.Tasks;
            using Locksmith;
            internal partial class Legacy
            {
                private readonly AsyncExclusiveLock _lock = new();
                private readonly ExclusiveLock _sync = new();
            #nullable disable
                [Guarded(Lock = nameof(_lock))] private Task<string> EchoCoreAsync(string text) => Task.FromResult(text);
                [Guarded(Lock = nameof(_sync))] private string NameCore(string text) => text;
                [Guarded(Lock = nameof(_sync))] private T PickCore<T>(T item) where T : class => item;
            #nullable enable
                [Guarded(Lock = nameof(_sync))]
            #nullable disable
                private string LabelCore(string text) => text;
            #nullable enable
                private async Task<int> CallersAsync()
                {
                    string? maybe = null;
                    string echoed = await EchoAsync(maybe);
                    var (taken, result) = await TryEchoAsync(TimeSpan.Zero, null);
                    string named = Name(null);
                    bool ok = TryName(null, TimeSpan.Zero, out string? got);
                    string? picked = Pick<string?>(null) ?? Label(null);
                    return echoed.Length + named.Length + (got?.Length ?? 0) + (picked?.Length ?? 0) + (ok && taken ? 1 : 0) + (result?.Length ?? 0);
                }
            }
            """
        },
        {
            "[MemberNotNull] on an async body (not carried: the wrapper returns at its first await)",
            """
            using System.Diagnostics.CodeAnalysis;
            using System.Threading.Tasks;
            using Locksmith;
            internal partial class Cache
            {
                private readonly AsyncExclusiveLock _lock = new();
                private string? _value;
                [Guarded(Lock = nameof(_lock))]
                [MemberNotNull(nameof(_value))]
                private Task LoadCoreAsync()
                {
                    _value ??= "loaded";
                    return Task.CompletedTask;
                }
            }
            """
        },
        {
            "[DoesNotReturn] on an async body",
            """
            using System;
            using System.Diagnostics.CodeAnalysis;
            using System.Threading.Tasks;
            using Locksmith;
            internal partial class Breaker
            {
                private readonly AsyncExclusiveLock _lock = new();
                [Guarded(Lock = nameof(_lock))]
                [DoesNotReturn]
                private Task TripCoreAsync() => throw new InvalidOperationException("tripped");
            }
            """
        },
        {
            "[NotNull] on a parameter of an async body (the timed form may return before the body runs)",
            """
            using System;
            using System.Diagnostics.CodeAnalysis;
            using System.Threading.Tasks;
            using Locksmith;
            internal partial class Index
            {
                private readonly AsyncExclusiveLock _lock = new();
                [Guarded(Lock = nameof(_lock))]
                private Task AddCoreAsync([NotNull] string? key)
                {
                    ArgumentNullException.ThrowIfNull(key);
                    return Task.CompletedTask;
                }
            }
            """
        },
        {
            "a body whose task is declared nullable (its async wrappers' tasks are not: callers await them without '!')",
            """
            using System.Threading.Tasks;
            using Locksmith;
            internal partial class Lookup
            {
                private readonly AsyncExclusiveLock _lock = new();
                [Guarded(Lock = nameof(_lock))] private Task<int>? FindCoreAsync() => Task.FromResult(1);
                [Guarded(Lock = nameof(_lock))] private Task? SaveCoreAsync() => Task.CompletedTask;
                [Guarded(Lock = nameof(_lock))] private Task<string?>? NameCoreAsync() => Task.FromResult<string?>("x");
                private async Task<int> Callers()
                {
                    await SaveAsync();
                    string? name = await NameAsync();
                    return await FindAsync() + (name?.Length ?? 0);
                }
            }
            """
        },
        {
            "a doc comment whose crefs need the source file's usings (the generated file has none)",
            """
            using System.Collections.Generic;
            using System.Threading.Tasks;
            using Locksmith;
            namespace Orders;
            internal partial class Book
            {
                private readonly AsyncExclusiveLock _lock = new();
                [Guarded(Lock = nameof(_lock))] private readonly List<int> _lines = new();

                /// <summary>Adds a line to the <see cref="List{T}"/> of lines, as <see cref="Dictionary{TKey, TValue}.Add(TKey, TValue)"/> would; see <see cref="CountCoreAsync"/>.</summary>
                /// <param name="line">The line.</param>
                [Guarded(Lock = nameof(_lock))]
                private Task AddCoreAsync(int line)
                {
                    _lines.Add(line);
                    return Task.CompletedTask;
                }

                /// <summary>How many lines the <see cref="List{T}"/> has.</summary>
                [Guarded(Lock = nameof(_lock))]
                private Task<int> CountCoreAsync() => Task.FromResult(_lines.Count);
            }
            """
        },
        {
            "[return: MaybeNull] on an async body",
            """
            using System.Diagnostics.CodeAnalysis;
            using System.Threading.Tasks;
            using Locksmith;
            internal partial class Store
            {
                private readonly AsyncExclusiveLock _lock = new();
                [Guarded(Lock = nameof(_lock))]
                [return: MaybeNull]
                private Task<T> GetCoreAsync<T>() => Task.FromResult(default(T)!);
            }
            """
        },
    };

    [Theory]
    [MemberData(nameof(AcceptedShapes))]
    public void AcceptedShape_AndItsWrappers_CompileWithWarningsAsErrors(string shape, string source)
    {
        var run = GeneratorHarness.RunStrict(source);

        var problems = Problems(run);
        Assert.True(problems.Count == 0, shape + ":\n" + Snapshot.Render(problems) + "\n" + string.Join("\n", run.Result.GeneratedTrees.Select(static t => t.ToString())));
        Assert.Contains(run.Result.GeneratedTrees, static t => t.ToString().Contains("async global::System.Threading.Tasks.ValueTask<", System.StringComparison.Ordinal));
    }

    [Fact]
    public void AnAsyncWrapperStartingWithTry_GetsATimedFormThatStillEndsInAsync()
    {
        string generated = GeneratedCleanly("""
            using System.Threading.Tasks;
            using Locksmith;
            internal partial class Catalog
            {
                private readonly AsyncExclusiveLock _lock = new();
                [Guarded(Lock = nameof(_lock))] private Task<bool> TryFindCoreAsync(int id) => Task.FromResult(id > 0);
            }
            """);
        Assert.Contains(" TryFindAsync(int id", generated, System.StringComparison.Ordinal);
        Assert.Contains(" TryFindWithinAsync(global::System.TimeSpan ", generated, System.StringComparison.Ordinal);
        Assert.DoesNotContain("AsyncWithin", generated, System.StringComparison.Ordinal);
    }

    /// <summary>
    /// A lock whose scope is released by a round trip of its own (IAsyncDisposable, not an in-process Locksmith scope, as
    /// a distributed lock's) is released with <c>await using</c>, so no thread blocks on it; in-process scopes keep
    /// <c>using</c>, whose release is synchronous.
    /// </summary>
    [Fact]
    public void AScopeReleasedByARoundTrip_IsReleasedWithAwaitUsing_AndInProcessScopesKeepUsing()
    {
        string generated = GeneratedCleanly("""
            using System;
            using System.Threading;
            using System.Threading.Tasks;
            using Locksmith;
            internal sealed class RemoteLock : IAsyncExclusiveAccessLock
            {
                public ValueTask<RemoteScope> AcquireAsync(CancellationToken cancellationToken = default) => new(new RemoteScope());
                public ValueTask<RemoteScope> TryAcquireAsync(TimeSpan timeout, CancellationToken cancellationToken = default) => new(new RemoteScope());
            }
            internal readonly struct RemoteScope : IDisposable, IAsyncDisposable
            {
                public bool IsAcquired => true;
                public void Dispose() { }
                public ValueTask DisposeAsync() => default;
            }
            internal partial class Report
            {
                private readonly RemoteLock _remote = new();
                private readonly AsyncExclusiveLock _local = new();
                [Guarded(Lock = nameof(_remote))] private Task<int> BuildCoreAsync(int day) => Task.FromResult(day);
                [Guarded(Lock = nameof(_local))] private Task<int> CountCoreAsync(int day) => Task.FromResult(day);
            }
            """);
        Assert.Equal(2, CountOf(generated, "var __scope = await this._remote."));
        Assert.Equal(2, CountOf(generated, "await using var __release = global::System.Threading.Tasks.TaskAsyncEnumerableExtensions.ConfigureAwait(__scope, false);"));
        Assert.Equal(2, CountOf(generated, "using var __scope = await this._local."));
        Assert.Equal(0, CountOf(generated, "using var __scope = await this._remote."));
    }

    /// <summary>
    /// How a form releases follows the scope of the very overload it calls: the throwing form calls
    /// <c>AcquireAsync(CancellationToken)</c>, whose scope is only IDisposable (using), though another
    /// <c>AcquireAsync</c> overload declared first returns an IAsyncDisposable one; the timed form's scope is only
    /// IAsyncDisposable (await using). Acquisitions given as extension methods are found as the call finds them.
    /// </summary>
    [Fact]
    public void EachFormReleasesAsTheScopeOfTheOverloadItCalls_AndExtensionAcquisitionsAreFound()
    {
        string generated = GeneratedCleanly("""
            using System;
            using System.Threading;
            using System.Threading.Tasks;
            using Locksmith;
            internal sealed class MixedLock : IAsyncExclusiveAccessLock
            {
                public Task<RemoteScope> AcquireAsync(TimeSpan timeout, CancellationToken cancellationToken = default) => Task.FromResult(new RemoteScope());
                public ValueTask<LocalScope> AcquireAsync(CancellationToken cancellationToken = default) => new(new LocalScope());
                public ValueTask<RemoteScope> TryAcquireAsync(TimeSpan timeout, CancellationToken cancellationToken = default) => new(new RemoteScope());
            }
            internal sealed class ExtendedLock : IAsyncExclusiveAccessLock
            {
            }
            internal readonly struct LocalScope : IDisposable
            {
                public void Dispose() { }
            }
            internal readonly struct RemoteScope : IAsyncDisposable
            {
                public bool IsAcquired => true;
                public ValueTask DisposeAsync() => default;
            }
            internal partial class Report
            {
                private readonly MixedLock _mixed = new();
                private readonly ExtendedLock _extended = new();
                [Guarded(Lock = nameof(_mixed))] private Task<int> BuildCoreAsync(int day) => Task.FromResult(day);
                [Guarded(Lock = nameof(_extended))] private Task<int> CountCoreAsync(int day) => Task.FromResult(day);
            }
            internal static class ExtendedLockAcquisitions
            {
                public static ValueTask<LocalScope> AcquireAsync(this ExtendedLock gate, CancellationToken cancellationToken = default) => new(new LocalScope());
                public static ValueTask<RemoteScope> TryAcquireAsync(this ExtendedLock gate, TimeSpan timeout, CancellationToken cancellationToken = default) => new(new RemoteScope());
            }
            """);
        Assert.Equal(1, CountOf(generated, "using var __scope = await this._mixed.AcquireAsync(cancellationToken)"));
        Assert.Equal(1, CountOf(generated, "var __scope = await this._mixed.TryAcquireAsync("));
        Assert.Equal(1, CountOf(generated, "using var __scope = await this._extended.AcquireAsync(cancellationToken)"));
        Assert.Equal(2, CountOf(generated, "await using var __release"));
    }

    private static int CountOf(string text, string part)
    {
        int count = 0;
        for (int at = text.IndexOf(part, System.StringComparison.Ordinal); at >= 0; at = text.IndexOf(part, at + part.Length, System.StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }

    [Fact]
    public void AnAsyncIterator_IsRefusedOnce()
    {
        var run = GeneratorHarness.RunStrict("""
            using System.Collections.Generic;
            using System.Threading.Tasks;
            using Locksmith;
            internal partial class Feed
            {
                private readonly AsyncExclusiveLock _lock = new();
                [Guarded(Lock = nameof(_lock))]
                private async IAsyncEnumerable<int> ReadCoreAsync()
                {
                    await Task.Yield();
                    yield return 1;
                }
            }
            """);

        var ours = run.LocksmithDiagnostics;
        Assert.True(ours.Length == 1 && ours[0].Id == "LSM0016", string.Join(", ", ours.Select(static d => d.Id + " " + d.GetMessage())));
    }

    public static TheoryData<string, string, string> RefusedShapes() => new()
    {
        {
            "a parameter of a type that allows ref structs",
            "LSM0016",
            """
            using System.Threading.Tasks;
            using Locksmith;
            internal partial class Parser
            {
                private readonly AsyncExclusiveLock _lock = new();
                [Guarded(Lock = nameof(_lock))] private Task<int> MeasureCoreAsync<T>(T value) where T : allows ref struct => Task.FromResult(1);
            }
            """
        },
        {
            "a nullable StripeBy parameter for non-nullable keys",
            "LSM0006",
            """
            using System.Threading.Tasks;
            using Locksmith;
            internal partial class Stock
            {
                private readonly AsyncStripedLock<string> _stripes = new();
                [Guarded(Lock = nameof(_stripes), StripeBy = nameof(sku))] private Task<int> CountCoreAsync(string? sku) => Task.FromResult(1);
            }
            """
        },
        {
            "a nullable StripeBy parameter for non-nullable keys, synchronous",
            "LSM0006",
            """
            using Locksmith;
            internal partial class Stock
            {
                private readonly StripedLock<string> _stripes = new();
                [Guarded(Lock = nameof(_stripes), StripeBy = nameof(sku))] private int CountCore(string? sku) => 1;
            }
            """
        },
        {
            "a nullable key parameter of a keyed [AcquiresLocksOf]",
            "LSM0018",
            """
            using System.Threading.Tasks;
            using Locksmith;
            internal partial class Bank
            {
                private readonly AsyncStripedLock<string> _accounts = new();
                [AcquiresLocksOf(nameof(from), nameof(to), Lock = nameof(_accounts))]
                private Task MoveCoreAsync(string? from, string to) => Task.CompletedTask;
            }
            """
        },
        {
            "an async body named for async wrappers on a thread-affine lock (no naming advice beside it)",
            "LSM0009",
            """
            using System.Threading.Tasks;
            using Locksmith;
            internal partial class Account
            {
                private readonly ExclusiveLock _lock = new();
                [Guarded(Lock = nameof(_lock))] private Task<int> GetCoreAsync() => Task.FromResult(1);
            }
            """
        },
        {
            "an async body on a counting semaphore (no naming advice beside it)",
            "LSM0010",
            """
            using System.Threading.Tasks;
            using Locksmith;
            internal partial class Pool
            {
                private readonly CountingSemaphore _permits = new(2, 2);
                [Guarded(Lock = nameof(_permits))] private Task<int> TakeCoreAsync() => Task.FromResult(1);
            }
            """
        },
        {
            "a private lock field of a base class (the derived type cannot use it)",
            "LSM0002",
            """
            using Locksmith;
            internal class Base
            {
                private readonly ExclusiveLock _lock = new();
                public override string ToString() => _lock.Name;
            }
            internal partial class Derived : Base
            {
                [Guarded(Lock = "_lock")] private void BumpCore() { }
            }
            """
        },
        {
            "a lock property without a getter",
            "LSM0002",
            """
            using Locksmith;
            internal partial class Holder
            {
                private ExclusiveLock _backing = new();
                private ExclusiveLock Gate { set => _backing = value; }
                [Guarded(Lock = nameof(Gate))] private void BumpCore() { }
                public override string ToString() => _backing.Name;
            }
            """
        },
        {
            "async void (no naming advice beside it)",
            "LSM0016",
            """
            using System.Threading.Tasks;
            using Locksmith;
            internal partial class Feed
            {
                private readonly AsyncExclusiveLock _lock = new();
                [Guarded(Lock = nameof(_lock))] private async void PushCoreAsync() => await Task.Yield();
            }
            """
        },
    };

    [Theory]
    [MemberData(nameof(RefusedShapes))]
    public void RefusedShape_GetsOnlyTheDiagnosticThatSaysWhy_AndNoWrapper(string shape, string id, string source)
    {
        var run = GeneratorHarness.RunStrict(source);

        var ours = run.LocksmithDiagnostics.Select(static d => d.Id).Distinct().ToList();
        Assert.True(ours.SequenceEqual([id]), shape + ": " + string.Join(", ", run.LocksmithDiagnostics.Select(static d => d.Id + " " + d.GetMessage())));
        Assert.DoesNotContain(run.Result.GeneratedTrees, static t => t.FilePath.EndsWith(".Locksmith.g.cs", System.StringComparison.Ordinal) && !t.FilePath.Contains("LockOrderManifest", System.StringComparison.Ordinal));
        var compilerProblems = run.CompilerDiagnostics.Where(static d => d.Severity >= DiagnosticSeverity.Warning).ToList();
        Assert.True(compilerProblems.Count == 0, shape + ":\n" + Snapshot.Render(compilerProblems));
    }

    /// <summary>Runs the generator strictly, asserts the output compiles with no problem at all, and returns the generated text.</summary>
    private static string GeneratedCleanly(string source)
    {
        var run = GeneratorHarness.RunStrict(source);
        var problems = Problems(run);
        Assert.True(problems.Count == 0, Snapshot.Render(problems));
        return string.Join("\n", run.Result.GeneratedTrees.Select(static t => t.ToString()));
    }

    private static System.Collections.Generic.List<Diagnostic> Problems(GeneratorRun run) => GeneratorHarness.AllProblems(run);
}
