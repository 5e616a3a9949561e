using System;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Locksmith.Hosting.Tests;

public sealed class OptionsTests
{
    [Fact]
    public void Options_bind_from_the_Locksmith_section_of_JSON()
    {
        using var host = TestHost.Build("""
            {
              "Locksmith": {
                "DefaultTimeout": "00:00:02",
                "OrderViolationAction": "Report",
                "LongWaitThreshold": "00:00:00.250",
                "WatchdogInterval": "00:00:00.050",
                "HealthWindow": "00:10:00",
                "DegradedTimeoutCount": 3,
                "InstallProcessPolicy": false,
                "MetricsEnabled": false
              }
            }
            """);

        var options = host.Services.GetRequiredService<IOptions<LocksmithOptions>>().Value;

        Assert.Equal(TimeSpan.FromSeconds(2), options.DefaultTimeout);
        Assert.Equal(OrderViolationAction.Report, options.OrderViolationAction);
        Assert.Equal(TimeSpan.FromMilliseconds(250), options.LongWaitThreshold);
        Assert.Equal(TimeSpan.FromMilliseconds(50), options.WatchdogInterval);
        Assert.Equal(TimeSpan.FromMinutes(10), options.HealthWindow);
        Assert.Equal(3, options.DegradedTimeoutCount);
        Assert.False(options.InstallProcessPolicy);
        Assert.False(options.MetricsEnabled);
    }

    [Fact]
    public void Defaults_hold_when_the_section_is_missing()
    {
        using var host = TestHost.Build();

        var options = host.Services.GetRequiredService<IOptions<LocksmithOptions>>().Value;

        Assert.Equal(Timeout.InfiniteTimeSpan, options.DefaultTimeout);
        Assert.Equal(OrderViolationAction.Throw, options.OrderViolationAction);
        Assert.Equal(TimeSpan.FromSeconds(30), options.LongWaitThreshold);
        Assert.Equal(TimeSpan.FromSeconds(5), options.WatchdogInterval);
        Assert.True(options.InstallProcessPolicy);
        Assert.True(options.MetricsEnabled);
    }

    [Fact]
    public void Configuration_and_delegate_compose_and_share_one_set_of_locks()
    {
        using var host = TestHost.Build(
            """{ "Locksmith": { "DefaultTimeout": "00:00:02", "LongWaitThreshold": "00:00:01" } }""",
            locks => locks.AddExclusiveLock("from-config"),
            services => services.AddLocksmith(o => o.LongWaitThreshold = TimeSpan.FromSeconds(3)).AddExclusiveLock("from-delegate"));

        var options = host.Services.GetRequiredService<IOptions<LocksmithOptions>>().Value;
        var catalog = host.Services.GetRequiredService<ILockCatalog>();

        Assert.Equal(TimeSpan.FromSeconds(2), options.DefaultTimeout);
        Assert.Equal(TimeSpan.FromSeconds(3), options.LongWaitThreshold);
        Assert.Equal(["from-config", "from-delegate"], catalog.Names);
        Assert.Single(host.Services.GetServices<IHostedService>(), s => s is LocksmithPolicyService);
    }

    [Theory]
    [InlineData("WatchdogInterval", "00:00:00")]
    [InlineData("DefaultTimeout", "-00:00:05")]
    [InlineData("LongWaitThreshold", "-00:00:02")]
    [InlineData("OrderViolationAction", "7")]
    [InlineData("DegradedTimeoutCount", "-1")]
    [InlineData("HealthWindow", "00:00:00")]
    [InlineData("ShutdownWaitThreshold", "-00:00:03")]
    public async Task A_bad_value_fails_start_naming_the_key_and_the_value(string key, string value)
    {
        var before = PolicySnapshot.Take();
        using var host = TestHost.Build($$"""{ "Locksmith": { "{{key}}": "{{value}}" } }""");

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(TestContext.Current.CancellationToken));

        // The message starts with the key's path, as README shows it; before, the member name came first ("WatchdogInterval: Locksmith:…").
        Assert.StartsWith($"Locksmith:{key} = '{value}' is invalid", error.Message, StringComparison.Ordinal);
        Assert.Equal(before, PolicySnapshot.Take());
        Assert.Equal(0, LocksmithPolicyService.ActiveCount);
    }

    [Theory]
    [InlineData("DefaultTimeout", "5s", "a time span written [d.]hh:mm:ss[.fffffff] (00:00:05 is five seconds), or -00:00:00.001 for infinite")]
    [InlineData("WatchdogInterval", "Infinite", "a time span written [d.]hh:mm:ss[.fffffff] (00:00:05 is five seconds), or -00:00:00.001 for infinite")]
    [InlineData("OrderViolationAction", "Warn", "one of Throw, Report, Ignore")]
    // A list of names converts (the binder ORs them), so before it bound silently to another name or failed naming a
    // number nobody wrote: 'Report,Throw' started as Report, 'Throw,Ignore' as Ignore, 'Report,Ignore' failed as '3'.
    [InlineData("OrderViolationAction", "Report,Throw", "one of Throw, Report, Ignore")]
    [InlineData("OrderViolationAction", "Throw, Ignore", "one of Throw, Report, Ignore")]
    [InlineData("OrderViolationAction", "Report,Ignore", "one of Throw, Report, Ignore")]
    [InlineData("MetricsEnabled", "yes", "true or false")]
    [InlineData("DegradedTimeoutCount", "ten", "a whole number")]
    public async Task A_value_that_does_not_convert_fails_start_saying_how_to_write_it(string key, string value, string expected)
    {
        // Before, the binder's message named the path and the type only: "Failed to convert configuration value '5s' at
        // 'Locksmith:DefaultTimeout' to type 'System.TimeSpan'." (for an enum, not which names there are).
        var before = PolicySnapshot.Take();
        using var host = TestHost.Build($$"""{ "Locksmith": { "{{key}}": "{{value}}" } }""");

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => host.StartAsync(TestContext.Current.CancellationToken));

        Assert.Equal($"Locksmith:{key} = '{value}' is invalid: it must be {expected}.", error.Message);
        Assert.Equal(before, PolicySnapshot.Take());
        Assert.Equal(0, LocksmithPolicyService.ActiveCount);
    }

    [Fact]
    public async Task Sub_keys_under_a_setting_fail_start_naming_them()
    {
        // Before, they bound to nothing and the host started with the default, silently.
        using var host = TestHost.Build("""{ "Locksmith": { "DefaultTimeout": { "Seconds": 5 } } }""");

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => host.StartAsync(TestContext.Current.CancellationToken));

        Assert.StartsWith("'Locksmith:DefaultTimeout:Seconds' is not a Locksmith setting: each Locksmith setting takes a single value", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, LocksmithPolicyService.ActiveCount);
    }

    [Theory]
    [InlineData("""{ "Locksmith": "x" }""", "x")]
    [InlineData("""{ "Locksmith": 5 }""", "5")]
    public async Task A_value_in_place_of_the_Locksmith_section_fails_start_saying_it_must_hold_settings(string json, string value)
    {
        // Before, the value bound to nothing and the host started with every default, silently.
        var before = PolicySnapshot.Take();
        using var host = TestHost.Build(json);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => host.StartAsync(TestContext.Current.CancellationToken));

        Assert.StartsWith($"Locksmith = '{value}' is invalid: it must be a section of settings, not a single value", error.Message, StringComparison.Ordinal);
        Assert.Contains("\"Locksmith\": { \"DefaultTimeout\": \"00:00:05\" }", error.Message, StringComparison.Ordinal);
        Assert.Equal(before, PolicySnapshot.Take());
        Assert.Equal(0, LocksmithPolicyService.ActiveCount);
    }

    /// <summary>
    /// <c>Locksmith=x</c> from the environment or the command line is the same mistake as in JSON, also when AddLocksmith is
    /// given the whole configuration.
    /// </summary>
    [Theory]
    [InlineData("environment", false)]
    [InlineData("command line", false)]
    [InlineData("command line", true)]
    public async Task A_value_in_place_of_the_Locksmith_section_from_the_environment_or_command_line_fails_start(string source, bool root)
    {
        // A prefix of this test's own, so no other host in the process reads the variable.
        const string Prefix = "LOCKSMITH_HOSTING_TESTS_SECTION_VALUE_";
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        if (source == "environment")
        {
            Environment.SetEnvironmentVariable(Prefix + "Locksmith", "x");
            builder.Configuration.AddEnvironmentVariables(Prefix);
            Environment.SetEnvironmentVariable(Prefix + "Locksmith", null);
        }
        else
        {
            builder.Configuration.AddCommandLine(["--Locksmith=x"]);
        }

        builder.Services.AddLocksmith(root ? builder.Configuration : builder.Configuration.GetSection(LocksmithOptions.SectionName));
        using var host = builder.Build();

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => host.StartAsync(TestContext.Current.CancellationToken));

        Assert.StartsWith("Locksmith = 'x' is invalid: it must be a section of settings, not a single value", error.Message, StringComparison.Ordinal);
        Assert.Contains("--Locksmith:DefaultTimeout=00:00:05", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, LocksmithPolicyService.ActiveCount);
    }

    /// <summary>A section that holds nothing (empty, null, an empty object or array) is no setting lost: the defaults hold.</summary>
    [Theory]
    [InlineData("""{ "Locksmith": "" }""")]
    [InlineData("""{ "Locksmith": null }""")]
    [InlineData("""{ "Locksmith": {} }""")]
    [InlineData("""{ "Locksmith": [] }""")]
    public async Task An_empty_Locksmith_section_starts_with_the_defaults(string json)
    {
        using var host = TestHost.Build(json);

        await host.StartAsync(TestContext.Current.CancellationToken);
        var options = host.Services.GetRequiredService<IOptions<LocksmithOptions>>().Value;
        await host.StopAsync(TestContext.Current.CancellationToken);

        Assert.Equal(Timeout.InfiniteTimeSpan, options.DefaultTimeout);
        Assert.Equal(TimeSpan.FromSeconds(5), options.WatchdogInterval);
    }

    [Fact]
    public async Task Statistics_without_metrics_fail_start_naming_both_options()
    {
        var before = PolicySnapshot.Take();
        using var host = TestHost.Build("""{ "Locksmith": { "StatisticsEnabled": true, "MetricsEnabled": false } }""");

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(TestContext.Current.CancellationToken));

        Assert.StartsWith("Locksmith:StatisticsEnabled = 'True' needs Locksmith:MetricsEnabled = 'True'", error.Message, StringComparison.Ordinal);
        Assert.Contains("turn MetricsEnabled on or StatisticsEnabled off", error.Message, StringComparison.Ordinal);
        Assert.Equal(before, PolicySnapshot.Take());
    }

    /// <summary>
    /// Given the whole configuration rather than its section, AddLocksmith binds the <c>Locksmith</c> section: its keys
    /// apply, the root's own keys of the same names do not, and an error names the key by its real path.
    /// </summary>
    [Fact]
    public async Task The_root_configuration_binds_its_Locksmith_section_and_errors_name_the_real_path()
    {
        var good = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        good.Configuration.AddInMemoryCollection(new System.Collections.Generic.Dictionary<string, string?>
        {
            ["HealthWindow"] = "-00:00:01",
            ["Locksmith:DefaultTimeout"] = "00:00:07",
        });
        good.Services.AddLocksmith(good.Configuration);
        using (var host = good.Build())
        {
            Assert.Equal(TimeSpan.FromSeconds(7), host.Services.GetRequiredService<IOptions<LocksmithOptions>>().Value.DefaultTimeout);
        }

        var bad = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        bad.Configuration.AddInMemoryCollection(new System.Collections.Generic.Dictionary<string, string?> { ["Locksmith:HealthWindow"] = "-00:00:01" });
        bad.Services.AddLocksmith(bad.Configuration);
        using var failing = bad.Build();
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => failing.StartAsync(TestContext.Current.CancellationToken));
        Assert.Contains("Locksmith:HealthWindow = '-00:00:01' is invalid", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_value_that_does_not_parse_fails_start_naming_the_key_and_the_value()
    {
        using var host = TestHost.Build("""{ "Locksmith": { "DefaultTimeout": "soon" } }""");

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => host.StartAsync(TestContext.Current.CancellationToken));

        Assert.Contains("Locksmith:DefaultTimeout", error.Message, StringComparison.Ordinal);
        Assert.Contains("soon", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, LocksmithPolicyService.ActiveCount);
    }

    [Fact]
    public async Task The_options_internal_configuration_path_is_no_setting_and_fails_start_naming_it()
    {
        // Before, the binder knew the internal property, so the key was neither bound nor reported: it vanished silently.
        using var host = TestHost.Build("""{ "Locksmith": { "ConfigurationPath": "Elsewhere" } }""");

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => host.StartAsync(TestContext.Current.CancellationToken));

        Assert.StartsWith("'Locksmith:ConfigurationPath' is not a Locksmith setting", error.Message, StringComparison.Ordinal);
        Assert.Contains("Its settings are DefaultTimeout, ", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("ConfigurationPath,", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, LocksmithPolicyService.ActiveCount);
    }

    /// <summary>Every key README's table documents binds and starts, whatever its case, as the binder matches keys.</summary>
    [Theory]
    [InlineData("DefaultTimeout", "00:00:05", "00:00:05")]
    [InlineData("defaulttimeout", "00:00:05", "00:00:05")]
    [InlineData("OrderViolationAction", "report", "Report")]
    [InlineData("LongWaitThreshold", "00:00:01", "00:00:01")]
    [InlineData("WatchdogInterval", "-00:00:00.001", "-00:00:00.0010000")]
    [InlineData("HealthWindow", "00:02:00", "00:02:00")]
    [InlineData("DegradedTimeoutCount", "0", "0")]
    [InlineData("InstallProcessPolicy", "false", "False")]
    [InlineData("MetricsEnabled", "false", "False")]
    [InlineData("StatisticsEnabled", "true", "True")]
    public async Task Every_documented_setting_binds_and_starts(string key, string value, string expected)
    {
        using var host = TestHost.Build($$"""{ "Locksmith": { "{{key}}": "{{value}}" } }""");

        await host.StartAsync(TestContext.Current.CancellationToken);
        var options = host.Services.GetRequiredService<IOptions<LocksmithOptions>>().Value;
        await host.StopAsync(TestContext.Current.CancellationToken);

        var property = typeof(LocksmithOptions).GetProperty(key, System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.IgnoreCase);
        Assert.NotNull(property);
        Assert.Equal(expected, Convert.ToString(property.GetValue(options), System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task A_misspelt_key_fails_start_naming_it()
    {
        // Bound silently before: the default stayed in force and nothing said the setting was not applied.
        using var host = TestHost.Build("""{ "Locksmith": { "DefaultTimeOutt": "00:00:05" } }""");

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => host.StartAsync(TestContext.Current.CancellationToken));

        Assert.Contains("'DefaultTimeOutt'", error.Message, StringComparison.Ordinal);

        // With its section, as the other settings' errors name theirs; before, only the binder's words for the property.
        Assert.Contains("'Locksmith:DefaultTimeOutt' is not a Locksmith setting", error.Message, StringComparison.Ordinal);
        Assert.Contains("DefaultTimeout", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, LocksmithPolicyService.ActiveCount);
    }
}
