using System;
using System.Threading;
using System.Threading.Tasks;

namespace Locksmith.Tests.Async;

/// <summary>Reads of one queued acquisition under tagged synchronization contexts, for the read-twice tests.</summary>
internal static class TaggedReads
{
    /// <summary>Awaits the acquisition and returns the tag of the context it resumed under.</summary>
    internal static async Task<string?> ResumesUnder(ValueTask<AsyncLockScope> queued)
    {
        var scope = await queued;
        string? resumedUnder = (SynchronizationContext.Current as TaggedContext)?.Tag;
        scope.Dispose();
        return resumedUnder;
    }

    /// <summary>Awaits the acquisition expecting its refusal; returns the tag of the context the refusal came under.</summary>
    internal static async Task<string?> RefusedUnder(ValueTask<AsyncLockScope> queued)
    {
        try
        {
            (await queued).Dispose();
            return "not refused";
        }
        catch (InvalidOperationException refused) when (refused.Message.Contains("that was read already", StringComparison.Ordinal))
        {
            return (SynchronizationContext.Current as TaggedContext)?.Tag;
        }
    }

    /// <summary>Starts <paramref name="read"/> with <paramref name="context"/> current, as a UI thread's await would.</summary>
    internal static Task<string?> StartUnder(SynchronizationContext context, Func<Task<string?>> read)
    {
        var before = SynchronizationContext.Current;
        SynchronizationContext.SetSynchronizationContext(context);
        try
        {
            return read();
        }
        finally
        {
            SynchronizationContext.SetSynchronizationContext(before);
        }
    }

    /// <summary>A scheduling context that runs what is posted to it on the pool, with itself current, and counts the posts.</summary>
    internal sealed class TaggedContext(string tag) : SynchronizationContext
    {
        private int _posts;

        public string Tag { get; } = tag;

        public int Posts => Volatile.Read(ref _posts);

        public override void Post(SendOrPostCallback d, object? state)
        {
            Interlocked.Increment(ref _posts);
            ThreadPool.UnsafeQueueUserWorkItem(_ =>
            {
                var before = Current;
                SetSynchronizationContext(this);
                try
                {
                    d(state);
                }
                finally
                {
                    SetSynchronizationContext(before);
                }
            }, null);
        }
    }
}
