using System;
using System.Linq;
using System.Threading.Tasks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Locksmith.Hosting.Tests;

/// <summary>
/// <c>AddHealthChecks().AddLocksmith(…)</c> takes what the other health check packages' registrations take
/// (AspNetCore.Diagnostics.HealthChecks' <c>AddNpgSql</c>, <c>AddRedis</c>, …): a nullable name that falls back to the
/// check's own, a failure status, tags and a timeout.
/// </summary>
public sealed class HealthRegistrationTests
{
    [Fact]
    public async Task A_null_name_registers_the_check_as_locksmith()
    {
        // Before, name: null (as those packages' callers pass it) threw ArgumentNullException from the registration.
        var ct = TestContext.Current.CancellationToken;
        using var host = TestHost.Build(services: s => s.AddHealthChecks().AddLocksmith(name: null, tags: ["ready"]));
        await host.StartAsync(ct);

        var report = await host.Services.GetRequiredService<HealthCheckService>()
            .CheckHealthAsync(static r => r.Tags.Contains("ready"), ct);
        await host.StopAsync(ct);

        Assert.Equal(["locksmith"], report.Entries.Keys);
        Assert.Equal(HealthStatus.Healthy, report.Entries["locksmith"].Status);
    }

    [Fact]
    public async Task The_timeout_failure_status_and_tags_reach_the_registration()
    {
        var ct = TestContext.Current.CancellationToken;
        using var host = TestHost.Build(services: s => s.AddHealthChecks()
            .AddLocksmith("locks", HealthStatus.Degraded, ["ready", "locks"], timeout: TimeSpan.FromSeconds(2)));
        await host.StartAsync(ct);

        var registration = Assert.Single(host.Services.GetRequiredService<IOptions<HealthCheckServiceOptions>>().Value.Registrations);
        var report = await host.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync(ct);
        await host.StopAsync(ct);

        Assert.Equal("locks", registration.Name);
        Assert.Equal(HealthStatus.Degraded, registration.FailureStatus);
        Assert.Equal(["locks", "ready"], registration.Tags.Order());
        Assert.Equal(TimeSpan.FromSeconds(2), registration.Timeout);
        Assert.Equal(HealthStatus.Healthy, report.Entries["locks"].Status);
    }
}
