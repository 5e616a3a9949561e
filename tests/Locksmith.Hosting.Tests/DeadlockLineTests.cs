using System;
using System.Text.RegularExpressions;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Locksmith.Hosting.Tests;

/// <summary>The watchdog's 14004 line reads once: "Deadlock" once, each waiter once (as its step of the cycle).</summary>
public sealed class DeadlockLineTests
{
    [Fact]
    public async Task The_deadlock_line_says_deadlock_once_and_names_each_waiter_once_keeping_its_fields()
    {
        // Before: "Deadlock detected among thread 12 ('teller-a'), thread 13 ('teller-b') on locks 'accounts', 'audit':
        // Deadlock: thread 12 ('teller-a') waits for …", the cycle's own sentence pasted after a list of its waiters.
        var ct = TestContext.Current.CancellationToken;
        using var host = TestHost.Build(
            """{ "Locksmith": { "OrderViolationAction": "Ignore", "WatchdogInterval": "00:00:00.010" } }""",
            static l => l.AddExclusiveLock("accounts", 10).AddExclusiveLock("audit", 20));
        var accounts = host.Services.GetRequiredKeyedService<ExclusiveLock>("accounts");
        var audit = host.Services.GetRequiredKeyedService<ExclusiveLock>("audit");
        await host.StartAsync(ct);

        // Two threads take the locks in opposite orders, then each waits for the other's, until the test cancels them.
        using var cancel = new CancellationTokenSource();
        using var bothHold = new CountdownEvent(2);
        Worker Start(string name, ExclusiveLock first, ExclusiveLock second) => Concurrently.Start(name, () =>
        {
            using var held = first.Acquire();
            bothHold.Signal();
            bothHold.Wait(Guard.HangLimit);
            try
            {
                using var both = second.Acquire(Guard.HangLimit, cancel.Token);
            }
            catch (OperationCanceledException)
            {
            }
        });
        var one = Start("teller-a", accounts, audit);
        var two = Start("teller-b", audit, accounts);
        Guard.SpinUntil(() => host.Logs(LocksmithEventIds.DeadlockDetected).Length > 0);
        cancel.Cancel();
        one.JoinGuarded();
        two.JoinGuarded();
        await host.StopAsync(ct);

        var line = Assert.Single(host.Logs(LocksmithEventIds.DeadlockDetected));
        Assert.Single(Regex.Matches(line.Message, "deadlock", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant));
        Assert.Single(Regex.Matches(line.Message, "'teller-a'"));
        Assert.Single(Regex.Matches(line.Message, "'teller-b'"));
        Assert.StartsWith("Deadlock detected on locks ", line.Message, StringComparison.Ordinal);

        // The fields stay: Waiters and Locks for matching, Cycle for the steps (now without a "Deadlock: " of its own).
        string waiters = line.GetStructuredStateValue("Waiters")!;
        string cycle = line.GetStructuredStateValue("Cycle")!;
        Assert.Contains("'teller-a'", waiters, StringComparison.Ordinal);
        Assert.Contains("'teller-b'", waiters, StringComparison.Ordinal);
        Assert.Contains("'accounts'", line.GetStructuredStateValue("Locks"), StringComparison.Ordinal);
        Assert.Contains("'audit'", line.GetStructuredStateValue("Locks"), StringComparison.Ordinal);
        Assert.DoesNotContain("Deadlock", cycle, StringComparison.Ordinal);
        foreach (string waiter in waiters.Split(", "))
        {
            Assert.Contains(waiter + " waits for ", cycle, StringComparison.Ordinal);
            Assert.Contains(waiter + " waits for ", line.Message, StringComparison.Ordinal);
        }
    }
}
