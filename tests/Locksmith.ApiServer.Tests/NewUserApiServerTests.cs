using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using System.Threading;
using System.Threading.Tasks;
using Locksmith.ApiServer.MainJob;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Locksmith.ApiServer.Tests;

/// <summary>
/// A new user's trial of README's "The API server sample" (and the main job's options): each route, its status codes
/// and JSON fields, the <c>ApiServer</c> settings, <c>/locks.json</c>'s exact counts for a known number of requests, the
/// <c>/locks</c> page as served, and exact totals under bounded concurrent load. Real HTTP on loopback (RunningServer).
/// </summary>
public sealed class NewUserApiServerTests
{
    private const int InFlight = 32;
    private static readonly TimeSpan s_hangGuard = TimeSpan.FromSeconds(30);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    // ---- routes ----

    [Fact]
    public async Task Put_then_get_a_price_answers_symbol_and_price_and_an_unknown_symbol_reads_null()
    {
        await using var server = await RunningServer.StartAsync();

        using var put = await server.Client.PutAsync("prices/ACME?value=12.50", null, Ct);
        var known = await server.GetJsonAsync("prices/ACME");
        var unknown = await server.GetJsonAsync("prices/NOPE");

        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        Assert.Equal(("ACME", 12.50m), (known.GetProperty("symbol").GetString(), known.GetProperty("price").GetDecimal()));
        Assert.Equal("NOPE", unknown.GetProperty("symbol").GetString());
        Assert.Equal(JsonValueKind.Null, unknown.GetProperty("price").ValueKind);
    }

    [Fact]
    public async Task A_price_with_more_than_two_decimals_is_a_400_naming_value_and_stores_nothing()
    {
        const string value = "12.345";
        await using var server = await RunningServer.StartAsync();

        using var response = await server.Client.PutAsync($"prices/ACME?value={value}", null, Ct);
        var errors = await ProblemErrors(response, HttpStatusCode.BadRequest);
        var price = await server.GetJsonAsync("prices/ACME");

        Assert.Equal(["value"], errors.Keys);
        Assert.Equal(
            $"must be a price: a positive number up to 1000000000 with at most two decimal places (e.g. 12.50), not '{value}'.",
            errors["value"]);
        Assert.Equal(JsonValueKind.Null, price.GetProperty("price").ValueKind);
    }

    [Fact]
    public async Task A_full_cache_evicts_the_symbol_written_longest_ago_even_if_it_was_just_read()
    {
        await using var server = await RunningServer.StartAsync("--ApiServer:PriceCapacity=3");
        foreach (string symbol in (string[])["A", "B", "C"])
        {
            await Put(server, $"prices/{symbol}?value=1");
        }

        // Reads do not reorder the cache: A stays the oldest write.
        await server.GetJsonAsync("prices/A");
        await Put(server, "prices/D?value=1");

        Assert.Equal(["A"], await NullPrices(server, "A", "B", "C", "D"));
        Assert.Equal((3, 4, 1), PriceCounts(await server.GetJsonAsync("totals")));
    }

    [Fact]
    public async Task Writing_a_symbol_again_makes_it_the_newest_write_so_the_next_eviction_takes_another()
    {
        await using var server = await RunningServer.StartAsync("--ApiServer:PriceCapacity=3");
        foreach (string path in (string[])["prices/A?value=1", "prices/B?value=1", "prices/C?value=1", "prices/A?value=2", "prices/D?value=1"])
        {
            await Put(server, path);
        }

        Assert.Equal(["B"], await NullPrices(server, "A", "B", "C", "D"));
        Assert.Equal(2m, (await server.GetJsonAsync("prices/A")).GetProperty("price").GetDecimal());
        Assert.Equal((3, 5, 1), PriceCounts(await server.GetJsonAsync("totals")));
    }

    [Fact]
    public async Task A_transfer_moves_the_amount_and_one_lacking_the_money_answers_false_and_changes_nothing()
    {
        await using var server = await RunningServer.StartAsync();

        var moved = await PostJson(server, "transfer?from=0&to=1&amount=250.75");
        var lacking = await PostJson(server, "transfer?from=2&to=3&amount=1000.01");
        var totals = await server.GetJsonAsync("totals");

        Assert.True(moved.GetProperty("transferred").GetBoolean());
        Assert.False(lacking.GetProperty("transferred").GetBoolean());
        Assert.Equal([749.25m, 1250.75m, 1000m, 1000m, 1000m, 1000m, 1000m, 1000m], Balances(totals));
        Assert.Equal((1L, 250.75m), (totals.GetProperty("transfers").GetInt64(), totals.GetProperty("transferVolume").GetDecimal()));
        Assert.Equal((8000m, 8000m), (totals.GetProperty("totalBalance").GetDecimal(), totals.GetProperty("expectedTotal").GetDecimal()));
    }

    [Fact]
    public async Task The_READMEs_bad_transfer_example_names_from_and_amount_with_its_exact_messages()
    {
        await using var server = await RunningServer.StartAsync();

        using var response = await server.Client.PostAsync("transfer?from=abc&to=1", null, Ct);
        var errors = await ProblemErrors(response, HttpStatusCode.BadRequest);

        Assert.Equal(
            new Dictionary<string, string>
            {
                ["from"] = "must be an account number in 0..7, not 'abc'.",
                ["amount"] = "must be an amount: a positive number up to 1000000000 with at most two decimal places (e.g. 12.50), not missing (pass it in the query string).",
            },
            errors);
    }

    [Fact]
    public async Task Io_borrows_a_pooled_connection_and_gives_it_back()
    {
        await using var server = await RunningServer.StartAsync();

        var io = await PostJson(server, "io");
        var totals = await server.GetJsonAsync("totals");

        Assert.InRange(io.GetProperty("connection").GetInt32(), 0, 7);
        Assert.Equal(
            (8, 0, 8, 1L, 0L),
            (totals.GetProperty("poolSize").GetInt32(), totals.GetProperty("poolInUse").GetInt32(), totals.GetProperty("poolIdle").GetInt32(),
                totals.GetProperty("poolBorrows").GetInt64(), totals.GetProperty("connectionCollisions").GetInt64()));
    }

    [Fact]
    public async Task Limited_answers_200_until_the_bucket_is_empty_then_a_429_problem_with_whole_seconds_in_Retry_After()
    {
        // 3 tokens, one back every 100 s: the bucket stays empty for the test's length.
        await using var server = await RunningServer.StartAsync("--ApiServer:RateLimitCapacity=3", "--ApiServer:RateLimitPerSecond=0.01");
        var statuses = new List<HttpStatusCode>();
        HttpResponseMessage? refused = null;
        for (int i = 0; i < 5; i++)
        {
            var response = await server.Client.GetAsync("limited", Ct);
            statuses.Add(response.StatusCode);
            refused = response;
        }

        var problem = await refused!.Content.ReadFromJsonAsync<JsonElement>(Ct);
        var totals = await server.GetJsonAsync("totals");

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests, HttpStatusCode.TooManyRequests], statuses);
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        Assert.Equal(429, problem.GetProperty("status").GetInt32());
        Assert.Equal("100", refused.Headers.RetryAfter?.ToString());
        Assert.Equal((3L, 2L), (totals.GetProperty("limiterAllowed").GetInt64(), totals.GetProperty("limiterRefused").GetInt64()));
    }

    [Fact]
    public async Task Totals_answers_exactly_the_fields_the_README_lists()
    {
        string[] listed =
        [
            "guardedHits", "unguardedHits", "lostUpdates", "accounts", "balances", "totalBalance", "expectedTotal", "transfers",
            "transferVolume", "poolSize", "poolInUse", "poolIdle", "poolBorrows", "connectionCollisions", "limiterAllowed",
            "limiterRefused", "priceSymbols", "priceWrites", "priceEvictions",
        ];
        await using var server = await RunningServer.StartAsync();

        var totals = await server.GetJsonAsync("totals");

        Assert.Equal(listed.Order(StringComparer.Ordinal), totals.EnumerateObject().Select(static p => p.Name).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Reset_zeroes_the_counters_restores_balances_and_empties_the_cache_but_not_the_locks_statistics()
    {
        await using var server = await RunningServer.StartAsync();
        await Post(server, "hit");
        await Post(server, "transfer?from=0&to=1&amount=100");
        await Put(server, "prices/ACME?value=5");
        await Post(server, "io");
        (await server.Client.GetAsync("limited", Ct)).EnsureSuccessStatusCode();
        var locksBefore = await Locks(server);

        await Post(server, "reset");
        var reportAfter = await server.GetJsonAsync("locks.json");
        var locksAfter = reportAfter.GetProperty("locks").EnumerateArray().ToArray();
        var totals = await server.GetJsonAsync("totals");

        string[] zeroed =
        [
            "guardedHits", "unguardedHits", "lostUpdates", "transfers", "transferVolume", "poolBorrows", "connectionCollisions",
            "limiterAllowed", "limiterRefused", "priceSymbols", "priceWrites", "priceEvictions",
        ];
        Assert.All(zeroed, field => Assert.Equal(0m, totals.GetProperty(field).GetDecimal()));
        Assert.Equal(Enumerable.Repeat(1000m, 8), Balances(totals));
        Assert.Equal(JsonValueKind.Null, (await server.GetJsonAsync("prices/ACME")).GetProperty("price").ValueKind);

        // The catalog counts from the server's start: the reset added its own exclusive take of hits, removed nothing.
        Assert.Equal(1, Stat(locksBefore, "hits", "acquisitions"));
        Assert.Equal(2, Stat(locksAfter, "hits", "acquisitions"));
        Assert.Equal(1, JournalNestings(reportAfter));
    }

    // ---- errors ----

    [Theory]
    [InlineData("GET", "no-such-route", HttpStatusCode.NotFound)]
    [InlineData("DELETE", "totals", HttpStatusCode.MethodNotAllowed)]
    [InlineData("POST", "transfer?from=0&to=0&amount=1", HttpStatusCode.BadRequest)]
    public async Task Every_error_response_is_a_problem_json_with_its_status(string method, string path, HttpStatusCode status)
    {
        await using var server = await RunningServer.StartAsync();

        using var response = await server.Client.SendAsync(new HttpRequestMessage(new HttpMethod(method), path), Ct);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);

        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal((int)status, problem.GetProperty("status").GetInt32());
    }

    [Fact]
    public async Task Any_other_failure_is_a_500_problem()
    {
        // A user's way to break a route: the bank cannot be built.
        await using var server = await RunningServer.StartAsync(
            static builder => builder.Services.AddSingleton<Bank>(static _ => throw new InvalidOperationException("no bank today")));

        using var response = await server.Client.PostAsync("transfer?from=0&to=1&amount=1", null, Ct);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(500, problem.GetProperty("status").GetInt32());
    }

    /// <summary>
    /// "The same request succeeds once the lock is free": so the 503 must have changed nothing, or a client's retry
    /// would do it twice.
    /// </summary>
    [Theory]
    [InlineData("limiter", "GET", "limited", "")]
    [InlineData("pool", "POST", "io", "--ApiServer:PoolSize=1")]
    [InlineData("account-3", "POST", "transfer?from=3&to=4&amount=100", "")]
    [InlineData("journal", "POST", "transfer?from=0&to=1&amount=100", "")]
    public async Task A_timed_out_lock_wait_is_a_503_naming_the_lock_with_Retry_After_1_logged_once_and_changes_nothing(
        string lockName, string method, string path, string setting)
    {
        var log = new RecordedLog();
        string[] args = ["--Locksmith:DefaultTimeout=00:00:00.050", .. setting.Split(' ', StringSplitOptions.RemoveEmptyEntries)];
        await using var server = await RunningServer.StartAsync(builder => builder.Logging.AddProvider(log), args);
        string before = (await server.GetJsonAsync("totals")).GetRawText();
        HttpResponseMessage busy;
        using (HoldOnAThread(server, lockName))
        {
            busy = await server.Client.SendAsync(new HttpRequestMessage(new HttpMethod(method), path), Ct);
        }

        var problem = await busy.Content.ReadFromJsonAsync<JsonElement>(Ct);
        string after = (await server.GetJsonAsync("totals")).GetRawText();
        using var retried = await server.Client.SendAsync(new HttpRequestMessage(new HttpMethod(method), path), Ct);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, busy.StatusCode);
        Assert.Equal("application/problem+json", busy.Content.Headers.ContentType?.MediaType);
        Assert.Matches(
            $@"^Lock '{Regex.Escape(lockName)}' was not free within its timeout \(waited \d+ ms\): the server is busy; retry later\.$",
            problem.GetProperty("detail").GetString());
        Assert.Equal("1", busy.Headers.RetryAfter?.ToString());
        Assert.Equal(before, after);
        Assert.Equal(HttpStatusCode.OK, retried.StatusCode);
        Assert.Single(log.Entries, e => e.Message.Contains($"'{lockName}'", StringComparison.Ordinal));
        Assert.Single(log.Entries, e => e.Level == LogLevel.Warning && e.Message.Contains($"'{lockName}'", StringComparison.Ordinal));
        Assert.DoesNotContain(log.Entries, static e => e.Level >= LogLevel.Error);
    }

    [Fact]
    public async Task A_connection_whose_give_back_waits_past_the_lock_timeout_still_goes_back_to_the_pool()
    {
        // An I/O that lasts (0 to 10^9 ms, at random) is aborted by its client while the test holds pool.connections, so
        // the handler's Return must wait for it. Were the delay to end before the test takes the lock, Return would have
        // run already and the test would pass without trying anything: 1 chance in 10^6 per second it takes to get there.
        var log = new RecordedLog();
        await using var server = await RunningServer.StartAsync(
            builder => builder.Logging.AddProvider(log),
            "--Locksmith:DefaultTimeout=00:00:00.500", "--ApiServer:PoolSize=1", "--ApiServer:IoMilliseconds=1000000000");
        var pool = server.Services.GetRequiredService<ConnectionPool>();
        using var abort = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var io = server.Client.PostAsync("io", null, abort.Token);
        Assert.True(SpinWait.SpinUntil(() => pool.Counts().InUse == 1, s_hangGuard), "the I/O never borrowed the connection");

        var timeout = TimeSpan.FromMilliseconds(500);
        bool TimedOut() => log.Entries.Any(static e => e.Message.Contains("'pool.connections'", StringComparison.Ordinal));
        using (HoldOnAThread(server, ApiServerLocks.PoolConnections))
        {
            bool inIo = !io.IsCompleted;
            await abort.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => io);

            // Held until the give-back has waited longer than the default timeout (or timed out).
            Assert.True(
                SpinWait.SpinUntil(
                    () => !inIo || TimedOut() || DeadlockDetector.CurrentWaits().Any(w => w.LockName == ApiServerLocks.PoolConnections && w.Waited > timeout),
                    s_hangGuard),
                "the aborted I/O never tried to give its connection back");
        }

        Assert.True(SpinWait.SpinUntil(() => TimedOut() || pool.Counts().InUse == 0, s_hangGuard), "the give-back neither ended nor timed out");
        var totals = await server.GetJsonAsync("totals");

        Assert.Equal((0, 1), (totals.GetProperty("poolInUse").GetInt32(), totals.GetProperty("poolIdle").GetInt32()));
    }

    [Fact]
    public async Task A_url_too_long_gets_Kestrels_empty_414()
    {
        await using var server = await RunningServer.StartAsync();

        using var response = await server.Client.GetAsync("prices/" + new string('A', 20_000), Ct);

        Assert.Equal(HttpStatusCode.RequestUriTooLong, response.StatusCode);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync(Ct));
    }

    // ---- configuration ----

    [Theory]
    [InlineData("--ApiServer:Accounts=16", "accounts=16;expectedTotal=16000;totalBalance=16000")]
    [InlineData("--ApiServer:PoolSize=3", "poolSize=3;poolIdle=3;poolInUse=0")]
    [InlineData("--ApiServer:OpeningBalance=250", "accounts=8;expectedTotal=2000;totalBalance=2000")]
    public async Task A_server_setting_shows_in_the_totals(string setting, string expected)
    {
        await using var server = await RunningServer.StartAsync(setting);

        var totals = await server.GetJsonAsync("totals");

        foreach (string pair in expected.Split(';'))
        {
            string[] parts = pair.Split('=');
            Assert.Equal((parts[0], decimal.Parse(parts[1], CultureInfo.InvariantCulture)), (parts[0], totals.GetProperty(parts[0]).GetDecimal()));
        }
    }

    [Fact]
    public async Task Sixteen_accounts_mean_sixteen_account_locks_and_account_numbers_0_to_15()
    {
        await using var server = await RunningServer.StartAsync("--ApiServer:Accounts=16");

        var moved = await PostJson(server, "transfer?from=15&to=0&amount=1");
        using var outside = await server.Client.PostAsync("transfer?from=16&to=0&amount=1", null, Ct);
        var errors = await ProblemErrors(outside, HttpStatusCode.BadRequest);
        var accountLocks = (await Locks(server)).Where(static l => Name(l).StartsWith(ApiServerLocks.AccountPrefix, StringComparison.Ordinal)).ToArray();

        Assert.True(moved.GetProperty("transferred").GetBoolean());
        Assert.Equal("must be an account number in 0..15, not '16'.", errors["from"]);
        Assert.Equal(Enumerable.Range(0, 16).Select(ApiServerLocks.Account), accountLocks.Select(Name));
        Assert.All(accountLocks, static l => Assert.Equal(30, l.GetProperty("level").GetInt32()));
    }

    [Theory]
    [InlineData("--ApiServer:Acounts=16", "'ApiServer:Acounts' is not an ApiServer setting|Accounts|OpeningBalance|PoolSize|IoMilliseconds|RateLimitCapacity|RateLimitPerSecond|PriceCapacity|OpenTelemetryConsole")]
    [InlineData("--ApiServer:PoolSize=0 --ApiServer:Accounts=1", "ApiServer:PoolSize = '0' is invalid: the pool needs at least 1 connection.|ApiServer:Accounts = '1' is invalid")]
    [InlineData("--ApiServer:Accounts=many", "ApiServer:Accounts|many")]
    [InlineData("--Locksmith:WatchdogInterval=00:00:00", "Locksmith:WatchdogInterval = '00:00:00' is invalid: ")]
    [InlineData("--Locksmith:DefaultTimeout=soon", "DefaultTimeout|soon")]
    public async Task Invalid_settings_exit_2_naming_each_key_before_a_server_starts(string args, string expected)
    {
        var (exit, output) = await RunJob(args.Split(' '));

        Assert.Equal(2, exit);
        Assert.All(expected.Split('|'), part => Assert.Contains(part, output, StringComparison.Ordinal));
        Assert.DoesNotContain("Locksmith API server on", output, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", output, StringComparison.Ordinal);
    }

    // ---- /locks.json ----

    [Fact]
    public async Task Locks_json_lists_the_fourteen_locks_in_the_global_order_with_kind_level_and_every_field_named()
    {
        await using var server = await RunningServer.StartAsync();

        var report = await server.GetJsonAsync("locks.json");
        var locks = report.GetProperty("locks").EnumerateArray().ToArray();

        var expected = new List<(string, string, int)> { ("prices", "AsyncReadWrite", 10), ("hits", "ReadWrite", 20) };
        expected.AddRange(Enumerable.Range(0, 8).Select(static i => (ApiServerLocks.Account(i), "Exclusive", 30)));
        expected.AddRange([("journal", "Exclusive", 40), ("pool", "Semaphore", 50), ("pool.connections", "Exclusive", 55), ("limiter", "Exclusive", 60)]);
        Assert.Equal(expected, locks.Select(static l => (Name(l), l.GetProperty("kind").GetString()!, l.GetProperty("level").GetInt32())));
        string[] named =
        [
            "name", "kind", "level", "holder", "holderDescription", "waiting", "acquisitions", "contentions", "waits", "p99WaitMs",
            "maxWaitMs", "timeouts", "declaredBy", "declarers",
        ];
        Assert.All(locks, l => Assert.Subset(l.EnumerateObject().Select(static p => p.Name).ToHashSet(), named.ToHashSet()));
        Assert.Equal(JsonValueKind.Array, report.GetProperty("declarations").ValueKind);
        Assert.Equal(JsonValueKind.Array, report.GetProperty("edges").ValueKind);
    }

    [Fact]
    public async Task Locks_json_counts_acquisitions_and_nestings_exactly_for_known_sequential_requests()
    {
        await using var server = await RunningServer.StartAsync();
        var fresh = await Locks(server);
        await Repeat(5, () => Post(server, "hit"));
        await Repeat(4, () => Post(server, "transfer?from=0&to=1&amount=10"));
        await Repeat(3, () => Post(server, "io"));
        await Repeat(2, async () => (await server.Client.GetAsync("limited", Ct)).EnsureSuccessStatusCode());
        await Repeat(2, () => Put(server, "prices/ACME?value=1"));
        await server.GetJsonAsync("prices/ACME");

        var report = await server.GetJsonAsync("locks.json");
        var locks = report.GetProperty("locks").EnumerateArray().ToArray();

        Assert.All(fresh, static l => Assert.Equal((Name(l), 0L), (Name(l), l.GetProperty("acquisitions").GetInt64())));
        var expected = new Dictionary<string, long>
        {
            ["prices"] = 3, ["hits"] = 5, ["account-0"] = 4, ["account-1"] = 4, ["journal"] = 4, ["pool"] = 3, ["pool.connections"] = 6, ["limiter"] = 2,
        };
        Assert.All(locks, l => Assert.Equal((Name(l), expected.GetValueOrDefault(Name(l))), (Name(l), l.GetProperty("acquisitions").GetInt64())));
        Assert.All(locks, static l => Assert.Equal((Name(l), 0L, 0L, 0L), (Name(l), l.GetProperty("contentions").GetInt64(), l.GetProperty("waits").GetInt64(), l.GetProperty("timeouts").GetInt64())));
        Assert.Equal(
            [("account-0", "account-1", 4L), ("account-1", "journal", 4L), ("pool", "pool.connections", 6L)],
            Edges(report).Order());
    }

    [Fact]
    public async Task A_held_lock_shows_its_holder_thread_by_name_and_its_waiting_request_then_one_contention()
    {
        await using var server = await RunningServer.StartAsync();
        var hits = server.Services.GetRequiredKeyedService<ReadWriteLock>(ApiServerLocks.Hits);
        JsonElement whileHeld;
        Task<HttpResponseMessage> hit;
        int holderThread;
        using (var holder = new HolderThread("report-writer", hold =>
        {
            using (hits.AcquireWrite())
            {
                hold();
            }
        }))
        {
            holderThread = holder.ManagedThreadId;
            hit = server.Client.PostAsync("hit", null, Ct);
            Assert.True(
                SpinWait.SpinUntil(() => DeadlockDetector.CurrentWaits().Any(static w => w.LockName == ApiServerLocks.Hits), s_hangGuard),
                "the hit never waited for the held lock");
            whileHeld = Lock(await Locks(server), ApiServerLocks.Hits);
        }

        using var hitResponse = await hit.WaitAsync(s_hangGuard, Ct);
        var afterwards = Lock(await Locks(server), ApiServerLocks.Hits);

        Assert.Equal(HttpStatusCode.OK, hitResponse.StatusCode);
        Assert.Equal($"thread {holderThread}", whileHeld.GetProperty("holder").GetString());
        Assert.Equal($"thread {holderThread} ('report-writer')", whileHeld.GetProperty("holderDescription").GetString());
        Assert.Equal(1, whileHeld.GetProperty("waiting").GetInt32());
        Assert.Equal(
            (JsonValueKind.Null, 0, 2L, 1L, 1L),
            (afterwards.GetProperty("holder").ValueKind, afterwards.GetProperty("waiting").GetInt32(), afterwards.GetProperty("acquisitions").GetInt64(),
                afterwards.GetProperty("contentions").GetInt64(), afterwards.GetProperty("waits").GetInt64()));
    }

    [Fact]
    public async Task Requests_queued_for_a_full_pool_show_as_its_waiting_count_and_all_run_once_a_permit_is_free()
    {
        const int Queued = 3;
        await using var server = await RunningServer.StartAsync("--ApiServer:PoolSize=1");
        var pool = server.Services.GetRequiredKeyedService<CountingSemaphore>(ApiServerLocks.Pool);
        var permit = await pool.AcquireAsync(Ct);
        var requests = Enumerable.Range(0, Queued).Select(_ => server.Client.PostAsync("io", null, Ct)).ToArray();
        Assert.True(SpinWait.SpinUntil(() => pool.WaitingCount == Queued, s_hangGuard), "the requests never queued for the pool");
        var whileFull = Lock(await Locks(server), ApiServerLocks.Pool);

        permit.Dispose();
        var responses = await Task.WhenAll(requests).WaitAsync(s_hangGuard, Ct);
        var statuses = responses.Select(static r => r.StatusCode).ToArray();
        Array.ForEach(responses, static r => r.Dispose());
        var totals = await server.GetJsonAsync("totals");

        Assert.Equal(Queued, whileFull.GetProperty("waiting").GetInt32());
        Assert.Equal(Enumerable.Repeat(HttpStatusCode.OK, Queued), statuses);
        Assert.Equal((3L, 1), (totals.GetProperty("poolBorrows").GetInt64(), totals.GetProperty("poolIdle").GetInt32()));
    }

    [Fact]
    public async Task DeclaredBy_names_the_LockOrder_member_once_its_wrapper_ran()
    {
        await using var server = await RunningServer.StartAsync();
        var before = Lock(await Locks(server), ApiServerLocks.Hits);

        await Post(server, "hit");
        var after = Lock(await Locks(server), ApiServerLocks.Hits);

        Assert.Equal(JsonValueKind.Null, before.GetProperty("declaredBy").ValueKind);
        Assert.Equal("Locksmith.ApiServer.RequestCounter._lock", after.GetProperty("declaredBy").GetString());
        Assert.Equal(["Locksmith.ApiServer.RequestCounter._lock"], after.GetProperty("declarers").EnumerateArray().Select(static d => d.GetString()));
    }

    // ---- the /locks page ----

    [Fact]
    public async Task The_locks_page_is_one_self_contained_html_page_with_the_READMEs_hooks()
    {
        await using var server = await RunningServer.StartAsync();

        using var response = await server.Client.GetAsync("locks", Ct);
        string html = await response.Content.ReadAsStringAsync(Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html; charset=utf-8", response.Content.Headers.ContentType?.ToString());
        Assert.Contains("width=device-width", html, StringComparison.Ordinal);
        Assert.DoesNotMatch(new Regex("(src|href)=[\"']?(https?:)?//", RegexOptions.None, TimeSpan.FromSeconds(5)), html);
        Assert.All(
            // The hooks the page's markup spells out (the script sets the rest, data-stat and data-value, through dataset).
            (string[])["locks.json", "totals", "lock-node", "lock-edge", "edge-count", "unplaced", "data-edges", "data-lock", "guarded-hits", "data-refreshes"],
            hook => Assert.Contains(hook, html, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Locks_with_a_slash_redirects_301_to_locks_keeping_the_query()
    {
        await using var server = await RunningServer.StartAsync();
        using var client = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false }) { BaseAddress = server.Client.BaseAddress };

        using var response = await client.GetAsync("locks/?theme=dark", Ct);

        Assert.Equal(HttpStatusCode.MovedPermanently, response.StatusCode);
        Assert.Equal("/locks?theme=dark", response.Headers.Location?.OriginalString);
    }

    // ---- the command line ----

    [Fact]
    public void Help_through_the_entry_point_prints_the_usage_and_returns_0()
    {
        var entry = typeof(Program).Assembly.EntryPoint!;
        var console = Console.Out;
        using var output = new StringWriter(CultureInfo.InvariantCulture);
        object? exit;
        try
        {
            Console.SetOut(output);
            exit = entry.Invoke(null, [new[] { "--help" }]);
        }
        finally
        {
            Console.SetOut(console);
        }

        Assert.Equal(0, exit);
        Assert.Equal(MainJobOptions.Usage + Environment.NewLine, output.ToString());
    }

    [Fact]
    public void Serve_without_port_listens_where_appsettings_says_and_serve_is_no_configuration_key()
    {
        var builder = ApiServerApp.CreateBuilder(["--serve", "--ApiServer:Accounts=16"]);

        Assert.Equal("http://127.0.0.1:5080", builder.Configuration["Urls"]);
        Assert.Equal("16", builder.Configuration["ApiServer:Accounts"]);
        Assert.DoesNotContain(builder.Configuration.AsEnumerable(), static p => p.Key.Equals("serve", StringComparison.OrdinalIgnoreCase));
    }

    [Theory]
    [InlineData("--requests 200 --concurrency 8 --connections 4", @"200 requests, 8 in flight|8 in flight, 4 connections")]
    [InlineData("--requests 200 --ApiServer:Accounts 3", @"200 requests, 200 in flight|total balance \(conserved\)\W+3,000\W+3,000")]
    public async Task The_main_job_takes_its_options_and_server_settings_and_passes_when_every_total_is_exact(string args, string expected)
    {
        var (exit, output) = await RunJob(args.Split(' '));

        Assert.True(exit == 0, output);
        Assert.All(expected.Split('|'), pattern => Assert.Matches(new Regex(pattern, RegexOptions.None, TimeSpan.FromSeconds(5)), output));
        Assert.Contains("PASS: every total exact", output, StringComparison.Ordinal);
    }

    // ---- exact under concurrent requests ----

    [Fact]
    public async Task A_thousand_concurrent_hits_count_exactly_the_twin_never_counts_more_and_health_stays_Healthy()
    {
        const int Hits = 1000;
        await using var server = await RunningServer.StartAsync();

        await Concurrent(Hits, (_, ct) => Post(server, "hit", ct));
        long acquisitions = Stat(await Locks(server), "hits", "acquisitions");
        var totals = await server.GetJsonAsync("totals");

        using var health = await server.Client.GetAsync("health", Ct);

        long guarded = totals.GetProperty("guardedHits").GetInt64(), twin = totals.GetProperty("unguardedHits").GetInt64();
        Assert.Equal(Hits, guarded);
        Assert.InRange(twin, 1, Hits);
        Assert.Equal(guarded - twin, totals.GetProperty("lostUpdates").GetInt64());
        Assert.Equal(Hits, acquisitions);
        Assert.Equal((HttpStatusCode.OK, "Healthy"), (health.StatusCode, await health.Content.ReadAsStringAsync(Ct)));
    }

    [Fact]
    public async Task Concurrent_opposite_transfers_conserve_the_total_and_the_journal_counts_each_transfer_exactly()
    {
        // Request i moves between k and k+3 (k = i/2 mod 8), one way when i is even and back when odd: every account is
        // in 4 of every 16 requests, so in 100 of 400. A lock set that finds one lock busy backs off and takes the
        // other again, and each take counts: at least 100 acquisitions then, exactly 100 only without contention.
        const int Transfers = 400;
        await using var server = await RunningServer.StartAsync();
        long transferred = 0;
        decimal volume = 0;
        var gate = new object();

        await Concurrent(Transfers, async (i, ct) =>
        {
            int k = (i / 2) % 8, other = (k + 3) % 8;
            (int from, int to) = i % 2 == 0 ? (k, other) : (other, k);
            decimal amount = 1 + (i % 50);
            var answer = await PostJson(server, $"transfer?from={from}&to={to}&amount={amount}", ct);
            if (answer.GetProperty("transferred").GetBoolean())
            {
                lock (gate)
                {
                    transferred++;
                    volume += amount;
                }
            }
        });
        var report = await server.GetJsonAsync("locks.json");
        var locks = report.GetProperty("locks").EnumerateArray().ToArray();
        var totals = await server.GetJsonAsync("totals");

        Assert.Equal((8000m, 8000m), (totals.GetProperty("totalBalance").GetDecimal(), totals.GetProperty("expectedTotal").GetDecimal()));
        Assert.Equal((transferred, volume), (totals.GetProperty("transfers").GetInt64(), totals.GetProperty("transferVolume").GetDecimal()));
        Assert.All(Enumerable.Range(0, 8), i => Assert.InRange(Stat(locks, ApiServerLocks.Account(i), "acquisitions"), 100, long.MaxValue));
        Assert.Equal(transferred, Stat(locks, "journal", "acquisitions"));
        Assert.Equal(transferred, JournalNestings(report));
    }

    [Fact]
    public async Task Concurrent_io_on_a_pool_of_2_never_shares_a_connection_and_counts_every_borrow()
    {
        const int Requests = 300;
        await using var server = await RunningServer.StartAsync("--ApiServer:PoolSize=2", "--ApiServer:IoMilliseconds=1");
        var connections = new int[Requests];

        await Concurrent(Requests, async (i, ct) => connections[i] = (await PostJson(server, "io", ct)).GetProperty("connection").GetInt32());
        var locks = await Locks(server);
        var totals = await server.GetJsonAsync("totals");

        Assert.All(connections, static c => Assert.InRange(c, 0, 1));
        Assert.Equal(
            (2, 0, 2, (long)Requests, 0L),
            (totals.GetProperty("poolSize").GetInt32(), totals.GetProperty("poolInUse").GetInt32(), totals.GetProperty("poolIdle").GetInt32(),
                totals.GetProperty("poolBorrows").GetInt64(), totals.GetProperty("connectionCollisions").GetInt64()));
        Assert.Equal((Requests, 2L * Requests), (Stat(locks, "pool", "acquisitions"), Stat(locks, "pool.connections", "acquisitions")));
    }

    [Fact]
    public async Task Concurrent_limited_requests_are_allowed_exactly_as_many_times_as_the_bucket_holds()
    {
        const int Requests = 200, Capacity = 50;
        await using var server = await RunningServer.StartAsync($"--ApiServer:RateLimitCapacity={Capacity}", "--ApiServer:RateLimitPerSecond=0.001");
        var statuses = new HttpStatusCode[Requests];
        var retryAfters = new string?[Requests];

        await Concurrent(Requests, async (i, ct) =>
        {
            using var response = await server.Client.GetAsync("limited", ct);
            statuses[i] = response.StatusCode;
            retryAfters[i] = response.Headers.RetryAfter?.ToString();
        });
        long acquisitions = Stat(await Locks(server), "limiter", "acquisitions");
        var totals = await server.GetJsonAsync("totals");

        Assert.Equal((Capacity, Requests - Capacity), (statuses.Count(static s => s == HttpStatusCode.OK), statuses.Count(static s => s == HttpStatusCode.TooManyRequests)));
        Assert.Equal(Enumerable.Repeat("1000", Requests - Capacity), retryAfters.Where(static r => r is not null));
        Assert.Equal((Capacity, (long)(Requests - Capacity)), (totals.GetProperty("limiterAllowed").GetInt64(), totals.GetProperty("limiterRefused").GetInt64()));
        Assert.Equal(Requests, acquisitions);
    }

    [Fact]
    public async Task Concurrent_writes_of_distinct_symbols_to_a_full_cache_evict_exactly_the_overflow()
    {
        const int Writes = 400, Capacity = 100;
        await using var server = await RunningServer.StartAsync($"--ApiServer:PriceCapacity={Capacity}");

        await Concurrent(Writes, (i, ct) => Put(server, $"prices/S{i}?value=1", ct));
        long acquisitions = Stat(await Locks(server), "prices", "acquisitions");
        var totals = await server.GetJsonAsync("totals");
        var readable = new int[Writes];
        await Concurrent(Writes, async (i, ct) =>
            readable[i] = (await server.Client.GetFromJsonAsync<JsonElement>($"prices/S{i}", ct)).GetProperty("price").ValueKind == JsonValueKind.Null ? 0 : 1);

        Assert.Equal(Writes, acquisitions);
        Assert.Equal((Capacity, Writes, Writes - Capacity), PriceCounts(totals));
        Assert.Equal(Capacity, readable.Sum());
    }

    // ---- helpers ----

    /// <summary>Holds the server's lock <paramref name="name"/> on a thread of its own until disposed.</summary>
    private static HolderThread HoldOnAThread(RunningServer server, string name) => name == ApiServerLocks.Pool
        ? new HolderThread("pool-holder", hold =>
        {
            using (server.Services.GetRequiredKeyedService<CountingSemaphore>(name).Acquire())
            {
                hold();
            }
        })
        : new HolderThread(name + "-holder", hold =>
        {
            using (server.Services.GetRequiredKeyedService<ExclusiveLock>(name).Acquire())
            {
                hold();
            }
        });

    private static async Task Repeat(int times, Func<Task> action)
    {
        for (int i = 0; i < times; i++)
        {
            await action();
        }
    }

    /// <summary>Runs <paramref name="count"/> requests, <see cref="InFlight"/> at a time.</summary>
    private static Task Concurrent(int count, Func<int, CancellationToken, Task> request) =>
        Parallel.ForAsync(0, count, new ParallelOptions { MaxDegreeOfParallelism = InFlight, CancellationToken = Ct }, async (i, ct) => await request(i, ct));

    private static async Task Post(RunningServer server, string path, CancellationToken ct = default)
    {
        using var response = await server.Client.PostAsync(path, null, ct == default ? Ct : ct);
        Assert.True(response.IsSuccessStatusCode, $"POST {path}: {(int)response.StatusCode}");
    }

    private static async Task Put(RunningServer server, string path, CancellationToken ct = default)
    {
        using var response = await server.Client.PutAsync(path, null, ct == default ? Ct : ct);
        Assert.True(response.IsSuccessStatusCode, $"PUT {path}: {(int)response.StatusCode}");
    }

    private static async Task<JsonElement> PostJson(RunningServer server, string path, CancellationToken ct = default)
    {
        using var response = await server.Client.PostAsync(path, null, ct == default ? Ct : ct);
        Assert.True(response.IsSuccessStatusCode, $"POST {path}: {(int)response.StatusCode}");
        return await response.Content.ReadFromJsonAsync<JsonElement>(ct == default ? Ct : ct);
    }

    /// <summary>A problem response's <c>errors</c>, one message per parameter.</summary>
    private static async Task<Dictionary<string, string>> ProblemErrors(HttpResponseMessage response, HttpStatusCode status)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
        return problem.GetProperty("errors").EnumerateObject().ToDictionary(static e => e.Name, static e => e.Value.EnumerateArray().Single().GetString()!);
    }

    private static async Task<string[]> NullPrices(RunningServer server, params string[] symbols)
    {
        var missing = new List<string>();
        foreach (string symbol in symbols)
        {
            if ((await server.GetJsonAsync($"prices/{symbol}")).GetProperty("price").ValueKind == JsonValueKind.Null)
            {
                missing.Add(symbol);
            }
        }

        return [.. missing];
    }

    private static (int Symbols, long Writes, long Evictions) PriceCounts(JsonElement totals) =>
        (totals.GetProperty("priceSymbols").GetInt32(), totals.GetProperty("priceWrites").GetInt64(), totals.GetProperty("priceEvictions").GetInt64());

    private static decimal[] Balances(JsonElement totals) => [.. totals.GetProperty("balances").EnumerateArray().Select(static b => b.GetDecimal())];

    private static async Task<JsonElement[]> Locks(RunningServer server) => [.. (await server.GetJsonAsync("locks.json")).GetProperty("locks").EnumerateArray()];

    private static string Name(JsonElement lockEntry) => lockEntry.GetProperty("name").GetString()!;

    private static JsonElement Lock(JsonElement[] locks, string name) => locks.Single(l => Name(l) == name);

    private static long Stat(JsonElement[] locks, string name, string stat) => Lock(locks, name).GetProperty(stat).GetInt64();

    private static (string Outer, string Inner, long Count)[] Edges(JsonElement report) =>
        [.. report.GetProperty("edges").EnumerateArray().Select(static e => (e.GetProperty("outer").GetString()!, e.GetProperty("inner").GetString()!, e.GetProperty("count").GetInt64()))];

    private static long JournalNestings(JsonElement report) => Edges(report).Where(static e => e.Inner == ApiServerLocks.Journal).Sum(static e => e.Count);

    private static async Task<(int Exit, string Output)> RunJob(string[] args)
    {
        using var output = new StringWriter(CultureInfo.InvariantCulture);
        int exit = await MainJobRunner.RunAsync(args, output, interactive: false, Ct);
        return (exit, output.ToString());
    }

    /// <summary>
    /// A named thread that takes a lock (through <c>hold</c>'s caller) and keeps it until disposed; the constructor
    /// returns once it holds the lock. Bounded: a thread that never gets or never leaves the lock fails the test.
    /// </summary>
    private sealed class HolderThread : IDisposable
    {
        private readonly ManualResetEventSlim _held = new();
        private readonly ManualResetEventSlim _release = new();
        private readonly Thread _thread;
        private Exception? _failure;

        public HolderThread(string name, Action<Action> takeAndHold)
        {
            _thread = new Thread(() =>
            {
                try
                {
                    takeAndHold(() =>
                    {
                        _held.Set();
                        if (!_release.Wait(s_hangGuard))
                        {
                            throw new TimeoutException("the test never released the lock");
                        }
                    });
                }
                catch (Exception ex)
                {
                    _failure = ex;
                    _held.Set();
                }
            }) { Name = name, IsBackground = true };
            _thread.Start();
            Assert.True(_held.Wait(s_hangGuard), $"{name} never took its lock");
            Assert.Null(_failure);
        }

        public int ManagedThreadId => _thread.ManagedThreadId;

        public void Dispose()
        {
            _release.Set();
            Assert.True(_thread.Join(s_hangGuard), "the holder thread never ended");
            Assert.Null(_failure);
            _held.Dispose();
            _release.Dispose();
        }
    }
}
