using System;
using Microsoft.Extensions.DependencyInjection;

namespace Locksmith.Hosting.Tests;

public sealed class GuardedFromContainerTests
{
    [Fact]
    public void A_guarded_class_takes_its_lock_through_its_primary_constructor_and_the_generator_wraps_it_unchanged()
    {
        const int Threads = 4;
        const int Posts = 1_000;
        using var host = TestHost.Build(locks: l => l.AddExclusiveLock("ledger", level: 10), services: s => s.AddSingleton<GuardedLedger>());
        var ledger = host.Services.GetRequiredService<GuardedLedger>();
        var ledgerLock = host.Services.GetRequiredKeyedService<ExclusiveLock>("ledger");

        Concurrently.Run(Threads, _ =>
        {
            for (int i = 0; i < Posts; i++)
            {
                ledger.Post(1m);
            }
        });

        Assert.Equal(Threads * Posts, ledger.Balance());
        Assert.True(ledger.TryPost(1m, TimeSpan.Zero));
        Assert.Equal(("ledger", 10), (ledgerLock.Name, ledgerLock.Level));
        Assert.False(ledgerLock.IsHeld);
    }

    [Fact]
    public void A_declared_level_that_contradicts_the_container_throws_naming_both()
    {
        using var host = TestHost.Build(locks: l => l.AddExclusiveLock("ledger", level: 11), services: s => s.AddSingleton<GuardedLedger>());
        var ledger = host.Services.GetRequiredService<GuardedLedger>();

        var error = Assert.Throws<InvalidOperationException>(() => ledger.Post(1m));

        Assert.Contains("level 11", error.Message, StringComparison.Ordinal);
        Assert.Contains("[LockOrder(10)]", error.Message, StringComparison.Ordinal);
    }
}

/// <summary>A domain class as an app writes it: the container hands it the lock; the generator writes the locking.</summary>
public sealed partial class GuardedLedger([FromKeyedServices("ledger")] ExclusiveLock ledgerLock)
{
    [LockOrder(10)]
    private readonly ExclusiveLock _lock = ledgerLock;

    [Guarded(Lock = nameof(_lock))]
    private decimal _balance;

    [Guarded(Lock = nameof(_lock))]
    private void PostCore(decimal amount) => _balance += amount;

    [Guarded(Lock = nameof(_lock), WrapperName = "Balance")]
    private decimal ReadBalance() => _balance;
}
