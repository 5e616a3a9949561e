using System;
using System.Collections.Generic;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Locksmith.Hosting.Tests;

/// <summary>
/// <c>AddLocksmith(configuration, options => …)</c>: the configuration is bound and the delegate runs after it, so the
/// delegate's values win, at the start and after a reload, and the configuration's other values apply.
/// </summary>
public sealed class ConfigurationAndDelegateOverloadTests
{
    [Fact]
    public void The_delegate_wins_over_the_configuration_and_still_does_after_a_reload()
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Locksmith:WatchdogInterval"] = "00:00:02",
            ["Locksmith:HealthWindow"] = "00:02:00",
        });
        builder.Services.AddLocksmith(builder.Configuration, options => options.WatchdogInterval = TimeSpan.FromSeconds(3));
        using var host = builder.Build();
        var monitor = host.Services.GetRequiredService<IOptionsMonitor<LocksmithOptions>>();

        Assert.Equal((TimeSpan.FromSeconds(3), TimeSpan.FromMinutes(2)), (monitor.CurrentValue.WatchdogInterval, monitor.CurrentValue.HealthWindow));

        var configuration = (IConfigurationRoot)host.Services.GetRequiredService<IConfiguration>();
        configuration["Locksmith:WatchdogInterval"] = "00:00:04";
        configuration["Locksmith:HealthWindow"] = "00:03:00";
        configuration.Reload();

        Assert.Equal((TimeSpan.FromSeconds(3), TimeSpan.FromMinutes(3)), (monitor.CurrentValue.WatchdogInterval, monitor.CurrentValue.HealthWindow));
    }

    [Fact]
    public void A_missing_configuration_or_delegate_is_named()
    {
        var services = new ServiceCollection();
        var configuration = new ConfigurationBuilder().Build();

        Assert.Equal("configuration", Assert.Throws<ArgumentNullException>(() => services.AddLocksmith(null!, _ => { })).ParamName);
        Assert.Equal("configure", Assert.Throws<ArgumentNullException>(() => services.AddLocksmith(configuration, null!)).ParamName);
    }
}
