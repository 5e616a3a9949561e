using System;
using System.Collections.Generic;

namespace Locksmith.Testing.Tests;

/// <summary>
/// Two threads and two async flows that take two locks each in opposite orders, the second of each waiter's locks with a
/// timeout: under the scheduler some interleavings deadlock, and the scheduler then times the waiter out. Tests read the
/// timeouts' exceptions (added to <c>thrown</c> from the flows, so lock it to read) and events.
/// </summary>
internal static class OppositeOrderTimeoutScenario
{
    /// <summary>The sync waiter's timeout, in milliseconds (on lock <c>gate</c>).</summary>
    public const int SyncTimeoutMilliseconds = 1500;

    /// <summary>The async waiter's timeout, in milliseconds (on lock <c>async-gate</c>).</summary>
    public const int AsyncTimeoutMilliseconds = 2500;

    /// <summary>Adds the flows to <paramref name="scenario"/>; each timeout's exception goes to <paramref name="thrown"/>.</summary>
    public static void Build(Scenario scenario, List<LockTimeoutException> thrown)
    {
        var gate = new ExclusiveLock("gate");
        var ledger = new ExclusiveLock("ledger");
        var asyncGate = new AsyncExclusiveLock("async-gate");
        var asyncLedger = new AsyncExclusiveLock("async-ledger");
        scenario.Thread("holder", () =>
        {
            using var first = gate.Acquire();
            using var second = ledger.Acquire();
        });
        scenario.Thread("waiter", () =>
        {
            using var first = ledger.Acquire();
            try
            {
                using var second = gate.Acquire(TimeSpan.FromMilliseconds(SyncTimeoutMilliseconds));
            }
            catch (LockTimeoutException e)
            {
                lock (thrown)
                {
                    thrown.Add(e);
                }
            }
        });
        scenario.Flow("async-holder", async () =>
        {
            using var first = await asyncGate.AcquireAsync();
            using var second = await asyncLedger.AcquireAsync();
        });
        scenario.Flow("async-waiter", async () =>
        {
            using var first = await asyncLedger.AcquireAsync();
            try
            {
                using var second = await asyncGate.AcquireAsync(TimeSpan.FromMilliseconds(AsyncTimeoutMilliseconds));
            }
            catch (LockTimeoutException e)
            {
                lock (thrown)
                {
                    thrown.Add(e);
                }
            }
        });
    }
}
