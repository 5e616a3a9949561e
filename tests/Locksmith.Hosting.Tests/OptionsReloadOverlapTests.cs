using System;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Locksmith.Hosting.Tests;

/// <summary>
/// README: of two reloads the newer stands, also as the last valid values that a later bad reload keeps in force.
/// </summary>
public sealed class OptionsReloadOverlapTests
{
    private const string Started = """{ "DefaultTimeout": "00:00:03", "DegradedTimeoutCount": 4 }""";

    [Fact]
    public async Task Options_created_from_older_values_while_a_reload_applies_do_not_become_the_last_valid_ones()
    {
        var ct = TestContext.Current.CancellationToken;

        // A request scope's IOptionsSnapshot creates the options from the configuration of reload A, and is held (after
        // binding) while reload B runs to its end, as a slow request thread may be; it finishes last.
        var a = TimeSpan.FromSeconds(7);
        var holdA = new AsyncLocal<bool>();
        using var holding = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        using var app = new ReloadableHost(Started, after: s => s.AddLocksmith(o =>
        {
            if (o.DefaultTimeout == a && holdA.Value)
            {
                holding.Set();
                release.Wait(Guard.HangLimit);
            }
        }));
        await app.Host.StartAsync(ct);
        var monitor = app.Host.Services.GetRequiredService<IOptionsMonitor<LocksmithOptions>>();
        var running = app.Host.Services.GetRequiredService<RunningOptions>();
        app.Reload("""{ "DefaultTimeout": "00:00:07", "DegradedTimeoutCount": 4 }""");

        var request = Task.Run(() =>
        {
            holdA.Value = true;
            using var scope = app.Host.Services.CreateScope();
            return scope.ServiceProvider.GetRequiredService<IOptionsSnapshot<LocksmithOptions>>().Value.DefaultTimeout;
        }, ct);
        Guard.SpinUntil(() => holding.IsSet);
        app.Reload("""{ "DefaultTimeout": "00:00:09", "DegradedTimeoutCount": 4 }""");
        release.Set();
        var requested = await request;
        var afterBoth = (Policy: LocksmithPolicy.DefaultTimeout, Running: running.Current.DefaultTimeout, Monitored: monitor.CurrentValue.DefaultTimeout);

        // Refused: the host keeps B's values, the last valid ones.
        app.Reload("""{ "DefaultTimeout": "00:00:11", "DegradedTimeoutCount": -1 }""");
        var afterBad = (Policy: LocksmithPolicy.DefaultTimeout, Running: running.Current.DefaultTimeout, Monitored: monitor.CurrentValue.DefaultTimeout);
        await app.Host.StopAsync(ct);

        var b = TimeSpan.FromSeconds(9);
        Assert.Equal(a, requested);
        Assert.Equal((b, b, b), afterBoth);

        // Before, A's options, created last, were the last valid ones: the refused reload put 00:00:07 back.
        Assert.Equal((b, b, b), afterBad);
        Assert.Single(app.Host.Logs(LocksmithEventIds.OptionsReloadRejected));
        Assert.Equal(2, app.Host.Logs(LocksmithEventIds.OptionsReloaded).Length);
    }
}
