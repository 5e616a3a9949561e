using System;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Locksmith.ApiServer.MainJob;
using Microsoft.Extensions.DependencyInjection;

namespace Locksmith.ApiServer.Tests;

/// <summary>What a new user sees polling /totals or resetting while the load runs.</summary>
public sealed class NewUserSampleTests
{
    private static readonly TimeSpan s_hangGuard = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task Balances_read_while_a_transfer_runs_sum_to_the_conserved_total()
    {
        // Before, each balance was read under its own lock in turn: a transfer from an account already read to one not
        // yet read counted its amount twice, and /totals (and /locks) showed 8100 of 8000 mid-load.
        await using var server = await RunningServer.StartAsync();
        var bank = server.Services.GetRequiredService<Bank>();
        var account5 = server.Services.GetRequiredKeyedService<ExclusiveLock>(ApiServerLocks.Account(5));

        var (snapshot, transfer) = RunWhileAccount5IsHeld(account5, () => bank.Balances().Sum(), () => bank.Transfer(0, 7, 100m));

        Assert.True(await transfer.WaitAsync(s_hangGuard, TestContext.Current.CancellationToken));
        Assert.Equal(bank.ExpectedTotal, await snapshot.WaitAsync(s_hangGuard, TestContext.Current.CancellationToken));
        Assert.Equal(bank.ExpectedTotal, bank.Balances().Sum());
    }

    [Fact]
    public async Task A_reset_while_a_transfer_runs_leaves_the_total_conserved()
    {
        // Before, a reset set each account in turn: a transfer between an account already reset and one not yet reset
        // kept half of its move, and the total stayed 100 short until the next reset.
        await using var server = await RunningServer.StartAsync();
        var bank = server.Services.GetRequiredService<Bank>();
        var account5 = server.Services.GetRequiredKeyedService<ExclusiveLock>(ApiServerLocks.Account(5));

        var (reset, transfer) = RunWhileAccount5IsHeld(account5, () => { bank.Reset(); return 0m; }, () => bank.Transfer(0, 7, 100m));

        Assert.True(await transfer.WaitAsync(s_hangGuard, TestContext.Current.CancellationToken));
        await reset.WaitAsync(s_hangGuard, TestContext.Current.CancellationToken);
        Assert.Equal(bank.ExpectedTotal, bank.Balances().Sum());
    }

    [Fact]
    public async Task The_usage_says_where_serve_listens()
    {
        // Before, the usage gave --port's default as "0: any free port" and --serve none, though --serve listens on 5080.
        using var output = new StringWriter(CultureInfo.InvariantCulture);

        int exit = await MainJobRunner.RunAsync(["--reqests", "5"], output, interactive: false, TestContext.Current.CancellationToken);

        Assert.Equal(2, exit);
        Assert.Contains("Unknown switch '--reqests'.", output.ToString(), StringComparison.Ordinal);
        Assert.Contains("[--serve (the server alone, on http://127.0.0.1:5080 unless --port P)]", output.ToString(), StringComparison.Ordinal);
    }

    /// <summary>
    /// Holds account-5 so <paramref name="sweep"/> (over every account, in order) stops there, runs a transfer from
    /// account 0 to 7 meanwhile (until it is done or waiting), then lets the sweep go on.
    /// </summary>
    private static (Task<decimal> Sweep, Task<bool> Transfer) RunWhileAccount5IsHeld(ExclusiveLock account5, Func<decimal> sweep, Func<bool> transfer)
    {
        Task<decimal> sweepTask;
        Task<bool> transferTask;
        using (account5.Acquire())
        {
            sweepTask = Task.Run(sweep);
            WaitUntil(() => IsWaitedOn("account-5") || sweepTask.IsCompleted, "the sweep to wait for account-5");
            Assert.False(sweepTask.IsCompleted);
            transferTask = Task.Run(transfer);
            WaitUntil(() => transferTask.IsCompleted || IsWaitedOn("account-0") || IsWaitedOn("account-7"), "the transfer to finish or wait");
        }

        return (sweepTask, transferTask);
    }

    private static bool IsWaitedOn(string lockName) => DeadlockDetector.CurrentWaits().Any(w => w.LockName == lockName);

    private static void WaitUntil(Func<bool> condition, string what) =>
        Assert.True(SpinWait.SpinUntil(condition, s_hangGuard), $"timed out waiting for {what}");
}
