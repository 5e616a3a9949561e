using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading.Tasks;

namespace Locksmith.Testing.Tests;

/// <summary>
/// The classic concurrency bugs, each as the small piece of service code a user would test, run the way a user would:
/// <see cref="ControlledTest.Run"/> with the default options (the Random/Pct(2)/Pct(3) portfolio, seed 0, 100 runs) unless
/// the case says otherwise.
/// Each broken version must be found, its report must name the flows and locks and replay to the same failure (by
/// schedule and by seed), and the fixed version must pass the same budget.
/// </summary>
public sealed class ClassicBugTests
{
    private const int DefaultIterations = 100;

    // 1. Lost update: the stock is read in one hold and written in another, so two orders both see 5 and both write 4.
    private sealed class Inventory(int stock, bool fixedVersion)
    {
        private readonly ExclusiveLock _lock = new("inventory");
        private int _stock = stock;

        public int Stock
        {
            get
            {
                using (_lock.Acquire())
                {
                    return _stock;
                }
            }
        }

        public void Reserve()
        {
            if (fixedVersion)
            {
                using (_lock.Acquire())
                {
                    _stock--;
                }

                return;
            }

            int seen;
            using (_lock.Acquire())
            {
                seen = _stock;
            }

            using (_lock.Acquire())
            {
                _stock = seen - 1;
            }
        }
    }

    private static Action<Scenario> Orders(bool fixedVersion) => scenario =>
    {
        var inventory = new Inventory(5, fixedVersion);
        scenario.Thread("order1", inventory.Reserve);
        scenario.Thread("order2", inventory.Reserve);
        scenario.Finally(() => Assert.Equal(3, inventory.Stock));
    };

    [Fact]
    public void ALostUpdateBetweenTwoHoldsIsFound()
    {
        var report = FoundWithDefaults(Orders(fixedVersion: false), ControlledFailureKind.Assertion);

        Assert.IsType<Xunit.Sdk.EqualException>(report.Exception);

        // Both orders read before either wrote: each has an acquire of the lock before the other's last one.
        var acquires = report.Trace.Where(e => e is { Operation: "acquire", Target: "inventory" }).Select(e => e.Flow).ToList();
        Assert.Equal(4, acquires.Count(f => f is "order1" or "order2"));
        Assert.NotEqual(acquires[0], acquires[1]);
    }

    [Fact]
    public void OneHoldForTheReadAndTheWritePasses() => PassesWithDefaults(Orders(fixedVersion: true));

    // 1b. The same across an await: the balance is read, an audit call is awaited, and the sum is written in a new hold.
    private sealed class Wallet(bool fixedVersion)
    {
        private readonly AsyncExclusiveLock _lock = new("wallet");
        private decimal _balance = 100;

        public decimal Balance => _balance;

        public async Task DepositAsync(decimal amount)
        {
            if (fixedVersion)
            {
                using (await _lock.AcquireAsync())
                {
                    decimal before = _balance;
                    await Task.Yield(); // the audit call, inside the hold
                    _balance = before + amount;
                }

                return;
            }

            decimal seen;
            using (await _lock.AcquireAsync())
            {
                seen = _balance;
            }

            await Task.Yield(); // the audit call
            using (await _lock.AcquireAsync())
            {
                _balance = seen + amount;
            }
        }
    }

    private static Action<Scenario> Deposits(bool fixedVersion) => scenario =>
    {
        var wallet = new Wallet(fixedVersion);
        scenario.Flow("deposit10", () => wallet.DepositAsync(10));
        scenario.Flow("deposit20", () => wallet.DepositAsync(20));
        scenario.Finally(() => Assert.Equal(130m, wallet.Balance));
    };

    [Fact]
    public void ALostUpdateAcrossAnAwaitIsFound()
    {
        var report = FoundWithDefaults(Deposits(fixedVersion: false), ControlledFailureKind.Assertion);
        Assert.Contains(report.Trace, e => e is { Flow: "deposit10", Operation: "acquire", Target: "wallet" });
        Assert.Contains(report.Trace, e => e is { Flow: "deposit20", Operation: "acquire", Target: "wallet" });
    }

    [Fact]
    public void OneAsyncHoldAcrossTheAwaitPasses() => PassesWithDefaults(Deposits(fixedVersion: true));

    // 2. Lock-order inversion: checkout takes orders then customers, a rename customers then orders. The locks declare
    // levels, so the process-wide order check (Throw by default) catches the inversion before it can deadlock; with the
    // check off (Ignore) the deadlock itself is what the scheduler finds.
    private static Action<Scenario> Inversion(bool fixedVersion) => scenario =>
    {
        var orders = new ExclusiveLock("orders", level: 10);
        var customers = new ExclusiveLock("customers", level: 20);
        scenario.Thread("checkout", () =>
        {
            using var first = orders.Acquire();
            using var second = customers.Acquire();
        });
        scenario.Thread("rename", () =>
        {
            using var first = fixedVersion ? orders.Acquire() : customers.Acquire();
            using var second = fixedVersion ? customers.Acquire() : orders.Acquire();
        });
    };

    private static Action<Scenario> AsyncInversion(bool fixedVersion) => scenario =>
    {
        var orders = new AsyncExclusiveLock("orders", level: 10);
        var customers = new AsyncExclusiveLock("customers", level: 20);
        scenario.Flow("checkout", async () =>
        {
            using var first = await orders.AcquireAsync();
            using var second = await customers.AcquireAsync();
        });
        scenario.Flow("rename", async () =>
        {
            using var first = await (fixedVersion ? orders : customers).AcquireAsync();
            using var second = await (fixedVersion ? customers : orders).AcquireAsync();
        });
    };

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ALockOrderInversionIsFoundAsADeadlockCycle(bool async)
    {
        var report = OrderCheckOff(() => FoundWithDefaults(async ? AsyncInversion(false) : Inversion(false), ControlledFailureKind.Deadlock));

        Assert.Equal(
            [new WaitForEdge("checkout", "customers", "rename"), new WaitForEdge("rename", "orders", "checkout")],
            report.Waits);
        Assert.Contains("checkout waits for 'customers' held by rename; rename waits for 'orders' held by checkout", report.Summary, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void WithTheOrderCheckOnTheInversionIsAnOrderViolation(bool async)
    {
        var report = FoundWithDefaults(async ? AsyncInversion(false) : Inversion(false), ControlledFailureKind.UnhandledException);

        Assert.Equal("rename", report.Flow);
        var violation = Assert.IsType<LockOrderViolationException>(report.Exception);
        Assert.Contains("orders", violation.Message, StringComparison.Ordinal);
        Assert.Contains("customers", violation.Message, StringComparison.Ordinal);

        // The message names the flow by a process-wide number that differs from run to run; the summary names it by its
        // flow name instead, so the replays' summaries (compared in FoundWith) equal it.
        Assert.Contains(async ? "in flow 'rename' (on thread 'rename'): acquiring 'orders'" : "on thread 'rename': acquiring 'orders'", report.Summary, StringComparison.Ordinal);
        Assert.DoesNotMatch(@"(thread|flow) #?\d", report.Summary);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void OneLockOrderPasses(bool async) => PassesWithDefaults(async ? AsyncInversion(true) : Inversion(true));

    // 3. Reader-writer misuse: "absent" seen under the read lock, the session created under a separate write lock
    // without looking again, so two requests create two sessions for one user.
    private sealed class Sessions(bool fixedVersion)
    {
        private readonly ReadWriteLock _lock = new("sessions");
        private readonly Dictionary<string, int> _byUser = [];
        private int _created;

        public int Get(string user)
        {
            using (_lock.AcquireRead())
            {
                if (_byUser.TryGetValue(user, out int id))
                {
                    return id;
                }
            }

            using (_lock.AcquireWrite())
            {
                if (fixedVersion && _byUser.TryGetValue(user, out int id))
                {
                    return id; // another request created it between the two holds
                }

                _byUser[user] = ++_created;
                return _created;
            }
        }
    }

    private static Action<Scenario> Requests(bool fixedVersion) => scenario =>
    {
        var sessions = new Sessions(fixedVersion);
        var got = new int[2];
        scenario.Thread("request1", () => got[0] = sessions.Get("alice"));
        scenario.Thread("request2", () => got[1] = sessions.Get("alice"));
        scenario.Finally(() => Assert.Equal(got[0], got[1]));
    };

    [Fact]
    public void AReadThenASeparateWriteIsFound()
    {
        var report = FoundWithDefaults(Requests(fixedVersion: false), ControlledFailureKind.Assertion);
        Assert.Contains(report.Trace, e => e is { Flow: "request1", Operation: "acquire write", Target: "sessions" });
        Assert.Contains(report.Trace, e => e is { Flow: "request2", Operation: "acquire write", Target: "sessions" });
    }

    [Fact]
    public void LookingAgainUnderTheWriteLockPasses() => PassesWithDefaults(Requests(fixedVersion: true));

    // 4. A permit leak: a failing query skips the release, so the next query waits for a permit forever.
    private sealed class Database(bool fixedVersion)
    {
        private readonly CountingSemaphore _connections = new(1, 1, "db-connections");

        public void Query(bool fail)
        {
            if (fixedVersion)
            {
                using var permit = _connections.Acquire();
                Run(fail);
                return;
            }

            var leaky = _connections.Acquire();
            Run(fail);
            leaky.Dispose();
        }

        public async Task QueryAsync(bool fail)
        {
            if (fixedVersion)
            {
                using var permit = await _connections.AcquireAsync();
                await Task.Yield();
                Run(fail);
                return;
            }

            var leaky = await _connections.AcquireAsync();
            await Task.Yield();
            Run(fail);
            leaky.Dispose();
        }

        private static void Run(bool fail)
        {
            if (fail)
            {
                throw new InvalidOperationException("the query failed");
            }
        }
    }

    private static Action<Scenario> Queries(bool fixedVersion, bool async) => scenario =>
    {
        var database = new Database(fixedVersion);
        if (async)
        {
            scenario.Flow("bad-request", async () => await Swallow(() => database.QueryAsync(fail: true)));
            scenario.Flow("good-request", () => database.QueryAsync(fail: false));
        }
        else
        {
            scenario.Thread("bad-request", () => Swallow(() => database.Query(fail: true)));
            scenario.Thread("good-request", () => database.Query(fail: false));
        }
    };

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void APermitLeakedOnAnExceptionPathIsFoundAndNamed(bool async)
    {
        var report = FoundWithDefaults(Queries(fixedVersion: false, async), ControlledFailureKind.Deadlock);

        Assert.Equal([new WaitForEdge("good-request", "db-connections", null)], report.Waits);

        // The summary names the flow that kept the permit, not only the one that waits for it.
        Assert.Contains("No live flow holds 'db-connections'; taken and not given back by bad-request (acquired it at step ", report.Summary, StringComparison.Ordinal);
        Assert.Contains("finished without releasing it)", report.Summary, StringComparison.Ordinal);
        Assert.DoesNotContain("outside the run", report.Summary, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void APermitInAUsingPasses(bool async) => PassesWithDefaults(Queries(fixedVersion: true, async));

    // 4b. The same leak with a lock: the holder is known, and the summary says it has finished.
    private static Action<Scenario> CacheRefresh(bool fixedVersion) => scenario =>
    {
        var cache = new ExclusiveLock("cache");
        scenario.Thread("refresh", () => Swallow(() =>
        {
            if (fixedVersion)
            {
                using var held = cache.Acquire();
                throw new InvalidOperationException("the source is down");
            }

            var leaky = cache.Acquire();
            Throw();
            leaky.Dispose();
        }));
        scenario.Thread("reader", () =>
        {
            using var held = cache.Acquire();
        });
    };

    [Fact]
    public void ALockLeakedOnAnExceptionPathNamesTheFinishedHolder()
    {
        var report = FoundWithDefaults(CacheRefresh(fixedVersion: false), ControlledFailureKind.Deadlock);

        Assert.Equal([new WaitForEdge("reader", "cache", "refresh")], report.Waits);
        Assert.Contains("'cache' is held by refresh, which finished without releasing it", report.Summary, StringComparison.Ordinal);
    }

    [Fact]
    public void ALockInAUsingPasses() => PassesWithDefaults(CacheRefresh(fixedVersion: true));

    // 4c. A read lock kept on an early return: readers share it, so no single flow holds it, and the writer waits forever.
    private static Action<Scenario> PriceFeed(bool fixedVersion) => scenario =>
    {
        var prices = new ReadWriteLock("prices");
        decimal price = 10;
        scenario.Thread("quote", () =>
        {
            if (fixedVersion)
            {
                using var read = prices.AcquireRead();
                _ = price;
                return;
            }

            var leaky = prices.AcquireRead();
            if (price > 0)
            {
                return; // the early return skips the release
            }

            leaky.Dispose();
        });
        scenario.Thread("update", () =>
        {
            using var write = prices.AcquireWrite();
            price = 11;
        });
    };

    [Fact]
    public void AReadLockLeakedOnAnEarlyReturnIsFoundAndNamed()
    {
        var report = FoundWithDefaults(PriceFeed(fixedVersion: false), ControlledFailureKind.Deadlock);

        Assert.Equal([new WaitForEdge("update", "prices", null)], report.Waits);
        Assert.Contains("No live flow holds 'prices'; taken and not given back by quote (acquired it at step ", report.Summary, StringComparison.Ordinal);
    }

    [Fact]
    public void AReadLockInAUsingPasses() => PassesWithDefaults(PriceFeed(fixedVersion: true));

    // 5. A missed signal: the waiter checks the flag in one hold and waits in another, so the opener's notify can fall
    // between the two and the waiter sleeps forever.
    private sealed class Gate
    {
        private readonly ExclusiveLock _lock = new("gate.lock");
        private readonly ConditionVariable _opened;
        private readonly bool _fixedVersion;
        private bool _open;

        public Gate(bool fixedVersion)
        {
            _opened = new ConditionVariable(_lock, "gate.opened");
            _fixedVersion = fixedVersion;
        }

        public void WaitUntilOpen()
        {
            if (_fixedVersion)
            {
                using (_lock.Acquire())
                {
                    _opened.WaitUntil(() => _open);
                }

                return;
            }

            bool open;
            using (_lock.Acquire())
            {
                open = _open;
            }

            if (!open)
            {
                using (_lock.Acquire())
                {
                    _opened.Wait();
                }
            }
        }

        public void Open()
        {
            using (_lock.Acquire())
            {
                _open = true;
                _opened.NotifyAll();
            }
        }
    }

    private static Action<Scenario> Opening(bool fixedVersion) => scenario =>
    {
        var gate = new Gate(fixedVersion);
        scenario.Thread("waiter", gate.WaitUntilOpen);
        scenario.Thread("opener", gate.Open);
    };

    [Fact]
    public void AMissedSignalIsFoundAndNamed()
    {
        var report = FoundWithDefaults(Opening(fixedVersion: false), ControlledFailureKind.Deadlock);

        Assert.Equal([new WaitForEdge("waiter", "gate.opened", null)], report.Waits);
        int notified = report.Trace.ToList().FindIndex(e => e is { Flow: "opener", Operation: "notify all", Target: "gate.opened" });
        int waited = report.Trace.ToList().FindIndex(e => e is { Flow: "waiter", Operation: "waits on", Target: "gate.opened" });
        Assert.InRange(notified, 0, waited - 1);
        Assert.Contains(
            $"'gate.opened' was last notified by opener at step {report.Trace[notified].Step}, before waiter began waiting on it " +
            $"(step {report.Trace[waited].Step}), and no flow is left to notify it: a missed signal",
            report.Summary,
            StringComparison.Ordinal);
    }

    [Fact]
    public void CheckingAndWaitingInOneHoldPasses() => PassesWithDefaults(Opening(fixedVersion: true));

    // 5b. A barrier misuse: the indexer rebuilds its shards in phases (build, then swap); one shard worker stops after
    // the build, so the others wait at the swap phase forever.
    private static Action<Scenario> Reindex(bool fixedVersion) => scenario =>
    {
        var phases = new PhaseBarrier(2, name: "reindex");
        int swapped = 0;
        scenario.Thread("shard0", () =>
        {
            phases.SignalAndWait(); // built
            swapped++;
            phases.SignalAndWait(); // swapped
        });
        scenario.Thread("shard1", () =>
        {
            phases.SignalAndWait(); // built
            if (fixedVersion)
            {
                phases.SignalAndWait(); // the broken worker returned here, forgetting the swap phase
            }
        });
        scenario.Finally(() => Assert.Equal(1, swapped));
    };

    [Fact]
    public void AWorkerLeavingABarrierEarlyIsFoundAndNamed()
    {
        var report = FoundWithDefaults(Reindex(fixedVersion: false), ControlledFailureKind.Deadlock);

        Assert.Equal([new WaitForEdge("shard0", "reindex", null)], report.Waits);
        Assert.Contains(
            "'reindex' ends phase 1 when 2 participants arrive; 1 waits at it (shard0) and no other flow is left to arrive (shard1 finished)",
            report.Summary,
            StringComparison.Ordinal);
    }

    [Fact]
    public void EveryWorkerArrivingForEveryPhasePasses() => PassesWithDefaults(Reindex(fixedVersion: true));

    // 6. Three guests book a room of two places, each checking the count in one hold and booking in another. With the
    // same work before the check, all three checks before the second booking are common and Random finds it; when
    // the guests arrive at very different times (30 and 60 audit entries first), the first guest must stay preempted
    // between its check and its booking while 90 steps of the others run: a uniform random walk almost never does that
    // (Random alone: not in 3,000 runs), PCT does by design, and so the default portfolio does in its PCT iterations.
    private sealed class Room(bool fixedVersion, int places)
    {
        private readonly ExclusiveLock _lock = new("room");
        private readonly ExclusiveLock _audit = new("audit");
        private int _booked;

        public int Booked => _booked;

        public void Book(int auditEntries)
        {
            for (int i = 0; i < auditEntries; i++)
            {
                using (_audit.Acquire())
                {
                }
            }

            if (fixedVersion)
            {
                using (_lock.Acquire())
                {
                    if (_booked < places)
                    {
                        _booked++;
                    }
                }

                return;
            }

            int seen;
            using (_lock.Acquire())
            {
                seen = _booked;
            }

            if (seen < places)
            {
                using (_lock.Acquire())
                {
                    _booked++;
                }
            }
        }
    }

    private static Action<Scenario> Guests(bool fixedVersion, params int[] auditEntries) => Guests(fixedVersion, 2, 2, auditEntries);

    /// <summary>Guests booking <paramref name="places"/> places; the check fails above <paramref name="limit"/> bookings.</summary>
    private static Action<Scenario> Guests(bool fixedVersion, int places, int limit, int[] auditEntries) => scenario =>
    {
        var room = new Room(fixedVersion, places);
        for (int g = 0; g < auditEntries.Length; g++)
        {
            int entries = auditEntries[g];
            scenario.Thread($"guest{g}", () => room.Book(entries));
        }

        scenario.Finally(() => Assert.True(room.Booked <= limit, $"{room.Booked} bookings for {places} places"));
    };

    [Fact]
    public void ThreeGuestsOverbookingIsFound()
    {
        var report = FoundWithDefaults(Guests(false, 0, 0, 0), ControlledFailureKind.Assertion);
        Assert.Equal(3, report.Trace.Select(e => e.Flow).Distinct().Count());
    }

    [Fact]
    public void ThreeGuestsArrivingFarApartNeedPct()
    {
        var build = Guests(false, 0, 30, 60);
        var pct = new ControlledTestOptions { Strategy = SchedulingStrategy.Pct(3) };
        var report = FoundWith(build, pct, ControlledFailureKind.Assertion);
        Assert.Contains("3 bookings for 2 places", report.Summary, StringComparison.Ordinal);
    }

    [Fact]
    public void ThreeGuestsArrivingFarApartAreFoundByTheDefaults()
    {
        // The default portfolio runs PCT in two of every three iterations; the old default, Random alone, did not find
        // this in 3,000 runs. FoundWith replays the report by schedule and by seed (which reruns the portfolio).
        var report = FoundWithDefaults(Guests(false, 0, 30, 60), ControlledFailureKind.Assertion);
        Assert.Contains("3 bookings for 2 places", report.Summary, StringComparison.Ordinal);
        Assert.Same(SchedulingStrategy.Portfolio, report.Strategy);
        Assert.Contains(
            $"(seed 0, strategy Portfolio, Pct({(report.Iteration % 3) + 1}) in this iteration, {report.Steps} steps)",
            report.ToString(),
            StringComparison.Ordinal);
    }

    // 6b. One place, and the desk can put up one extra guest on a cot, never two: the failure needs all three checks
    // before any booking, so the first two guests must each be switched out between check and booking (two
    // preemptions, PCT depth 3; Pct(2) cannot find it). Close together, the defaults and Pct(3) find it; arriving after
    // 0, 10 and 20 audit entries, Random never does and Pct(3) only for some seeds within 100 runs (README: over five seeds
    // it first failed in iterations 39 to 1,544).
    [Fact]
    public void ABugNeedingTwoPreemptionsIsFound()
    {
        var build = Guests(false, places: 1, limit: 2, [0, 0, 0]);
        var report = FoundWithDefaults(build, ControlledFailureKind.Assertion);
        Assert.Contains("3 bookings for 1 places", report.Summary, StringComparison.Ordinal);

        var pct = FoundWith(build, new ControlledTestOptions { Strategy = SchedulingStrategy.Pct(3) }, ControlledFailureKind.Assertion);
        Assert.Contains("3 bookings for 1 places", pct.Summary, StringComparison.Ordinal);
    }

    [Fact]
    public void ThreeGuestsBookingInOneHoldPass()
    {
        PassesWithDefaults(Guests(true, 0, 0, 0));
        PassesWith(Guests(true, 0, 30, 60), new ControlledTestOptions { Strategy = SchedulingStrategy.Pct(3) });
        PassesWithDefaults(Guests(true, 0, 30, 60));
        PassesWithDefaults(Guests(true, places: 1, limit: 1, [0, 0, 0]));
        PassesWith(Guests(true, places: 1, limit: 1, [0, 0, 0]), new ControlledTestOptions { Strategy = SchedulingStrategy.Pct(3) });
    }

    private static ControlledTestReport FoundWithDefaults(Action<Scenario> build, ControlledFailureKind kind) =>
        FoundWith(build, new ControlledTestOptions(), kind);

    /// <summary>
    /// The broken version must fail within the options' budget, say how to get the run again, and replay to the same
    /// failure both from the schedule and from the seed.
    /// </summary>
    private static ControlledTestReport FoundWith(Action<Scenario> build, ControlledTestOptions options, ControlledFailureKind kind)
    {
        var result = ControlledTest.Run(build, options);
        Assert.False(result.Passed, $"not found in {result.IterationsRun} runs");
        var report = result.Failure!;
        Assert.True(kind == report.Kind, report.ToString());

        // What a user pastes: the replay line and the seed are in the message Check throws.
        string message = Assert.Throws<ControlledTestFailure>(() => ControlledTest.Check(build, options)).Message;
        Assert.Contains($"Replay: ControlledTest.CheckReplay(scenario, \"{report.Schedule}\")", message, StringComparison.Ordinal);
        Assert.Contains(
            $"Or rerun: new ControlledTestOptions {{ Seed = {options.Seed}, Strategy = SchedulingStrategy.{options.Strategy}, Iterations = {report.Iteration + 1} }}",
            message,
            StringComparison.Ordinal);
        Assert.Contains(report.Summary, message, StringComparison.Ordinal);

        var bySchedule = ControlledTest.Replay(build, report.Schedule).Failure;
        Assert.NotNull(bySchedule);
        Assert.Equal(report.Kind, bySchedule.Kind);
        Assert.Equal(report.Trace, bySchedule.Trace);
        Assert.Equal(report.Summary, bySchedule.Summary);

        var bySeed = ControlledTest.Replay(build, options, report.Iteration).Failure;
        Assert.NotNull(bySeed);
        Assert.Equal(report.Iteration, bySeed.Iteration);
        Assert.Equal(report.Schedule, bySeed.Schedule);
        Assert.Equal(report.Trace, bySeed.Trace);
        return report;
    }

    private static void PassesWithDefaults(Action<Scenario> build) => PassesWith(build, new ControlledTestOptions());

    private static void PassesWith(Action<Scenario> build, ControlledTestOptions options)
    {
        var result = ControlledTest.Run(build, options);
        Assert.True(result.Passed, result.ToString());
        Assert.Equal(DefaultIterations, result.IterationsRun);
    }

    private static void Swallow(Action body)
    {
        try
        {
            body();
        }
        catch (InvalidOperationException)
        {
            // The service logs a failed request and goes on.
        }
    }

    private static async Task Swallow(Func<Task> body)
    {
        try
        {
            await body();
        }
        catch (InvalidOperationException)
        {
            // The service logs a failed request and goes on.
        }
    }

    private static void Throw() => throw new InvalidOperationException("the source is down");

    /// <summary>Runs <paramref name="body"/> with the process-wide order check off (this project runs its tests serially).</summary>
    private static T OrderCheckOff<T>(Func<T> body)
    {
        var saved = LocksmithPolicy.OrderViolationAction;
        LocksmithPolicy.OrderViolationAction = OrderViolationAction.Ignore;
        try
        {
            return body();
        }
        finally
        {
            LocksmithPolicy.OrderViolationAction = saved;
        }
    }

    private static void OrderCheckOff(Action body) => OrderCheckOff(() =>
    {
        body();
        return 0;
    });
}
