using System.Linq;
using Locksmith.Generators.Tests.Support;
using Microsoft.CodeAnalysis;

namespace Locksmith.Generators.Tests;

/// <summary>
/// The timed async wrapper's <c>(bool Acquired, T Result)</c> over the result shapes and constraints users write, in a
/// strict build (nullable on, every warning an error): value types, tuples and constrained type parameters
/// (<c>struct</c>, <c>unmanaged</c>, <c>struct, Enum</c>) keep their type; reference types, arrays and type parameters
/// that may be references (<c>class?</c>, <c>notnull</c>, an interface, <c>new()</c>) get <c>?</c>; a <c>T?</c> result
/// keeps it; and none of them warns in the generated code or at a caller that tests <c>Acquired</c> and uses
/// <c>Result</c> with <c>!</c>.
/// </summary>
public sealed class TimedAsyncResultConstraintShapesTests
{
    private const string Source = """
        using System;
        using System.Collections.Generic;
        using System.Threading.Tasks;
        using Locksmith;

        namespace Shapes;

        public partial class Store<T, TS, TC, TN, TU, TK>
            where TS : struct where TC : class? where TN : notnull where TU : unmanaged where TK : IComparable<TK>
        {
            private readonly AsyncExclusiveLock _lock = new();
            [Guarded(Lock = nameof(_lock))] private T _t = default!;
            [Guarded(Lock = nameof(_lock))] private Task<T> ValueCoreAsync() => Task.FromResult(_t);
            [Guarded(Lock = nameof(_lock))] private Task<T?> MaybeCoreAsync() => Task.FromResult<T?>(_t);
            [Guarded(Lock = nameof(_lock))] private Task<TS> StructCoreAsync() => Task.FromResult(default(TS));
            [Guarded(Lock = nameof(_lock))] private Task<TC> ClassCoreAsync() => Task.FromResult(default(TC)!);
            [Guarded(Lock = nameof(_lock))] private Task<TN> NotNullCoreAsync() => Task.FromResult(default(TN)!);
            [Guarded(Lock = nameof(_lock))] private Task<TU> UnmanagedCoreAsync() => Task.FromResult(default(TU));
            [Guarded(Lock = nameof(_lock))] private Task<TK> ComparableCoreAsync() => Task.FromResult(default(TK)!);
            [Guarded(Lock = nameof(_lock))] private Task<TM> MadeCoreAsync<TM>() where TM : new() => Task.FromResult(new TM());
            [Guarded(Lock = nameof(_lock))] private Task<TE> EnumCoreAsync<TE>() where TE : struct, Enum => Task.FromResult(default(TE));
            [Guarded(Lock = nameof(_lock))] private Task<(string Name, T Item)> PairCoreAsync() => Task.FromResult(("a", _t));
            [Guarded(Lock = nameof(_lock))] private Task<string?[]> ArrayCoreAsync() => Task.FromResult(new string?[1]);
            [Guarded(Lock = nameof(_lock))] private ValueTask<int?> CountCoreAsync() => new((int?)null);
            [Guarded(Lock = nameof(_lock))] private Task<Dictionary<string, T>> MapCoreAsync() => Task.FromResult(new Dictionary<string, T>());

            public async Task<int> UseAsync()
            {
                var (acquired, array) = await TryArrayAsync(TimeSpan.FromSeconds(1));
                var (mapped, map) = await TryMapAsync(TimeSpan.FromSeconds(1));
                var pair = await TryPairAsync(TimeSpan.FromSeconds(1));
                var made = await TryMadeAsync<List<int>>(TimeSpan.FromSeconds(1));
                return (acquired ? array!.Length : 0) + (mapped ? map!.Count : 0) + (pair.Acquired ? pair.Result.Name.Length : 0) +
                    (made.Acquired ? made.Result!.Count : 0);
            }
        }
        """;

    [Fact]
    public void ResultElementsFollowTheirConstraintsAndCompileStrict()
    {
        var run = GeneratorHarness.RunStrict(Source);
        var problems = GeneratorHarness.AllProblems(run).Where(static d => d.Id != "CS1591").ToList();
        Assert.True(problems.Count == 0, Snapshot.Render(problems));

        string generated = run.GeneratedText;
        string[] expected =
        [
            "(bool Acquired, T? Result)> TryValueAsync(",
            "(bool Acquired, T? Result)> TryMaybeAsync(",
            "(bool Acquired, TS Result)> TryStructAsync(",
            "(bool Acquired, TC? Result)> TryClassAsync(",
            "(bool Acquired, TN? Result)> TryNotNullAsync(",
            "(bool Acquired, TU Result)> TryUnmanagedAsync(",
            "(bool Acquired, TK? Result)> TryComparableAsync(",
            "(bool Acquired, TM? Result)> TryMadeAsync<TM>(",
            "(bool Acquired, TE Result)> TryEnumAsync<TE>(",
            "(bool Acquired, (string Name, T Item) Result)> TryPairAsync(",
            "(bool Acquired, string?[]? Result)> TryArrayAsync(",
            "(bool Acquired, int? Result)> TryCountAsync(",
            "(bool Acquired, global::System.Collections.Generic.Dictionary<string, T>? Result)> TryMapAsync(",
        ];
        foreach (string signature in expected)
        {
            Assert.True(generated.Contains(signature, System.StringComparison.Ordinal), signature + "\n" + generated);
        }

        Assert.DoesNotContain("default!", generated, System.StringComparison.Ordinal);
    }
}
