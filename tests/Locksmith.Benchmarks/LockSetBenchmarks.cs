using BenchmarkDotNet.Attributes;

namespace Locksmith.Benchmarks;

/// <summary>Two locks taken together: by hand in the right order vs <see cref="LockSet"/> (uncontended).</summary>
[MemoryDiagnoser]
public class LockSetBenchmarks
{
    private readonly ExclusiveLock _from = new("from", level: 10);
    private readonly ExclusiveLock _to = new("to", level: 10);
    private readonly ExclusiveLock _first = new("first", level: 10);
    private readonly ExclusiveLock _second = new("second", level: 11);
    private long _counter;

    [Benchmark(Baseline = true)]
    public void ByHandInOrder()
    {
        using var a = _first.Acquire();
        using var b = _second.Acquire();
        _counter++;
    }

    [Benchmark]
    public void LockSetOfTwo()
    {
        using var scope = LockSet.Acquire(_to, _from);
        _counter++;
    }
}
