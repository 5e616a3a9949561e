using System;
using System.Threading;
using System.Threading.Tasks;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using Locksmith.Postgres;
using Medallion.Threading.Postgres;

namespace Locksmith.Benchmarks;

/// <summary>
/// Distributed locks on the PostgreSQL server of LOCKSMITH_POSTGRES (the local default otherwise): <see cref="Flows"/>
/// async flows, each on a connection of its own, take one lock <c>Operations / Flows</c> times each, with
/// <c>await Task.Yield()</c> inside, so every acquisition after the first waits on the server for a real hand-off.
/// Reported time and bytes are per acquire+release.
/// </summary>
/// <remarks>
/// <para><c>Contended</c>: Locksmith's <see cref="PostgresExclusiveLock"/> against DistributedLock.Postgres's
/// <c>PostgresDistributedLock</c> (the baseline), both with default options, on the same server in the same run.
/// <c>Set</c>: an ordered two-key <see cref="PostgresLockSet"/> against one key of the same keyed lock (the baseline).</para>
/// <para>Round trips dominate (one to acquire, one to release, plus the pool's connection reset), so the rows are
/// noisy on a shared machine: compare ratios of one run.</para>
/// </remarks>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class PostgresLockBenchmarks
{
    private const int Operations = 200;

    private static readonly string s_connectionString =
        Environment.GetEnvironmentVariable("LOCKSMITH_POSTGRES") is { Length: > 0 } configured
            ? configured
            : "Host=127.0.0.1;Port=5432;Username=locksmith;Password=locksmith;Database=locksmith";

    private PostgresLockProvider _provider = null!;
    private PostgresExclusiveLock _exclusive = null!;
    private PostgresKeyedLock<int> _keyed = null!;
    private PostgresLockRequest[] _twoKeys = null!;
    private PostgresDistributedLock _peer = null!;
    private Func<Task> _locksmithFlow = null!;
    private Func<Task> _peerFlow = null!;
    private Func<Task> _oneKeyFlow = null!;
    private Func<Task> _twoKeyFlow = null!;
    private Task[] _tasks = null!;
    private long _counter;

    /// <summary>How many flows (connections) contend.</summary>
    [Params(4)]
    public int Flows { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _provider = new PostgresLockProvider(new PostgresLockProviderOptions
        {
            ConnectionString = s_connectionString,
            ConnectionBudget = 2 * Flows,
            DefaultTimeout = TimeSpan.FromSeconds(60),
        });
        _exclusive = _provider.CreateExclusiveLock("bench-pg-exclusive");
        _keyed = _provider.CreateKeyedLock<int>("bench-pg-keys");
        _twoKeys = [_keyed.Request(2), _keyed.Request(1)];
        _peer = new PostgresDistributedLock(new PostgresAdvisoryLockKey("bench-pg-peer", allowHashing: true), s_connectionString);
        _tasks = new Task[Flows];
        int rounds = Operations / Flows;
        _locksmithFlow = async () =>
        {
            for (int i = 0; i < rounds; i++)
            {
                await using (await _exclusive.AcquireAsync())
                {
                    _counter++;
                    await Task.Yield();
                }
            }
        };
        _peerFlow = async () =>
        {
            for (int i = 0; i < rounds; i++)
            {
                await using (await _peer.AcquireAsync())
                {
                    _counter++;
                    await Task.Yield();
                }
            }
        };
        _oneKeyFlow = async () =>
        {
            for (int i = 0; i < rounds; i++)
            {
                await using (await _keyed.AcquireAsync(1))
                {
                    _counter++;
                    await Task.Yield();
                }
            }
        };
        _twoKeyFlow = async () =>
        {
            for (int i = 0; i < rounds; i++)
            {
                await using (await PostgresLockSet.AcquireAsync(_twoKeys))
                {
                    _counter++;
                    await Task.Yield();
                }
            }
        };

        // Every lock must really exclude: a lost increment means two flows were inside at once.
        foreach (var flow in new[] { _locksmithFlow, _peerFlow, _oneKeyFlow, _twoKeyFlow })
        {
            _counter = 0;
            Run(flow).GetAwaiter().GetResult();
            if (_counter != rounds * Flows)
            {
                throw new InvalidOperationException($"Lost increments: {_counter} of {rounds * Flows}.");
            }
        }
    }

    [GlobalCleanup]
    public void Cleanup() => _provider.Dispose();

    [Benchmark(Baseline = true, OperationsPerInvoke = Operations)]
    [BenchmarkCategory("Contended")]
    public Task DistributedLockPostgres() => Run(_peerFlow);

    [Benchmark(OperationsPerInvoke = Operations)]
    [BenchmarkCategory("Contended")]
    public Task LocksmithPostgresExclusiveLock() => Run(_locksmithFlow);

    [Benchmark(Baseline = true, OperationsPerInvoke = Operations)]
    [BenchmarkCategory("Set")]
    public Task OneKey() => Run(_oneKeyFlow);

    [Benchmark(OperationsPerInvoke = Operations)]
    [BenchmarkCategory("Set")]
    public Task TwoKeysOrdered() => Run(_twoKeyFlow);

    private Task Run(Func<Task> flow)
    {
        for (int i = 0; i < _tasks.Length; i++)
        {
            _tasks[i] = Task.Run(flow);
        }

        return Task.WhenAll(_tasks);
    }
}
