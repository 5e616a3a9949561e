using System;
using System.Linq;
using System.Threading.Tasks;

namespace Locksmith.Testing.Tests;

/// <summary>
/// Every lock kind is scheduled: a guarded read-modify-write with a switch inside it is never flagged (so every release
/// wakes its waiters), and taking two locks of the kind in opposite order is found as a deadlock naming both.
/// </summary>
public sealed class LockKindTests
{
    private const int Budget = 100;

    /// <summary>Runs <c>body</c> holding a new lock of the kind named; a factory per kind, called in the scenario builder.</summary>
    private static Func<string, Action<Action>> SyncKind(string kind) => kind switch
    {
        "exclusive" => name => { var l = new ExclusiveLock(name); return body => { using var s = l.Acquire(); body(); }; },
        "reentrant" => name => { var l = new ReentrantLock(name); return body => { using var s = l.Acquire(); using var again = l.Acquire(); body(); }; },
        "write" => name => { var l = new ReadWriteLock(name); return body => { using var s = l.AcquireWrite(); body(); }; },
        "spin" => name => { var l = new SpinGate(name); return body => { using var s = l.Acquire(); body(); }; },
        "semaphore" => name => { var l = new CountingSemaphore(1, 1, name); return body => { using var s = l.Acquire(); body(); }; },
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    private static Func<string, Func<Func<Task>, Task>> AsyncKind(string kind) => kind switch
    {
        "async-exclusive" => name => { var l = new AsyncExclusiveLock(name); return async body => { using var s = await l.AcquireAsync(); await body(); }; },
        "async-write" => name => { var l = new AsyncReadWriteLock(name); return async body => { using var s = await l.AcquireWriteAsync(); await body(); }; },
        "async-semaphore" => name => { var l = new CountingSemaphore(1, 1, name); return async body => { using var s = await l.AcquireAsync(); await body(); }; },
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    [Theory]
    [InlineData("exclusive")]
    [InlineData("reentrant")]
    [InlineData("write")]
    [InlineData("spin")]
    [InlineData("semaphore")]
    public void GuardedUpdatesPassAndOppositeOrderDeadlocks(string kind)
    {
        var make = SyncKind(kind);
        var correct = ControlledTest.Run(
            scenario =>
            {
                var guard = make("guard");
                int total = 0;
                for (int f = 0; f < 3; f++)
                {
                    scenario.Thread($"t{f}", () => guard(() =>
                    {
                        int seen = total;
                        ControlledTest.Interleave();
                        total = seen + 1;
                    }));
                }

                scenario.Finally(() => Assert.Equal(3, total));
            },
            new ControlledTestOptions { Seed = 9, Iterations = Budget });
        Assert.True(correct.Passed, correct.ToString());

        var deadlock = ControlledTest.Run(
            scenario =>
            {
                var first = make("first");
                var second = make("second");
                scenario.Thread("a", () => first(() => second(() => { })));
                scenario.Thread("b", () => second(() => first(() => { })));
            },
            new ControlledTestOptions { Seed = 9, Iterations = Budget }).Failure;
        Assert.NotNull(deadlock);
        Assert.Equal(ControlledFailureKind.Deadlock, deadlock.Kind);
        Assert.Contains(deadlock.Waits, w => w is { Flow: "a", Resource: "second" });
        Assert.Contains(deadlock.Waits, w => w is { Flow: "b", Resource: "first" });
    }

    [Theory]
    [InlineData("async-exclusive")]
    [InlineData("async-write")]
    [InlineData("async-semaphore")]
    public void AsyncGuardedUpdatesPassAndOppositeOrderDeadlocks(string kind)
    {
        var make = AsyncKind(kind);
        var correct = ControlledTest.Run(
            scenario =>
            {
                var guard = make("guard");
                int total = 0;
                for (int f = 0; f < 3; f++)
                {
                    scenario.Flow($"f{f}", () => guard(async () =>
                    {
                        int seen = total;
                        await Task.Yield();
                        total = seen + 1;
                    }));
                }

                scenario.Finally(() => Assert.Equal(3, total));
            },
            new ControlledTestOptions { Seed = 9, Iterations = Budget });
        Assert.True(correct.Passed, correct.ToString());

        var deadlock = ControlledTest.Run(
            scenario =>
            {
                var first = make("first");
                var second = make("second");
                scenario.Flow("a", () => first(() => second(() => Task.CompletedTask)));
                scenario.Flow("b", () => second(() => first(() => Task.CompletedTask)));
            },
            new ControlledTestOptions { Seed = 9, Iterations = Budget }).Failure;
        Assert.NotNull(deadlock);
        Assert.Equal(ControlledFailureKind.Deadlock, deadlock.Kind);
        Assert.Contains(deadlock.Waits, w => w is { Flow: "a", Resource: "second" });
        Assert.Contains(deadlock.Waits, w => w is { Flow: "b", Resource: "first" });
    }

    [Fact]
    public void ALockSetTakesTwoLocksInOneOrderWhateverOrderTheFlowsNameThem()
    {
        var result = ControlledTest.Run(
            scenario =>
            {
                var accounts = new ExclusiveLock("accounts");
                var ledger = new ExclusiveLock("ledger");
                int transfers = 0;
                scenario.Thread("transfer", () =>
                {
                    using var both = LockSet.Acquire(accounts, ledger);
                    transfers++;
                });
                scenario.Thread("audit", () =>
                {
                    using var both = LockSet.Acquire(ledger, accounts);
                    transfers++;
                });
                scenario.Finally(() => Assert.Equal(2, transfers));
            },
            new ControlledTestOptions { Seed = 12, Iterations = Budget });

        Assert.True(result.Passed, result.ToString());
    }

    [Fact]
    public void AStripedLockIsScheduledThroughItsStripes()
    {
        var failure = ControlledTest.Run(
            scenario =>
            {
                var rows = new StripedLock<int>(64, "rows");
                scenario.Thread("a", () =>
                {
                    using var first = rows.Acquire(1);
                    using var second = rows.Acquire(2);
                });
                scenario.Thread("b", () =>
                {
                    using var first = rows.Acquire(2);
                    using var second = rows.Acquire(1);
                });
            },
            new ControlledTestOptions { Seed = 12, Iterations = Budget }).Failure;

        Assert.NotNull(failure);
        Assert.Equal(ControlledFailureKind.Deadlock, failure.Kind);
        Assert.Equal(["a", "b"], failure.Waits.Select(w => w.Flow).Order());
    }

    [Fact]
    public void ReadersShareAReadWriteLockAndAWriterWaitsForThem()
    {
        var result = ControlledTest.Run(
            scenario =>
            {
                var rw = new ReadWriteLock("table");
                int value = 0;
                int[] seen = new int[2];
                for (int r = 0; r < 2; r++)
                {
                    int index = r;
                    scenario.Thread($"reader{r}", () =>
                    {
                        using var s = rw.AcquireRead();
                        int first = value;
                        ControlledTest.Interleave();
                        seen[index] = value - first;
                    });
                }

                scenario.Thread("writer", () =>
                {
                    using var s = rw.AcquireWrite();
                    value++;
                });

                // No writer inside a read section: what a reader read twice never changed.
                scenario.Finally(() => Assert.Equal([0, 0], seen));
            },
            new ControlledTestOptions { Seed = 4, Iterations = Budget });

        Assert.True(result.Passed, result.ToString());
    }
}
