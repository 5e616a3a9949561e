using System.Threading;
using System.Threading.Tasks;
using BenchmarkDotNet.Attributes;
using DotNextLock = DotNext.Threading.AsyncExclusiveLock;
using NitoLock = Nito.AsyncEx.AsyncLock;
using VsSemaphore = Microsoft.VisualStudio.Threading.AsyncSemaphore;

namespace Locksmith.Benchmarks;

/// <summary>
/// Uncontended acquire+release in one async flow, awaiting each acquisition, of <see cref="AsyncExclusiveLock"/>
/// against <see cref="SemaphoreSlim"/> (the baseline) and the async locks of Nito.AsyncEx, DotNext and
/// VS.Threading. Each invocation is <see cref="Operations"/> pairs, so the one task an invocation allocates is
/// spread over them and the reported time and bytes are per pair.
/// </summary>
[MemoryDiagnoser]
public class AsyncExclusiveLockBenchmarks
{
    private const int Operations = 1_000;

    private readonly SemaphoreSlim _semaphore = new(1, 1);
    private readonly AsyncExclusiveLock _locksmith = new("bench-async");
    private readonly AsyncExclusiveLock _outer = new("bench-async-outer");
    private readonly NitoLock _nito = new();
    private readonly DotNextLock _dotNext = new();
    private readonly VsSemaphore _vs = new(1);
    private long _counter;

    [Benchmark(Baseline = true, OperationsPerInvoke = Operations)]
    public async Task SemaphoreSlim_WaitAsync()
    {
        for (int i = 0; i < Operations; i++)
        {
            await _semaphore.WaitAsync();
            try
            {
                _counter++;
            }
            finally
            {
                _semaphore.Release();
            }
        }
    }

    [Benchmark(OperationsPerInvoke = Operations)]
    public async Task AsyncExclusiveLock()
    {
        for (int i = 0; i < Operations; i++)
        {
            using (await _locksmith.AcquireAsync())
            {
                _counter++;
            }
        }
    }

    /// <summary>
    /// The same pairs while the flow holds another lock throughout, so its ownership record stays installed and is
    /// not set aside and installed again on every pair: the difference to <see cref="AsyncExclusiveLock"/> is what
    /// that costs.
    /// </summary>
    [Benchmark(OperationsPerInvoke = Operations)]
    public async Task AsyncExclusiveLock_InsideOuterHold()
    {
        using (await _outer.AcquireAsync())
        {
            for (int i = 0; i < Operations; i++)
            {
                using (await _locksmith.AcquireAsync())
                {
                    _counter++;
                }
            }
        }
    }

    [Benchmark(OperationsPerInvoke = Operations)]
    public async Task Nito_AsyncLock()
    {
        for (int i = 0; i < Operations; i++)
        {
            using (await _nito.LockAsync())
            {
                _counter++;
            }
        }
    }

    [Benchmark(OperationsPerInvoke = Operations)]
    public async Task DotNext_AsyncExclusiveLock()
    {
        for (int i = 0; i < Operations; i++)
        {
            await _dotNext.AcquireAsync(CancellationToken.None);
            try
            {
                _counter++;
            }
            finally
            {
                _dotNext.Release();
            }
        }
    }

    [Benchmark(OperationsPerInvoke = Operations)]
    public async Task VsThreading_AsyncSemaphore()
    {
        for (int i = 0; i < Operations; i++)
        {
            using (await _vs.EnterAsync())
            {
                _counter++;
            }
        }
    }
}
