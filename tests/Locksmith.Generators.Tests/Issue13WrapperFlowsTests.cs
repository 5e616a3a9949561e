using System;
using System.Linq;
using System.Threading.Tasks;
using Locksmith.Generators.Subjects;

namespace Locksmith.Generators.Tests;

/// <summary>
/// Issue 13: "10,000 concurrent async flows increment through … generated wrappers: exact." The exclusive, [ReadMostly]
/// and StripeBy wrappers are driven by 10,000 flows in <see cref="GeneratedWrapperRuntimeTests"/> and
/// <see cref="AsyncWrapperRuntimeTests"/>; the [AcquiresLocksOf] wrapper there by 40 flows. Here 10,000 flows each make
/// one transfer through it, half of them in the opposite order, all started before any is awaited.
/// </summary>
public sealed class Issue13WrapperFlowsTests
{
    [Fact]
    public async Task AcquiresLocksOf_TenThousandConcurrentFlows_InBothDirections_KeepBothBalancesExact()
    {
        const int Flows = 10_000;
        const long Opening = 1_000_000;
        var a = new AsyncWallet(Opening);
        var b = new AsyncWallet(Opening);

        // Flow i moves i % 7 + 1 one way when i is even, the other way when odd: the end balances are known exactly.
        var flows = Enumerable.Range(0, Flows).Select(i => Task.Run(() => i % 2 == 0
            ? AsyncWallet.TransferAsync(a, b, i % 7 + 1)
            : AsyncWallet.TransferAsync(b, a, i % 7 + 1))).ToArray();
        await Task.WhenAll(flows);

        long movedAToB = Enumerable.Range(0, Flows).Sum(i => i % 2 == 0 ? i % 7 + 1L : -(i % 7 + 1L));
        Assert.Equal(Opening - movedAToB, await a.BalanceAsync());
        Assert.Equal(Opening + movedAToB, await b.BalanceAsync());
        Assert.False(a.Lock.IsHeld);
        Assert.False(b.Lock.IsHeld);
        Assert.Equal(0, a.Lock.WaitingCount + b.Lock.WaitingCount);
    }
}
