using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Net.Http.Json;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Locksmith.ApiServer.Tests;

/// <summary>
/// The seed's load against the real server over loopback HTTP: 10,000 mixed requests, 64 at a time, and every total
/// exact afterwards. Bounded by counts, never by time.
/// </summary>
public sealed class LoadTests
{
    private const int Requests = 10_000;
    private const int Concurrency = 64;

    // Ten request kinds in a fixed rotation, so the expected counts are known exactly.
    private static readonly string[] s_rotation = ["hit", "transfer", "read", "hit", "transfer", "read", "write", "io", "limited", "hit"];

    [Fact]
    public async Task Ten_thousand_mixed_requests_keep_every_total_exact_and_every_lock_in_the_catalog()
    {
        await using var server = await RunningServer.StartAsync();
        var ct = TestContext.Current.CancellationToken;
        (await server.Client.PostAsync("reset", null, ct)).EnsureSuccessStatusCode();
        var totalsBefore = await server.GetJsonAsync("totals");
        int accounts = totalsBefore.GetProperty("accounts").GetInt32();

        long errors = 0, refused = 0, allowed = 0, transferred = 0, declined = 0;
        var failures = new List<string>();
        await Parallel.ForAsync(0, Requests, new ParallelOptions { MaxDegreeOfParallelism = Concurrency, CancellationToken = ct }, async (i, token) =>
        {
            string kind = s_rotation[i % s_rotation.Length];
            using var response = await Send(server.Client, kind, i, accounts, token);
            if (kind == "limited" && response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                Interlocked.Increment(ref refused);
                return;
            }

            if (!response.IsSuccessStatusCode)
            {
                Interlocked.Increment(ref errors);
                string failure = $"{kind} #{i}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(token)}";
                lock (failures)
                {
                    failures.Add(failure);
                }

                return;
            }

            if (kind == "limited")
            {
                Interlocked.Increment(ref allowed);
            }
            else if (kind == "transfer")
            {
                using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync(token));
                Interlocked.Increment(ref body.RootElement.GetProperty("transferred").GetBoolean() ? ref transferred : ref declined);
            }
        });

        var totals = await server.GetJsonAsync("totals");
        var health = await server.Client.GetAsync("health", ct);
        string healthText = await health.Content.ReadAsStringAsync(ct);
        var locks = await server.GetJsonAsync("locks.json");
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"guarded {totals.GetProperty("guardedHits")}, unguarded {totals.GetProperty("unguardedHits")}, transfers {transferred} (+{declined} declined), 429s {refused}");

        Assert.Empty(failures);
        Assert.Equal(0, errors);
        int each = Requests / s_rotation.Length;
        Assert.Equal(3 * each, totals.GetProperty("guardedHits").GetInt64());
        Assert.InRange(totals.GetProperty("unguardedHits").GetInt64(), 1, 3 * each);
        Assert.Equal(2 * each, transferred + declined);
        Assert.Equal(transferred, totals.GetProperty("transfers").GetInt64());
        Assert.Equal(totals.GetProperty("expectedTotal").GetDecimal(), totals.GetProperty("totalBalance").GetDecimal());
        Assert.Equal(0, totals.GetProperty("poolInUse").GetInt32());
        Assert.Equal(totals.GetProperty("poolSize").GetInt32(), totals.GetProperty("poolIdle").GetInt32());
        Assert.Equal(each, totals.GetProperty("poolBorrows").GetInt64());
        Assert.Equal(0, totals.GetProperty("connectionCollisions").GetInt64());
        Assert.Equal(each, allowed + refused);
        Assert.Equal(allowed, totals.GetProperty("limiterAllowed").GetInt64());
        Assert.Equal(refused, totals.GetProperty("limiterRefused").GetInt64());
        Assert.Equal(each, totals.GetProperty("priceWrites").GetInt64());
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Equal("Healthy", healthText);

        // Every declared lock, in the global order, and each one used by the load.
        string[] expected =
        [
            "prices", "hits", .. Enumerable.Range(0, accounts).Select(ApiServerLocks.Account), "journal", "pool", "pool.connections", "limiter",
        ];
        var listed = locks.GetProperty("locks").EnumerateArray().ToArray();
        Assert.Equal(expected, listed.Select(static l => l.GetProperty("name").GetString()));
        var levels = listed.Select(static l => l.GetProperty("level").GetInt32()).ToArray();
        Assert.Equal(levels.Order(), levels);
        Assert.All(listed, static l => Assert.True(l.GetProperty("acquisitions").GetInt64() > 0, l.GetProperty("name").GetString()));
        Assert.All(listed, static l => Assert.False(l.GetProperty("held").GetBoolean(), l.GetProperty("name").GetString()));
        Assert.Equal(3 * each, Stat(listed, "hits", "acquisitions") - 2 /* the two /totals reads */ - 1 /* the reset */);

        // A container lock a domain class declares with [LockOrder] is listed once, naming that member.
        Assert.Equal("Locksmith.ApiServer.TransferJournal._lock", Declarer(listed, "journal"));
        Assert.All(Enumerable.Range(0, accounts).Select(ApiServerLocks.Account), a => Assert.Equal("Locksmith.ApiServer.Account._lock", Declarer(listed, a)));
        Assert.Equal(["Locksmith.ApiServer.TransferJournal._lock"], Declarers(listed, "journal"));
        Assert.All(Enumerable.Range(0, accounts).Select(ApiServerLocks.Account), a => Assert.Equal(["Locksmith.ApiServer.Account._lock"], Declarers(listed, a)));
        Assert.Empty(Declarers(listed, "pool"));
        var declared = locks.GetProperty("declarations").EnumerateArray().Select(static d => d.GetProperty("name").GetString()).ToArray();
        Assert.DoesNotContain("Locksmith.ApiServer.TransferJournal._lock", declared);
        Assert.DoesNotContain("Locksmith.ApiServer.Account._lock", declared);

        var edges = locks.GetProperty("edges").EnumerateArray()
            .Select(static e => (e.GetProperty("outer").GetString(), e.GetProperty("inner").GetString(), e.GetProperty("count").GetInt64()))
            .ToArray();
        Assert.Contains(edges, static e => e.Item1 == "pool" && e.Item2 == "pool.connections" && e.Item3 >= 2);
        Assert.Equal(transferred, edges.Where(static e => e.Item2 == "journal").Sum(static e => e.Item3));
        Assert.All(edges, e => Assert.True(Level(listed, e.Item1) <= Level(listed, e.Item2), $"{e.Item1} -> {e.Item2}"));
    }

    [Fact]
    public async Task Bad_arguments_are_refused_with_400_and_reset_zeroes_the_counters()
    {
        await using var server = await RunningServer.StartAsync();
        var ct = TestContext.Current.CancellationToken;

        var same = await server.Client.PostAsync("transfer?from=1&to=1&amount=5", null, ct);
        var outside = await server.Client.PostAsync("transfer?from=0&to=99&amount=5", null, ct);
        var negative = await server.Client.PostAsync("transfer?from=0&to=1&amount=-5", null, ct);
        (await server.Client.PostAsync("hit", null, ct)).EnsureSuccessStatusCode();
        (await server.Client.PostAsync("transfer?from=0&to=1&amount=5", null, ct)).EnsureSuccessStatusCode();
        (await server.Client.PutAsync("prices/ACME?value=12.5", null, ct)).EnsureSuccessStatusCode();
        var price = await server.GetJsonAsync("prices/acme");
        var missing = await server.GetJsonAsync("prices/NONE");
        var before = await server.GetJsonAsync("totals");
        (await server.Client.PostAsync("reset", null, ct)).EnsureSuccessStatusCode();
        var after = await server.GetJsonAsync("totals");

        Assert.Equal([HttpStatusCode.BadRequest, HttpStatusCode.BadRequest, HttpStatusCode.BadRequest], [same.StatusCode, outside.StatusCode, negative.StatusCode]);
        Assert.Equal(["to"], await ProblemKeys(same));
        Assert.Equal(["to"], await ProblemKeys(outside));
        Assert.Equal(["amount"], await ProblemKeys(negative));
        Assert.Equal(12.5m, price.GetProperty("price").GetDecimal());
        Assert.Equal(JsonValueKind.Null, missing.GetProperty("price").ValueKind);
        Assert.Equal((1, 1, 1), (before.GetProperty("guardedHits").GetInt64(), before.GetProperty("unguardedHits").GetInt64(), before.GetProperty("transfers").GetInt64()));
        Assert.Equal((0, 0, 0), (after.GetProperty("guardedHits").GetInt64(), after.GetProperty("unguardedHits").GetInt64(), after.GetProperty("transfers").GetInt64()));
        Assert.All(after.GetProperty("balances").EnumerateArray(), static b => Assert.Equal(1_000m, b.GetDecimal()));
    }

    /// <summary>
    /// <c>/reset</c> zeroes the totals, not the locks' figures, which count from the server's start; the page shows both
    /// side by side, so it says which is which (before, only README did, and gave the wrong owner).
    /// </summary>
    [Fact]
    public async Task Reset_zeroes_the_totals_not_the_lock_figures_and_the_page_says_so()
    {
        await using var server = await RunningServer.StartAsync();
        var ct = TestContext.Current.CancellationToken;

        (await server.Client.PostAsync("hit", null, ct)).EnsureSuccessStatusCode();
        (await server.Client.PostAsync("reset", null, ct)).EnsureSuccessStatusCode();
        var totals = await server.GetJsonAsync("totals");
        var listed = (await server.GetJsonAsync("locks.json")).GetProperty("locks").EnumerateArray().ToArray();
        string page = await server.Client.GetStringAsync("locks", ct);

        Assert.Equal(0, totals.GetProperty("guardedHits").GetInt64());
        Assert.True(Stat(listed, "hits", "acquisitions") >= 2, "the hit and the reset took the hits lock");
        Assert.Contains("The lock figures count from the server's start: <code>POST /reset</code> zeroes the totals above, not them.", page, StringComparison.Ordinal);
    }

    /// <summary>
    /// Every bad request gets a 400 problem response (<c>application/problem+json</c>) whose <c>errors</c> name each
    /// parameter at fault and say what it must be; nothing is changed by it, and an unknown route is a 404 problem.
    /// </summary>
    [Theory]
    [InlineData("POST", "transfer?from=0&to=1", "amount")]
    [InlineData("POST", "transfer?from=abc&to=1&amount=abc", "from,amount")]
    [InlineData("POST", "transfer?from=0&to=1&amount=1e30", "amount")]
    [InlineData("POST", "transfer?from=0&to=1&amount=0.0000000000000000000000000001", "amount")]
    [InlineData("POST", "transfer?from=0&to=1&amount=2000000000", "amount")]
    [InlineData("POST", "transfer", "from,to,amount")]
    [InlineData("PUT", "prices/ACME", "value")]
    [InlineData("PUT", "prices/ACME?value=-5", "value")]
    [InlineData("PUT", "prices/ACME?value=abc", "value")]
    public async Task A_bad_request_is_a_400_problem_naming_each_bad_parameter_and_changes_nothing(string method, string path, string keys)
    {
        await using var server = await RunningServer.StartAsync();
        var ct = TestContext.Current.CancellationToken;
        using var body = new StringContent("""{"from":0,"to":1,"amount":5,"value":5}""", System.Text.Encoding.UTF8, "application/json");

        var response = await server.Client.SendAsync(new HttpRequestMessage(new HttpMethod(method), path) { Content = body }, ct);
        var totals = await server.GetJsonAsync("totals");
        var missingRoute = await server.Client.GetAsync("no-such-route", ct);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(keys.Split(','), await ProblemKeys(response));
        Assert.Equal(0, totals.GetProperty("transfers").GetInt64());
        Assert.Equal(0, totals.GetProperty("priceWrites").GetInt64());
        Assert.Equal(HttpStatusCode.NotFound, missingRoute.StatusCode);
        Assert.Equal("application/problem+json", missingRoute.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task A_request_whose_lock_wait_times_out_is_a_503_problem_naming_the_lock_with_retry_after()
    {
        // Before, the LockTimeoutException became a bare 500 ("An error occurred while processing your request."), though
        // the server is only busy: the same request succeeds once the lock is free.
        var ct = TestContext.Current.CancellationToken;
        var log = new RecordedLog();
        await using var server = await RunningServer.StartAsync(builder => builder.Logging.AddProvider(log), "--Locksmith:DefaultTimeout=00:00:00.050");
        var prices = server.Services.GetRequiredKeyedService<AsyncReadWriteLock>(ApiServerLocks.Prices);
        HttpResponseMessage busy;
        using (await prices.AcquireWriteAsync(ct))
        {
            // The request's flow waits for the read lock that this flow holds for writing, past the default timeout.
            busy = await server.Client.GetAsync("prices/HELD", ct);
        }

        var problem = await busy.Content.ReadFromJsonAsync<JsonElement>(ct);
        var after = await server.Client.GetAsync("prices/HELD", ct);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, busy.StatusCode);
        Assert.Equal("application/problem+json", busy.Content.Headers.ContentType?.MediaType);
        Assert.Equal(503, problem.GetProperty("status").GetInt32());
        Assert.StartsWith("Lock 'prices' was not free within its timeout", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(TimeSpan.FromSeconds(1), busy.Headers.RetryAfter?.Delta);
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);

        // Logged once, by Locksmith, as the busy server's timeout; not as an unhandled exception with its stack trace
        // (a trial saw ~15 lines of ExceptionHandlerMiddleware error per 503).
        Assert.Contains(log.Entries, static e => e.Level == LogLevel.Warning && e.Message.Contains("'prices'", StringComparison.Ordinal));
        Assert.DoesNotContain(log.Entries, static e => e.Category.Contains("ExceptionHandler", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_refusal_of_the_rate_limiter_is_a_429_problem_with_retry_after()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await RunningServer.StartAsync("--ApiServer:RateLimitCapacity=1", "--ApiServer:RateLimitPerSecond=0.01");

        var allowed = await server.Client.GetAsync("limited", ct);
        var refused = await server.Client.GetAsync("limited", ct);
        var problem = await refused.Content.ReadFromJsonAsync<JsonElement>(ct);

        Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        Assert.Equal(429, problem.GetProperty("status").GetInt32());
        Assert.False(string.IsNullOrEmpty(problem.GetProperty("type").GetString()));
        Assert.Equal(TimeSpan.FromSeconds(100), refused.Headers.RetryAfter?.Delta);
    }

    [Fact]
    public async Task Locks_json_lists_numbered_locks_in_number_order_within_their_level()
    {
        await using var server = await RunningServer.StartAsync("--ApiServer:Accounts=12");

        var names = (await server.GetJsonAsync("locks.json")).GetProperty("locks").EnumerateArray()
            .Select(static l => l.GetProperty("name").GetString()!)
            .Where(static n => n.StartsWith("account-", StringComparison.Ordinal))
            .ToArray();

        Assert.Equal(Enumerable.Range(0, 12).Select(static i => ApiServerLocks.Account(i)), names);
    }

    /// <summary>The <c>errors</c> keys of a problem response, which must be <c>application/problem+json</c>.</summary>
    private static async Task<string[]> ProblemKeys(HttpResponseMessage response)
    {
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken);
        Assert.Equal((int)response.StatusCode, problem.GetProperty("status").GetInt32());
        var errors = problem.GetProperty("errors").EnumerateObject().ToArray();
        Assert.All(errors, static e => Assert.False(string.IsNullOrWhiteSpace(e.Value[0].GetString())));
        return [.. errors.Select(static e => e.Name)];
    }

    [Fact]
    public async Task The_locks_page_is_one_self_contained_html_file_that_polls_locks_json()
    {
        await using var server = await RunningServer.StartAsync();
        var response = await server.Client.GetAsync("locks", TestContext.Current.CancellationToken);
        string html = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);

        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("read(\"locks.json\")", html, StringComparison.Ordinal);
        Assert.Contains("lock-node", html, StringComparison.Ordinal);
        Assert.Contains("data-refreshes", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<script src", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<link", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Concurrent_hits_keep_the_guarded_counter_exact_while_the_unguarded_twin_can_only_lose()
    {
        const int Threads = 4;
        const int HitsPerThread = 20_000;
        await using var server = await RunningServer.StartAsync();
        var counter = server.Services.GetRequiredService<RequestCounter>();
        var unguarded = server.Services.GetRequiredService<UnguardedCounter>();
        counter.Reset();
        unguarded.Reset();

        Concurrently.Run(Threads, _ =>
        {
            for (int i = 0; i < HitsPerThread; i++)
            {
                counter.Hit();
                unguarded.Hit();
            }
        });

        long lost = (Threads * HitsPerThread) - unguarded.Total;
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"unguarded twin: {unguarded.Total.ToString(CultureInfo.InvariantCulture)} of {Threads * HitsPerThread} ({lost} lost updates)");
        Assert.Equal(Threads * HitsPerThread, counter.Total());
        // Lost updates only ever lose: the twin never counts more than happened. How many it loses depends on timing.
        Assert.InRange(unguarded.Total, 1, Threads * HitsPerThread);
    }

    private static long Stat(JsonElement[] locks, string name, string stat) =>
        locks.Single(l => l.GetProperty("name").GetString() == name).GetProperty(stat).GetInt64();

    private static string? Declarer(JsonElement[] locks, string name) =>
        locks.Single(l => l.GetProperty("name").GetString() == name).GetProperty("declaredBy").GetString();

    private static string?[] Declarers(JsonElement[] locks, string name) =>
        locks.Single(l => l.GetProperty("name").GetString() == name).GetProperty("declarers").EnumerateArray().Select(static d => d.GetString()).ToArray();

    private static int Level(JsonElement[] locks, string? name) =>
        locks.Single(l => l.GetProperty("name").GetString() == name).GetProperty("level").GetInt32();

    private static Task<HttpResponseMessage> Send(HttpClient client, string kind, int i, int accounts, CancellationToken token)
    {
        // Transfers go both ways between pairs (i and i+1 swap roles every other time), over every account.
        int a = (i / 10) % accounts;
        int b = (a + 1 + ((i / 20) % (accounts - 1))) % accounts;
        (int from, int to) = (i / 10) % 2 == 0 ? (a, b) : (b, a);
        string symbol = "SYM" + ((i / 10) % 5).ToString(CultureInfo.InvariantCulture);
        return kind switch
        {
            "hit" => client.PostAsync("hit", null, token),
            "transfer" => client.PostAsync($"transfer?from={from}&to={to}&amount={1 + (i % 7)}", null, token),
            "read" => client.GetAsync("prices/" + symbol, token),
            "write" => client.PutAsync($"prices/{symbol}?value={(i % 1000).ToString(CultureInfo.InvariantCulture)}.25", null, token),
            "io" => client.PostAsync("io", null, token),
            _ => client.GetAsync("limited", token),
        };
    }
}
