using System.Threading.Tasks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Locksmith.Postgres.Tests;

/// <summary>
/// A host with the <c>locksmith-postgres</c> health check but no provider fails its start naming the check and the fix,
/// as one with PostgreSQL locks and no provider does; before, it started, and the check failed only when first run.
/// With <c>AddPostgres</c>, the same host starts. Neither host reaches the server.
/// </summary>
public sealed class PostgresHealthCheckStartTests
{
    [Fact]
    public async Task AHostWithTheCheckButNoProvider_FailsItsStart_NamingTheCheckAndTheFix()
    {
        var ct = TestContext.Current.CancellationToken;
        var orphan = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        orphan.Services.AddHealthChecks().AddLocksmithPostgres("locks-db");
        using var failing = orphan.Build();

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => failing.StartAsync(ct));

        Assert.Contains("The 'locks-db' health check (AddLocksmithPostgres) needs a PostgresLockProvider, and none is registered", error.Message, System.StringComparison.Ordinal);
        Assert.Contains("call AddLocksmith().AddPostgres(connectionString)", error.Message, System.StringComparison.Ordinal);

        var complete = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        complete.Services.AddLocksmith(static o => o.InstallProcessPolicy = false).AddPostgres(PostgresServer.ConnectionString);
        complete.Services.AddHealthChecks().AddLocksmithPostgres("locks-db");
        using var host = complete.Build();
        await host.StartAsync(ct);
        await host.StopAsync(ct);
    }
}
