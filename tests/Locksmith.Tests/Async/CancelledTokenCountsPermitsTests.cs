using System;
using System.Threading;
using System.Threading.Tasks;
using Xunit;

namespace Locksmith.Tests.Async;

/// <summary>
/// A semaphore acquisition given a token that was already cancelled counts the permits it asked for, as its timeout and
/// its cancelled wait do ("asked for 2 permit(s) of semaphore 'slots'"), where it read "asked for permit access to
/// 'slots'"; it takes nothing, even when the permits are free.
/// </summary>
public sealed class CancelledTokenCountsPermitsTests
{
    private const string Ending = " with a cancellation token that was already cancelled; nothing was taken (a cancelled token refuses even a free lock).";

    public static TheoryData<string> Acquisitions() =>
        ["Acquire(2, token)", "Acquire(token)", "TryAcquire(3, timeout, token)", "AcquireAsync(2, token)", "AcquireAsync(token)", "TryAcquireAsync(3, timeout, token)"];

    [Theory]
    [MemberData(nameof(Acquisitions))]
    public async Task AnAlreadyCancelledToken_NamesThePermitsAskedFor(string acquisition)
    {
        var semaphore = new CountingSemaphore(3, 3, "cancelled-token-slots");
        using var cancel = new CancellationTokenSource();
        cancel.Cancel();
        var token = cancel.Token;

        var refused = await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            switch (acquisition)
            {
                case "Acquire(2, token)":
                    using (semaphore.Acquire(2, token)) { }
                    break;
                case "Acquire(token)":
                    using (semaphore.Acquire(token)) { }
                    break;
                case "TryAcquire(3, timeout, token)":
                    semaphore.TryAcquire(3, TimeSpan.FromSeconds(1), token, out var scope);
                    scope.Dispose();
                    break;
                case "AcquireAsync(2, token)":
                    using (await semaphore.AcquireAsync(2, token)) { }
                    break;
                case "AcquireAsync(token)":
                    using (await semaphore.AcquireAsync(token)) { }
                    break;
                default:
                    using (await semaphore.TryAcquireAsync(3, TimeSpan.FromSeconds(1), token)) { }
                    break;
            }
        });

        string permits = acquisition switch
        {
            "Acquire(2, token)" or "AcquireAsync(2, token)" => "2 permit(s)",
            "Acquire(token)" or "AcquireAsync(token)" => "1 permit(s)",
            _ => "3 permit(s)",
        };
        string who = acquisition.Contains("Async", StringComparison.Ordinal) ? @"^(Flow #\d+|The current async flow) \(on thread \d+" : @"^Thread \d+";
        Assert.Matches(who, refused.Message);
        Assert.EndsWith($" asked for {permits} of semaphore 'cancelled-token-slots'{Ending}", refused.Message, StringComparison.Ordinal);
        Assert.Equal(token, refused.CancellationToken);
        Assert.Equal(3, semaphore.CurrentCount);
    }
}
