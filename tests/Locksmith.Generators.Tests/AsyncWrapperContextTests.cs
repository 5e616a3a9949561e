using System;
using System.Threading;
using System.Threading.Tasks;
using Locksmith.Generators.Subjects;

namespace Locksmith.Generators.Tests;

/// <summary>
/// An async wrapper starts its body on the caller's synchronization context, as the hand-written
/// <c>using var scope = await _lock.AcquireAsync(); await BodyAsync();</c> does, also when it had to wait for the lock.
/// Before, the acquisition was awaited with <c>ConfigureAwait(false)</c>: a body called from a UI thread (WPF, WinForms,
/// a Blazor component) ran there when the lock was free but on a pool thread when it was contended.
/// </summary>
public sealed class AsyncWrapperContextTests
{
    private static readonly TimeSpan s_guard = TimeSpan.FromMinutes(1);

    [Fact]
    public async Task ContendedWrapper_StartsTheBodyOnTheCallersSynchronizationContext()
    {
        var probe = new AsyncContextProbe();
        var (holder, release) = await HoldInAnotherFlow(probe.Lock);
        var context = new PostingContext();

        Task<SynchronizationContext?> call = UnderContext(context, () => probe.ContextAsync());
        Assert.False(call.IsCompleted);   // queued behind the holder, so it resumes through the context (or not)
        release.SetResult();
        await holder.WaitAsync(s_guard);

        Assert.Same(context, await call.WaitAsync(s_guard));
    }

    [Fact]
    public async Task ContendedTimedWrapper_StartsTheBodyOnTheCallersSynchronizationContext()
    {
        var probe = new AsyncContextProbe();
        var (holder, release) = await HoldInAnotherFlow(probe.Lock);
        var context = new PostingContext();

        Task<(bool Acquired, SynchronizationContext? Result)> call = UnderContext(context, () => probe.TryContextAsync(s_guard).AsTask());
        Assert.False(call.IsCompleted);
        release.SetResult();
        await holder.WaitAsync(s_guard);

        var (acquired, seen) = await call.WaitAsync(s_guard);
        Assert.True(acquired);
        Assert.Same(context, seen);
    }

    private static T UnderContext<T>(SynchronizationContext context, Func<T> start)
    {
        var previous = SynchronizationContext.Current;
        SynchronizationContext.SetSynchronizationContext(context);
        try
        {
            return start();
        }
        finally
        {
            SynchronizationContext.SetSynchronizationContext(previous);
        }
    }

    private static async Task<(Task Holder, TaskCompletionSource Release)> HoldInAnotherFlow(AsyncExclusiveLock gate)
    {
        var held = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var holder = Task.Run(async () =>
        {
            using var scope = await gate.AcquireAsync();
            held.SetResult();
            await release.Task;
        });
        await held.Task.WaitAsync(s_guard);
        return (holder, release);
    }

    /// <summary>A context like a UI one: a continuation posted to it runs with it current (on a pool thread here).</summary>
    private sealed class PostingContext : SynchronizationContext
    {
        public override void Post(SendOrPostCallback d, object? state) => ThreadPool.QueueUserWorkItem(_ =>
        {
            var previous = Current;
            SetSynchronizationContext(this);
            try
            {
                d(state);
            }
            finally
            {
                SetSynchronizationContext(previous);
            }
        });
    }
}
