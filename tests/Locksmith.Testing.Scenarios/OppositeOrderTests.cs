using System;
using Locksmith.Testing.Scenarios.Subjects;

namespace Locksmith.Testing.Scenarios;

/// <summary>
/// Two transfers in opposite directions, each locking "from" then "to": with the order check off
/// (<see cref="OrderViolationAction.Ignore"/>) nothing stands between them and the deadlock but luck. The controlled
/// scheduler finds it and names both locks and both flows; taking both locks in one order (a <see cref="LockSet"/>, or
/// nesting them in the same order in both flows) passes the same budget.
/// </summary>
public sealed class OppositeOrderTests
{
    private enum Locking
    {
        FromThenTo,
        SameOrder,
        LockSet,
    }

    private static void Transfers(Scenario scenario, Locking locking)
    {
        var alice = new Account("alice", 100);
        var bob = new Account("bob", 100);
        scenario.Thread("alice→bob", () => Transfer(alice, bob, 30, locking));
        scenario.Thread("bob→alice", () => Transfer(bob, alice, 20, locking));
        scenario.Finally(() =>
        {
            Assert.Equal(90, alice.Balance);
            Assert.Equal(110, bob.Balance);
        });
    }

    private static void Transfer(Account from, Account to, decimal amount, Locking locking)
    {
        switch (locking)
        {
            case Locking.FromThenTo:
            {
                // Broken: the other transfer locks the same two accounts the other way round.
                using var first = from.Lock.Acquire();
                using var second = to.Lock.Acquire();
                Account.MoveHeld(from, to, amount);
                break;
            }

            case Locking.SameOrder:
            {
                var (low, high) = string.CompareOrdinal(from.Lock.Name, to.Lock.Name) < 0 ? (from, to) : (to, from);
                using var first = low.Lock.Acquire();
                using var second = high.Lock.Acquire();
                Account.MoveHeld(from, to, amount);
                break;
            }

            default:
            {
                using var both = LockSet.Acquire(from.Lock, to.Lock);
                Account.MoveHeld(from, to, amount);
                break;
            }
        }
    }

    /// <summary>Runs <paramref name="body"/> with the order check off, and puts the policy back.</summary>
    private static T OrderCheckOff<T>(Func<T> body)
    {
        var saved = LocksmithPolicy.OrderViolationAction;
        LocksmithPolicy.OrderViolationAction = OrderViolationAction.Ignore;
        try
        {
            return body();
        }
        finally
        {
            LocksmithPolicy.OrderViolationAction = saved;
        }
    }

    [Theory]
    [InlineData("random", 1)]
    [InlineData("random", 17)]
    [InlineData("random", 2026)]
    [InlineData("pct2", 1)]
    [InlineData("pct2", 17)]
    [InlineData("pct2", 2026)]
    public void TheDeadlockIsReportedWithBothLocksAndBothFlows(string strategy, int seed)
    {
        var report = OrderCheckOff(() => Hunt.MustFind(s => Transfers(s, Locking.FromThenTo), strategy, seed, ControlledFailureKind.Deadlock));

        // The cycle: each transfer waits for the account the other holds.
        Assert.Equal(
            [new WaitForEdge("alice→bob", "account:bob", "bob→alice"), new WaitForEdge("bob→alice", "account:alice", "alice→bob")],
            report.Waits);
        Assert.Contains("alice→bob waits for 'account:bob' held by bob→alice", report.Summary, StringComparison.Ordinal);
        Assert.Contains("bob→alice waits for 'account:alice' held by alice→bob", report.Summary, StringComparison.Ordinal);
        Assert.Null(report.Exception);

        // The trace shows each flow taking its first account and then blocking on the other's.
        Assert.Contains(new TraceEntry(0, "alice→bob", "blocked on", "account:bob"), report.Trace, IgnoringStep.Instance);
        Assert.Contains(new TraceEntry(0, "bob→alice", "blocked on", "account:alice"), report.Trace, IgnoringStep.Instance);
        Assert.Contains(new TraceEntry(0, "alice→bob", "acquire", "account:alice"), report.Trace, IgnoringStep.Instance);
        Assert.Contains(new TraceEntry(0, "bob→alice", "acquire", "account:bob"), report.Trace, IgnoringStep.Instance);
        Assert.DoesNotContain(report.Trace, e => e.Operation == "release");
    }

    [Theory]
    [InlineData("random", 17)]
    public void BothLocksInOneOrderAreNotFlagged(string strategy, int seed) =>
        OrderCheckOff(() =>
        {
            Hunt.MustPass(s => Transfers(s, Locking.SameOrder), strategy, seed);
            return 0;
        });

    [Theory]
    [InlineData("random", 1)]
    [InlineData("pct2", 17)]
    [InlineData("pct3", 2026)]
    public void ALockSetIsNotFlagged(string strategy, int seed)
    {
        // A LockSet takes both in the global order, so it needs no exemption from the order check.
        Hunt.MustPass(s => Transfers(s, Locking.LockSet), strategy, seed);
    }

    /// <summary>Trace entries compared by flow, operation and target.</summary>
    private sealed class IgnoringStep : System.Collections.Generic.IEqualityComparer<TraceEntry>
    {
        public static readonly IgnoringStep Instance = new();

        public bool Equals(TraceEntry x, TraceEntry y) => x with { Step = 0 } == y with { Step = 0 };

        public int GetHashCode(TraceEntry obj) => (obj with { Step = 0 }).GetHashCode();
    }
}
