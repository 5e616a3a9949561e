using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Locksmith.Hosting.Tests;

/// <summary>
/// What a new user writes from README's Hosting section, besides the hosted-service trial
/// (<see cref="NewUserHostedServiceTests"/>): <c>AddLocksmith</c> and its builder, options from appsettings-shaped JSON and
/// their start checks, the policy, the logs (through a logger provider of the test's own), metrics through
/// <c>IMeterFactory</c>, the health check and the stop. Every host is a real <c>Host.CreateApplicationBuilder</c> host.
/// The assembly runs its tests one at a time (xunit.runner.json), as hosts install the process-wide policy.
/// </summary>
public sealed class NewUserHostingBuilderTests
{
    private const string Infinite = "-00:00:00.001";

    // Program.cs as README writes it, with appsettings.json given as a string.
    private static IHost App(
        string json = "{}",
        Action<ILocksmithBuilder>? locks = null,
        Action<IServiceCollection>? before = null,
        Action<IServiceCollection>? after = null,
        LogSink? sink = null,
        Func<IServiceCollection, IConfiguration, ILocksmithBuilder>? addLocksmith = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = [], ContentRootPath = AppContext.BaseDirectory });
        builder.Configuration.AddJsonStream(new MemoryStream(Encoding.UTF8.GetBytes(json)));
        builder.Logging.ClearProviders().SetMinimumLevel(LogLevel.Debug);
        if (sink is not null)
        {
            builder.Logging.AddProvider(sink);
        }

        before?.Invoke(builder.Services);
        var locksmith = addLocksmith is null
            ? builder.Services.AddLocksmith(builder.Configuration.GetSection("Locksmith"))
            : addLocksmith(builder.Services, builder.Configuration);
        locks?.Invoke(locksmith);
        builder.Services.AddHealthChecks().AddLocksmith(tags: ["ready"]);
        after?.Invoke(builder.Services);
        return builder.Build();
    }

    private static T Lock<T>(IHost host, string name) where T : notnull => host.Services.GetRequiredKeyedService<T>(name);

    private static async Task<HealthReportEntry> Health(IHost host, string name = "locksmith") =>
        (await host.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync(TestContext.Current.CancellationToken)).Entries[name];

    // ---- Named locks ----

    [Fact]
    public async Task Every_Add_method_registers_a_keyed_singleton_under_its_name_and_level_also_resolvable_as_LockPrimitive()
    {
        var ct = TestContext.Current.CancellationToken;
        (string Name, Type Type, LockKind Kind, int? Level)[] expected =
        [
            ("ledger", typeof(ExclusiveLock), LockKind.Exclusive, 10),
            ("journal", typeof(ReentrantLock), LockKind.Reentrant, 11),
            ("tick", typeof(SpinGate), LockKind.Spin, 12),
            ("rates", typeof(ReadWriteLock), LockKind.ReadWrite, 13),
            ("pool", typeof(CountingSemaphore), LockKind.Semaphore, 14),
            ("accounts", typeof(StripedLock<int>), LockKind.Striped, 15),
            ("shelves", typeof(StripedReadWriteLock<string>), LockKind.Striped, 16),
            ("outbox", typeof(AsyncExclusiveLock), LockKind.AsyncExclusive, 17),
            ("prices", typeof(AsyncReadWriteLock), LockKind.AsyncReadWrite, 18),
            ("orders", typeof(AsyncStripedLock<string>), LockKind.AsyncStriped, null),
        ];
        using var host = App(locks: l => l
            .AddExclusiveLock("ledger", 10).AddReentrantLock("journal", 11).AddSpinGate("tick", 12)
            .AddReadWriteLock("rates", 13, ReadWritePolicy.WriterPreferred).AddCountingSemaphore("pool", 2, 3, 14)
            .AddStripedLock<int>("accounts", 8, 15).AddStripedReadWriteLock<string>("shelves", 4, 16, ReadWritePolicy.Fair)
            .AddAsyncExclusiveLock("outbox", 17).AddAsyncReadWriteLock("prices", 18, ReadWritePolicy.Fair)
            .AddAsyncStripedLock<string>("orders", stripeCount: 16));
        await host.StartAsync(ct);

        var resolved = expected.Select(e => (Typed: host.Services.GetRequiredKeyedService(e.Type, e.Name), Primitive: Lock<LockPrimitive>(host, e.Name))).ToArray();
        var again = expected.Select(e => host.Services.GetRequiredKeyedService(e.Type, e.Name)).ToArray();
        await host.StopAsync(ct);

        for (int i = 0; i < expected.Length; i++)
        {
            Assert.IsType(expected[i].Type, resolved[i].Typed);
            Assert.Same(resolved[i].Typed, resolved[i].Primitive);
            Assert.Same(resolved[i].Typed, again[i]);
            Assert.Equal((expected[i].Name, expected[i].Kind, expected[i].Level), (resolved[i].Primitive.Name, resolved[i].Primitive.Kind, resolved[i].Primitive.Level));
        }
    }

    [Fact]
    public async Task The_catalog_lists_every_declared_lock_by_level_then_name_with_unordered_locks_last()
    {
        var ct = TestContext.Current.CancellationToken;
        using var host = App(locks: l => l
            .AddExclusiveLock("zeta").AddExclusiveLock("ledger", 10).AddAsyncExclusiveLock("audit", 10)
            .AddReadWriteLock("rates", 5).AddExclusiveLock("alpha"));
        await host.StartAsync(ct);
        var entries = host.Services.GetRequiredService<ILockCatalog>().Snapshot().ContainerLocks();
        await host.StopAsync(ct);

        Assert.Equal(
            [("rates", (int?)5), ("audit", 10), ("ledger", 10), ("alpha", null), ("zeta", null)],
            entries.Select(e => (e.Name, e.Level)));
    }

    [Theory]
    [InlineData(3, 4)]
    [InlineData(null, 0)]   // 0: the count the lock's parameterless constructor picks
    public void A_striped_locks_stripe_count_is_rounded_up_to_a_power_of_two_or_left_out_is_its_constructors(int? given, int expected)
    {
        using var host = App(locks: l => l.AddStripedLock<int>("accounts", given).AddAsyncStripedLock<string>("orders", given));

        Assert.Equal(
            expected == 0 ? (new StripedLock<int>().StripeCount, new AsyncStripedLock<string>().StripeCount) : (expected, expected),
            (Lock<StripedLock<int>>(host, "accounts").StripeCount, Lock<AsyncStripedLock<string>>(host, "orders").StripeCount));
    }

    [Theory]
    [InlineData("pool 5 of 2", "Counting semaphore 'pool' cannot start with 5 permits free of maxCount 2: give an initialCount from 0 to 2.")]
    [InlineData("pool 0 of 0", "Counting semaphore 'pool' cannot have maxCount 0")]
    [InlineData("accounts 0", "Striped lock 'accounts' cannot have 0 stripes: give 1 to 65,536")]
    [InlineData("orders 65537", "Striped lock 'orders' cannot have 65537 stripes: give 1 to 65,536")]
    public void Bad_lock_arguments_fail_at_registration_with_ArgumentOutOfRangeException_naming_the_lock_and_the_fix(string call, string message)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = [] });
        var locksmith = builder.Services.AddLocksmith();
        Action register = call switch
        {
            "pool 5 of 2" => () => locksmith.AddCountingSemaphore("pool", 5, 2),
            "pool 0 of 0" => () => locksmith.AddCountingSemaphore("pool", 0, 0),
            "accounts 0" => () => locksmith.AddStripedLock<int>("accounts", 0),
            _ => () => locksmith.AddAsyncStripedLock<string>("orders", 65_537),
        };

        var error = Assert.Throws<ArgumentOutOfRangeException>(register);

        Assert.StartsWith(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_name_is_registered_once_and_a_builder_kept_past_Build_refuses_new_locks_which_the_catalog_never_lists()
    {
        var ct = TestContext.Current.CancellationToken;
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = [] });
        var locksmith = builder.Services.AddLocksmith().AddExclusiveLock("ledger", 10);

        var twice = Assert.Throws<InvalidOperationException>(() => locksmith.AddAsyncExclusiveLock("ledger", 20));
        using var host = builder.Build();
        var late = Assert.Throws<InvalidOperationException>(() => locksmith.AddExclusiveLock("late", 30));
        await host.StartAsync(ct);
        var names = host.Services.GetRequiredService<ILockCatalog>().Snapshot().ContainerLocks().Select(e => e.Name);
        await host.StopAsync(ct);

        Assert.Contains("'ledger' is already registered (as ExclusiveLock)", twice.Message, StringComparison.Ordinal);
        Assert.Contains("'late'", late.Message, StringComparison.Ordinal);
        Assert.Equal(["ledger"], names);
    }

    [Fact]
    public async Task A_factory_whose_lock_carries_another_name_fails_the_start_saying_how_to_fix_it()
    {
        var before = PolicySnapshot.Take();
        using var host = App(locks: l => l.Register("ledger", _ => new ExclusiveLock("other", 10)));

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => host.StartAsync(TestContext.Current.CancellationToken));

        Assert.StartsWith("The lock registered as 'ledger' was created with the name 'other'", error.Message, StringComparison.Ordinal);
        Assert.Contains("Make the factory pass 'ledger' to the lock's constructor, or register the lock as 'other'.", error.Message, StringComparison.Ordinal);
        Assert.Equal(before, PolicySnapshot.Take());
    }

    [Theory]
    [InlineData(true, "comes after AddLocksmith's, so it replaces it: the app would resolve a lock that Locksmith's catalog, metrics and watchdog do not see. Remove the other registration")]
    [InlineData(false, "comes before AddLocksmith's, which replaces it")]
    public async Task A_keyed_lock_of_the_same_name_registered_outside_AddLocksmith_fails_the_start_naming_it(bool registeredAfter, string says)
    {
        Action<IServiceCollection> other = s => s.AddKeyedSingleton("ledger", new ExclusiveLock("ledger", 10));
        using var host = App(locks: l => l.AddExclusiveLock("ledger", 10), before: registeredAfter ? null : other, after: registeredAfter ? other : null);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => host.StartAsync(TestContext.Current.CancellationToken));

        Assert.StartsWith("Lock 'ledger' is registered twice: ", error.Message, StringComparison.Ordinal);
        Assert.Contains(says, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_lock_swapped_in_by_the_container_after_RemoveAllKeyed_is_listed_and_records_into_the_containers_meter()
    {
        var ct = TestContext.Current.CancellationToken;
        ExclusiveLock? made = null;
        using var host = App(locks: l => l.AddExclusiveLock("ledger", 10), after: s =>
        {
            s.RemoveAllKeyed<ExclusiveLock>("ledger");
            s.AddKeyedSingleton<ExclusiveLock>("ledger", (_, _) => made = new ExclusiveLock("ledger", 10));
        });
        await host.StartAsync(ct);
        using var acquisitions = new MetricCollector<long>(host.Services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(), "Locksmith", "locksmith.lock.acquisitions");
        var ledger = Lock<ExclusiveLock>(host, "ledger");
        ledger.Acquire().Dispose();
        var entry = Assert.Single(host.Services.GetRequiredService<ILockCatalog>().Snapshot().ContainerLocks());
        await host.StopAsync(ct);

        Assert.Same(made, ledger);
        Assert.Equal(ledger.Id, entry.LockId);
        Assert.Equal(1, Sum(acquisitions, "ledger"));
    }

    [Fact]
    public async Task An_unregistered_or_differently_typed_name_gets_DIs_own_message_and_an_optional_lookup_still_gets_null()
    {
        var ct = TestContext.Current.CancellationToken;
        using var host = App(locks: l => l.AddAsyncExclusiveLock("outbox", 40));
        await host.StartAsync(ct);

        var missing = Assert.Throws<InvalidOperationException>(() => Lock<ExclusiveLock>(host, "nope"));
        var mistyped = Assert.Throws<InvalidOperationException>(() => Lock<ExclusiveLock>(host, "outbox"));
        var optional = host.Services.GetKeyedService<ExclusiveLock>("nope");
        var kind = host.Services.GetRequiredService<ILockCatalog>().Snapshot().ContainerLocks().Single(e => e.Name == "outbox").Kind;
        await host.StopAsync(ct);

        const string Message = "No keyed service for type 'Locksmith.ExclusiveLock' using key type 'System.String' has been registered.";
        Assert.Equal((Message, Message), (missing.Message, mistyped.Message));
        Assert.Null(optional);
        Assert.Equal(LockKind.AsyncExclusive, kind);
    }

    // ---- Options and their start checks ----

    // The binder's own checks (key, conversion, shape) throw InvalidOperationException as the configuration binder does;
    // the values' checks throw OptionsValidationException as ValidateOnStart does.
    [Theory]
    [InlineData("""{ "Locksmith": { "WatchdogInterval": "00:00:00" } }""", typeof(OptionsValidationException), "Locksmith:WatchdogInterval = '00:00:00' is invalid: it must be at least 00:00:00.001")]
    [InlineData("""{ "Locksmith": { "ShutdownWaitThreshold": "-00:00:01" } }""", typeof(OptionsValidationException), "Locksmith:ShutdownWaitThreshold = '-00:00:01' is invalid")]
    [InlineData("""{ "Locksmith": { "StatisticsEnabled": true, "MetricsEnabled": false } }""", typeof(OptionsValidationException), "Locksmith:StatisticsEnabled = 'True' needs Locksmith:MetricsEnabled = 'True'")]
    [InlineData("""{ "Locksmith": { "DefaultTimeOutt": "00:00:05" } }""", typeof(InvalidOperationException), "'Locksmith:DefaultTimeOutt' is not a Locksmith setting: LocksmithOptions has no property 'DefaultTimeOutt'. Its settings are ")]
    [InlineData("""{ "Locksmith": { "DefaultTimeout": "5s" } }""", typeof(InvalidOperationException), "Locksmith:DefaultTimeout = '5s' is invalid: it must be a time span written [d.]hh:mm:ss[.fffffff] (00:00:05 is five seconds), or -00:00:00.001 for infinite.")]
    [InlineData("""{ "Locksmith": { "DefaultTimeout": "5" } }""", typeof(InvalidOperationException), "Locksmith:DefaultTimeout = '5' is invalid: a bare number is read as days (5.00:00:00), not seconds or milliseconds. Write the time as [d.]hh:mm:ss[.fffffff]")]
    [InlineData("""{ "Locksmith": { "OrderViolationAction": "Report,Throw" } }""", typeof(InvalidOperationException), "one of Throw, Report, Ignore")]
    [InlineData("""{ "Locksmith": { "DefaultTimeout": { "Seconds": 5 } } }""", typeof(InvalidOperationException), "'Locksmith:DefaultTimeout:Seconds' is not a Locksmith setting")]
    [InlineData("""{ "Locksmith": "x" }""", typeof(InvalidOperationException), "Locksmith = 'x' is invalid: it must be a section of settings, not a single value: ")]
    [InlineData("""{ "Locksmith": 5 }""", typeof(InvalidOperationException), "Locksmith = '5' is invalid: it must be a section of settings, not a single value: ")]
    public async Task A_bad_setting_fails_StartAsync_with_the_binders_or_the_validators_exception_naming_the_key(string json, Type type, string message)
    {
        var before = PolicySnapshot.Take();
        using var host = App(json, l => l.AddExclusiveLock("ledger", 10));

        var error = await Assert.ThrowsAnyAsync<Exception>(() => host.StartAsync(TestContext.Current.CancellationToken));

        Assert.IsType(type, error);
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
        Assert.Equal(before, PolicySnapshot.Take());
    }

    [Fact]
    public async Task A_bad_value_set_by_a_delegate_after_the_configuration_is_named_as_the_property()
    {
        using var host = App(
            """{ "Locksmith": { "WatchdogInterval": "00:00:01" } }""",
            addLocksmith: (s, c) => s.AddLocksmith(c, o => o.WatchdogInterval = TimeSpan.Zero));

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(TestContext.Current.CancellationToken));

        Assert.Contains("LocksmithOptions.WatchdogInterval = '00:00:00' is invalid", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("Locksmith:WatchdogInterval", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{ "Locksmith": "" }""", Infinite)]
    [InlineData("""{ "Locksmith": {} }""", Infinite)]
    [InlineData("""{ "Locksmith": { "DefaultTimeout": "0" } }""", "00:00:00")]
    public async Task An_empty_section_starts_with_the_defaults_and_a_bare_zero_still_means_zero(string json, string defaultTimeout)
    {
        var ct = TestContext.Current.CancellationToken;
        using var host = App(json);
        await host.StartAsync(ct);
        var options = host.Services.GetRequiredService<IOptionsMonitor<LocksmithOptions>>().CurrentValue;
        var inForce = LocksmithPolicy.DefaultTimeout;
        await host.StopAsync(ct);

        Assert.Equal(TimeSpan.Parse(defaultTimeout, System.Globalization.CultureInfo.InvariantCulture), inForce);
        Assert.Equal(
            (OrderViolationAction.Throw, TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(5), TimeSpan.FromMinutes(1), 10, true, true, false),
            (options.OrderViolationAction, options.LongWaitThreshold, options.WatchdogInterval, options.ShutdownWaitThreshold,
                options.HealthWindow, options.DegradedTimeoutCount, options.InstallProcessPolicy, options.MetricsEnabled, options.StatisticsEnabled));
    }

    [Fact]
    public async Task Given_the_whole_configuration_AddLocksmith_binds_its_Locksmith_section_and_a_delegate_after_it_wins()
    {
        var ct = TestContext.Current.CancellationToken;
        using var host = App(
            """{ "Locksmith": { "DefaultTimeout": "00:00:07", "DegradedTimeoutCount": 9 }, "DefaultTimeout": "00:00:01" }""",
            addLocksmith: (s, c) => s.AddLocksmith(c, o => o.DegradedTimeoutCount = 3));
        await host.StartAsync(ct);
        var options = host.Services.GetRequiredService<IOptionsMonitor<LocksmithOptions>>().CurrentValue;
        var inForce = LocksmithPolicy.DefaultTimeout;
        await host.StopAsync(ct);

        Assert.Equal((TimeSpan.FromSeconds(7), 3), (options.DefaultTimeout, options.DegradedTimeoutCount));
        Assert.Equal(TimeSpan.FromSeconds(7), inForce);
    }

    [Fact]
    public async Task AddLocksmith_without_configuration_ignores_the_section_misspelt_keys_included_and_logs_ConfigurationNotRead()
    {
        var ct = TestContext.Current.CancellationToken;
        var sink = new LogSink();
        using var host = App(
            """{ "Locksmith": { "DefaultTimeout": "00:00:07", "DefaultTimeOutt": "x" } }""",
            sink: sink, addLocksmith: (s, _) => s.AddLocksmith());
        await host.StartAsync(ct);
        var inForce = LocksmithPolicy.DefaultTimeout;
        await host.StopAsync(ct);

        Assert.Equal(Timeout.InfiniteTimeSpan, inForce);
        var line = Assert.Single(sink.Of(LocksmithEventIds.ConfigurationNotRead));
        Assert.Equal((LogLevel.Warning, "Locksmith"), (line.Level, line.Field("Section")));
    }

    // ---- Process-wide policy ----

    [Fact]
    public async Task The_host_installs_its_policy_on_start_chains_the_handlers_it_found_and_puts_back_exactly_what_it_found_on_stop()
    {
        var ct = TestContext.Current.CancellationToken;
        var sink = new LogSink();
        var found = PolicySnapshot.Take();
        var linesSeenByMyHandler = new List<int>();
        Action<LockTimeoutEvent> mine = _ => linesSeenByMyHandler.Add(sink.Of(LocksmithEventIds.LockTimeout).Length);
        LocksmithPolicy.TimeoutOccurred = mine;
        try
        {
            var before = PolicySnapshot.Take();
            using var host = App(
                """{ "Locksmith": { "DefaultTimeout": "00:00:00.050", "OrderViolationAction": "Report", "LongWaitThreshold": "00:00:02" } }""",
                l => l.AddExclusiveLock("ledger", 10), sink: sink);
            var ledger = Lock<ExclusiveLock>(host, "ledger");
            await host.StartAsync(ct);
            var running = (LocksmithPolicy.DefaultTimeout, LocksmithPolicy.OrderViolationAction, LocksmithPolicy.LongWaitThreshold);
            using (HeldOnOtherThread.Hold("holder", release =>
            {
                using var scope = ledger.Acquire();
                release.Wait();
            }))
            {
                // No timeout passed: the configured DefaultTimeout applies.
                Assert.Throws<LockTimeoutException>(() => ledger.Acquire().Dispose());
            }

            await host.StopAsync(ct);

            Assert.Equal((TimeSpan.FromMilliseconds(50), OrderViolationAction.Report, TimeSpan.FromSeconds(2)), running);
            Assert.Equal([1], linesSeenByMyHandler);   // called once, after the host's own handler logged 14001
            Assert.Equal(before, PolicySnapshot.Take());
            Assert.Equal(
                [LocksmithEventIds.PolicyInstalled, LocksmithEventIds.LockTimeout, LocksmithEventIds.PolicyRestored],
                sink.Lines.Where(l => l.Id is LocksmithEventIds.PolicyInstalled or LocksmithEventIds.LockTimeout or LocksmithEventIds.PolicyRestored).Select(l => l.Id));
            Assert.Equal((LogLevel.Debug, LogLevel.Debug), (sink.Of(LocksmithEventIds.PolicyInstalled)[0].Level, sink.Of(LocksmithEventIds.PolicyRestored)[0].Level));
            Assert.Empty(sink.Of(LocksmithEventIds.ShutdownWaitStuck));   // a clean stop logs nothing
        }
        finally
        {
            LocksmithPolicy.TimeoutOccurred = found.TimeoutOccurred;
        }
    }

    [Fact]
    public async Task Disposing_a_started_host_without_stopping_it_puts_the_policy_back()
    {
        var before = PolicySnapshot.Take();
        var host = App("""{ "Locksmith": { "DefaultTimeout": "00:00:09" } }""");
        await host.StartAsync(TestContext.Current.CancellationToken);
        var running = LocksmithPolicy.DefaultTimeout;

        host.Dispose();

        Assert.Equal(TimeSpan.FromSeconds(9), running);
        Assert.Equal(before, PolicySnapshot.Take());
    }

    [Fact]
    public async Task A_second_installing_host_fails_to_start_while_a_side_host_starts_leaves_the_policy_and_logs_PolicySettingsNotInForce()
    {
        var ct = TestContext.Current.CancellationToken;
        var sideSink = new LogSink();
        using var main = App("""{ "Locksmith": { "DefaultTimeout": "00:00:03" } }""");
        using var second = App("""{ "Locksmith": { "DefaultTimeout": "00:00:04" } }""");
        using var side = App("""{ "Locksmith": { "DefaultTimeout": "00:00:09", "InstallProcessPolicy": false } }""", sink: sideSink);
        await main.StartAsync(ct);

        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => second.StartAsync(ct));
        await side.StartAsync(ct);
        var inForce = LocksmithPolicy.DefaultTimeout;
        await side.StopAsync(ct);
        var afterSide = LocksmithPolicy.DefaultTimeout;
        await main.StopAsync(ct);

        Assert.Contains("it is already installed by another running host", refused.Message, StringComparison.Ordinal);
        Assert.Equal((TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(3)), (inForce, afterSide));
        var line = Assert.Single(sideSink.Of(LocksmithEventIds.PolicySettingsNotInForce));
        Assert.Equal(LogLevel.Warning, line.Level);
        Assert.Equal("Locksmith:InstallProcessPolicy", line.Field("Setting"));
        Assert.Contains("Locksmith:DefaultTimeout = 00:00:09", line.Field("Settings"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_background_service_registered_before_AddLocksmith_starts_and_stops_under_the_hosts_policy()
    {
        var ct = TestContext.Current.CancellationToken;
        using var host = App(
            """{ "Locksmith": { "DefaultTimeout": "00:00:06" } }""",
            before: s => s.AddSingleton<PolicyRecorder>().AddHostedService(p => p.GetRequiredService<PolicyRecorder>()));
        var recorder = host.Services.GetRequiredService<PolicyRecorder>();
        await host.StartAsync(ct);
        await recorder.Ran.Task.WaitAsync(Guard.HangLimit, ct);
        await host.StopAsync(ct);

        Assert.Equal([TimeSpan.FromSeconds(6), TimeSpan.FromSeconds(6)], recorder.Seen);
    }

    // ---- Logs ----

    [Fact]
    public async Task A_timeout_and_a_long_wait_are_logged_in_category_Locksmith_with_their_ids_levels_and_fields()
    {
        var ct = TestContext.Current.CancellationToken;
        var sink = new LogSink();
        using var host = App("""{ "Locksmith": { "LongWaitThreshold": "00:00:00" } }""", l => l.AddExclusiveLock("ledger", 10), sink: sink);
        var ledger = Lock<ExclusiveLock>(host, "ledger");
        await host.StartAsync(ct);
        bool acquired;
        using (var holder = HeldOnOtherThread.Hold("holder", release =>
        {
            using var scope = ledger.Acquire();
            release.Wait();
        }))
        {
            acquired = ledger.TryAcquire(TimeSpan.FromMilliseconds(10), out var none);
            none.Dispose();
            // A granted wait: the holder lets go once this thread is seen waiting.
            var waiter = Worker.Start("waiter", () => ledger.Acquire().Dispose());
            Guard.SpinUntil(() => DeadlockDetector.CurrentWaits().Any(w => w.LockName == "ledger"));
            holder.Release();
            waiter.JoinGuarded();
        }

        await host.StopAsync(ct);

        Assert.False(acquired);
        var timeout = Assert.Single(sink.Of(LocksmithEventIds.LockTimeout));
        var longWait = Assert.Single(sink.Of(LocksmithEventIds.LongWait));   // the timed-out wait is 14001's only
        Assert.Equal(("Locksmith", LogLevel.Warning, "ledger", "10", "Exclusive"), (timeout.Category, timeout.Level, timeout.Field("LockName"), timeout.Field("Level"), timeout.Field("Mode")));
        Assert.Equal(("Locksmith", LogLevel.Warning, "ledger", "10", "Exclusive"), (longWait.Category, longWait.Level, longWait.Field("LockName"), longWait.Field("Level"), longWait.Field("Mode")));
        Assert.Contains("('holder')", timeout.Field("Owner"), StringComparison.Ordinal);
        Assert.Contains("('waiter')", longWait.Field("Waiter"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_reported_order_violation_is_logged_as_LockOrderViolation_and_the_acquisition_still_succeeds()
    {
        var ct = TestContext.Current.CancellationToken;
        var sink = new LogSink();
        using var host = App(
            """{ "Locksmith": { "OrderViolationAction": "Report" } }""",
            l => l.AddExclusiveLock("ledger", 10).AddReadWriteLock("rates", 5), sink: sink);
        var ledger = Lock<ExclusiveLock>(host, "ledger");
        var rates = Lock<ReadWriteLock>(host, "rates");
        await host.StartAsync(ct);
        bool took;
        using (ledger.Acquire())
        {
            using var write = rates.AcquireWrite();
            took = rates.IsWriteLockHeldByCurrentThread;
        }

        await host.StopAsync(ct);

        Assert.True(took);
        var line = Assert.Single(sink.Of(LocksmithEventIds.LockOrderViolation));
        Assert.Equal((LogLevel.Error, "rates", "5", "ledger", "10"),
            (line.Level, line.Field("LockName"), line.Field("Level"), line.Field("HeldLockName"), line.Field("HeldLevel")));
    }

    [Fact]
    public async Task A_real_deadlock_is_logged_once_as_DeadlockDetected_turns_health_Unhealthy_or_the_given_failure_status_and_clears()
    {
        var ct = TestContext.Current.CancellationToken;
        var sink = new LogSink();
        using var host = App(
            $$"""{ "Locksmith": { "WatchdogInterval": "00:00:00.010", "LongWaitThreshold": "{{Infinite}}" } }""",
            l => l.AddExclusiveLock("a").AddExclusiveLock("b"), sink: sink,
            after: s => s.AddHealthChecks().AddLocksmith("locks-soft", HealthStatus.Degraded));
        var a = Lock<ExclusiveLock>(host, "a");
        var b = Lock<ExclusiveLock>(host, "b");
        await host.StartAsync(ct);
        using var cancel = new CancellationTokenSource();
        using var bothHeld = new Barrier(2);
        var first = Worker.Start("first", () =>
        {
            using var held = a.Acquire();
            Assert.True(bothHeld.SignalAndWait(Guard.HangLimit));
            Assert.Throws<OperationCanceledException>(() => b.Acquire(cancel.Token).Dispose());
        });
        var second = Worker.Start("second", () =>
        {
            using var held = b.Acquire();
            Assert.True(bothHeld.SignalAndWait(Guard.HangLimit));
            a.Acquire().Dispose();
        });

        var detected = await sink.First(LocksmithEventIds.DeadlockDetected).WaitAsync(Guard.HangLimit, ct);
        var during = (await Health(host)).Status;
        var soft = (await Health(host, "locks-soft")).Status;
        cancel.Cancel();
        first.JoinGuarded();
        second.JoinGuarded();
        await sink.First(LocksmithEventIds.DeadlockCleared).WaitAsync(Guard.HangLimit, ct);
        var afterwards = (await Health(host)).Status;
        await host.StopAsync(ct);

        Assert.Equal((HealthStatus.Unhealthy, HealthStatus.Degraded, HealthStatus.Healthy), (during, soft, afterwards));
        Assert.Equal(LogLevel.Critical, detected.Level);
        Assert.StartsWith("Deadlock detected on locks ", detected.Message, StringComparison.Ordinal);
        Assert.Contains("('first') waits for 'b'", detected.Message, StringComparison.Ordinal);
        Assert.Contains("('second') waits for 'a'", detected.Message, StringComparison.Ordinal);
        Assert.Single(sink.Of(LocksmithEventIds.DeadlockDetected));
        Assert.Equal(LogLevel.Information, Assert.Single(sink.Of(LocksmithEventIds.DeadlockCleared)).Level);
    }

    // ---- Metrics ----

    [Fact]
    public async Task Each_host_counts_only_its_own_locks_through_IMeterFactory_and_a_lock_made_with_new_is_in_neither()
    {
        var ct = TestContext.Current.CancellationToken;
        using var main = App(locks: l => l.AddExclusiveLock("ledger", 10));
        using var side = App("""{ "Locksmith": { "InstallProcessPolicy": false } }""", l => l.AddExclusiveLock("ledger", 10));
        await main.StartAsync(ct);
        await side.StartAsync(ct);
        using var mainCount = Acquisitions(main);
        using var sideCount = Acquisitions(side);
        using var processWide = new MetricCollector<long>((object?)null, "Locksmith", "locksmith.lock.acquisitions");

        AcquireTimes(Lock<ExclusiveLock>(main, "ledger"), 3);
        AcquireTimes(Lock<ExclusiveLock>(side, "ledger"), 2);
        AcquireTimes(new ExclusiveLock("ledger", 10), 4);
        await side.StopAsync(ct);
        await main.StopAsync(ct);

        Assert.Equal((3, 2, 4), (Sum(mainCount, "ledger"), Sum(sideCount, "ledger"), Sum(processWide, "ledger")));
    }

    [Fact]
    public async Task With_MetricsEnabled_false_the_containers_locks_record_nothing()
    {
        var ct = TestContext.Current.CancellationToken;
        using var host = App("""{ "Locksmith": { "MetricsEnabled": false } }""", l => l.AddExclusiveLock("ledger", 10));
        await host.StartAsync(ct);
        using var count = Acquisitions(host);
        AcquireTimes(Lock<ExclusiveLock>(host, "ledger"), 3);
        await host.StopAsync(ct);

        Assert.Empty(count.GetMeasurementSnapshot());
    }

    [Fact]
    public async Task With_StatisticsEnabled_the_catalog_counts_each_locks_acquisitions_contentions_waits_and_timeouts()
    {
        var ct = TestContext.Current.CancellationToken;
        using var host = App("""{ "Locksmith": { "StatisticsEnabled": true } }""", l => l.AddExclusiveLock("ledger", 10).AddExclusiveLock("idle", 20));
        var ledger = Lock<ExclusiveLock>(host, "ledger");
        await host.StartAsync(ct);
        AcquireTimes(ledger, 4);
        using (HeldOnOtherThread.Hold("holder", release =>
        {
            using var scope = ledger.Acquire();
            release.Wait();
        }))
        {
            Assert.False(ledger.TryAcquire(TimeSpan.FromMilliseconds(10), out var none));
            none.Dispose();
        }

        var entries = host.Services.GetRequiredService<ILockCatalog>().Snapshot().ContainerLocks();
        await host.StopAsync(ct);

        var stats = entries.Single(e => e.Name == "ledger").Statistics;
        Assert.Equal((5L, 1L, 1L, 1L), (stats.Acquisitions, stats.Contentions, stats.Waits, stats.Timeouts));
        Assert.Equal(default, entries.Single(e => e.Name == "idle").Statistics);
    }

    // ---- Health ----

    [Theory]
    [InlineData(1, HealthStatus.Healthy)]
    [InlineData(2, HealthStatus.Degraded)]
    public async Task DegradedTimeoutCount_timeouts_within_the_window_turn_health_Degraded_and_untimed_tries_do_not_count(int timeouts, HealthStatus expected)
    {
        var ct = TestContext.Current.CancellationToken;
        using var host = App(
            $$"""{ "Locksmith": { "DegradedTimeoutCount": 2, "HealthWindow": "01:00:00", "LongWaitThreshold": "{{Infinite}}" } }""",
            l => l.AddExclusiveLock("ledger", 10));
        var ledger = Lock<ExclusiveLock>(host, "ledger");
        await host.StartAsync(ct);
        var idle = await Health(host);
        using (HeldOnOtherThread.Hold("holder", release =>
        {
            using var scope = ledger.Acquire();
            release.Wait();
        }))
        {
            for (int i = 0; i < 3; i++)
            {
                Assert.False(ledger.TryAcquire(TimeSpan.Zero, out var none));
                none.Dispose();
            }

            for (int i = 0; i < timeouts; i++)
            {
                Assert.False(ledger.TryAcquire(TimeSpan.FromMilliseconds(10), out var none));
                none.Dispose();
            }
        }

        var entry = await Health(host);
        await host.StopAsync(ct);

        Assert.Equal(HealthStatus.Healthy, idle.Status);
        Assert.Equal(["deadlocks", "locks", "longWaits", "timeouts"], idle.Data.Keys.Order(StringComparer.Ordinal));
        Assert.Contains("ready", idle.Tags);
        Assert.Equal((expected, timeouts), (entry.Status, (int)entry.Data["timeouts"]));
    }

    [Theory]
    [InlineData(false, HealthStatus.Degraded)]
    [InlineData(true, HealthStatus.Healthy)]
    public async Task A_waiter_stuck_behind_a_holder_turns_health_Degraded_while_it_waits_and_after_only_if_granted_not_cancelled(bool cancelled, HealthStatus after)
    {
        var ct = TestContext.Current.CancellationToken;
        using var host = App("""{ "Locksmith": { "LongWaitThreshold": "00:00:00.001", "HealthWindow": "01:00:00" } }""", l => l.AddExclusiveLock("ledger", 10));
        var ledger = Lock<ExclusiveLock>(host, "ledger");
        await host.StartAsync(ct);
        using var cancel = new CancellationTokenSource();
        HealthReportEntry waiting;
        using (var holder = HeldOnOtherThread.Hold("holder", release =>
        {
            using var scope = ledger.Acquire();
            release.Wait();
        }))
        {
            var waiter = Worker.Start("stuck", () =>
            {
                try
                {
                    ledger.Acquire(cancel.Token).Dispose();
                }
                catch (OperationCanceledException) when (cancelled)
                {
                }
            });
            Guard.SpinUntil(() => DeadlockDetector.CurrentWaits().Any(w => w.LockName == "ledger" && w.Waited >= TimeSpan.FromMilliseconds(1)));
            waiting = await Health(host);
            if (cancelled)
            {
                cancel.Cancel();
                waiter.JoinGuarded();
            }

            holder.Release();
            waiter.JoinGuarded();
        }

        var ended = await Health(host);
        await host.StopAsync(ct);

        Assert.Equal((HealthStatus.Degraded, after), (waiting.Status, ended.Status));
        string stuck = Assert.Single((string[])waiting.Data["longWaits"]);
        Assert.Contains("('stuck') has waited ", stuck, StringComparison.Ordinal);
        Assert.EndsWith(" for 'ledger' (Exclusive), still waiting", stuck, StringComparison.Ordinal);
        string[] finished = (string[])ended.Data["longWaits"];
        if (cancelled)
        {
            Assert.Empty(finished);
        }
        else
        {
            Assert.StartsWith("'ledger' (Exclusive) waited ", Assert.Single(finished), StringComparison.Ordinal);
            Assert.EndsWith("('stuck')", finished[0], StringComparison.Ordinal);
        }
    }

    // ---- Shutdown ----

    [Fact]
    public async Task A_stop_held_up_by_a_lock_wait_logs_ShutdownWaitStuck_once_naming_the_lock_and_its_holder()
    {
        var ct = TestContext.Current.CancellationToken;
        var sink = new LogSink();
        using var host = App(
            """{ "Locksmith": { "ShutdownWaitThreshold": "00:00:00.050" } }""",
            l => l.AddExclusiveLock("ledger", 10), sink: sink,
            after: s => s.AddHostedService(p => new FlushOnStop(p.GetRequiredKeyedService<ExclusiveLock>("ledger"))));
        var ledger = Lock<ExclusiveLock>(host, "ledger");
        await host.StartAsync(ct);
        var holder = HeldOnOtherThread.Hold("reconciler", release =>
        {
            using var scope = ledger.Acquire();
            release.Wait();
        });

        var stopping = host.StopAsync(ct);
        var stuck = await sink.First(LocksmithEventIds.ShutdownWaitStuck).WaitAsync(Guard.HangLimit, ct);
        holder.Release();
        await stopping.WaitAsync(Guard.HangLimit, ct);

        Assert.Single(sink.Of(LocksmithEventIds.ShutdownWaitStuck));
        Assert.Equal(LogLevel.Warning, stuck.Level);
        Assert.StartsWith("Shutdown held up by lock 'ledger' (level 10, Exclusive): ", stuck.Message, StringComparison.Ordinal);
        Assert.Contains($"held by thread {holder.ThreadId} ('reconciler')", stuck.Message, StringComparison.Ordinal);
        Assert.Equal(("ledger", "Exclusive", holder.ThreadId.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            (stuck.Field("LockName"), stuck.Field("Mode"), stuck.Field("HolderId")));
    }

    // ---- Helpers ----

    private static MetricCollector<long> Acquisitions(IHost host) =>
        new(host.Services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(), "Locksmith", "locksmith.lock.acquisitions");

    private static long Sum(MetricCollector<long> collector, string lockName) =>
        collector.GetMeasurementSnapshot().Where(m => m.Tags.TryGetValue("lock.name", out var n) && (string?)n == lockName).Sum(m => m.Value);

    private static void AcquireTimes(ExclusiveLock gate, int times)
    {
        for (int i = 0; i < times; i++)
        {
            gate.Acquire().Dispose();
        }
    }

    /// <summary>Reads the policy in force when it starts running and when it is stopped.</summary>
    private sealed class PolicyRecorder : BackgroundService
    {
        public List<TimeSpan> Seen { get; } = [];

        public TaskCompletionSource Ran { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        protected override Task ExecuteAsync(CancellationToken stoppingToken)
        {
            Seen.Add(LocksmithPolicy.DefaultTimeout);
            Ran.TrySetResult();
            return Task.CompletedTask;
        }

        public override async Task StopAsync(CancellationToken cancellationToken)
        {
            Seen.Add(LocksmithPolicy.DefaultTimeout);
            await base.StopAsync(cancellationToken);
        }
    }

    /// <summary>A service whose stop flushes under the ledger's lock, as a worker's would.</summary>
    private sealed class FlushOnStop(ExclusiveLock ledger) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.Run(() => ledger.Acquire().Dispose(), CancellationToken.None);
    }

    /// <summary>The test's own logger provider: every line with its structured fields, and a wait for the first of an id.</summary>
    private sealed class LogSink : ILoggerProvider
    {
        private readonly ConcurrentQueue<Line> _lines = new();
        private readonly ConcurrentDictionary<int, TaskCompletionSource<Line>> _first = new();

        public Line[] Lines => [.. _lines];

        public Line[] Of(int eventId) => [.. _lines.Where(l => l.Id == eventId)];

        public Task<Line> First(int eventId) => Waiter(eventId).Task;

        public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

        public void Dispose()
        {
        }

        private TaskCompletionSource<Line> Waiter(int eventId) =>
            _first.GetOrAdd(eventId, static _ => new TaskCompletionSource<Line>(TaskCreationOptions.RunContinuationsAsynchronously));

        private void Add(Line line)
        {
            _lines.Enqueue(line);
            Waiter(line.Id).TrySetResult(line);
        }

        public sealed record Line(string Category, LogLevel Level, int Id, string Message, IReadOnlyDictionary<string, object?> Fields)
        {
            public string Field(string name) => Convert.ToString(Fields[name], System.Globalization.CultureInfo.InvariantCulture)!;
        }

        private sealed class Logger(LogSink sink, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                var fields = state is IEnumerable<KeyValuePair<string, object?>> pairs
                    ? pairs.GroupBy(p => p.Key).ToDictionary(g => g.Key, g => g.First().Value)
                    : new Dictionary<string, object?>();
                sink.Add(new Line(category, logLevel, eventId.Id, formatter(state, exception), fields));
            }
        }
    }
}
