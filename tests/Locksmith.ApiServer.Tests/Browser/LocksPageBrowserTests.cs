using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using Locksmith.ApiServer.MainJob;
using Locksmith.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace Locksmith.ApiServer.Tests.Browser;

/// <summary>
/// The <c>/locks</c> page in a real browser: headless Chromium against the server on loopback. The graph shows every
/// lock of <c>/locks.json</c> in level order, a contention figure moves under load, and a screenshot is saved.
/// Without Chromium the test fails (run .ci/prerequisites); it is never skipped.
/// </summary>
public sealed class LocksPageBrowserTests
{
    private const int WarmUpRequests = 300;
    private const int ContendedRequests = 1_000;
    private const int Readers = 8;
    private const int WaitingPolls = 24_000;   // at least 5 ms each: a hang guard of 2 minutes, never reached by a working run

    [Fact]
    public async Task The_page_draws_every_lock_in_level_order_and_a_contention_figure_moves_under_load()
    {
        Chromium.RequirePath();
        var ct = TestContext.Current.CancellationToken;
        await using var server = await RunningServer.StartAsync();
        Uri page = new(server.Client.BaseAddress!, "locks");
        (await server.Client.PostAsync("reset", null, ct)).EnsureSuccessStatusCode();
        int accounts = (await server.GetJsonAsync("totals")).GetProperty("accounts").GetInt32();
        var warmUp = await LoadDriver.RunAsync(server.Client, WarmUpRequests, 32, accounts, static () => { }, ct);
        var declared = ServerReadings.ReadLocks(await server.GetJsonAsync("locks.json"));

        var before = LocksDom.Parse(await Chromium.DumpDomAsync(page));

        // Contended load: readers of the price cache queue behind a writer the test holds (a contention every time,
        // whatever the timing), then the seed's mix with many requests in flight.
        var prices = server.Services.GetRequiredKeyedService<AsyncReadWriteLock>(ApiServerLocks.Prices);
        Task<HttpResponseMessage>[] readers;
        using (await prices.AcquireWriteAsync(ct))
        {
            readers = Enumerable.Range(0, Readers).Select(i => server.Client.GetAsync($"prices/HELD{i}", ct)).ToArray();
            int polls = 0;
            long waiting;
            while ((waiting = Waiting(await server.GetJsonAsync("locks.json"), ApiServerLocks.Prices)) < 1 && polls++ < WaitingPolls)
            {
                await Task.Delay(5, ct);
            }

            Assert.True(waiting >= 1, $"no price reader queued behind the held write lock after {polls} polls of /locks.json (a hang)");
        }

        var readStatuses = (await Task.WhenAll(readers)).Select(static r => r.StatusCode).ToArray();
        var contended = await LoadDriver.RunAsync(server.Client, ContendedRequests, 64, accounts, static () => { }, ct);
        // Nestings are only ever added: what the page drew lies between a report read before it and one read after.
        var nestingsBefore = Nestings(await server.GetJsonAsync("locks.json"));
        var after = LocksDom.Parse(await Chromium.DumpDomAsync(page));
        var nestingsAfter = Nestings(await server.GetJsonAsync("locks.json"));

        string screenshot = Path.Combine(AppContext.BaseDirectory, "screenshots", "locks-page.png");
        Directory.CreateDirectory(Path.GetDirectoryName(screenshot)!);
        File.Delete(screenshot);
        await Chromium.ScreenshotAsync(page, screenshot);
        TestContext.Current.TestOutputHelper?.WriteLine($"screenshot: {screenshot}");

        // The page loaded its data (not only its skeleton).
        Assert.True(before.Refreshes >= 1, $"the page never refreshed; status: {before.Status}");
        Assert.True(after.Refreshes >= 1, $"the page never refreshed; status: {after.Status}");
        Assert.Equal(0, warmUp.Errors + contended.Errors);
        Assert.All(readStatuses, static s => Assert.Equal(HttpStatusCode.OK, s));

        // Every lock of /locks.json is a node, at its level; top to bottom (then left to right) is the global order.
        Assert.NotEmpty(declared);
        foreach (var dom in new[] { before, after })
        {
            Assert.Equal(declared.Select(static l => l.Name).Order(StringComparer.Ordinal), dom.Nodes.Select(static n => n.Name).Order(StringComparer.Ordinal));
            Assert.All(dom.Nodes, n => Assert.Equal(declared.Single(l => l.Name == n.Name).Level, n.Level));
            var topToBottom = dom.Nodes.OrderBy(static n => n.Y).ThenBy(static n => n.X).ToArray();
            Assert.Equal(declared.Select(static l => l.Name), topToBottom.Select(static n => n.Name));
            var rows = dom.Nodes.GroupBy(static n => n.Level).Select(static g => (Level: g.Key, Ys: g.Select(static n => n.Y).Distinct().ToArray())).ToArray();
            Assert.All(rows, static r => Assert.Single(r.Ys));
            var levelsDown = rows.OrderBy(static r => r.Ys[0]).Select(static r => r.Level).ToArray();
            Assert.Equal(levelsDown.Order(), levelsDown);
        }

        // The figures moved: the held writer's readers contended for prices; every lock the mix uses was taken again.
        Assert.True(after.Stat(ApiServerLocks.Prices, "contentions") >= before.Stat(ApiServerLocks.Prices, "contentions") + 1,
            $"prices contentions: {before.Stat(ApiServerLocks.Prices, "contentions")} then {after.Stat(ApiServerLocks.Prices, "contentions")}");
        foreach (string name in (string[])[ApiServerLocks.Prices, ApiServerLocks.Hits, ApiServerLocks.Journal, ApiServerLocks.Pool, ApiServerLocks.Limiter])
        {
            Assert.True(after.Stat(name, "acquisitions") > before.Stat(name, "acquisitions"),
                $"{name} acquisitions: {before.Stat(name, "acquisitions")} then {after.Stat(name, "acquisitions")}");
        }

        // Every nesting is drawn once, locks of one level by one arc per pair, and nothing overlaps: no two nodes of a
        // row, no two count labels (boxes of about 6.5 px per character and 11 px high, centred on their x).
        var drawn = after.Edges.SelectMany(static e => e.Nestings).ToList();
        Assert.Equal(drawn.Count, drawn.Distinct().Count());
        Assert.Subset(nestingsAfter, drawn.ToHashSet());
        Assert.Superset(nestingsBefore, drawn.ToHashSet());
        var levelOf = after.Nodes.ToDictionary(static n => n.Name, static n => n.Level);
        var sameLevel = after.Edges.Where(e => e.Nestings.All(n => levelOf[n.Outer] == levelOf[n.Inner])).ToList();
        Assert.NotEmpty(sameLevel);   // the transfers' lock sets nest accounts of one level
        var pairs = sameLevel.Select(static e => e.Nestings.Select(static n => Pair(n)).Distinct().Single()).ToList();
        Assert.Equal(pairs.Count, pairs.Distinct().Count());
        foreach (var row in after.Nodes.GroupBy(static n => n.Level))
        {
            var leftToRight = row.OrderBy(static n => n.X).ToArray();
            Assert.All(leftToRight.Zip(leftToRight.Skip(1)), static p => Assert.True(p.First.X + p.First.Width <= p.Second.X, $"{p.First.Name} overlaps {p.Second.Name}"));
        }

        var labels = after.Labels;
        for (int i = 0; i < labels.Count; i++)
        {
            for (int j = i + 1; j < labels.Count; j++)
            {
                var (a, b) = (labels[i], labels[j]);
                bool apartAcross = Math.Abs(a.X - b.X) >= (a.Text.Length + b.Text.Length) * 6.5 / 2;
                bool apartDown = Math.Abs(a.Y - b.Y) >= 11;
                Assert.True(apartAcross || apartDown, $"edge labels '{a.Text}' at ({a.X:0}, {a.Y:0}) and '{b.Text}' at ({b.X:0}, {b.Y:0}) overlap");
            }
        }

        var png = new FileInfo(screenshot);
        Assert.True(png.Exists && png.Length > 0, $"no screenshot at {screenshot}");
        byte[] signature = new byte[8];
        using (var file = png.OpenRead())
        {
            file.ReadExactly(signature);
        }

        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A }, signature);
    }

    [Fact]
    public async Task The_page_opened_as_locks_with_a_trailing_slash_draws_every_lock()
    {
        // Routing serves /locks/ as /locks, but there the page's relative URLs (locks.json, totals) named /locks/locks.json:
        // before, the page showed its skeleton and "refresh failed: TypeError: data.locks is not iterable".
        Chromium.RequirePath();
        await using var server = await RunningServer.StartAsync();
        var declared = ServerReadings.ReadLocks(await server.GetJsonAsync("locks.json"));

        var dom = LocksDom.Parse(await Chromium.DumpDomAsync(new Uri(server.Client.BaseAddress!, "locks/")));

        Assert.True(dom.Refreshes >= 1, $"the page never refreshed; status: {dom.Status}");
        Assert.Equal(declared.Select(static l => l.Name).Order(StringComparer.Ordinal), dom.Nodes.Select(static n => n.Name).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Nestings_of_locks_whose_names_hold_gt_and_comma_are_named_unambiguously()
    {
        // Before, data-edges was "outer>inner" joined by ",": a nesting of 'a>b,c' in 'd,e>f' read "a>b,c>d,e>f", which
        // splits into other locks' names; now it is JSON, [["a>b,c","d,e>f"]].
        Chromium.RequirePath();
        const string Outer = "a>b,c", Inner = "d,e>f", Left = "g>h", Right = "h,i";
        await using var server = await RunningServer.StartAsync(static builder => builder.Services.AddLocksmith()
            .AddExclusiveLock(Outer, level: 70)
            .AddExclusiveLock(Inner, level: 80)
            .AddExclusiveLock(Left, level: 90)
            .AddExclusiveLock(Right, level: 90));
        var locks = server.Services;
        var outer = locks.GetRequiredKeyedService<ExclusiveLock>(Outer);
        var inner = locks.GetRequiredKeyedService<ExclusiveLock>(Inner);
        using (outer.Acquire())
        using (inner.Acquire())
        {
        }

        // One level: taken together through a lock set, drawn as one arc over the row.
        using (LockSet.Acquire(locks.GetRequiredKeyedService<ExclusiveLock>(Left), locks.GetRequiredKeyedService<ExclusiveLock>(Right)))
        {
        }

        string[] names = [Outer, Inner, Left, Right];
        var reported = Nestings(await server.GetJsonAsync("locks.json")).Where(n => names.Contains(n.Outer) || names.Contains(n.Inner)).ToHashSet();
        var dom = LocksDom.Parse(await Chromium.DumpDomAsync(new Uri(server.Client.BaseAddress!, "locks")));
        var drawn = dom.Edges.Where(e => e.Nestings.Any(n => names.Contains(n.Outer) || names.Contains(n.Inner))).ToList();

        Assert.True(dom.Refreshes >= 1, $"the page never refreshed; status: {dom.Status}");
        Assert.Equal(2, reported.Count);
        Assert.Contains((Outer, Inner), reported);
        Assert.Equal(reported.Order(), drawn.Select(static e => Assert.Single(e.Nestings)).Order());
    }

    [Fact]
    public async Task The_table_says_how_many_hold_a_lock_held_by_permits_or_readers()
    {
        // Before, the holder cell of a lock held only by a semaphore's permits (each POST /io holds one of the pool's)
        // or by readers read '–', as for a free lock, while the node above was drawn held and "pool in use" said 2 / 8.
        Chromium.RequirePath();
        // The page reads /totals beside /locks.json, and /totals takes prices (read), journal and hits for a moment: a
        // report read then counted the page's own reader ("2 readers", seen once under load). One at a time, the report
        // shows only the test's holds.
        await using var server = await RunningServer.StartAsync(static builder => builder.Services.AddSingleton<IStartupFilter>(new ReportsOneAtATime()));
        var pool = server.Services.GetRequiredKeyedService<CountingSemaphore>(ApiServerLocks.Pool);
        var prices = server.Services.GetRequiredKeyedService<AsyncReadWriteLock>(ApiServerLocks.Prices);
        var page = new Uri(server.Client.BaseAddress!, "locks");

        var ct = TestContext.Current.CancellationToken;
        LocksDom dom;
        using (await prices.AcquireReadAsync(ct))
        using (await pool.AcquireAsync(2, ct))
        {
            dom = LocksDom.Parse(await Chromium.DumpDomAsync(page));
        }

        var after = LocksDom.Parse(await Chromium.DumpDomAsync(page));

        Assert.True(dom.Refreshes >= 1, $"the page never refreshed; status: {dom.Status}");
        Assert.Equal("2 permits", dom.Cells[(ApiServerLocks.Pool, "holder")]);
        Assert.Equal("1 reader", dom.Cells[(ApiServerLocks.Prices, "holder")]);
        Assert.Equal("–", dom.Cells[(ApiServerLocks.Journal, "holder")]);
        Assert.Equal("–", after.Cells[(ApiServerLocks.Pool, "holder")]);
        Assert.Equal("–", after.Cells[(ApiServerLocks.Prices, "holder")]);
    }

    [Fact]
    public async Task The_table_counts_the_requests_queued_for_the_full_pool_and_a_blocked_thread_and_draws_them_waiting()
    {
        // Before, only the async locks counted their waiters: with every permit of the pool (a semaphore) taken and
        // requests queued for one (the 503s of a busy server), its waiting cell read '–', "not counted" on hover, and its
        // node was never drawn waiting. The report now counts every lock's waiters from DeadlockDetector.CurrentWaits().
        Chromium.RequirePath();
        const int Queued = 3;
        var ct = TestContext.Current.CancellationToken;
        // A lock timeout no browser run reaches: the queued requests stay queued (the default 10 s would answer 503).
        // A sync lock no route takes (every seed lock is read by /totals, which the page fetches): a thread blocks on it.
        const string Gate = "held-by-test";
        await using var server = await RunningServer.StartAsync(static builder => builder.Services.AddLocksmith().AddExclusiveLock(Gate, level: 70),
            "--Locksmith:DefaultTimeout=00:10:00");
        var pool = server.Services.GetRequiredKeyedService<CountingSemaphore>(ApiServerLocks.Pool);
        int size = (await server.GetJsonAsync("totals")).GetProperty("poolSize").GetInt32();
        var page = new Uri(server.Client.BaseAddress!, "locks");

        var gate = server.Services.GetRequiredKeyedService<ExclusiveLock>(Gate);
        var idle = LocksDom.Parse(await Chromium.DumpDomAsync(page));
        LocksDom full;
        Task<HttpResponseMessage>[] requests;
        int polls = 0;
        // A thread blocked on a sync lock counts too: one thread holds the gate until released, another waits for it.
        using var held = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        var holder = new Thread(() =>
        {
            using (gate.Acquire())
            {
                held.Set();
                release.Wait();
            }
        }) { IsBackground = true, Name = "gate-holder" };
        var blocked = new Thread(() =>
        {
            using (gate.Acquire())
            {
            }
        }) { IsBackground = true, Name = "gate-waiter" };
        holder.Start();
        Assert.True(held.Wait(Guard.HangLimit, ct), "the holder never took the gate (a hang)");
        blocked.Start();
        try
        {
            using (await pool.AcquireAsync(size, ct))
            {
                requests = Enumerable.Range(0, Queued).Select(_ => server.Client.PostAsync("io", null, ct)).ToArray();
                while ((WaitingFor(ApiServerLocks.Pool) < Queued || WaitingFor(Gate) < 1) && polls++ < WaitingPolls)
                {
                    await Task.Delay(5, ct);
                }

                Assert.True(WaitingFor(ApiServerLocks.Pool) == Queued, $"{WaitingFor(ApiServerLocks.Pool)} requests queued for the pool after {polls} polls, not {Queued} (a hang)");
                Assert.True(WaitingFor(Gate) == 1, $"{WaitingFor(Gate)} threads blocked on the gate after {polls} polls, not 1 (a hang)");
                full = LocksDom.Parse(await Chromium.DumpDomAsync(page));
            }
        }
        finally
        {
            release.Set();
            holder.JoinGuarded();
            blocked.JoinGuarded();
        }

        var statuses = (await Task.WhenAll(requests)).Select(static r => r.StatusCode).ToArray();

        Assert.True(idle.Refreshes >= 1, $"the page never refreshed; status: {idle.Status}");
        Assert.True(full.Refreshes >= 1, $"the page never refreshed; status: {full.Status}");
        Assert.Equal("0", idle.Cells[(ApiServerLocks.Pool, "waiting")]);
        Assert.Equal("0", idle.Cells[(ApiServerLocks.Hits, "waiting")]);
        Assert.False(idle.Nodes.Single(static n => n.Name == ApiServerLocks.Pool).IsWaiting);
        Assert.Equal(Queued.ToString(System.Globalization.CultureInfo.InvariantCulture), full.Cells[(ApiServerLocks.Pool, "waiting")]);
        Assert.Equal($"{size} permits", full.Cells[(ApiServerLocks.Pool, "holder")]);
        Assert.True(full.Nodes.Single(static n => n.Name == ApiServerLocks.Pool).IsWaiting, "the full pool's node is not drawn waiting");
        Assert.Equal("1", full.Cells[(Gate, "waiting")]);
        Assert.True(full.Nodes.Single(static n => n.Name == Gate).IsWaiting, "the gate's node, a thread blocked on it, is not drawn waiting");
        Assert.Equal("0", full.Cells[(ApiServerLocks.Journal, "waiting")]);
        Assert.Equal("0", full.Cells[(ApiServerLocks.Hits, "waiting")]);
        Assert.Equal("threads blocked and requests queued for this lock when the report was read", full.CellTitles.GetValueOrDefault((ApiServerLocks.Pool, "waiting")));
        // The [LockOrder] member that declares a lock is its name cell's hover text; a lock no generated class declares has none.
        Assert.Equal("declared by Locksmith.ApiServer.TransferJournal._lock", full.CellTitles.GetValueOrDefault((ApiServerLocks.Journal, "name")));
        Assert.False(full.CellTitles.ContainsKey((ApiServerLocks.Pool, "name")), "the pool, which no generated class declares, has a declarer");
        Assert.All(statuses, static s => Assert.Equal(HttpStatusCode.OK, s));

        static int WaitingFor(string name) => DeadlockDetector.CurrentWaits().Count(w => w.LockName == name);
    }

    [Fact]
    public async Task Of_two_servers_in_one_process_only_the_one_whose_async_lock_has_queued_flows_shows_them()
    {
        // Two containers with a same-named async lock: an async lock counts its own queue, so the page of the server
        // whose lock has flows queued shows them, and the other's shows none (the other kinds: the next test). A lock
        // no route takes, so both pages load while it is held.
        Chromium.RequirePath();
        const int Queued = 3;
        const string Gate = "held-by-test";
        var ct = TestContext.Current.CancellationToken;
        await using var busy = await RunningServer.StartAsync(static builder => builder.Services.AddLocksmith().AddAsyncExclusiveLock(Gate, level: 70),
            "--Locksmith:DefaultTimeout=00:10:00");
        // A second host in the process must leave the process-wide policy to the first, or it refuses to start.
        await using var idle = await RunningServer.StartAsync(static builder => builder.Services.AddLocksmith().AddAsyncExclusiveLock(Gate, level: 70),
            "--Locksmith:InstallProcessPolicy=false");
        var gate = busy.Services.GetRequiredKeyedService<AsyncExclusiveLock>(Gate);
        Assert.NotSame(gate, idle.Services.GetRequiredKeyedService<AsyncExclusiveLock>(Gate));

        // The holder and the waiters are flows of their own, not the test's (an async owner travels with the flow).
        var held = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Task holder;
        Task[] waiters;
        using (ExecutionContext.SuppressFlow())
        {
            holder = Task.Run(async () =>
            {
                using (await gate.AcquireAsync(ct))
                {
                    held.SetResult();
                    await release.Task;
                }
            }, ct);
        }

        LocksDom busyPage, idlePage;
        try
        {
            await held.Task.WaitAsync(ct);
            using (ExecutionContext.SuppressFlow())
            {
                waiters = Enumerable.Range(0, Queued).Select(_ => Task.Run(async () =>
                {
                    using (await gate.AcquireAsync(ct))
                    {
                    }
                }, ct)).ToArray();
            }

            int polls = 0;
            while (Waiting(await busy.GetJsonAsync("locks.json"), Gate) < Queued && polls++ < WaitingPolls)
            {
                await Task.Delay(5, ct);
            }

            Assert.True(Waiting(await busy.GetJsonAsync("locks.json"), Gate) == Queued, $"not all {Queued} flows queued for the gate after {polls} polls (a hang)");
            idlePage = LocksDom.Parse(await Chromium.DumpDomAsync(new Uri(idle.Client.BaseAddress!, "locks")));
            busyPage = LocksDom.Parse(await Chromium.DumpDomAsync(new Uri(busy.Client.BaseAddress!, "locks")));
        }
        finally
        {
            release.TrySetResult();
        }

        await holder.WaitAsync(Guard.HangLimit, ct);
        await Task.WhenAll(waiters).WaitAsync(Guard.HangLimit, ct);

        Assert.True(idlePage.Refreshes >= 1, $"the page never refreshed; status: {idlePage.Status}");
        Assert.True(busyPage.Refreshes >= 1, $"the page never refreshed; status: {busyPage.Status}");
        Assert.Equal(Queued.ToString(System.Globalization.CultureInfo.InvariantCulture), busyPage.Cells[(Gate, "waiting")]);
        Assert.True(busyPage.Nodes.Single(static n => n.Name == Gate).IsWaiting, "the busy server's gate is not drawn waiting");
        Assert.Equal("0", idlePage.Cells[(Gate, "waiting")]);
        Assert.False(idlePage.Nodes.Single(static n => n.Name == Gate).IsWaiting, "the idle server's gate is drawn waiting for the other server's flows");
    }

    [Fact]
    public async Task Of_two_servers_in_one_process_only_the_one_whose_sync_lock_has_blocked_threads_counts_them()
    {
        // As above, for a lock whose waits come from the process-wide DeadlockDetector.CurrentWaits(): a wait carries
        // its lock's id, so the report counts it for that instance only, not for a same-named lock of another container.
        const int Blocked = 3;
        const string Gate = "held-by-test-sync";
        var ct = TestContext.Current.CancellationToken;
        await using var busy = await RunningServer.StartAsync(static builder => builder.Services.AddLocksmith().AddExclusiveLock(Gate, level: 71),
            "--Locksmith:DefaultTimeout=00:10:00");
        await using var idle = await RunningServer.StartAsync(static builder => builder.Services.AddLocksmith().AddExclusiveLock(Gate, level: 71),
            "--Locksmith:InstallProcessPolicy=false");
        var gate = busy.Services.GetRequiredKeyedService<ExclusiveLock>(Gate);
        Assert.NotSame(gate, idle.Services.GetRequiredKeyedService<ExclusiveLock>(Gate));

        // The holder is a thread of its own (an ExclusiveLock is held by a thread, not across this test's awaits).
        using var held = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        var holder = new Thread(() =>
        {
            using (gate.Acquire())
            {
                held.Set();
                release.Wait();
            }
        }) { IsBackground = true, Name = "holder" };
        var waiters = new Thread[Blocked];
        long busyWaiting, idleWaiting;
        holder.Start();
        try
        {
            Assert.True(held.Wait(Guard.HangLimit, ct), "the holder never took the gate (a hang)");
            for (int i = 0; i < Blocked; i++)
            {
                waiters[i] = new Thread(() =>
                {
                    using (gate.Acquire())
                    {
                    }
                }) { IsBackground = true, Name = "blocked-" + i };
                waiters[i].Start();
            }

            int polls = 0;
            while (Waiting(await busy.GetJsonAsync("locks.json"), Gate) < Blocked && polls++ < WaitingPolls)
            {
                await Task.Delay(5, ct);
            }

            busyWaiting = Waiting(await busy.GetJsonAsync("locks.json"), Gate);
            idleWaiting = Waiting(await idle.GetJsonAsync("locks.json"), Gate);
        }
        finally
        {
            release.Set();
        }

        holder.JoinGuarded();
        foreach (var waiter in waiters)
        {
            waiter?.JoinGuarded();
        }

        Assert.Equal(Blocked, busyWaiting);
        Assert.Equal(0, idleWaiting);
    }

    /// <summary>Serves <c>/totals</c> and <c>/locks.json</c> one at a time, so no report is read while a totals request holds a lock.</summary>
    private sealed class ReportsOneAtATime : IStartupFilter
    {
        private readonly SemaphoreSlim _gate = new(1, 1);

        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use(inner => async context =>
            {
                if (!context.Request.Path.Equals("/totals", StringComparison.Ordinal) && !context.Request.Path.Equals("/locks.json", StringComparison.Ordinal))
                {
                    await inner(context);
                    return;
                }

                if (!await _gate.WaitAsync(Guard.HangLimit, context.RequestAborted))
                {
                    throw new TimeoutException("Hang guard: a /totals or /locks.json request never ended.");
                }

                try
                {
                    await inner(context);
                }
                finally
                {
                    _gate.Release();
                }
            });
            next(app);
        };
    }

    /// <summary>The nestings of a <c>/locks.json</c> report, as the page's <c>data-edges</c> name them: (outer, inner).</summary>
    private static HashSet<(string Outer, string Inner)> Nestings(JsonElement report) =>
        report.GetProperty("edges").EnumerateArray()
            .Select(static e => (e.GetProperty("outer").GetString()!, e.GetProperty("inner").GetString()!))
            .ToHashSet();

    /// <summary>The two locks of a nesting, in name order, so both directions of one pair are equal.</summary>
    private static (string, string) Pair((string Outer, string Inner) nesting) =>
        string.CompareOrdinal(nesting.Outer, nesting.Inner) < 0 ? (nesting.Outer, nesting.Inner) : (nesting.Inner, nesting.Outer);

    private static long Waiting(JsonElement report, string name) =>
        report.GetProperty("locks").EnumerateArray()
            .Where(l => l.GetProperty("name").GetString() == name)
            .Select(static l => l.TryGetProperty("waiting", out var w) && w.ValueKind == JsonValueKind.Number ? w.GetInt64() : 0)
            .Single();
}
