namespace Locksmith.ApiServer;

/// <summary>The sample's own settings (section <c>ApiServer</c>); the defaults suit a run of 10,000 requests.</summary>
public sealed class ApiServerOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "ApiServer";

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

    /// <summary>Whether OpenTelemetry's console exporter prints the <c>Locksmith</c> meter's metrics.</summary>
    public bool OpenTelemetryConsole { get; set; }
}
