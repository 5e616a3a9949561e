using System;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Locksmith.Tests.Support;

namespace Locksmith.Tests.Diagnostics;

/// <summary>
/// Tasks of one async flow (begun inside its hold, so they share its owner record, as <c>Task.WhenAll(A(), B())</c>
/// starts them) wait at once for different async locks. Before, the detector read a flow's waits through its one wait
/// slot: <see cref="DeadlockDetector.CurrentWaits"/> listed one of them, a cycle through the other went unreported, and
/// the end of the wait the slot showed hid the other's live wait too.
/// </summary>
public sealed class SiblingWaitsTests
{
    private static readonly TimeSpan s_acquireLimit = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan s_awaitLimit = TimeSpan.FromSeconds(30);

    /// <summary>The lock the earlier sibling waits for, of each in-process async kind with a single holder.</summary>
    public static TheoryData<string> Kinds => new() { "exclusive", "read-write", "striped" };

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task TwoSiblingsWaitingForTwoLocks_AreBothListed(string kind)
    {
        var (x, permits, xHold, keep) = await SetUpAsync(kind, "sw-list");
        using var kept = await keep.AcquireAsync(s_acquireLimit);
        var earlier = Sibling(ct => x.AcquireAsync(s_acquireLimit, ct), CancellationToken.None);
        var later = Sibling(ct => permits.AcquireAsync(1, s_acquireLimit, ct), CancellationToken.None);
        Assert.False(earlier.IsCompleted);
        Assert.False(later.IsCompleted);

        var waits = DeadlockDetector.CurrentWaits().Where(w => w.LockName.StartsWith($"sw-list-{kind}-", StringComparison.Ordinal)).ToList();
        xHold.Dispose();
        permits.Release();
        await earlier.WaitAsync(s_awaitLimit);
        await later.WaitAsync(s_awaitLimit);

        Assert.Equal(2, waits.Count);
        var onX = Assert.Single(waits, w => w.LockName == x.Name);
        var onPermits = Assert.Single(waits, w => w.LockName == permits.Name);
        Assert.Equal(onX.WaiterId, onPermits.WaiterId);
        Assert.True(onX.IsFlow);
        Assert.Equal(x.Mode, onX.Mode);
        Assert.Equal(LockMode.Permit, onPermits.Mode);
        Assert.Equal(x.HolderIdWhenRead, onX.HolderId);
        Assert.DoesNotContain(DeadlockDetector.CurrentWaits(), w => w.LockName.StartsWith($"sw-list-{kind}-", StringComparison.Ordinal));
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task WhenTheLaterSiblingsWaitEnds_TheEarliersLiveWaitIsStillListed(string kind)
    {
        var (x, permits, xHold, keep) = await SetUpAsync(kind, "sw-ended");
        using var kept = await keep.AcquireAsync(s_acquireLimit);
        using var cancelLater = new CancellationTokenSource();
        var earlier = Sibling(ct => x.AcquireAsync(s_acquireLimit, ct), CancellationToken.None);
        var later = Sibling(ct => permits.AcquireAsync(1, s_acquireLimit, ct), cancelLater.Token);
        Assert.False(earlier.IsCompleted);

        // The later wait (the one the flow's slot shows) ends: the earlier one is still listed.
        await cancelLater.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => later.WaitAsync(s_awaitLimit));
        var listed = DeadlockDetector.CurrentWaits().Where(w => w.LockName.StartsWith($"sw-ended-{kind}-", StringComparison.Ordinal)).ToList();
        xHold.Dispose();
        await earlier.WaitAsync(s_awaitLimit);

        var still = Assert.Single(listed);
        Assert.Equal(x.Name, still.LockName);
        Assert.True(still.IsFlow);
        Assert.DoesNotContain(DeadlockDetector.CurrentWaits(), w => w.LockName.StartsWith($"sw-ended-{kind}-", StringComparison.Ordinal));
    }

    // The contested lock held by a flow of its own, taken before this flow holds anything (a task begun in a hold shares
    // it), an empty semaphore, and the lock this flow holds throughout, so its siblings are the same flow record's.
    private static async Task<(Contested X, CountingSemaphore Permits, AsyncLockScope XHold, AsyncExclusiveLock Keep)> SetUpAsync(string kind, string prefix)
    {
        var x = Contested.Of(kind, $"{prefix}-{kind}-x");
        var permits = new CountingSemaphore(0, 1, $"{prefix}-{kind}-permits");
        var keep = new AsyncExclusiveLock($"{prefix}-{kind}-keep");
        var xHold = await Task.Run(async () => await x.AcquireAsync(s_acquireLimit, CancellationToken.None)).WaitAsync(s_awaitLimit);
        x.HolderIdWhenRead = x.HolderId;
        return (x, permits, xHold, keep);
    }

    /// <summary>
    /// This flow holds <c>y</c>; flow G holds <c>x</c> and waits for <c>y</c>. Of this flow's two siblings, the earlier
    /// waits for <c>x</c> (a cycle) and the later for <c>z</c>, held by a flow that waits for nothing. Before, the flow's
    /// slot showed the later wait only, and the cycle through the earlier went unreported.
    /// </summary>
    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task ACycleThroughTheEarlierSiblingsWait_IsFound_NamingBothFlowsAndLocks(string kind)
    {
        using var policy = PolicyScope.OrderViolations(OrderViolationAction.Ignore);
        var x = Contested.Of(kind, $"sw-cycle-{kind}-x");
        var y = new AsyncExclusiveLock($"sw-cycle-{kind}-y");
        var z = new AsyncExclusiveLock($"sw-cycle-{kind}-z");

        var zHold = await Task.Run(async () => await z.AcquireAsync(s_acquireLimit)).WaitAsync(s_awaitLimit);
        var yHold = await y.AcquireAsync(s_acquireLimit);
        int thisFlow = y.HolderFlowId;

        var g = await OtherFlowHoldingThenWaiting.StartAsync(x.AcquireAsync, y);
        int gFlow = x.HolderId;
        Assert.NotEqual(thisFlow, gFlow);

        using var cancelEarlier = new CancellationTokenSource();
        var earlier = Sibling(ct => x.AcquireAsync(s_acquireLimit, ct), cancelEarlier.Token);
        var later = Sibling(ct => z.AcquireAsync(s_acquireLimit, ct), CancellationToken.None);
        Assert.False(earlier.IsCompleted);
        Assert.False(later.IsCompleted);

        var cycle = Assert.Single(DeadlockDetector.FindCycles(), c => c.Edges.Any(e => e.LockName.StartsWith($"sw-cycle-{kind}-", StringComparison.Ordinal)));
        Assert.Equal(2, cycle.Edges.Count);
        var thisWaits = Assert.Single(cycle.Edges, e => e.ThreadId == thisFlow);
        Assert.StartsWith(x.Name, thisWaits.LockName, StringComparison.Ordinal);
        Assert.Equal(gFlow, thisWaits.OwnerThreadId);
        Assert.Equal(x.Mode, thisWaits.Mode);
        var gWaits = Assert.Single(cycle.Edges, e => e.ThreadId == gFlow);
        Assert.Equal(y.Name, gWaits.LockName);
        Assert.Equal(thisFlow, gWaits.OwnerThreadId);
        Assert.DoesNotContain(cycle.Edges, e => e.LockName == z.Name);

        // Broken from this side: the earlier sibling gives up, y goes to G, which then lets both go.
        await cancelEarlier.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => earlier.WaitAsync(s_awaitLimit));
        yHold.Dispose();
        await g.WaitAsync(s_awaitLimit);
        zHold.Dispose();
        await later.WaitAsync(s_awaitLimit);
        Assert.DoesNotContain(DeadlockDetector.FindCycles(), c => c.Edges.Any(e => e.LockName.StartsWith($"sw-cycle-{kind}-", StringComparison.Ordinal)));
        Assert.DoesNotContain(DeadlockDetector.CurrentWaits(), w => w.LockName.StartsWith($"sw-cycle-{kind}-", StringComparison.Ordinal));
    }

    // A task of this flow: begins its acquisition at once (queued before this returns), holds it briefly once granted.
    private static async Task Sibling(Func<CancellationToken, ValueTask<AsyncLockScope>> acquire, CancellationToken cancellationToken)
    {
        using var scope = await acquire(cancellationToken);
    }

    /// <summary>An async lock of one kind, as the tests acquire it: exclusively, for writing, or one key of a striped lock.</summary>
    private sealed class Contested
    {
        private readonly Func<TimeSpan, CancellationToken, ValueTask<AsyncLockScope>> _acquire;
        private readonly Func<int> _holderId;

        private Contested(string name, LockMode mode, Func<TimeSpan, CancellationToken, ValueTask<AsyncLockScope>> acquire, Func<int> holderId)
        {
            Name = name;
            Mode = mode;
            _acquire = acquire;
            _holderId = holderId;
        }

        public string Name { get; }

        public LockMode Mode { get; }

        public int HolderId => _holderId();

        public int HolderIdWhenRead { get; set; }

        public static Contested Of(string kind, string name)
        {
            switch (kind)
            {
                case "exclusive":
                    var exclusive = new AsyncExclusiveLock(name);
                    return new Contested(name, LockMode.Exclusive, exclusive.AcquireAsync, () => exclusive.HolderFlowId);
                case "read-write":
                    var readWrite = new AsyncReadWriteLock(name);
                    return new Contested(name, LockMode.Write, readWrite.AcquireWriteAsync, () => readWrite.WriterFlowId);
                default:
                    var striped = new AsyncStripedLock<int>(4, name);
                    return new Contested(
                        name, LockMode.Exclusive, (timeout, ct) => striped.AcquireAsync(1, timeout, ct), () => striped.StripeAt(striped.StripeOf(1)).HolderFlowId);
            }
        }

        public ValueTask<AsyncLockScope> AcquireAsync(TimeSpan timeout, CancellationToken cancellationToken) => _acquire(timeout, cancellationToken);
    }
}
