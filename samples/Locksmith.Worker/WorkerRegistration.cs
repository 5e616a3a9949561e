using System;
using Locksmith.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Locksmith.Worker;

/// <summary>Registers the worker on a Locksmith builder: its two locks, its options, the work and the hosted service.</summary>
public static class WorkerRegistration
{
    /// <summary>The queue lock's name in the container.</summary>
    public const string QueueLockName = "work-queue";

    /// <summary>The totals lock's name in the container.</summary>
    public const string TotalsLockName = "work-totals";

    /// <summary>The queue lock's level: consumers and producers never hold it while adding their totals, but if they did, queue first.</summary>
    public const int QueueLevel = 10;

    /// <summary>The totals lock's level.</summary>
    public const int TotalsLevel = 20;

    /// <summary>
    /// Adds the worker: locks <see cref="QueueLockName"/> and <see cref="TotalsLockName"/>, <see cref="WorkerOptions"/>
    /// bound to <paramref name="section"/>, <see cref="SeedWork"/>, <see cref="WorkOutcome"/> and <see cref="SeedWorkerService"/>.
    /// </summary>
    public static ILocksmithBuilder AddSeedWorker(this ILocksmithBuilder locks, IConfiguration section)
    {
        locks.AddExclusiveLock(QueueLockName, QueueLevel)
            .AddExclusiveLock(TotalsLockName, TotalsLevel);
        // A misspelt key (Worker:Roundz) would bind to nothing and run the default unseen: refused first in words that name
        // the settings there are (configured before the binder, whose own refusal does not), then by the binder too.
        locks.Services.AddOptions<WorkerOptions>()
            .Configure(_ =>
            {
                if (WorkerOptions.UnknownSettings(section) is { Count: > 0 } unknown)
                {
                    throw new InvalidOperationException(string.Join(" ", unknown));
                }
            })
            .Bind(section, static binder => binder.ErrorOnUnknownConfiguration = true);
        locks.Services.AddSingleton<SeedWork>();
        locks.Services.AddSingleton<WorkOutcome>();
        locks.Services.AddHostedService<SeedWorkerService>();
        return locks;
    }
}
