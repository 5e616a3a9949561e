using System;
using Locksmith.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Locksmith.Postgres;

/// <summary>
/// Registers distributed locks on a Locksmith hosting builder: <c>services.AddLocksmith().AddPostgres(connectionString)
/// .AddPostgresKeyedLock&lt;long&gt;("accounts", level: 10)</c>. The locks are keyed singletons and catalog rows like
/// the in-process ones, and record into the container's Locksmith meter.
/// </summary>
public static class PostgresLocksmithBuilderExtensions
{
    /// <summary>Registers the <see cref="PostgresLockProvider"/> (a singleton the container disposes) for one database.</summary>
    /// <param name="builder">The builder.</param>
    /// <param name="connectionString">The Npgsql connection string.</param>
    /// <param name="configure">Sets the budget, default timeout and lost-lock check interval, or null for the defaults.</param>
    /// <returns>The builder.</returns>
    /// <exception cref="ArgumentException">The connection string is empty.</exception>
    public static ILocksmithBuilder AddPostgres(this ILocksmithBuilder builder, string connectionString, Action<PostgresLockProviderOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        builder.Services.TryAddSingleton(_ =>
        {
            var options = new PostgresLockProviderOptions { ConnectionString = connectionString };
            configure?.Invoke(options);
            return new PostgresLockProvider(options);
        });
        return builder;
    }

    /// <summary>Declares a <see cref="PostgresExclusiveLock"/> (after <see cref="AddPostgres"/>).</summary>
    /// <param name="builder">The builder.</param>
    /// <param name="name">The lock's name and service key.</param>
    /// <param name="level">Its level in the global lock order, or null for unordered.</param>
    /// <returns>The builder.</returns>
    public static ILocksmithBuilder AddPostgresExclusiveLock(this ILocksmithBuilder builder, string name, int? level = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.Register(name, sp => sp.GetRequiredService<PostgresLockProvider>().CreateExclusiveLock(name, level),
            static l => StateOf(l));
    }

    /// <summary>Declares a <see cref="PostgresReadWriteLock"/> (after <see cref="AddPostgres"/>).</summary>
    /// <param name="builder">The builder.</param>
    /// <param name="name">The lock's name and service key.</param>
    /// <param name="level">Its level in the global lock order, or null for unordered.</param>
    /// <returns>The builder.</returns>
    public static ILocksmithBuilder AddPostgresReadWriteLock(this ILocksmithBuilder builder, string name, int? level = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.Register(name, sp => sp.GetRequiredService<PostgresLockProvider>().CreateReadWriteLock(name, level),
            static l => StateOf(l) with { SharedCount = l.Provider.CountHolds(l, shared: true) });
    }

    /// <summary>Declares a <see cref="PostgresKeyedLock{TKey}"/> (after <see cref="AddPostgres"/>).</summary>
    /// <typeparam name="TKey">The key type.</typeparam>
    /// <param name="builder">The builder.</param>
    /// <param name="name">The lock class's name and service key.</param>
    /// <param name="level">The class's level in the global lock order, or null for unordered.</param>
    /// <returns>The builder.</returns>
    public static ILocksmithBuilder AddPostgresKeyedLock<TKey>(this ILocksmithBuilder builder, string name, int? level = null)
        where TKey : notnull
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.Register(name, sp => sp.GetRequiredService<PostgresLockProvider>().CreateKeyedLock<TKey>(name, level),
            static l => StateOf(l) with { SharedCount = l.Provider.CountHolds(l, shared: false) });
    }

    /// <summary>What this process sees: its own holds and waits (other processes' holds are the server's to tell).</summary>
    private static LockState StateOf(PostgresLock lockPrimitive) =>
        new(lockPrimitive.Provider.CountHolds(lockPrimitive, shared: null) > 0, lockPrimitive.ExclusiveOwnerId, WaitingCount: lockPrimitive.WaitingCount);
}
