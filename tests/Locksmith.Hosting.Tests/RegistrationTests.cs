using System;
using System.Linq;
using System.Threading.Tasks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Locksmith.Hosting.Tests;

public sealed class RegistrationTests
{
    private static void DeclareEveryKind(ILocksmithBuilder locks) => locks
        .AddExclusiveLock("ledger", level: 10)
        .AddReentrantLock("journal", level: 20)
        .AddReadWriteLock("rates", level: 5, ReadWritePolicy.ReaderPreferred)
        .AddCountingSemaphore("pool", initialCount: 2, maxCount: 3, level: 30)
        .AddAsyncExclusiveLock("outbox", level: 40)
        .AddStripedLock<string>("accounts", stripeCount: 8, level: 50)
        .AddExclusiveLock("scratch");

    [Fact]
    public async Task A_lock_declared_after_the_host_was_built_is_refused_naming_it_and_leaves_the_catalog_and_health_whole()
    {
        // Before, the registry took the name and then the read-only service collection threw its own message, so the
        // catalog listed a lock the container could not create: every Snapshot (health, /locks.json) threw.
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        var locks = builder.Services.AddLocksmith().AddExclusiveLock("ledger", level: 10);
        builder.Services.AddHealthChecks().AddLocksmith();
        using var host = builder.Build();

        var error = Assert.Throws<InvalidOperationException>(() => locks.AddExclusiveLock("late", level: 20));
        var names = host.Services.GetRequiredService<ILockCatalog>().Snapshot().ContainerLocks().Select(static e => e.Name);
        var health = await host.Services.GetRequiredService<Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckService>()
            .CheckHealthAsync(TestContext.Current.CancellationToken);

        Assert.Equal("Lock 'late' cannot be registered: the service collection is read-only, so the container was already built. Declare every lock before Build().", error.Message);
        Assert.Equal(["ledger"], names);
        Assert.Equal(Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Healthy, health.Status);
    }

    [Fact]
    public void Every_kind_resolves_by_its_key_as_one_singleton_with_its_name_level_and_policy()
    {
        using var host = TestHost.Build(locks: DeclareEveryKind);
        var services = host.Services;

        var ledger = services.GetRequiredKeyedService<ExclusiveLock>("ledger");
        var journal = services.GetRequiredKeyedService<ReentrantLock>("journal");
        var rates = services.GetRequiredKeyedService<ReadWriteLock>("rates");
        var pool = services.GetRequiredKeyedService<CountingSemaphore>("pool");
        var outbox = services.GetRequiredKeyedService<AsyncExclusiveLock>("outbox");
        var accounts = services.GetRequiredKeyedService<StripedLock<string>>("accounts");

        Assert.Same(ledger, services.GetRequiredKeyedService<ExclusiveLock>("ledger"));
        Assert.Same(ledger, services.GetRequiredKeyedService<LockPrimitive>("ledger"));
        Assert.Same(outbox, services.GetRequiredKeyedService<LockPrimitive>("outbox"));
        Assert.Equal(("ledger", 10, LockKind.Exclusive), (ledger.Name, ledger.Level, ledger.Kind));
        Assert.Equal(("journal", 20, LockKind.Reentrant), (journal.Name, journal.Level, journal.Kind));
        Assert.Equal(("rates", 5, LockKind.ReadWrite, ReadWritePolicy.ReaderPreferred), (rates.Name, rates.Level, rates.Kind, rates.Policy));
        Assert.Equal(("pool", 30, LockKind.Semaphore, 2, 3), (pool.Name, pool.Level, pool.Kind, pool.CurrentCount, pool.MaxCount));
        Assert.Equal(("outbox", 40, LockKind.AsyncExclusive), (outbox.Name, outbox.Level, outbox.Kind));
        Assert.Equal(("accounts", 50, LockKind.Striped, 8), (accounts.Name, accounts.Level, accounts.Kind, accounts.StripeCount));
        Assert.Null(services.GetRequiredKeyedService<ExclusiveLock>("scratch").Level);
    }

    [Fact]
    public void A_spin_gate_and_a_striped_read_write_lock_resolve_by_key_with_their_settings()
    {
        using var host = TestHost.Build(locks: locks => locks
            .AddSpinGate("tick", level: 60)
            .AddStripedReadWriteLock<string>("shelves", stripeCount: 4, level: 70, ReadWritePolicy.Fair));

        var tick = host.Services.GetRequiredKeyedService<SpinGate>("tick");
        var shelves = host.Services.GetRequiredKeyedService<StripedReadWriteLock<string>>("shelves");

        Assert.Same(tick, host.Services.GetRequiredKeyedService<LockPrimitive>("tick"));
        Assert.Equal(("tick", 60, LockKind.Spin), (tick.Name, tick.Level, tick.Kind));
        Assert.Equal(("shelves", 70, 4, ReadWritePolicy.Fair), (shelves.Name, shelves.Level, shelves.StripeCount, shelves.Policy));
        using (tick.Acquire())
        {
            var entry = System.Linq.Enumerable.Single(host.Services.GetRequiredService<ILockCatalog>().Snapshot().ContainerLocks(), e => e.Name == "tick");
            Assert.Equal($"thread {Environment.CurrentManagedThreadId}", entry.Holder);
        }
    }

    [Fact]
    public void A_constructor_receives_its_lock_through_FromKeyedServices()
    {
        using var host = TestHost.Build(locks: DeclareEveryKind, services: s => s.AddSingleton<Ledger>());

        var ledger = host.Services.GetRequiredService<Ledger>();

        Assert.Same(host.Services.GetRequiredKeyedService<ExclusiveLock>("ledger"), ledger.Lock);
        Assert.Equal(1, ledger.Post());
    }

    [Fact]
    public void The_catalog_lists_every_lock_in_the_global_order_then_the_unordered()
    {
        using var host = TestHost.Build(locks: DeclareEveryKind);

        var entries = host.Services.GetRequiredService<ILockCatalog>().Snapshot().ContainerLocks();

        Assert.Equal(
            [("rates", 5), ("ledger", 10), ("journal", 20), ("pool", 30), ("outbox", 40), ("accounts", 50), ("scratch", (int?)null)],
            [.. System.Linq.Enumerable.Select(entries, e => (e.Name, e.Level))]);
        Assert.All(entries, e => Assert.False(e.State.IsHeld && e.Kind != LockKind.Semaphore));
        var pool = System.Linq.Enumerable.Single(entries, e => e.Name == "pool");

        // Declared with 2 of 3 permits free: none taken yet (it read as holding the one below its maximum), nobody queued.
        Assert.Equal(new LockState(false, WaitingCount: 0, SharedCount: 0), pool.State);
    }

    [Fact]
    public void The_catalog_counts_a_semaphores_permits_taken_from_its_initial_count()
    {
        using var host = TestHost.Build(locks: DeclareEveryKind);
        var catalog = host.Services.GetRequiredService<ILockCatalog>();
        var pool = host.Services.GetRequiredKeyedService<CountingSemaphore>("pool");
        LockState PoolState() => System.Linq.Enumerable.Single(catalog.Snapshot().ContainerLocks(), e => e.Name == "pool").State;

        using (pool.Acquire(2))
        {
            Assert.Equal(new LockState(true, WaitingCount: 0, SharedCount: 2), PoolState());
        }

        Assert.Equal(new LockState(false, WaitingCount: 0, SharedCount: 0), PoolState());
    }

    [Fact]
    public async Task The_catalog_reports_holders_readers_and_waiters()
    {
        using var host = TestHost.Build(locks: DeclareEveryKind);
        var services = host.Services;
        var catalog = services.GetRequiredService<ILockCatalog>();
        var ledger = services.GetRequiredKeyedService<ExclusiveLock>("ledger");
        var rates = services.GetRequiredKeyedService<ReadWriteLock>("rates");
        var outbox = services.GetRequiredKeyedService<AsyncExclusiveLock>("outbox");

        using var holder = HeldOnOtherThread.Hold("ledger-holder", release =>
        {
            using var scope = ledger.Acquire();
            release.Wait();
        });
        using var reader = HeldOnOtherThread.Hold("rates-reader", release =>
        {
            using var scope = rates.AcquireRead();
            release.Wait();
        });
        // Each flow its own Task.Run: a child task inherits its parent's flow, and with it the parent's holds.
        var held = await Task.Run(async () => await outbox.AcquireAsync(TestContext.Current.CancellationToken));
        var waiter = Task.Run(async () =>
        {
            using var scope = await outbox.AcquireAsync(TestContext.Current.CancellationToken);
        });
        Guard.SpinUntil(() => outbox.WaitingCount == 1);

        var byName = System.Linq.Enumerable.ToDictionary(catalog.Snapshot(), e => e.Name);

        Assert.Equal(new LockState(true, holder.ThreadId), byName["ledger"].State);
        Assert.Equal($"thread {holder.ThreadId}", byName["ledger"].Holder);
        Assert.False(byName["ledger"].HolderIsFlow);
        Assert.Equal(new LockState(true, 0, SharedCount: 1), byName["rates"].State);
        Assert.Equal(new LockState(true, outbox.HolderFlowId, WaitingCount: 1), byName["outbox"].State);
        Assert.True(byName["outbox"].HolderIsFlow);
        Assert.Equal(new LockState(false), byName["journal"].State);

        held.Dispose();
        await waiter.WaitAsync(Guard.HangLimit, TestContext.Current.CancellationToken);
        holder.Release();
        reader.Release();
        byName = System.Linq.Enumerable.ToDictionary(catalog.Snapshot(), e => e.Name);
        Assert.Equal(new LockState(false), byName["ledger"].State);
        Assert.Equal(new LockState(false, WaitingCount: 0), byName["outbox"].State);
    }

    [Fact]
    public void Register_is_the_extension_point_for_other_lock_kinds()
    {
        using var host = TestHost.Build(locks: l => l.Register(
            "custom", _ => new ExclusiveLock("custom", 7), static l => new LockState(l.IsHeld, l.OwnerThreadId, WaitingCount: 42)));

        var entry = Assert.Single(host.Services.GetRequiredService<ILockCatalog>().Snapshot().ContainerLocks());

        var registered = host.Services.GetRequiredKeyedService<LockPrimitive>("custom");
        Assert.Equal(new LockCatalogEntry("custom", LockKind.Exclusive, 7, new LockState(false, WaitingCount: 42)) { LockId = registered.Id }, entry);
    }

    [Fact]
    public void A_second_lock_with_one_name_throws_naming_it()
    {
        var error = Assert.Throws<InvalidOperationException>(() =>
            TestHost.Build(locks: l => l.AddExclusiveLock("ledger").AddReadWriteLock("ledger")));

        Assert.Contains("'ledger' is already registered (as ExclusiveLock)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_factory_that_names_its_lock_differently_throws_naming_both()
    {
        using var host = TestHost.Build(locks: l => l.Register("ledger", _ => new ExclusiveLock("other")));

        var error = Assert.Throws<InvalidOperationException>(() => host.Services.GetRequiredKeyedService<ExclusiveLock>("ledger"));

        Assert.Contains("registered as 'ledger' was created with the name 'other'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_factory_that_names_its_lock_differently_fails_the_start_naming_both_and_the_fix()
    {
        using var host = TestHost.Build(locks: l => l.AddExclusiveLock("audit").Register("ledger", _ => new ExclusiveLock("other")));

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => host.StartAsync(TestContext.Current.CancellationToken));

        Assert.Contains("registered as 'ledger' was created with the name 'other'", error.Message, StringComparison.Ordinal);
        Assert.Contains("pass 'ledger' to the lock's constructor, or register the lock as 'other'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_started_host_has_created_its_locks_and_resolves_the_same_instances()
    {
        ExclusiveLock? created = null;
        using var host = TestHost.Build(locks: l => l.Register("ledger", _ => created = new ExclusiveLock("ledger")));

        await host.StartAsync(TestContext.Current.CancellationToken);
        try
        {
            Assert.NotNull(created);
            Assert.Same(created, host.Services.GetRequiredKeyedService<ExclusiveLock>("ledger"));
        }
        finally
        {
            await host.StopAsync(TestContext.Current.CancellationToken);
        }
    }

    private sealed class Ledger([FromKeyedServices("ledger")] ExclusiveLock ledgerLock)
    {
        private int _entries;

        public ExclusiveLock Lock { get; } = ledgerLock;

        public int Post()
        {
            using var scope = Lock.Acquire();
            return ++_entries;
        }
    }
}

public sealed class BuilderArgumentTests
{
    [Theory]
    [InlineData("pool", 5, 2, "initialCount", "Counting semaphore 'pool' cannot start with 5 permits free of maxCount 2")]
    [InlineData("empty", 0, 0, "maxCount", "Counting semaphore 'empty' cannot have maxCount 0")]
    [InlineData("negative", -1, 3, "initialCount", "Counting semaphore 'negative' cannot start with -1 permits")]
    public void A_bad_semaphore_fails_at_registration_naming_the_lock(string name, int initialCount, int maxCount, string parameter, string message)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings()).Services.AddLocksmith();

        var e = Assert.ThrowsAny<ArgumentException>(() => builder.AddCountingSemaphore(name, initialCount, maxCount));

        Assert.Equal(parameter, e.ParamName);
        Assert.StartsWith(message, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-4)]
    [InlineData(65_537)]
    public void A_bad_stripe_count_fails_at_registration_naming_the_lock(int stripeCount)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings()).Services.AddLocksmith();

        var errors = new Action[]
        {
            () => builder.AddStripedLock<int>("orders", stripeCount),
            () => builder.AddStripedReadWriteLock<int>("orders", stripeCount),
            () => builder.AddAsyncStripedLock<int>("orders", stripeCount),
        }.Select(add => Assert.ThrowsAny<ArgumentException>(add)).ToArray();

        Assert.All(errors, e =>
        {
            Assert.Equal("stripeCount", e.ParamName);
            Assert.StartsWith($"Striped lock 'orders' cannot have {stripeCount} stripes: give 1 to 65,536", e.Message, StringComparison.Ordinal);
        });
    }

    [Fact]
    public void A_stripe_count_that_is_no_power_of_two_is_rounded_up_as_documented()
    {
        using var host = TestHost.Build(locks: l => l.AddStripedLock<int>("orders", 3));

        Assert.Equal(4, host.Services.GetRequiredKeyedService<StripedLock<int>>("orders").StripeCount);
    }
}
