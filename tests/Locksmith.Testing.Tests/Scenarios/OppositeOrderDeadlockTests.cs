using System;

namespace Locksmith.Testing.Tests.Scenarios;

/// <summary>
/// The seed's classic: two transfers take two accounts' locks in opposite order. With the order check switched off
/// (<see cref="OrderViolationAction.Ignore"/>) nothing stops it but luck; the controlled scheduler finds the deadlock
/// within a fixed budget and names both locks and both flows, while the same code taking the locks in one order passes.
/// </summary>
public sealed class OppositeOrderDeadlockTests
{
    private const int Budget = 100;

    private static void Transfers(Scenario scenario, bool sameOrder)
    {
        // Ordered locks: with the policy at Ignore, the level check no longer saves the opposite order.
        var checking = new ExclusiveLock("Account.checking", level: 10);
        var savings = new ExclusiveLock("Account.savings", level: 20);
        long checkingBalance = 100;
        long savingsBalance = 100;
        scenario.Thread("checking→savings", () =>
        {
            using var from = checking.Acquire();
            using var to = savings.Acquire();
            checkingBalance -= 10;
            savingsBalance += 10;
        });
        scenario.Thread("savings→checking", () =>
        {
            using var from = sameOrder ? checking.Acquire() : savings.Acquire();
            using var to = sameOrder ? savings.Acquire() : checking.Acquire();
            savingsBalance -= 5;
            checkingBalance += 5;
        });
        scenario.Finally(() => Assert.Equal(200, checkingBalance + savingsBalance));
    }

    private static T WithOrderCheckOff<T>(Func<T> body)
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
    [InlineData(1)]
    [InlineData(17)]
    [InlineData(2026)]
    public void TheDeadlockIsFoundWithBothLocksAndBothFlowsNamed(int seed)
    {
        foreach (var strategy in new[] { SchedulingStrategy.Random, SchedulingStrategy.Pct(2) })
        {
            var options = new ControlledTestOptions { Strategy = strategy, Seed = seed, Iterations = Budget };
            var failure = Assert.Throws<ControlledTestFailure>(() => WithOrderCheckOff(() => ControlledTest.Check(s => Transfers(s, sameOrder: false), options))).Report;

            Assert.Equal(ControlledFailureKind.Deadlock, failure.Kind);
            Assert.Equal(
                [new WaitForEdge("checking→savings", "Account.savings", "savings→checking"), new WaitForEdge("savings→checking", "Account.checking", "checking→savings")],
                failure.Waits);
            Assert.Contains("checking→savings waits for 'Account.savings' held by savings→checking", failure.Summary, StringComparison.Ordinal);

            // The one-line replay reproduces the same deadlock and the same trace.
            var replayed = WithOrderCheckOff(() => ControlledTest.Replay(s => Transfers(s, sameOrder: false), failure.Schedule)).Failure;
            Assert.NotNull(replayed);
            Assert.Equal(ControlledFailureKind.Deadlock, replayed.Kind);
            Assert.Equal(failure.Trace, replayed.Trace);
        }
    }

    [Fact]
    public void TheSameTransfersInOneOrderAreNotFlaggedOverTheSameBudget()
    {
        foreach (var strategy in new[] { SchedulingStrategy.Random, SchedulingStrategy.Pct(2) })
        {
            var result = WithOrderCheckOff(() => ControlledTest.Check(
                s => Transfers(s, sameOrder: true), new ControlledTestOptions { Strategy = strategy, Seed = 1, Iterations = Budget }));

            Assert.Equal(Budget, result.IterationsRun);
        }
    }
}
