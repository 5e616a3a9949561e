using System;
using System.Threading.Tasks;

namespace Locksmith.Postgres.Tests;

/// <summary>
/// A key held by a flow of its own, as another process would hold it (the caller's flow holds nothing of it, so its
/// own order and recursion checks do not come into play), until disposed.
/// </summary>
internal sealed class KeyHeldElsewhere : IAsyncDisposable
{
    private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task _holder = Task.CompletedTask;

    private KeyHeldElsewhere()
    {
    }

    /// <summary>The backend pid of the holding flow's session.</summary>
    public int SessionProcessId { get; private set; }

    /// <summary>Returns once <paramref name="key"/> is held (or throws what the holder's acquisition threw).</summary>
    public static Task<KeyHeldElsewhere> HoldAsync<TKey>(PostgresKeyedLock<TKey> keyed, TKey key)
        where TKey : notnull =>
        HoldAsync(() => keyed.AcquireAsync(key));

    /// <summary>Returns once what <paramref name="acquire"/> takes is held, by a flow of its own.</summary>
    public static async Task<KeyHeldElsewhere> HoldAsync(Func<ValueTask<PostgresLockScope>> acquire)
    {
        var held = new KeyHeldElsewhere();
        var holding = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        held._holder = Task.Run(async () =>
        {
            await using var busy = await acquire();
            held.SessionProcessId = busy.SessionProcessId;
            holding.SetResult();
            await held._release.Task;
        });

        await Task.WhenAny(holding.Task, held._holder);
        if (!holding.Task.IsCompleted)
        {
            await held._holder;
        }

        return held;
    }

    /// <summary>Releases the key and waits until it is released.</summary>
    public async ValueTask DisposeAsync()
    {
        _release.TrySetResult();
        await _holder;
    }
}
