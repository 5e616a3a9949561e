using System.Collections.Generic;
using System.Globalization;

namespace Locksmith.ApiServer;

/// <summary>The sample's own settings (section <c>ApiServer</c>); the defaults suit a run of 10,000 requests.</summary>
public sealed class ApiServerOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "ApiServer";

    private static readonly string[] s_settingNames = [.. System.Linq.Enumerable.Select(typeof(ApiServerOptions).GetProperties(), static p => p.Name)];

    /// <summary>How many accounts, each with its own lock.</summary>
    public int Accounts { get; set; } = 8;

    /// <summary>Each account's opening balance.</summary>
    public decimal OpeningBalance { get; set; } = 1_000m;

    /// <summary>How many pooled connections (the semaphore's permits).</summary>
    public int PoolSize { get; set; } = 8;

    /// <summary>The longest simulated I/O on a connection, in milliseconds.</summary>
    public int IoMilliseconds { get; set; } = 3;

    /// <summary>The token bucket's size.</summary>
    public double RateLimitCapacity { get; set; } = 200;

    /// <summary>Tokens added per second.</summary>
    public double RateLimitPerSecond { get; set; } = 500;

    /// <summary>
    /// How many symbols the price cache holds; a new symbol when it is full evicts the one written longest ago, so memory
    /// stays bounded whatever symbols clients send.
    /// </summary>
    public int PriceCapacity { get; set; } = 10_000;

    /// <summary>Whether OpenTelemetry's console exporter prints the <c>Locksmith</c> meter's metrics.</summary>
    public bool OpenTelemetryConsole { get; set; }

    /// <summary>
    /// What is wrong with these settings, one message per key (<c>ApiServer:PoolSize = '0' is invalid: ...</c>); empty
    /// when they are usable. Checked before any lock is registered, since the settings decide how many there are.
    /// </summary>
    /// <param name="section">
    /// The section they were bound from: a key it has that names no setting is a problem too (a misspelt key would bind to
    /// nothing, and the default would run unseen).
    /// </param>
    public IReadOnlyList<string> Problems(Microsoft.Extensions.Configuration.IConfiguration? section = null)
    {
        var problems = new List<string>();
        foreach (var child in section?.GetChildren() ?? [])
        {
            if (typeof(ApiServerOptions).GetProperty(child.Key, System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.IgnoreCase) is null)
            {
                problems.Add($"'{SectionName}:{child.Key}' is not an {SectionName} setting; they are {string.Join(", ", s_settingNames)}.");
            }
        }

        Check(Accounts >= 2, nameof(Accounts), Accounts, "transfers need at least 2 accounts");
        Check(OpeningBalance >= 0, nameof(OpeningBalance), OpeningBalance, "it must not be negative");
        Check(PoolSize >= 1, nameof(PoolSize), PoolSize, "the pool needs at least 1 connection");
        Check(PriceCapacity >= 1, nameof(PriceCapacity), PriceCapacity, "the price cache must hold at least 1 symbol");
        Check(IoMilliseconds >= 0, nameof(IoMilliseconds), IoMilliseconds, "it must not be negative");
        Check(RateLimitCapacity >= 1 && double.IsFinite(RateLimitCapacity), nameof(RateLimitCapacity), RateLimitCapacity, "the bucket must hold at least 1 token");
        Check(RateLimitPerSecond > 0 && double.IsFinite(RateLimitPerSecond), nameof(RateLimitPerSecond), RateLimitPerSecond, "it must be a positive number");
        return problems;

        void Check(bool valid, string key, object value, string why)
        {
            if (!valid)
            {
                problems.Add(string.Create(CultureInfo.InvariantCulture, $"{SectionName}:{key} = '{value}' is invalid: {why}."));
            }
        }
    }
}
