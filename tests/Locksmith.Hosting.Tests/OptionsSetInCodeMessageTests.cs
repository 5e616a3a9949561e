using System;
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
