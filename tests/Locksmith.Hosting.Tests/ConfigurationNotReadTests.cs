using System;
using System.IO;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Locksmith.Hosting.Tests;

/// <summary>
/// <c>AddLocksmith()</c> and <c>AddLocksmith(options => …)</c> read no configuration: a <c>Locksmith</c> section in the
/// app's configuration then does nothing, a misspelt key included. The host says so at start (a new user's trial
/// started such an app and kept the infinite default timeout without a word).
/// </summary>
public sealed class ConfigurationNotReadTests
{
    private const string Section = """{ "Locksmith": { "DefaultTimeout": "00:00:05", "DefaultTimeOutt": "x" } }""";

    private static IHost Build(string json, Action<IServiceCollection, IConfiguration> addLocksmith)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddJsonStream(new MemoryStream(Encoding.UTF8.GetBytes(json)));
        builder.Logging.AddFakeLogging();
        addLocksmith(builder.Services, builder.Configuration);
        return builder.Build();
    }

    [Theory]
    [InlineData("no argument")]
    [InlineData("a delegate")]
    public async Task A_Locksmith_section_that_no_AddLocksmith_reads_is_named_at_start(string form)
    {
        var ct = TestContext.Current.CancellationToken;
        using var host = Build(Section, (services, _) =>
        {
            if (form == "no argument")
            {
                services.AddLocksmith();
            }
            else
            {
                services.AddLocksmith(options => options.LongWaitThreshold = TimeSpan.FromSeconds(10));
            }
        });

        await host.StartAsync(ct);
        await host.StopAsync(ct);

        var warning = Assert.Single(host.Logs(LocksmithEventIds.ConfigurationNotRead));
        Assert.Equal(LogLevel.Warning, warning.Level);
        Assert.Contains("'Locksmith' section", warning.Message, StringComparison.Ordinal);
        Assert.Contains("AddLocksmith(builder.Configuration)", warning.Message, StringComparison.Ordinal);
    }

    // A new user's trial: AddHealthChecks().AddLocksmith() alone added Locksmith's core, and the warning blamed an
    // AddLocksmith call the app never made.
    [Fact]
    public async Task A_section_unread_because_only_the_health_check_added_Locksmith_names_the_health_check()
    {
        var ct = TestContext.Current.CancellationToken;
        using var host = Build(Section, static (services, _) => services.AddHealthChecks().AddLocksmith());

        await host.StartAsync(ct);
        await host.StopAsync(ct);

        var warning = Assert.Single(host.Logs(LocksmithEventIds.ConfigurationNotRead));
        Assert.Contains("AddHealthChecks().AddLocksmith()", warning.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("AddLocksmith was not given", warning.Message, StringComparison.Ordinal);
        Assert.Contains("services.AddLocksmith(builder.Configuration)", warning.Message, StringComparison.Ordinal);
    }

    // The fix the warning gives works: services.AddLocksmith(configuration) beside the health check, before or after it.
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task The_health_check_with_AddLocksmith_given_the_configuration_reads_the_section(bool healthCheckFirst)
    {
        var ct = TestContext.Current.CancellationToken;
        using var host = Build("""{ "Locksmith": { "LongWaitThreshold": "00:00:07" } }""", (services, configuration) =>
        {
            if (healthCheckFirst)
            {
                services.AddHealthChecks().AddLocksmith();
            }

            services.AddLocksmith(configuration);
            if (!healthCheckFirst)
            {
                services.AddHealthChecks().AddLocksmith();
            }
        });

        await host.StartAsync(ct);
        var options = host.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<LocksmithOptions>>().Value;
        await host.StopAsync(ct);

        Assert.Equal(TimeSpan.FromSeconds(7), options.LongWaitThreshold);
        Assert.Empty(host.Logs(LocksmithEventIds.ConfigurationNotRead));
    }

    // Beside AddLocksmith() the health check changes nothing: the app did call AddLocksmith, without the configuration.
    [Fact]
    public async Task The_health_check_beside_AddLocksmith_without_configuration_keeps_the_AddLocksmith_wording()
    {
        var ct = TestContext.Current.CancellationToken;
        using var host = Build(Section, static (services, _) =>
        {
            services.AddHealthChecks().AddLocksmith();
            services.AddLocksmith();
        });

        await host.StartAsync(ct);
        await host.StopAsync(ct);

        var warning = Assert.Single(host.Logs(LocksmithEventIds.ConfigurationNotRead));
        Assert.DoesNotContain("AddHealthChecks()", warning.Message, StringComparison.Ordinal);
        Assert.Contains("AddLocksmith(builder.Configuration)", warning.Message, StringComparison.Ordinal);
    }

    // A trial's app passed GetSection("Locksmiths"): an empty section, so AddLocksmith bound nothing and the host started
    // with the infinite default timeout, without the warning an AddLocksmith() would have got.
    [Fact]
    public async Task A_Locksmith_section_unread_because_AddLocksmith_was_given_another_empty_section_is_named_at_start()
    {
        var ct = TestContext.Current.CancellationToken;
        using var host = Build("""{ "Locksmith": { "DefaultTimeout": "00:00:05" } }""",
            static (services, configuration) => services.AddLocksmith(configuration.GetSection("Locksmiths")));

        await host.StartAsync(ct);
        var options = host.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<LocksmithOptions>>().Value;
        await host.StopAsync(ct);

        Assert.Equal(Timeout.InfiniteTimeSpan, options.DefaultTimeout);
        var warning = Assert.Single(host.Logs(LocksmithEventIds.ConfigurationNotRead));
        Assert.Contains("'Locksmith' section", warning.Message, StringComparison.Ordinal);
        Assert.Contains("AddLocksmith was given the section 'Locksmiths'", warning.Message, StringComparison.Ordinal);
        Assert.Contains("GetSection(\"Locksmith\")", warning.Message, StringComparison.Ordinal);
    }

    // A section of its own that holds the settings is the app's choice: a Locksmith section beside it is not named.
    [Fact]
    public async Task A_Locksmith_section_beside_another_section_that_AddLocksmith_reads_is_not_reported()
    {
        var ct = TestContext.Current.CancellationToken;
        using var host = Build("""{ "Locksmith": { "DefaultTimeout": "00:00:05" }, "App": { "Locks": { "DefaultTimeout": "00:00:03" } } }""",
            static (services, configuration) => services.AddLocksmith(configuration.GetSection("App:Locks")));

        await host.StartAsync(ct);
        await host.StopAsync(ct);

        Assert.Empty(host.Logs(LocksmithEventIds.ConfigurationNotRead));
    }

    [Fact]
    public async Task A_section_that_is_read_or_absent_is_not_reported()
    {
        var ct = TestContext.Current.CancellationToken;
        using var root = Build("""{ "Locksmith": { "DefaultTimeout": "00:00:05" } }""", static (services, configuration) => services.AddLocksmith(configuration));
        using var section = Build("""{ "Locksmith": { "DefaultTimeout": "00:00:05" } }""", static (services, configuration) =>
        {
            // Read through a later call: the section is Locksmith's either way.
            services.AddLocksmith(options => options.LongWaitThreshold = TimeSpan.FromSeconds(10));
            services.AddLocksmith(configuration.GetSection(LocksmithOptions.SectionName));
        });
        using var absent = Build("""{ "Other": { "DefaultTimeout": "00:00:05" } }""", static (services, _) => services.AddLocksmith());

        foreach (var host in new[] { root, section, absent })
        {
            await host.StartAsync(ct);
            await host.StopAsync(ct);
            Assert.Empty(host.Logs(LocksmithEventIds.ConfigurationNotRead));
        }
    }
    // An empty section or an empty value holds no setting (AddLocksmith(IConfiguration) reads nothing from either and
    // accepts both), so nothing is unread: no warning.
    [Theory]
    [InlineData("""{ "Locksmith": {} }""")]
    [InlineData("""{ "Locksmith": "" }""")]
    public async Task A_Locksmith_key_holding_no_setting_is_not_reported(string json)
    {
        var ct = TestContext.Current.CancellationToken;
        using var host = Build(json, static (services, _) => services.AddLocksmith());

        await host.StartAsync(ct);
        await host.StopAsync(ct);

        Assert.Empty(host.Logs(LocksmithEventIds.ConfigurationNotRead));
    }
}
