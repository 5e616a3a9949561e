using System;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using Locksmith.Benchmarks.Harness;

namespace Locksmith.Benchmarks;

/// <summary>
/// Two threads lock random keys: one <see cref="ExclusiveLock"/> for all keys vs a 64-stripe
/// <see cref="StripedLock{TKey}"/>, for int keys (4,096 of them) and for string keys (1,000 realistic keys such as
/// <c>customer:12345</c>, 8 to 24 chars). Each category has its own baseline. Keys are generated and shuffled in
/// <see cref="Setup"/>, so only the lock, the key's hash and a counter update are measured. Time is per
/// operation; lower is more throughput.
/// </summary>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class StripedLockBenchmarks
{
    private const int Operations = 200_000;
    private const int KeyCount = 4_096;
    private const int StringKeyCount = 1_000;

    private static readonly string[] s_prefixes = ["customer:", "order:", "user:", "session:", "acct-", "sku/", "tenant:eu-"];

    private readonly ExclusiveLock _single = new("single");
    private readonly StripedLock<int> _striped = new(64, "striped");
    private readonly StripedLock<string> _stripedStrings = new(64, "striped-strings");
    private readonly long[] _values = new long[KeyCount * 8];
    private int[][] _keys = null!;
    private string[][] _stringKeys = null!;
    private int[][] _stringSlots = null!;
    private TwoThreads _threads = null!;
    private Action<int> _singleLoop = null!;
    private Action<int> _stripedLoop = null!;
    private Action<int> _singleStringLoop = null!;
    private Action<int> _stripedStringLoop = null!;

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

        // 1,000 distinct realistic keys; each thread walks its own shuffled sequence of them, with the key's counter
        // slot beside it (a cache line per key, as for int keys).
        var keyRandom = new Random(42);
        var distinct = new System.Collections.Generic.HashSet<string>(StringComparer.Ordinal);
        while (distinct.Count < StringKeyCount)
        {
            string prefix = s_prefixes[keyRandom.Next(s_prefixes.Length)];
            int length = keyRandom.Next(Math.Max(8, prefix.Length + 1), 25);
            var chars = new char[length];
            prefix.CopyTo(0, chars, 0, prefix.Length);
            for (int i = prefix.Length; i < length; i++)
            {
                chars[i] = (char)('0' + keyRandom.Next(10));
            }

            distinct.Add(new string(chars));
        }

        string[] all = [.. distinct];
        _stringKeys = new string[2][];
        _stringSlots = new int[2][];
        for (int t = 0; t < 2; t++)
        {
            var random = new Random(t + 7);
            _stringKeys[t] = new string[Operations / 2];
            _stringSlots[t] = new int[Operations / 2];
            for (int i = 0; i < Operations / 2; i++)
            {
                int k = random.Next(StringKeyCount);
                _stringKeys[t][i] = all[k];
                _stringSlots[t][i] = k * 8;
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
        _singleStringLoop = thread =>
        {
            string[] keys = _stringKeys[thread];
            int[] slots = _stringSlots[thread];
            for (int i = 0; i < keys.Length; i++)
            {
                _ = keys[i];
                using var scope = _single.Acquire();
                _values[slots[i]]++;
            }
        };
        _stripedStringLoop = thread =>
        {
            string[] keys = _stringKeys[thread];
            int[] slots = _stringSlots[thread];
            for (int i = 0; i < keys.Length; i++)
            {
                using var scope = _stripedStrings.Acquire(keys[i]);
                _values[slots[i]]++;
            }
        };
    }

    [GlobalCleanup]
    public void Cleanup() => _threads.Dispose();

    [BenchmarkCategory("IntKeys")]
    [Benchmark(Baseline = true, OperationsPerInvoke = Operations)]
    public void OneExclusiveLock_2Threads() => _threads.Run(_singleLoop);

    [BenchmarkCategory("IntKeys")]
    [Benchmark(OperationsPerInvoke = Operations)]
    public void StripedLock64_2Threads() => _threads.Run(_stripedLoop);

    [BenchmarkCategory("StringKeys")]
    [Benchmark(Baseline = true, OperationsPerInvoke = Operations)]
    public void OneExclusiveLock_StringKeys_2Threads() => _threads.Run(_singleStringLoop);

    [BenchmarkCategory("StringKeys")]
    [Benchmark(OperationsPerInvoke = Operations)]
    public void StripedLock64_StringKeys_2Threads() => _threads.Run(_stripedStringLoop);

    // One thread walks both key arrays: the per-call cost of the keyed acquire (hash, stripe lookup) without any
    // parallelism, so the row holds even when the machine cannot run the two threads at once.
    [BenchmarkCategory("StringKeys1Thread")]
    [Benchmark(Baseline = true, OperationsPerInvoke = Operations)]
    public void OneExclusiveLock_StringKeys_1Thread()
    {
        _singleStringLoop(0);
        _singleStringLoop(1);
    }

    [BenchmarkCategory("StringKeys1Thread")]
    [Benchmark(OperationsPerInvoke = Operations)]
    public void StripedLock64_StringKeys_1Thread()
    {
        _stripedStringLoop(0);
        _stripedStringLoop(1);
    }
}
