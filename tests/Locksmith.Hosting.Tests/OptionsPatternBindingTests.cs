using System;
using System.IO;
using System.Text;
using System.Threading.Tasks;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Locksmith.Hosting.Tests;

/// <summary>
/// An app that binds <see cref="LocksmithOptions"/> the way it binds every other options class
/// (<c>services.Configure&lt;LocksmithOptions&gt;(configuration.GetSection(LocksmithOptions.SectionName))</c>, or
/// <c>AddOptions&lt;LocksmithOptions&gt;().Bind(…)</c> / <c>.BindConfiguration("Locksmith")</c>) beside <c>AddLocksmith()</c>
/// reads the <c>Locksmith</c> section: its values are in force. A new user's trial did so and was told at start that
/// none of the section was read and the defaults were in force, while the next line showed the section's timeout installed.
/// </summary>
public sealed class OptionsPatternBindingTests
{
    private const string Section = """{ "Locksmith": { "DefaultTimeout": "00:00:05", "WatchdogInterval": "00:00:03" } }""";

    private static IHost Build(Action<IServiceCollection, IConfiguration> bind)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddJsonStream(new MemoryStream(Encoding.UTF8.GetBytes(Section)));
        builder.Logging.AddFakeLogging();
        builder.Logging.SetMinimumLevel(LogLevel.Debug);
        bind(builder.Services, builder.Configuration);
        builder.Services.AddLocksmith().AddExclusiveLock("ledger", level: 10);
        return builder.Build();
    }

    [Theory]
    [InlineData("Configure")]
    [InlineData("Bind")]
    [InlineData("BindConfiguration")]
    public async Task A_section_the_app_binds_to_LocksmithOptions_itself_is_read_and_not_reported_as_unread(string form)
    {
        var ct = TestContext.Current.CancellationToken;
        using var host = Build((services, configuration) =>
        {
            var section = configuration.GetSection(LocksmithOptions.SectionName);
            _ = form switch
            {
                "Configure" => services.Configure<LocksmithOptions>(section),
                "Bind" => services.AddOptions<LocksmithOptions>().Bind(section).Services,
                _ => services.AddOptions<LocksmithOptions>().BindConfiguration(LocksmithOptions.SectionName).Services,
            };
        });

        await host.StartAsync(ct);
        var inForce = LocksmithPolicy.DefaultTimeout;
        await host.StopAsync(ct);

        // The section's values are the ones in force...
        Assert.Equal(TimeSpan.FromSeconds(5), inForce);
        Assert.Equal(TimeSpan.FromSeconds(3), host.Services.GetRequiredService<RunningOptions>().Current.WatchdogInterval);
        // ...so the host must not say that none of it is read.
        Assert.Empty(host.Logs(LocksmithEventIds.ConfigurationNotRead));
    }

    // The warning still comes when nothing binds the section: AddLocksmith() beside an options binding of another type.
    [Fact]
    public async Task A_section_bound_to_another_options_type_only_is_still_reported_as_unread()
    {
        var ct = TestContext.Current.CancellationToken;
        using var host = Build(static (services, configuration) =>
            services.Configure<OtherOptions>(configuration.GetSection(LocksmithOptions.SectionName)));

        await host.StartAsync(ct);
        await host.StopAsync(ct);

        Assert.Single(host.Logs(LocksmithEventIds.ConfigurationNotRead));
    }

    private sealed class OtherOptions
    {
        public TimeSpan DefaultTimeout { get; set; }
    }
}
