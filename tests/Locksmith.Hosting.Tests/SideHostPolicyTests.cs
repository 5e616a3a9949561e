using System;
using System.Threading.Tasks;
using Microsoft.Extensions.Logging;

namespace Locksmith.Hosting.Tests;

/// <summary>
/// A side host (<c>InstallProcessPolicy</c> false) leaves the process-wide policy alone, so its own policy settings have no
/// effect on its locks: it says so at start instead of leaving, say, a DefaultTimeout silently out of force.
/// </summary>
public sealed class SideHostPolicyTests
{
    [Fact]
    public async Task A_side_host_whose_policy_settings_differ_from_the_policy_in_force_warns_naming_them()
    {
        // Before, it started without a word, and its locks waited forever although its configuration said 5 seconds.
        var ct = TestContext.Current.CancellationToken;
        using var host = TestHost.Build("""
            { "Locksmith": { "InstallProcessPolicy": false, "DefaultTimeout": "00:00:05", "LongWaitThreshold": "00:00:01" } }
            """);

        await host.StartAsync(ct);
        await host.StopAsync(ct);

        var warning = Assert.Single(host.Logs(LocksmithEventIds.PolicySettingsNotInForce));
        Assert.Equal(LogLevel.Warning, warning.Level);
        Assert.Contains(
            "Locksmith:DefaultTimeout = 00:00:05 (in force: -00:00:00.0010000), Locksmith:LongWaitThreshold = 00:00:01 (in force: -00:00:00.0010000)",
            warning.Message, StringComparison.Ordinal);
        Assert.Contains("Locksmith:InstallProcessPolicy = false", warning.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("OrderViolationAction", warning.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_side_host_whose_policy_settings_match_the_installed_policy_does_not_warn()
    {
        var ct = TestContext.Current.CancellationToken;
        const string Shared = """ "DefaultTimeout": "00:00:05", "OrderViolationAction": "Report" """;
        using var main = TestHost.Build($$"""{ "Locksmith": { {{Shared}} } }""");
        using var side = TestHost.Build($$"""{ "Locksmith": { "InstallProcessPolicy": false, {{Shared}} } }""");
        using var plain = TestHost.Build("""{ "Locksmith": { "InstallProcessPolicy": false } }""");

        await main.StartAsync(ct);
        await side.StartAsync(ct);
        await side.StopAsync(ct);
        await main.StopAsync(ct);

        // With no policy installed, a side host that sets nothing matches the defaults in force.
        await plain.StartAsync(ct);
        await plain.StopAsync(ct);

        Assert.Empty(side.Logs(LocksmithEventIds.PolicySettingsNotInForce));
        Assert.Empty(plain.Logs(LocksmithEventIds.PolicySettingsNotInForce));
        Assert.Empty(main.Logs(LocksmithEventIds.PolicySettingsNotInForce));
    }

    [Fact]
    public async Task A_side_host_that_sets_no_policy_setting_does_not_warn_beside_a_main_host_with_its_own()
    {
        // The side host's values are its defaults, which nobody chose: nothing of its own is out of force.
        var ct = TestContext.Current.CancellationToken;
        using var main = TestHost.Build("""{ "Locksmith": { "DefaultTimeout": "00:00:05", "OrderViolationAction": "Report", "LongWaitThreshold": "00:00:01" } }""");
        using var side = TestHost.Build("""{ "Locksmith": { "InstallProcessPolicy": false } }""");

        await main.StartAsync(ct);
        await side.StartAsync(ct);
        await side.StopAsync(ct);
        await main.StopAsync(ct);

        Assert.Empty(side.Logs(LocksmithEventIds.PolicySettingsNotInForce));
    }
}
