using System;
using System.Threading;
using System.Threading.Tasks;
using BenchmarkDotNet.Attributes;
using Locksmith.Benchmarks.Harness;
using DotNextLock = DotNext.Threading.AsyncExclusiveLock;
using NitoLock = Nito.AsyncEx.AsyncLock;
using VsSemaphore = Microsoft.VisualStudio.Threading.AsyncSemaphore;

namespace Locksmith.Benchmarks;

/// <summary>
/// One waiter with a live cancellation token (its source is never cancelled), per round: another flow takes the
/// lock; this flow calls the cancellable acquire, which must queue; the other flow releases, handing the lock over;
/// this flow awaits its acquisition and releases. Time and bytes are per round.
/// </summary>
/// <remarks>
/// The holder is an <see cref="OtherFlow"/> stepped on the same thread, so the round measures the wait itself
/// (queueing, registering on the token, the hand-off, unregistering) without a thread hop: the hand-off completes
/// the waiter's task before it is awaited. Every lock gets the same harness.
/// </remarks>
[MemoryDiagnoser]
public class AsyncCancellationBenchmarks
{
    private const int Rounds = 1_000;

    private static readonly Action<object?> s_holdSemaphore = static state =>
    {
        var bench = (AsyncCancellationBenchmarks)state!;
        Completed(bench._semaphore.WaitAsync());
    };

    private static readonly Action<object?> s_releaseSemaphore = static state => ((AsyncCancellationBenchmarks)state!)._semaphore.Release();

    private static readonly Action<object?> s_holdLocksmith = static state =>
    {
        var bench = (AsyncCancellationBenchmarks)state!;
        bench._locksmithHold = Completed(bench._locksmith.AcquireAsync());
    };

    private static readonly Action<object?> s_releaseLocksmith = static state => ((AsyncCancellationBenchmarks)state!)._locksmithHold.Dispose();

    private static readonly Action<object?> s_holdNito = static state =>
    {
        var bench = (AsyncCancellationBenchmarks)state!;
        bench._nitoHold = Completed(bench._nito.LockAsync().AsTask());
    };

    private static readonly Action<object?> s_releaseNito = static state => ((AsyncCancellationBenchmarks)state!)._nitoHold!.Dispose();

    private static readonly Action<object?> s_holdDotNext = static state =>
    {
        var bench = (AsyncCancellationBenchmarks)state!;
        Completed(bench._dotNext.AcquireAsync(CancellationToken.None));
    };

    private static readonly Action<object?> s_releaseDotNext = static state => ((AsyncCancellationBenchmarks)state!)._dotNext.Release();

    private static readonly Action<object?> s_holdVs = static state =>
    {
        var bench = (AsyncCancellationBenchmarks)state!;
        bench._vsHold = Completed(bench._vs.EnterAsync());
    };

    private static readonly Action<object?> s_releaseVs = static state => ((AsyncCancellationBenchmarks)state!)._vsHold.Dispose();

    private readonly CancellationTokenSource _cts = new();
    private readonly SemaphoreSlim _semaphore = new(1, 1);
    private readonly AsyncExclusiveLock _locksmith = new("bench-async-cancellable");
    private readonly NitoLock _nito = new();
    private readonly DotNextLock _dotNext = new();
    private readonly VsSemaphore _vs = new(1);
    private readonly OtherFlow _holder = new("holder");
    private AsyncLockScope _locksmithHold;
    private IDisposable? _nitoHold;
    private VsSemaphore.Releaser _vsHold;
    private long _counter;

    [GlobalCleanup]
    public void Cleanup() => _cts.Dispose();

    [Benchmark(Baseline = true, OperationsPerInvoke = Rounds)]
    public async Task SemaphoreSlim_WaitAsync()
    {
        var token = _cts.Token;
        for (int i = 0; i < Rounds; i++)
        {
            _holder.Run(s_holdSemaphore, this);
            var acquired = MustWait(_semaphore.WaitAsync(token));
            _holder.Run(s_releaseSemaphore, this);
            await acquired;
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

    [Benchmark(OperationsPerInvoke = Rounds)]
    public async Task AsyncExclusiveLock()
    {
        var token = _cts.Token;
        for (int i = 0; i < Rounds; i++)
        {
            _holder.Run(s_holdLocksmith, this);
            var acquired = MustWait(_locksmith.AcquireAsync(token));
            _holder.Run(s_releaseLocksmith, this);
            using (await acquired)
            {
                _counter++;
            }
        }
    }

    /// <summary>
    /// The same rounds with the holder's scope disposed in this flow's frame, not the holder's: the holder's ownership
    /// record then stays installed in its context instead of being set aside, so the round measures the wait alone.
    /// The difference to <see cref="AsyncExclusiveLock"/> is what setting the two flows' records aside and installing
    /// them again costs when the flows take turns on one thread.
    /// </summary>
    [Benchmark(OperationsPerInvoke = Rounds)]
    public async Task AsyncExclusiveLock_HolderReleasedByWaiter()
    {
        var token = _cts.Token;
        for (int i = 0; i < Rounds; i++)
        {
            _holder.Run(s_holdLocksmith, this);
            var acquired = MustWait(_locksmith.AcquireAsync(token));
            _locksmithHold.Dispose();
            using (await acquired)
            {
                _counter++;
            }
        }
    }

    [Benchmark(OperationsPerInvoke = Rounds)]
    public async Task Nito_AsyncLock()
    {
        var token = _cts.Token;
        for (int i = 0; i < Rounds; i++)
        {
            _holder.Run(s_holdNito, this);
            var acquired = MustWait(_nito.LockAsync(token).AsTask());
            _holder.Run(s_releaseNito, this);
            using (await acquired)
            {
                _counter++;
            }
        }
    }

    [Benchmark(OperationsPerInvoke = Rounds)]
    public async Task DotNext_AsyncExclusiveLock()
    {
        var token = _cts.Token;
        for (int i = 0; i < Rounds; i++)
        {
            _holder.Run(s_holdDotNext, this);
            var acquired = MustWait(_dotNext.AcquireAsync(token));
            _holder.Run(s_releaseDotNext, this);
            await acquired;
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

    [Benchmark(OperationsPerInvoke = Rounds)]
    public async Task VsThreading_AsyncSemaphore()
    {
        var token = _cts.Token;
        for (int i = 0; i < Rounds; i++)
        {
            _holder.Run(s_holdVs, this);
            var acquired = MustWait(_vs.EnterAsync(token));
            _holder.Run(s_releaseVs, this);
            using (await acquired)
            {
                _counter++;
            }
        }
    }

    // The holder's acquisitions find the lock free, so they complete at once; the waiter's must not.
    private static void Completed(Task task)
    {
        if (!task.IsCompleted)
        {
            throw new InvalidOperationException("The holder's acquisition had to wait.");
        }

        task.GetAwaiter().GetResult();
    }

    private static T Completed<T>(Task<T> task)
    {
        Completed((Task)task);
        return task.Result;
    }

    private static T Completed<T>(ValueTask<T> task) =>
        task.IsCompleted ? task.GetAwaiter().GetResult() : throw new InvalidOperationException("The holder's acquisition had to wait.");

    private static void Completed(ValueTask task)
    {
        if (!task.IsCompleted)
        {
            throw new InvalidOperationException("The holder's acquisition had to wait.");
        }

        task.GetAwaiter().GetResult();
    }

    private static Task MustWait(Task task) => task.IsCompleted ? throw WaiterDidNotWait() : task;

    private static Task<T> MustWait<T>(Task<T> task) => task.IsCompleted ? throw WaiterDidNotWait() : task;

    private static ValueTask MustWait(ValueTask task) => task.IsCompleted ? throw WaiterDidNotWait() : task;

    private static ValueTask<T> MustWait<T>(ValueTask<T> task) => task.IsCompleted ? throw WaiterDidNotWait() : task;

    private static InvalidOperationException WaiterDidNotWait() => new("The waiter acquired a held lock.");
}
