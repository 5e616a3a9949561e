using System;
using BenchmarkDotNet.Attributes;
using Locksmith.Benchmarks.Harness;

namespace Locksmith.Benchmarks;

/// <summary>
/// Two threads lock random keys: one <see cref="ExclusiveLock"/> for all keys vs a 64-stripe
/// <see cref="StripedLock{TKey}"/>. Time is per operation; lower is more throughput.
/// </summary>
[MemoryDiagnoser]
public class StripedLockBenchmarks
{
    private const int Operations = 200_000;
    private const int KeyCount = 4_096;

    private readonly ExclusiveLock _single = new("single");
    private readonly StripedLock<int> _striped = new(64, "striped");
    private readonly long[] _values = new long[KeyCount * 8];
    private int[][] _keys = null!;
    private TwoThreads _threads = null!;
    private Action<int> _singleLoop = null!;
    private Action<int> _stripedLoop = null!;

    [GlobalSetup]
    public void Setup()
    {
        _threads = new TwoThreads();
        _keys = new int[2][];
        for (int t = 0; t < 2; t++)
        {
            var random = new Random(t + 1);
            _keys[t] = new int[Operations / 2];
            for (int i = 0; i < _keys[t].Length; i++)
            {
                _keys[t][i] = random.Next(KeyCount);
            }
        }

        _singleLoop = thread =>
        {
            int[] keys = _keys[thread];
            for (int i = 0; i < keys.Length; i++)
            {
                using var scope = _single.Acquire();
                _values[keys[i] * 8]++;
            }
        };
        _stripedLoop = thread =>
        {
            int[] keys = _keys[thread];
            for (int i = 0; i < keys.Length; i++)
            {
                int key = keys[i];
                using var scope = _striped.Acquire(key);
                _values[key * 8]++;
            }
        };
    }

    [GlobalCleanup]
    public void Cleanup() => _threads.Dispose();

    [Benchmark(Baseline = true, OperationsPerInvoke = Operations)]
    public void OneExclusiveLock_2Threads() => _threads.Run(_singleLoop);

    [Benchmark(OperationsPerInvoke = Operations)]
    public void StripedLock64_2Threads() => _threads.Run(_stripedLoop);
}
