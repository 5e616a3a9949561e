using System;
using System.Threading.Tasks;

namespace Locksmith.Postgres.Tests;

/// <summary>
/// Every acquire method documents <see cref="ObjectDisposedException"/> for a provider disposed before the acquisition:
/// each one throws it at once, naming the provider's server, and takes nothing (a wait the disposal ends is
/// <see cref="PostgresProviderDisposalTests"/>'s).
/// </summary>
public sealed class PostgresDisposedProviderAcquireTests
{
    [Fact]
    public async Task EveryAcquireMethod_OfADisposedProvider_ThrowsObjectDisposedException()
    {
        string name = PostgresServer.Unique("disposed_acquire");
        var provider = PostgresServer.Provider();
        var exclusive = provider.CreateExclusiveLock(name + "_x");
        var readWrite = provider.CreateReadWriteLock(name + "_rw");
        var keyed = provider.CreateKeyedLock<int>(name + "_k");
        await provider.DisposeAsync();

        var second = TimeSpan.FromSeconds(1);
        Func<Task>[] acquisitions =
        [
            async () => await exclusive.AcquireAsync(),
            async () => await exclusive.AcquireAsync(second),
            async () => await exclusive.TryAcquireAsync(TimeSpan.Zero),
            async () => await readWrite.AcquireReadAsync(),
            async () => await readWrite.TryAcquireReadAsync(second),
            async () => await readWrite.AcquireWriteAsync(second),
            async () => await keyed.AcquireAsync(1),
            async () => await keyed.TryAcquireAsync(1, second),
            async () => await keyed.AcquireManyAsync([1, 2]),
            async () => await keyed.TryAcquireManyAsync([1, 2], second),
            async () => await PostgresLockSet.AcquireAsync(exclusive.Request(), readWrite.ReadRequest()),
            async () => await PostgresLockSet.TryAcquireAsync(second, [exclusive.Request(), keyed.Request(3)]),
        ];

        for (int i = 0; i < acquisitions.Length; i++)
        {
            var refused = await Assert.ThrowsAsync<ObjectDisposedException>(acquisitions[i]);
            Assert.True(refused.Message.Contains(provider.ServerIdentity, StringComparison.Ordinal), $"acquisition {i}: {refused.Message}");
        }

        Assert.Equal(0, provider.HeldCount);
        Assert.Equal(0, provider.ConnectionsInUse);
    }
}
