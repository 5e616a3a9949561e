using System.Globalization;

namespace Locksmith.ApiServer;

/// <summary>The server's lock names (service keys) and their levels in the global order, top to bottom.</summary>
public static class ApiServerLocks
{
    /// <summary>The price cache's async read-write lock.</summary>
    public const string Prices = "prices";

    /// <summary>The request counter's read-write lock (shared for hits, exclusive for a snapshot).</summary>
    public const string Hits = "hits";

    /// <summary>The prefix of each account's lock: <c>account-0</c>, <c>account-1</c>, ...</summary>
    public const string AccountPrefix = "account-";

    /// <summary>The transfer journal's lock, taken while both accounts of a transfer are held.</summary>
    public const string Journal = "journal";

    /// <summary>The connection pool's semaphore (one permit per connection).</summary>
    public const string Pool = "pool";

    /// <summary>The pool's idle-list lock, taken while a permit is held.</summary>
    public const string PoolConnections = "pool.connections";

    /// <summary>The rate limiter's token-bucket lock.</summary>
    public const string Limiter = "limiter";

    /// <summary>Level of <see cref="Prices"/>.</summary>
    public const int PricesLevel = 10;

    /// <summary>Level of <see cref="Hits"/>.</summary>
    public const int HitsLevel = 20;

    /// <summary>Level of every account lock.</summary>
    public const int AccountsLevel = 30;

    /// <summary>Level of <see cref="Journal"/>.</summary>
    public const int JournalLevel = 40;

    /// <summary>Level of <see cref="Pool"/>.</summary>
    public const int PoolLevel = 50;

    /// <summary>Level of <see cref="PoolConnections"/>.</summary>
    public const int PoolConnectionsLevel = 55;

    /// <summary>Level of <see cref="Limiter"/>.</summary>
    public const int LimiterLevel = 60;

    /// <summary>The lock name of account <paramref name="id"/>.</summary>
    public static string Account(int id) => AccountPrefix + id.ToString(CultureInfo.InvariantCulture);
}
