using System;
using System.IO;
using System.Linq;
using System.Text;
using Locksmith.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace Locksmith.Hosting.Tests;

/// <summary>Builds a real in-process host: configuration from a JSON string, logs into a fake collector.</summary>
internal static class TestHost
{
    public static IHost Build(string json = "{}", Action<ILocksmithBuilder>? locks = null, Action<IServiceCollection>? services = null)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddJsonStream(new MemoryStream(Encoding.UTF8.GetBytes(json)));
        builder.Logging.AddFakeLogging();
        builder.Logging.SetMinimumLevel(LogLevel.Debug);
        var locksmith = builder.Services.AddLocksmith(builder.Configuration.GetSection(LocksmithOptions.SectionName));
        locks?.Invoke(locksmith);
        services?.Invoke(builder.Services);
        return builder.Build();
    }

    /// <summary>The Locksmith log lines with <paramref name="eventId"/>.</summary>
    public static FakeLogRecord[] Logs(this IHost host, int eventId) =>
        host.Services.GetFakeLogCollector().GetSnapshot().Where(r => r.Id.Id == eventId).ToArray();

    /// <summary>The catalog's entries for the container's own locks, without the generator's declarations.</summary>
    public static LockCatalogEntry[] ContainerLocks(this System.Collections.Generic.IReadOnlyList<LockCatalogEntry> entries) =>
        entries.Where(static e => !e.IsDeclared).ToArray();

    public static DeadlockWatchdog Watchdog(this IHost host) =>
        host.Services.GetServices<IHostedService>().OfType<DeadlockWatchdog>().Single();
}

/// <summary>Every process-wide policy setting, to compare what a host left behind with what it found.</summary>
internal sealed record PolicySnapshot(
    TimeSpan DefaultTimeout,
    OrderViolationAction OrderViolationAction,
    TimeSpan LongWaitThreshold,
    Action<LockTimeoutEvent>? TimeoutOccurred,
    Action<LongWaitEvent>? LongWaitOccurred,
    Action<LockOrderViolation>? OrderViolationReported)
{
    public static PolicySnapshot Take() => new(
        LocksmithPolicy.DefaultTimeout,
        LocksmithPolicy.OrderViolationAction,
        LocksmithPolicy.LongWaitThreshold,
        LocksmithPolicy.TimeoutOccurred,
        LocksmithPolicy.LongWaitOccurred,
        LocksmithPolicy.OrderViolationReported);
}
