using System;
using System.Collections.Generic;
using System.Linq;
using Locksmith.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Locksmith.Postgres;

/// <summary>The PostgreSQL locks declared on one service collection, by name, for the start-time check.</summary>
internal sealed class PostgresLockNames
{
    private readonly List<string> _names = [];

    public IReadOnlyList<string> Names => _names;

    /// <summary>The collection's list, made (with its validator) at the first PostgreSQL lock declared on it.</summary>
    public static PostgresLockNames Of(IServiceCollection services)
    {
        if (services.FirstOrDefault(static d => d.ServiceType == typeof(PostgresLockNames) && !d.IsKeyedService)?.ImplementationInstance
            is PostgresLockNames existing)
        {
            return existing;
        }

        var names = new PostgresLockNames();
        services.AddSingleton(names);
        services.AddSingleton<IValidateOptions<LocksmithOptions>, PostgresRegistrationValidator>();
        return names;
    }

    public void Add(string name) => _names.Add(name);
}

/// <summary>
/// Fails the host's start when PostgreSQL locks are declared but no <see cref="PostgresLockProvider"/> is registered.
/// </summary>
/// <remarks>
/// A lock's factory is a delegate, so the container's build-time validation cannot see that it needs a provider; without
/// this check the app started and failed at the first resolution (and every catalog snapshot, so <c>/locks</c> and the
/// health check's data, failed with it). It runs with <see cref="LocksmithOptions"/>' own validation, at start, before
/// any hosted service starts, and only asks whether the provider is registered: nothing is created.
/// </remarks>
internal sealed class PostgresRegistrationValidator(PostgresLockNames names, IServiceProviderIsService services) : IValidateOptions<LocksmithOptions>
{
    public ValidateOptionsResult Validate(string? name, LocksmithOptions options)
    {
        if (names.Names.Count == 0 || services.IsService(typeof(PostgresLockProvider)))
        {
            return ValidateOptionsResult.Success;
        }

        string listed = string.Join(", ", names.Names.Select(static n => $"'{n}'"));
        return ValidateOptionsResult.Fail(
            $"{listed} {(names.Names.Count == 1 ? "is a PostgreSQL lock" : "are PostgreSQL locks")}, but no PostgresLockProvider is " +
            "registered: call AddPostgres(connectionString) on the Locksmith builder.");
    }
}
