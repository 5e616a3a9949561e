using System;
using System.Threading.Tasks;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Locksmith.Postgres.Tests;

/// <summary>
/// A provider keeps its sessions on the primary. Advisory locks are not replicated and a standby grants its own, so a
/// session on another host or on a standby excluded nothing on the primary; before, the provider took any connection
/// string Npgsql takes (the README said "the provider does not check this"). Now the settings that choose among hosts are
/// refused as the provider is made, naming the setting, its value and the fix (a server in recovery is refused as each new
/// connection opens: <see cref="PostgresStandbyRefusalTests"/>).
/// </summary>
public sealed class PostgresPrimaryOnlyTests
{
    public static TheoryData<string, string> RefusedShapes => new()
    {
        { "Host=db1,db2;Database=app", "Host = 'db1,db2', more than one host" },
        { "Host=db1:5432,db2:5433;Database=app", "Host = 'db1:5432,db2:5433', more than one host" },
        { "Server=db1,db2;Database=app", "Host = 'db1,db2', more than one host" },
        { "Host=db1,db2;Load Balance Hosts=true;Target Session Attributes=primary", "Host = 'db1,db2', more than one host" },
        { "Host=db1;Database=app;Load Balance Hosts=true", "Load Balance Hosts = true" },
        { "Host=db1;Database=app;Target Session Attributes=standby", "Target Session Attributes = standby, which asks for a standby" },
        { "Host=db1;Database=app;Target Session Attributes=Prefer-Standby", "Target Session Attributes = prefer-standby, which asks for a standby" },
        { "Host=db1;Database=app;Target Session Attributes=read-only", "Target Session Attributes = read-only, which asks for a standby" },
        { "Host=db1;Database=app;Target Session Attributes=prefer-primary", "Target Session Attributes = prefer-primary, which falls back to a standby" },
    };

    /// <summary>Each shape that can put sessions off the primary is refused by both constructors, before any connection.</summary>
    [Theory]
    [MemberData(nameof(RefusedShapes))]
    public void AConnectionStringThatCanReachAnotherServer_IsRefusedAtConstruction_NamingTheSettingAndTheFix(string connectionString, string named)
    {
        var fromString = Assert.Throws<ArgumentException>(() => new PostgresLockProvider(connectionString));
        var fromOptions = Assert.Throws<ArgumentException>(() => new PostgresLockProvider(new PostgresLockProviderOptions { ConnectionString = connectionString }));

        foreach (var error in new[] { fromString, fromOptions })
        {
            Assert.StartsWith($"PostgresLockProviderOptions.ConnectionString has {named}", error.Message, StringComparison.Ordinal);
            Assert.Contains("exclude nothing on the primary", error.Message, StringComparison.Ordinal);
            Assert.Contains("give the primary's single host", error.Message, StringComparison.OrdinalIgnoreCase);
            Assert.Equal("options", error.ParamName);
        }
    }

    /// <summary>AddPostgres checks the same at registration, where the connection string was written, and registers nothing.</summary>
    [Theory]
    [MemberData(nameof(RefusedShapes))]
    public void AddPostgres_RefusesTheSameShapes_AtRegistration(string connectionString, string named)
    {
        var services = new ServiceCollection();

        var error = Assert.Throws<ArgumentException>(() => services.AddLocksmith().AddPostgres(connectionString));

        Assert.StartsWith($"PostgresLockProviderOptions.ConnectionString has {named}", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(services, static d => d.ServiceType == typeof(PostgresLockProvider));
    }

    /// <summary>
    /// The shapes that keep every session on the one host are taken, and the provider's locks exclude on the real server.
    /// A single host with primary or read-write (which an application's connection string may carry) failed before with
    /// Npgsql's NotSupportedException ("only supported with multiple hosts") as the pool was built; a port given in Host
    /// was named wrongly in the provider's messages.
    /// </summary>
    [Theory]
    [InlineData("single host")]
    [InlineData("primary")]
    [InlineData("read-write")]
    [InlineData("any")]
    [InlineData("host with port")]
    public async Task AConnectionStringOfThePrimarysSingleHost_IsTaken_AndItsLocksExclude(string shape)
    {
        var server = new NpgsqlConnectionStringBuilder(PostgresServer.ConnectionString);
        var settings = new NpgsqlConnectionStringBuilder(PostgresServer.ConnectionString);
        switch (shape)
        {
            case "host with port":
                settings.Host = $"{settings.Host}:{settings.Port}";
                settings.Port = 1;   // the port in Host wins, as Npgsql reads it
                break;
            case "single host":
                break;
            default:
                settings.TargetSessionAttributes = shape;
                break;
        }

        await using var provider = new PostgresLockProvider(new PostgresLockProviderOptions
        {
            ConnectionString = settings.ConnectionString,
            ConnectionBudget = 2,
            LostLockCheckInterval = TimeSpan.FromMilliseconds(100),
        });
        await using var elsewhere = await PostgresServer.WarmedProviderAsync();
        string name = PostgresServer.Unique("primary_only");

        // The port in Host is the one the sessions use, and messages name it (before: host:port:1).
        Assert.Equal($"{server.Host}:{server.Port}/{server.Database}", provider.ServerIdentity);

        await using (var held = await provider.CreateExclusiveLock(name).AcquireAsync(TimeSpan.FromSeconds(30)))
        {
            Assert.True(held.IsAcquired);
            Assert.False(await PostgresServer.TakenAtOnceElsewhereAsync(() => elsewhere.CreateExclusiveLock(name).TryAcquireAsync(TimeSpan.Zero)));
        }

        Assert.True(await PostgresServer.TakenAtOnceElsewhereAsync(() => elsewhere.CreateExclusiveLock(name).TryAcquireAsync(TimeSpan.Zero)));
        Assert.Equal(0, provider.ConnectionsInUse);
    }
}
