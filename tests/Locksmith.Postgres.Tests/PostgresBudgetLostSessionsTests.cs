using System;
using System.Threading;
using System.Threading.Tasks;
using Npgsql;

namespace Locksmith.Postgres.Tests;

/// <summary>
/// Lost sessions whose scopes are not disposed yet still count against the connection budget (the flow still holds
/// them): before, the refusal said only that every connection was held by flows that hold or wait, and to raise the
/// budget, though the sessions were dead and disposing their scopes was the fix.
/// </summary>
public sealed class PostgresBudgetLostSessionsTests
{
    private static readonly TimeSpan s_guard = PostgresServer.HangGuard;

    [Fact]
    public async Task TheBudgetRefusal_CountsTheLostSessionsStillHeld_AndSaysToDisposeTheirScopes()
    {
        await using var provider = PostgresServer.Provider(budget: 2);
        await using var admin = await PostgresServer.OpenAsync();
        var ledger = provider.CreateKeyedLock<int>(PostgresServer.Unique("budget_lost"));
        var disposeNow = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var holders = new Task[2];
        var lost = new TaskCompletionSource[2];
        var pids = new TaskCompletionSource<int>[2];
        for (int i = 0; i < 2; i++)
        {
            int key = i;
            lost[i] = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            pids[i] = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
            holders[i] = PostgresServer.InAFlowOfItsOwn(async () =>
            {
                var scope = await ledger.AcquireAsync(key);
                using var registration = scope.LostToken.Register(lost[key].SetResult);
                pids[key].SetResult(scope.SessionProcessId);
                await disposeNow.Task.WaitAsync(s_guard);
                await scope.DisposeAsync();
                return true;
            });
        }

        // Only one lost: the message counts one.
        await PostgresServer.TerminateAsync(admin, await pids[0].Task.WaitAsync(s_guard));
        await lost[0].Task.WaitAsync(s_guard);
        var one = await Assert.ThrowsAsync<PostgresConnectionBudgetException>(() =>
            PostgresServer.InAFlowOfItsOwn(async () => (await ledger.AcquireAsync(7)).IsAcquired));
        Assert.Contains("1 of them is a session lost with the server whose flow has not disposed its lost scope yet", one.Message, StringComparison.Ordinal);

        await PostgresServer.TerminateAsync(admin, await pids[1].Task.WaitAsync(s_guard));
        await lost[1].Task.WaitAsync(s_guard);
        var two = await Assert.ThrowsAsync<PostgresConnectionBudgetException>(() =>
            PostgresServer.InAFlowOfItsOwn(async () => (await ledger.AcquireAsync(7)).IsAcquired));
        Assert.Contains("2 of them are sessions lost with the server whose flows have not disposed their lost scopes yet", two.Message, StringComparison.Ordinal);
        Assert.Contains("dispose a scope once its LostToken fires", two.Message, StringComparison.Ordinal);

        // The advice works: with the lost scopes disposed, the budget has room again.
        disposeNow.SetResult();
        await Task.WhenAll(holders).WaitAsync(s_guard);
        Assert.True(await PostgresServer.InAFlowOfItsOwn(async () =>
        {
            await using var scope = await ledger.AcquireAsync(7);
            return scope.IsAcquired;
        }));
    }

    [Fact]
    public async Task TheBudgetRefusal_WithNoLostSession_KeepsItsAdvice()
    {
        await using var provider = PostgresServer.Provider(budget: 1);
        var ledger = provider.CreateExclusiveLock(PostgresServer.Unique("budget_live"));
        await using var held = await ledger.AcquireAsync();

        var refused = await Assert.ThrowsAsync<PostgresConnectionBudgetException>(() =>
            PostgresServer.InAFlowOfItsOwn(async () => (await ledger.TryAcquireAsync(TimeSpan.Zero)).IsAcquired));

        Assert.EndsWith("Raise ConnectionBudget, or let fewer flows hold distributed locks at once.", refused.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("lost", refused.Message, StringComparison.Ordinal);
    }
}
