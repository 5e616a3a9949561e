using System;
using System.Collections.Generic;
using Microsoft.Extensions.Configuration;
using System.Threading.Tasks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Locksmith.Hosting.Tests;

/// <summary>
/// An invalid value set in code (<c>AddLocksmith(options => …)</c>) is named as the property the code set, not as a
/// <c>Locksmith:</c> configuration key the app never wrote and may not read.
/// </summary>
public sealed class OptionsSetInCodeMessageTests
{
    [Fact]
    public async Task A_value_set_in_code_is_named_as_the_options_property()
    {
        var ct = TestContext.Current.CancellationToken;
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Services.AddLocksmith(options =>
        {
            options.DefaultTimeout = TimeSpan.FromSeconds(-5);
            options.StatisticsEnabled = true;
            options.MetricsEnabled = false;
        });
        using var host = builder.Build();

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(ct));

        Assert.DoesNotContain("Locksmith:", error.Message, StringComparison.Ordinal);
        Assert.Contains("LocksmithOptions.DefaultTimeout = '-00:00:05' is invalid", error.Message, StringComparison.Ordinal);
        Assert.Contains("LocksmithOptions.StatisticsEnabled = 'True' needs LocksmithOptions.MetricsEnabled = 'True'", error.Message, StringComparison.Ordinal);
    }

    // A trial's app bound appsettings.json ("WatchdogInterval": "00:00:01") and then set WatchdogInterval to zero in code:
    // the start failed with "Locksmith:WatchdogInterval = '00:00:00'", a key whose file said otherwise.
    [Fact]
    public async Task A_value_set_in_code_after_the_configuration_is_named_as_the_property_and_one_bound_after_the_code_as_the_key()
    {
        var ct = TestContext.Current.CancellationToken;
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Locksmith:WatchdogInterval"] = "00:00:01",
            ["Locksmith:HealthWindow"] = "-00:00:01",
        });
        builder.Services.AddLocksmith(options => options.HealthWindow = TimeSpan.FromMinutes(1));   // configuration binds after this
        builder.Services.AddLocksmith(builder.Configuration.GetSection("Locksmith"));
        builder.Services.AddLocksmith(options =>
        {
            options.WatchdogInterval = TimeSpan.Zero;
            options.DegradedTimeoutCount = -1;
        });
        using var host = builder.Build();

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(ct));

        Assert.Contains("LocksmithOptions.WatchdogInterval = '00:00:00' is invalid", error.Message, StringComparison.Ordinal);
        Assert.Contains("LocksmithOptions.DegradedTimeoutCount = '-1' is invalid", error.Message, StringComparison.Ordinal);
        Assert.Contains("Locksmith:HealthWindow = '-00:00:01' is invalid", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("Locksmith:WatchdogInterval", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("Locksmith:DegradedTimeoutCount", error.Message, StringComparison.Ordinal);
    }

    // A side host set up in code was told of Locksmith:InstallProcessPolicy and Locksmith:DefaultTimeout, keys it never wrote.
    [Fact]
    public async Task A_side_host_set_up_in_code_is_told_of_the_properties_its_code_set()
    {
        var ct = TestContext.Current.CancellationToken;
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        Microsoft.Extensions.Logging.FakeLoggerBuilderExtensions.AddFakeLogging(builder.Logging);
        builder.Services.AddLocksmith(options =>
        {
            options.InstallProcessPolicy = false;
            options.DefaultTimeout = TimeSpan.FromSeconds(5);
        });
        using var host = builder.Build();

        await host.StartAsync(ct);
        await host.StopAsync(ct);

        var warning = Assert.Single(host.Logs(LocksmithEventIds.PolicySettingsNotInForce));
        Assert.DoesNotContain("Locksmith:", warning.Message, StringComparison.Ordinal);
        Assert.Contains("(LocksmithOptions.InstallProcessPolicy = false)", warning.Message, StringComparison.Ordinal);
        Assert.Contains("LocksmithOptions.DefaultTimeout = 00:00:05 (in force: -00:00:00.0010000)", warning.Message, StringComparison.Ordinal);
    }
}
