using System;
using System.Threading;
using System.Threading.Tasks;
using Locksmith.Tests.Support;

namespace Locksmith.Tests.Async;

/// <summary>
/// Issue 13: "acquiring a non-reentrant async lock again in the same flow throws LockRecursionException at once, naming
/// the lock, instead of deadlocking". The re-entry tests ask again through the untimed form; here every form asks again,
/// after an await, including a try-once (which must not answer "busy") and a timed one (which must not wait for itself).
/// </summary>
public sealed class Issue13ReentryInEveryFormTests
{
    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (string kind in new[] { "exclusive", "read", "write", "read-then-write", "striped" })
        {
            foreach (string form in new[] { "untimed", "timed", "timed-zero", "try", "try-zero" })
            {
                data.Add(kind, form);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task AskingAgainInTheSameFlow_InEveryForm_ThrowsAtOnce_NamingTheLock_AndQueuesNothing(string kind, string form)
    {
        var exclusive = new AsyncExclusiveLock("i13-again");
        var rw = new AsyncReadWriteLock("i13-again");
        var striped = new AsyncStripedLock<int>(4, "i13-again");
        var timeout = form.EndsWith("-zero", StringComparison.Ordinal) ? TimeSpan.Zero : TimeSpan.FromSeconds(30);
        bool timed = form.StartsWith("timed", StringComparison.Ordinal);
        bool tryOnce = form.StartsWith("try", StringComparison.Ordinal);

        ValueTask<AsyncLockScope> Again(CancellationToken ct) => kind switch
        {
            "exclusive" => tryOnce ? exclusive.TryAcquireAsync(timeout, ct) : timed ? exclusive.AcquireAsync(timeout, ct) : exclusive.AcquireAsync(ct),
            "read" => tryOnce ? rw.TryAcquireReadAsync(timeout, ct) : timed ? rw.AcquireReadAsync(timeout, ct) : rw.AcquireReadAsync(ct),
            "write" or "read-then-write" => tryOnce ? rw.TryAcquireWriteAsync(timeout, ct) : timed ? rw.AcquireWriteAsync(timeout, ct) : rw.AcquireWriteAsync(ct),
            _ => tryOnce ? striped.TryAcquireAsync(1, timeout, ct) : timed ? striped.AcquireAsync(1, timeout, ct) : striped.AcquireAsync(1, ct),
        };

        using var first = kind switch
        {
            "exclusive" => await exclusive.AcquireAsync(),
            "read" or "read-then-write" => await rw.AcquireReadAsync(),
            "write" => await rw.AcquireWriteAsync(),
            _ => await striped.AcquireAsync(1),
        };
        await Task.Yield();

        using var cancel = new CancellationTokenSource();
        Exception? error = null;
        bool queued = false;
        try
        {
            var again = Again(cancel.Token);
            if (!again.IsCompleted)
            {
                // Waiting for itself: take the wait out so the test ends, and fail below.
                queued = true;
                await cancel.CancelAsync();
            }

            using var scope = await again;
            Assert.Fail($"the {form} {kind} acquisition gave {(scope.IsAcquired ? "a second hold" : "an empty scope")} instead of refusing");
        }
        catch (Exception e) when (e is not Xunit.Sdk.XunitException)
        {
            error = e;
        }

        Assert.False(queued, $"the {form} {kind} acquisition waited for its own flow's hold");
        var recursion = Assert.IsType<LockRecursionException>(error);
        Assert.Contains("i13-again", recursion.Message, StringComparison.Ordinal);
        Assert.Equal(0, exclusive.WaitingCount + rw.WaitingCount + striped.StripeAt(striped.StripeOf(1)).WaitingCount);
    }
}
