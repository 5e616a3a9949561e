using System;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Locksmith.Generators.Subjects;

namespace Locksmith.Generators.Tests;

/// <summary>
/// Calls wrappers that the real generator wrote into the Subjects project (referenced as an analyzer, the way users
/// get it): they lock, time out, declare their lock's name and level, and take lock sets in order.
/// </summary>
/// <remarks>
/// Each test calls a wrapper before another thread takes the lock by hand, so the lock is declared (named and
/// ordered) before anyone holds it, as in an application where the wrappers are the way in.
/// </remarks>
public sealed class GeneratedWrapperRuntimeTests
{
    [Fact]
    public void LostUpdate_ThroughGeneratedWrapper_IsExact()
    {
        const int ThreadCount = 8;
        const int Increments = 10_000;
        var counter = new Counter();

        Concurrently.Run(ThreadCount, _ =>
        {
            for (int i = 0; i < Increments; i++)
            {
                counter.Increment();
            }
        });

        Assert.Equal(ThreadCount * Increments, counter.Read());
    }

    [Fact]
    public void TimedForm_ReturnsFalse_WhileTheLockIsHeldElsewhere()
    {
        var counter = new Counter();
        counter.Add(5);

        using (HeldOnOtherThread.Hold("holder", release => { using var scope = counter.Lock.Acquire(); release.Wait(); }))
        {
            Assert.False(counter.TryIncrement(TimeSpan.Zero));
            Assert.False(counter.TryAdd(1, TimeSpan.FromMilliseconds(10), out long result));
            Assert.Equal(0, result);
        }

        Assert.True(counter.TryAdd(1, TimeSpan.Zero, out long added));
        Assert.Equal(6, added);
        Assert.True(counter.TryIncrement(TimeSpan.Zero));
        Assert.Equal(7, counter.Read());
    }

    [Fact]
    public void ThrowingForm_RaisesLockTimeoutException_AtItsDeclaredTimeout()
    {
        var counter = new Counter();
        counter.Increment();

        using (HeldOnOtherThread.Hold("holder", release => { using var scope = counter.Lock.Acquire(); release.Wait(); }))
        {
            var exception = Assert.Throws<LockTimeoutException>(() => counter.PeekQuickly());
            Assert.Contains("Counter._lock", exception.Message, StringComparison.Ordinal);
        }

        Assert.Equal(1, counter.PeekQuickly());
    }

    [Fact]
    public void Wrapper_DeclaresTheLocksNameAndLevel()
    {
        var counter = new Counter();
        counter.Increment();

        Assert.Equal("Locksmith.Generators.Subjects.Counter._lock", counter.Lock.Name);
        Assert.Equal(10, counter.Lock.Level);
    }

    [Fact]
    public void AcquiresLocksOf_TakesBothLocksInGlobalOrder_SoOpposingTransfersNeitherDeadlockNorLoseMoney()
    {
        const int Transfers = 5_000;
        var a = new Account(1_000_000m);
        var b = new Account(1_000_000m);

        Concurrently.Run(2, index =>
        {
            for (int i = 0; i < Transfers; i++)
            {
                if (index == 0)
                {
                    Account.Transfer(a, b, 1m);
                }
                else
                {
                    Account.Transfer(b, a, 2m);
                }
            }
        });

        Assert.Equal(1_000_000m + Transfers, a.Balance());
        Assert.Equal(1_000_000m - Transfers, b.Balance());
        Assert.Equal(10, a.Lock.Level);
    }

    [Fact]
    public void AcquiresLocksOf_TimedForm_ReturnsFalse_WhenOneLockIsHeldElsewhere()
    {
        var a = new Account(10m);
        var b = new Account(10m);
        Account.Transfer(a, b, 0m);

        using (HeldOnOtherThread.Hold("holder", release => { using var scope = b.Lock.Acquire(); release.Wait(); }))
        {
            Assert.False(Account.TryTransfer(a, b, 1m, TimeSpan.FromMilliseconds(10)));
        }

        Assert.True(Account.TryTransfer(a, b, 1m, TimeSpan.Zero));
        Assert.Equal(9m, a.Balance());
        Assert.Equal(11m, b.Balance());
    }

    /// <summary>
    /// Two named parameters may be one object at run time (a transfer from an account to itself): every wrapper form takes
    /// its lock once, though LockSet's list forms refuse a lock listed twice.
    /// </summary>
    [Fact]
    public void AcquiresLocksOf_TheSameObjectTwice_TakesItsLockOnce_InEveryWrapperForm()
    {
        var a = new Account(10m);
        var fees = new Account(0m);

        Account.Transfer(a, a, 5m);
        Assert.True(Account.TryTransfer(a, a, 5m, TimeSpan.FromSeconds(5)));
        Account.Settle(a, a, fees, 5m, 1m);
        Account.Settle(a, fees, a, 5m, 1m);
        Assert.True(Account.TrySettle(fees, a, fees, 1m, 1m, TimeSpan.FromSeconds(5)));

        // a: 10, 10, 9 (-6 +5), 4 (-6 +1), 5; fees: 0, 0, 1, 6, 5 (-2 +1).
        Assert.Equal(5m, a.Balance());
        Assert.Equal(5m, fees.Balance());
        Assert.False(a.Lock.IsHeld);
        Assert.False(fees.Lock.IsHeld);
    }

    /// <summary>README: there is no lock of no object, so a null named parameter is refused before any lock is taken.</summary>
    [Fact]
    public void AcquiresLocksOf_ANullObject_IsRefusedNamingItsParameter_AndNothingIsHeld()
    {
        var b = new Account(10m);

        var fromNull = Assert.Throws<ArgumentNullException>(() => Account.Transfer(null!, b, 1m));
        var toNull = Assert.Throws<ArgumentNullException>(() => Account.TryTransfer(b, null!, 1m, TimeSpan.Zero));

        Assert.Equal("from", fromNull.ParamName);
        Assert.Equal("to", toNull.ParamName);
        Assert.False(b.Lock.IsHeld);
        Assert.Equal(10m, b.Balance());
    }

    [Fact]
    public void CallAgainstTheDeclaredOrder_IsRefusedAtRunTime()
    {
        var ledger = new Ledger();

        Assert.Throws<LockOrderViolationException>(() => ledger.AuditThenDebit());
        ledger.Debit();
    }

    [Fact]
    public void ReadMostly_ReadersShare_WritersExclude()
    {
        var cache = new PriceCache();
        cache.Set("apple", 1.5m);

        using (HeldOnOtherThread.Hold("holder", release => { using var scope = cache.Lock.AcquireRead(); release.Wait(); }))
        {
            Assert.True(cache.TryFind("apple", TimeSpan.Zero, out decimal? shared));
            Assert.Equal(1.5m, shared);
            Assert.False(cache.TrySet("apple", 2m, TimeSpan.FromMilliseconds(10)));
        }

        using (HeldOnOtherThread.Hold("holder", release => { using var scope = cache.Lock.AcquireWrite(); release.Wait(); }))
        {
            Assert.False(cache.TryFind("apple", TimeSpan.FromMilliseconds(10), out decimal? blocked));
            Assert.Null(blocked);
        }

        cache.Set("apple", 2m);
        Assert.Equal(2m, cache.Find("apple"));
        Assert.Null(cache.Find("pear"));
        Assert.Equal(20, cache.Lock.Level);
    }

    [Fact]
    public void StripeBy_LocksTheStripeOfTheKey_SoCountsAreExact()
    {
        const int ThreadCount = 4;
        const int Adds = 5_000;
        var inventory = new Inventory("apple", "pear");

        Concurrently.Run(ThreadCount, index =>
        {
            string sku = index % 2 == 0 ? "apple" : "pear";
            for (int i = 0; i < Adds; i++)
            {
                inventory.AddOne(sku);
            }
        });

        Assert.Equal(ThreadCount / 2 * Adds, inventory.Count("apple"));
        Assert.Equal(ThreadCount / 2 * Adds, inventory.Count("pear"));
    }

    [Fact]
    public void AbstractGuardedCore_RunsThroughTheBaseWrapper_WithTheLockHeld()
    {
        var counting = new CountingJob();
        Job job = counting;

        Assert.Equal(3, job.Step(3));
        Assert.Equal(5, job.Step(2));
        Assert.True(counting.AlwaysLocked);
        Assert.Equal("counting, locked", job.Describe());
        Assert.True(job.TryName(1, out string? name));
        Assert.Equal(8, name.Length);

        using (HeldOnOtherThread.Hold("holder", release => { using var scope = job.Lock.Acquire(); release.Wait(); }))
        {
            Assert.False(job.TryStep(1, TimeSpan.Zero, out int total));
            Assert.Equal(0, total);
            Assert.False(job.TryNameWithin(1, out string? none, TimeSpan.Zero, out bool found));
            Assert.Null(none);
            Assert.False(found);
        }

        Assert.True(job.TryNameWithin(1, out string? later, TimeSpan.Zero, out bool foundLater));
        Assert.True(foundLater);
        Assert.Equal("positive", later);
        Assert.True(job.TryStep(1, TimeSpan.Zero, out int after));
        Assert.Equal(6, after);
        Assert.True(counting.AlwaysLocked);
    }

    [Fact]
    public async Task LostUpdate_ThroughGeneratedAsyncWrapper_IsExact()
    {
        const int Calls = 10_000;
        var counter = new AsyncCounter();

        // Every call reads, yields inside the lock and writes: exact only if the wrapper holds the lock across the await.
        var calls = Enumerable.Range(0, Calls).Select(_ => Task.Run(() => counter.IncrementAsync())).ToArray();
        await Task.WhenAll(calls);

        Assert.Equal(Calls, await counter.ReadAsync(TestContext.Current.CancellationToken));
        Assert.Equal("Locksmith.Generators.Subjects.AsyncCounter._lock", counter.Lock.Name);
        Assert.Equal(40, counter.Lock.Level);
    }

    [Fact]
    public async Task TimedAsyncForm_ReturnsFalse_WhileTheLockIsHeld_ThenRunsTheBody()
    {
        var counter = new AsyncCounter();
        Assert.Equal(1, await counter.AddAsync(1));

        var (holder, release) = await HoldInAnotherFlow(counter.Lock);
        (bool Acquired, long Result) refused = await counter.TryAddAsync(TimeSpan.FromMilliseconds(10), 5);
        bool incremented = await counter.TryIncrementAsync(TimeSpan.Zero);
        release.SetResult();
        await holder;

        Assert.False(refused.Acquired);
        Assert.Equal(0, refused.Result);
        Assert.False(incremented);
        Assert.Equal((true, 6L), await counter.TryAddAsync(TimeSpan.Zero, 5));
        Assert.True(await counter.TryIncrementAsync(TimeSpan.Zero));
        Assert.Equal(7, await counter.ReadAsync(CancellationToken.None));
    }

    [Fact]
    public async Task ADynamicArgument_RunsItsOwnCore_UnderItsOwnLock_NotAnOverloadPickedAtRunTime()
    {
        var subject = new DynamicOverloads();

        // A string at run time: a dynamically bound call would run the string overload under the other lock.
        Assert.Equal("dynamic hi first=True second=False", subject.Describe((object)"hi"));
        Assert.Equal("string hi first=False second=True", subject.Describe("hi"));
        Assert.True(subject.TryDescribe((object)"hi", TimeSpan.FromSeconds(5), out string? timed));
        Assert.Equal("dynamic hi first=True second=False", timed);
        Assert.Equal("async hi held=True", await subject.DescribeAsync((object)"hi", TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task AsyncWrapper_PassesTheCoresToken_ToTheWaitForTheLock()
    {
        var counter = new AsyncCounter();
        await counter.IncrementAsync();
        using var cancellation = new CancellationTokenSource();

        var (holder, release) = await HoldInAnotherFlow(counter.Lock);
        var waiting = counter.ReadAsync(cancellation.Token);
        bool completedWhileHeld = waiting.IsCompleted;
        await cancellation.CancelAsync();
        var canceled = await Record.ExceptionAsync(() => waiting);
        release.SetResult();
        await holder;

        Assert.False(completedWhileHeld);
        Assert.IsAssignableFrom<OperationCanceledException>(canceled);
        Assert.Equal(1, await counter.ReadAsync(CancellationToken.None));
    }

    /// <summary>Takes the lock in a flow of its own (a flow that holds it may not wait for it again) until released.</summary>
    private static async Task<(Task Holder, TaskCompletionSource Release)> HoldInAnotherFlow(AsyncExclusiveLock asyncLock)
    {
        var acquired = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var holder = Task.Run(async () =>
        {
            using var scope = await asyncLock.AcquireAsync();
            acquired.SetResult();
            await release.Task;
        });
        await acquired.Task;
        return (holder, release);
    }
}
