using System;
using System.Threading;
using System.Threading.Tasks;
using Npgsql;

namespace Locksmith.Postgres.Tests;

/// <summary>
/// Tests that set a static test hook (<see cref="PostgresHold.BeforeUnlockForTest"/>,
/// <see cref="PostgresLockSet.ProbeGrantedForTest"/>): run one at a time, so one test's restore never clears another's hook.
/// </summary>
[CollectionDefinition(nameof(PostgresTestHookCollection))]
public sealed class PostgresTestHookCollection;

/// <summary>
/// The random key a set takes to ask the server whether two providers' names are one server is given back as a lock's own
/// key is: an unlock the server refuses on a live session is sent again before the session counts as lost.
/// </summary>
[Collection(nameof(PostgresTestHookCollection))]
public sealed class PostgresProbeGiveBackTests
{
    /// <summary>
    /// A set's probe gives its random key back, and the server refuses that unlock once (an ERROR; the session lives on):
    /// after the probe's answer, or after a cancellation that landed just after the server granted the key (which no timing
    /// makes happen reliably, so <see cref="PostgresLockSet.ProbeGrantedForTest"/> cancels and throws as Npgsql would). The
    /// unlock is sent again, as a lock's own release does, and the flow's other locks on that session are not lost.
    /// Before, the first refusal counted the session lost: the LostToken of the flow's other hold on it fired though the
    /// server still had it. The refusal is the server's own, on the session's connection, made where the give-back runs
    /// (<see cref="PostgresHold.BeforeUnlockForTest"/>).
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ASetsProbeGiveBackTheServerRefusesOnce_IsSentAgain_AndTheFlowsOtherLocksAreNotLost(bool cancelledAfterGrant)
    {
        string function = $"public.{PostgresServer.Unique("refused_control_system")}()";
        await using var admin = await PostgresServer.OpenAsync();
        await PostgresSameServerTests.ExecuteAsync(admin,
            $"CREATE FUNCTION {function} RETURNS TABLE (system_identifier bigint) LANGUAGE sql AS 'SELECT 1::bigint'; " +
            $"REVOKE EXECUTE ON FUNCTION {function} FROM PUBLIC, CURRENT_USER;");
        string twice = PostgresServer.Unique("probe_refused_once");
        int refusals = 0;
        PostgresHold.BeforeUnlockForTest = async (description, connection, async) =>
        {
            if (description.Contains(twice, StringComparison.Ordinal) && Interlocked.Increment(ref refusals) == 1)
            {
                // 22012, an ERROR: the statement fails, the session lives on.
                await using var command = new NpgsqlCommand("SELECT 1 / 0", connection);
                _ = async ? await command.ExecuteScalarAsync() : command.ExecuteScalar();
            }
        };
        using var cancel = new CancellationTokenSource();
        if (cancelledAfterGrant)
        {
            PostgresLockSet.ProbeGrantedForTest = (request, token) =>
            {
                if (request.Description.Contains(twice, StringComparison.Ordinal))
                {
                    cancel.Cancel();
                    throw new OperationCanceledException(token);
                }

                return default;
            };
        }

        try
        {
            await using var refused = PostgresSameServerTests.Provider(PostgresServer.ConnectionString, function);
            await using var refusedUnderOtherName = PostgresSameServerTests.Provider(PostgresSameServerTests.ConnectionStringUnderOtherName(), function);

            // The flow's two sessions, which the probe uses, each hold a lock of the flow's through its provider.
            await using var here = await refused.CreateExclusiveLock(PostgresServer.Unique("probe_keep")).AcquireAsync();
            await using var there = await refusedUnderOtherName.CreateExclusiveLock(PostgresServer.Unique("probe_keep")).AcquireAsync();

            PostgresLockRequest[] both = [refused.CreateExclusiveLock(twice).Request(), refusedUnderOtherName.CreateExclusiveLock(twice).Request()];
            if (cancelledAfterGrant)
            {
                await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await PostgresLockSet.AcquireAsync(TimeSpan.FromSeconds(30), both, cancel.Token));
                Assert.Equal(1, refusals);
            }
            else
            {
                await using var scope = await PostgresLockSet.AcquireAsync(TimeSpan.FromSeconds(30), both);

                // The first unlock of the flow's that names the key is the probe's give-back.
                Assert.Equal(1, refusals);
                Assert.Equal(1, scope.Count);
                Assert.False(here.IsLost);
                Assert.False(there.IsLost);
                Assert.Equal(3, await PostgresSameServerTests.AdvisoryLocksOfAsync(admin, here.SessionProcessId) + await PostgresSameServerTests.AdvisoryLocksOfAsync(admin, there.SessionProcessId));
            }

            Assert.False(here.IsLost);
            Assert.False(there.IsLost);
            Assert.False(here.LostToken.IsCancellationRequested || there.LostToken.IsCancellationRequested);
            Assert.Equal(1, await PostgresSameServerTests.AdvisoryLocksOfAsync(admin, here.SessionProcessId));
            Assert.Equal(1, await PostgresSameServerTests.AdvisoryLocksOfAsync(admin, there.SessionProcessId));
        }
        finally
        {
            PostgresHold.BeforeUnlockForTest = null;
            PostgresLockSet.ProbeGrantedForTest = null;
            await PostgresSameServerTests.ExecuteAsync(admin, $"DROP FUNCTION {function}");
        }
    }
}
