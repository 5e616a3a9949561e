using System;
using System.Diagnostics.CodeAnalysis;
using Locksmith;
using Locksmith.Hosting;
using Locksmith.Postgres;
using Microsoft.Extensions.Logging;

// In the namespace of AddLocksmith, as Microsoft.Extensions builders keep theirs: one using reaches the whole chain.
namespace Microsoft.Extensions.DependencyInjection;

/// <summary>
/// Registers distributed locks on a Locksmith hosting builder: <c>services.AddLocksmith().AddPostgres(connectionString)
/// .AddPostgresKeyedLock&lt;long&gt;("accounts", level: 10)</c>. The locks are keyed singletons and catalog rows like
/// the in-process ones, and record into the container's Locksmith meter.
/// </summary>
public static class PostgresLocksmithBuilderExtensions
{
    /// <summary>Registers the <see cref="PostgresLockProvider"/> (a singleton the container disposes) for one database.</summary>
    /// <param name="builder">The builder.</param>
    /// <param name="connectionString">The Npgsql connection string, naming the primary's single host.</param>
    /// <param name="configure">Sets the budget, default timeout and lost-lock check interval, or null for the defaults.</param>
    /// <returns>The builder.</returns>
    /// <exception cref="ArgumentNullException">The connection string is null (a <c>GetConnectionString</c> that found nothing).</exception>
    /// <exception cref="ArgumentException">
    /// The connection string is empty or blank, invalid, or can put sessions on another server than the primary (more than one
    /// host, <c>Load Balance Hosts=true</c>, a standby's <c>Target Session Attributes</c>), or <paramref name="configure"/> set an
    /// option out of range (checked here, at once, with the setting or option named).
    /// </exception>
    /// <exception cref="InvalidOperationException">A provider is already registered: one database per container.</exception>
    public static ILocksmithBuilder AddPostgres(this ILocksmithBuilder builder, string connectionString, Action<PostgresLockProviderOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            ThrowNoConnectionString(connectionString);
        }

        foreach (var service in builder.Services)
        {
            if (service.ServiceType == typeof(PostgresLockProvider) && !service.IsKeyedService)
            {
                throw new InvalidOperationException(
                    "A PostgresLockProvider is already registered in this container (by an earlier AddPostgres, or directly): the " +
                    "builder's locks share one provider, for one database. Call AddPostgres once; for a second database, create a " +
                    "PostgresLockProvider of its own and its locks from it.");
            }
        }

        // Configured and checked now, so a bad option fails where it was written, not at the first lock's resolve.
        var options = new PostgresLockProviderOptions { ConnectionString = connectionString };
        configure?.Invoke(options);
        PostgresLockProvider.Validate(options);
        builder.Services.AddSingleton(services =>
        {
            var provider = new PostgresLockProvider(options);

            // The container's unless the options named a factory, so a lost lock is logged where the locks' other events
            // are (none without logging).
            provider.Logger ??= services.GetService<ILoggerFactory>()?.CreateLogger(PostgresLostLocks.Category);
            return provider;
        });
        return builder;
    }

    // The value usually comes from configuration read just before (GetConnectionString, an environment variable), so the
    // message points there rather than at the argument alone.
    [DoesNotReturn]
    private static void ThrowNoConnectionString(string? connectionString)
    {
        string what = connectionString is null ? "null" : connectionString.Length == 0 ? "empty" : "blank";
        string message =
            $"AddPostgres needs the connection string of the locks' PostgreSQL database; it was {what} (did " +
            "GetConnectionString(\"…\") find nothing? Check the name and the ConnectionStrings section, or the variable, for this environment).";
        throw connectionString is null
            ? new ArgumentNullException(nameof(connectionString), message)
            : new ArgumentException(message, nameof(connectionString));
    }

    /// <summary>The registered provider, or an error that says to call <see cref="AddPostgres"/>.</summary>
    private static PostgresLockProvider ProviderFor(IServiceProvider services, string name) =>
        services.GetService<PostgresLockProvider>() ?? throw new InvalidOperationException(
            $"'{name}' is a PostgreSQL lock, but no PostgresLockProvider is registered: call AddPostgres(connectionString) on the Locksmith builder.");

    /// <summary>Declares a <see cref="PostgresExclusiveLock"/> (after <see cref="AddPostgres"/>).</summary>
    /// <param name="builder">The builder.</param>
    /// <param name="name">The lock's name and service key.</param>
    /// <param name="level">Its level in the global lock order, or null for unordered.</param>
    /// <returns>The builder.</returns>
    public static ILocksmithBuilder AddPostgresExclusiveLock(this ILocksmithBuilder builder, string name, int? level = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        DeclaredAt(builder, name);
        return builder.Register(name, sp => ProviderFor(sp, name).CreateExclusiveLock(name, level),
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
        DeclaredAt(builder, name);
        return builder.Register(name, sp => ProviderFor(sp, name).CreateReadWriteLock(name, level),
            static l => StateOf(l) with { SharedCount = l.Provider.CountHolds(l, shared: true) });
    }

    /// <summary>Declares a <see cref="PostgresKeyedLock{TKey}"/> (after <see cref="AddPostgres"/>).</summary>
    /// <typeparam name="TKey">The key type.</typeparam>
    /// <param name="builder">The builder.</param>
    /// <param name="name">The lock class's name and service key.</param>
    /// <param name="level">The class's level in the global lock order, or null for unordered.</param>
    /// <param name="keyMap">
    /// Maps a key to the second int4 of its advisory key (the same in every process), or null for the default mapping,
    /// which folds integers wider than int and hashes other keys (see <see cref="PostgresKeyedLock{TKey}"/>).
    /// </param>
    /// <returns>The builder.</returns>
    public static ILocksmithBuilder AddPostgresKeyedLock<TKey>(this ILocksmithBuilder builder, string name, int? level = null, Func<TKey, int>? keyMap = null)
        where TKey : notnull
    {
        ArgumentNullException.ThrowIfNull(builder);
        DeclaredAt(builder, name);
        return builder.Register(name, sp => ProviderFor(sp, name).CreateKeyedLock(name, level, keyMap),
            static l => StateOf(l) with { SharedCount = l.Provider.CountHolds(l, shared: false) });
    }

    /// <summary>What this process sees: its own holds and waits (other processes' holds are the server's to tell).</summary>
    // Remembered for the start-time check that a provider is registered (the declaration itself may come before AddPostgres).
    private static void DeclaredAt(ILocksmithBuilder builder, string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        PostgresLockNames.Of(builder.Services).Add(name);
    }

    private static LockState StateOf(PostgresLock lockPrimitive) =>
        new(lockPrimitive.Provider.CountHolds(lockPrimitive, shared: null) > 0, lockPrimitive.ExclusiveOwnerId, WaitingCount: lockPrimitive.WaitingCount);
}
