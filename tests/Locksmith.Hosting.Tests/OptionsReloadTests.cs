using System;
using System.IO;
using System.Threading.Tasks;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Locksmith.Hosting.Tests;

/// <summary>README: options are read once, at start; a configuration reload while the host runs is not applied.</summary>
public sealed class OptionsReloadTests
{
    [Fact]
    public async Task A_reload_while_the_host_runs_keeps_the_started_policy_and_health_settings()
    {
        var ct = TestContext.Current.CancellationToken;
        var dir = Directory.CreateTempSubdirectory("locksmith-reload");
        try
        {
            string file = Path.Combine(dir.FullName, "appsettings.json");
            File.WriteAllText(file, """{ "Locksmith": { "DefaultTimeout": "00:00:03", "DegradedTimeoutCount": 4 } }""");
            var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
            builder.Configuration.AddJsonFile(file, optional: false, reloadOnChange: false);
            builder.Services.AddLocksmith(builder.Configuration);
            using var host = builder.Build();
            await host.StartAsync(ct);

            var monitor = host.Services.GetRequiredService<IOptionsMonitor<LocksmithOptions>>();
            var changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            using (monitor.OnChange(_ => changed.TrySetResult()))
            {
                File.WriteAllText(file, """{ "Locksmith": { "DefaultTimeout": "00:00:07", "DegradedTimeoutCount": 9 } }""");
                ((IConfigurationRoot)host.Services.GetRequiredService<IConfiguration>()).Reload();
                await changed.Task;
            }

            Assert.Equal(TimeSpan.FromSeconds(7), monitor.CurrentValue.DefaultTimeout);
            Assert.Equal(TimeSpan.FromSeconds(3), LocksmithPolicy.DefaultTimeout);
            Assert.Equal(4, host.Services.GetRequiredService<IOptions<LocksmithOptions>>().Value.DegradedTimeoutCount);
            await host.StopAsync(ct);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}
