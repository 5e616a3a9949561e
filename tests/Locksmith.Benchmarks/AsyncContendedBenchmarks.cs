using System;
using System.Threading;
using System.Threading.Tasks;
using BenchmarkDotNet.Attributes;
using DotNextLock = DotNext.Threading.AsyncExclusiveLock;
using NitoLock = Nito.AsyncEx.AsyncLock;
using VsSemaphore = Microsoft.VisualStudio.Threading.AsyncSemaphore;

namespace Locksmith.Benchmarks;

/// <summary>
/// <see cref="Flows"/> async flows share one lock; each runs <c>Operations / Flows</c> rounds of: await the lock,
/// increment a counter, <c>await Task.Yield()</c>, release. Each invocation is <see cref="Operations"/> rounds in
/// all, so the reported time and bytes are per acquire+release.
/// </summary>
/// <remarks>
/// <para>The yield inside the critical section is what makes every acquisition a real hand-off: the holder is
/// suspended on the thread pool while it holds the lock, so by the time it releases, the other flows have found the
/// lock taken and queued, and the release grants it to the longest waiter whose continuation then runs on the pool.
/// Without it a tiny section is a few nanoseconds long and a flow's whole share takes well under a millisecond, less
/// than the start-up skew of pool threads on a busy 2-core machine, so the rows would mostly measure who started
/// first.</para>
/// <para>The yield costs the same for every lock: the <c>Flows = 1</c> row is the yield plus an uncontended
/// acquire+release, and the rows above it minus that row are the cost of the hand-off.</para>
/// </remarks>
[MemoryDiagnoser]
public class AsyncContendedBenchmarks
{
    private const int Operations = 20_000;

    private readonly SemaphoreSlim _semaphore = new(1, 1);
    private readonly AsyncExclusiveLock _locksmith = new("bench-async-contended");
    private readonly NitoLock _nito = new();
    private readonly DotNextLock _dotNext = new();
    private readonly VsSemaphore _vs = new(1);
    private Func<Task> _semaphoreFlow = null!;
    private Func<Task> _locksmithFlow = null!;
    private Func<Task> _locksmithOwnContextFlow = null!;
    private Func<Task> _locksmithClaimedFlow = null!;
    private AsyncExclusiveLock[] _outerLocks = null!;
    private int _nextOuterLock;
    private Func<Task> _nitoFlow = null!;
    private Func<Task> _dotNextFlow = null!;
    private Func<Task> _vsFlow = null!;
    private Func<Task> _semaphoreOwnContextFlow = null!;
    private Func<Task> _dotNextOwnContextFlow = null!;
    private Func<Task> _vsOwnContextFlow = null!;
    private readonly AsyncLocal<int> _requestId = new();
    private Task[] _tasks = null!;
    private int _lastRequestId;
    private long _counter;

    /// <summary>How many flows contend.</summary>
    [Params(1, 2, 4)]
    public int Flows { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _tasks = new Task[Flows];
        int rounds = Operations / Flows;
        _semaphoreFlow = async () =>
        {
            for (int i = 0; i < rounds; i++)
            {
                await _semaphore.WaitAsync();
                try
                {
                    _counter++;
                    await Task.Yield();
                }
                finally
                {
                    _semaphore.Release();
                }
            }
        };
        _locksmithFlow = async () =>
        {
            for (int i = 0; i < rounds; i++)
            {
                using (await _locksmith.AcquireAsync())
                {
                    _counter++;
                    await Task.Yield();
                }
            }
        };
        _locksmithOwnContextFlow = () => WithOwnContext(_locksmithFlow);
        _outerLocks = new AsyncExclusiveLock[Flows];
        for (int i = 0; i < Flows; i++)
        {
            _outerLocks[i] = new AsyncExclusiveLock($"bench-async-outer-{i}");
        }

        _locksmithClaimedFlow = async () =>
        {
            var outer = _outerLocks[(int)((uint)Interlocked.Increment(ref _nextOuterLock) % (uint)Flows)];
            using (await outer.AcquireAsync())
            {
                await _locksmithFlow();
            }
        };
        _nitoFlow = async () =>
        {
            for (int i = 0; i < rounds; i++)
            {
                using (await _nito.LockAsync())
                {
                    _counter++;
                    await Task.Yield();
                }
            }
        };
        _dotNextFlow = async () =>
        {
            for (int i = 0; i < rounds; i++)
            {
                await _dotNext.AcquireAsync(CancellationToken.None);
                try
                {
                    _counter++;
                    await Task.Yield();
                }
                finally
                {
                    _dotNext.Release();
                }
            }
        };
        _vsFlow = async () =>
        {
            for (int i = 0; i < rounds; i++)
            {
                using (await _vs.EnterAsync())
                {
                    _counter++;
                    await Task.Yield();
                }
            }
        };

        _semaphoreOwnContextFlow = () => WithOwnContext(_semaphoreFlow);
        _dotNextOwnContextFlow = () => WithOwnContext(_dotNextFlow);
        _vsOwnContextFlow = () => WithOwnContext(_vsFlow);

        // Every lock must really exclude: a lost increment means two flows were inside at once.
        foreach (var flow in new[] { _semaphoreFlow, _locksmithFlow, _locksmithOwnContextFlow, _locksmithClaimedFlow, _nitoFlow, _dotNextFlow, _vsFlow, _semaphoreOwnContextFlow, _dotNextOwnContextFlow, _vsOwnContextFlow })
        {
            _counter = 0;
            Run(flow).GetAwaiter().GetResult();
            if (_counter != rounds * Flows)
            {
                throw new InvalidOperationException($"Lost increments: {_counter} of {rounds * Flows}.");
            }
        }
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Operations)]
    public Task SemaphoreSlim_WaitAsync() => Run(_semaphoreFlow);

    [Benchmark(OperationsPerInvoke = Operations)]
    public Task AsyncExclusiveLock() => Run(_locksmithFlow);

    /// <summary>
    /// The same flows, each with an async local of its own set before its loop (as request flows have), so they do
    /// not share a base execution context.
    /// </summary>
    [Benchmark(OperationsPerInvoke = Operations)]
    public Task AsyncExclusiveLock_OwnContexts() => Run(_locksmithOwnContextFlow);

    /// <summary>
    /// The same flows, each holding a lock of its own around its whole loop: the flow's ownership claim is made once,
    /// so every acquisition of the shared lock joins it instead of making and ending a claim (two execution-context
    /// switches). Against <see cref="AsyncExclusiveLock"/>, this row is what the per-hold claim costs.
    /// </summary>
    [Benchmark(OperationsPerInvoke = Operations)]
    public Task AsyncExclusiveLock_FlowAlreadyClaimed() => Run(_locksmithClaimedFlow);

    [Benchmark(OperationsPerInvoke = Operations)]
    public Task Nito_AsyncLock() => Run(_nitoFlow);

    [Benchmark(OperationsPerInvoke = Operations)]
    public Task DotNext_AsyncExclusiveLock() => Run(_dotNextFlow);

    [Benchmark(OperationsPerInvoke = Operations)]
    public Task VsThreading_AsyncSemaphore() => Run(_vsFlow);

    /// <summary>The peers' flows with an async local of their own, as Locksmith's flows carry their claim.</summary>
    [Benchmark(OperationsPerInvoke = Operations)]
    public Task SemaphoreSlim_OwnContexts() => Run(_semaphoreOwnContextFlow);

    /// <inheritdoc cref="SemaphoreSlim_OwnContexts"/>
    [Benchmark(OperationsPerInvoke = Operations)]
    public Task DotNext_OwnContexts() => Run(_dotNextOwnContextFlow);

    /// <inheritdoc cref="SemaphoreSlim_OwnContexts"/>
    [Benchmark(OperationsPerInvoke = Operations)]
    public Task VsThreading_OwnContexts() => Run(_vsOwnContextFlow);

    // As a request's flow has (a logging scope, an Activity): an async local of its own, so its continuations run
    // under a non-default execution context and the flows do not share a base context.
    private Task WithOwnContext(Func<Task> flow)
    {
        _requestId.Value = Interlocked.Increment(ref _lastRequestId);
        return flow();
    }

    // Each flow starts on the pool, so none runs a share of its rounds on the benchmark thread before the others exist.
    private Task Run(Func<Task> flow)
    {
        for (int i = 0; i < _tasks.Length; i++)
        {
            _tasks[i] = Task.Run(flow);
        }

        return Task.WhenAll(_tasks);
    }
}
