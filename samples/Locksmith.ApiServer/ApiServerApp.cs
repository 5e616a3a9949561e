using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Locksmith.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Configuration.Memory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenTelemetry.Metrics;

namespace Locksmith.ApiServer;

/// <summary>
/// Builds the API server. Tests and the main job start it in-process on loopback:
/// <code>
/// var builder = ApiServerApp.CreateBuilder(args);
/// builder.WebHost.UseUrls("http://127.0.0.1:0");     // or ApiServerApp.CreateBuilder(args, loopbackPort: 0)
/// await using var app = ApiServerApp.Build(builder);
/// await app.StartAsync();
/// var baseAddress = ApiServerApp.BaseAddress(app);   // the port Kestrel picked
/// </code>
/// </summary>
public static class ApiServerApp
{
    /// <summary>
    /// A web application builder with the domain services and every lock registered through <c>AddLocksmith</c>
    /// (section <c>Locksmith</c>), the <c>locksmith</c> health check and OpenTelemetry metrics on the <c>Locksmith</c>
    /// meter. <paramref name="loopbackPort"/> (0: any free port) binds Kestrel to 127.0.0.1 only.
    /// </summary>
    public static WebApplicationBuilder CreateBuilder(string[] args, int? loopbackPort = null)
    {
        // --serve picks the mode in Program.cs; the command-line configuration must not read it as a key.
        // The content root is the app's folder, so appsettings.json is found from any working directory (tests too).
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            Args = args.Where(static a => a != "--serve").ToArray(),
            ContentRootPath = AppContext.BaseDirectory,
        });

        // The sample's defaults, below every other source: /locks needs the catalog's statistics (off by default).
        builder.Configuration.Sources.Insert(0, new MemoryConfigurationSource
        {
            InitialData = new Dictionary<string, string?> { ["Locksmith:StatisticsEnabled"] = "true" },
        });

        // A log line per request would dominate a 10,000-request run.
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        if (loopbackPort is int port)
        {
            builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        }

        ApiServerOptions settings;
        try
        {
            settings = builder.Configuration.GetSection(ApiServerOptions.SectionName).Get<ApiServerOptions>() ?? new ApiServerOptions();
        }
        catch (InvalidOperationException ex)
        {
            // Not a number where one is needed: the binder's message names the key and the value.
            throw new OptionsValidationException(ApiServerOptions.SectionName, typeof(ApiServerOptions), [ex.Message]);
        }

        if (settings.Problems(builder.Configuration.GetSection(ApiServerOptions.SectionName)) is { Count: > 0 } problems)
        {
            throw new OptionsValidationException(ApiServerOptions.SectionName, typeof(ApiServerOptions), problems);
        }

        builder.Services.Configure<ApiServerOptions>(builder.Configuration.GetSection(ApiServerOptions.SectionName));

        var locks = builder.Services.AddLocksmith(builder.Configuration.GetSection(LocksmithOptions.SectionName))
            .AddAsyncReadWriteLock(ApiServerLocks.Prices, ApiServerLocks.PricesLevel, ReadWritePolicy.WriterPreferred)
            .AddReadWriteLock(ApiServerLocks.Hits, ApiServerLocks.HitsLevel, ReadWritePolicy.WriterPreferred)
            .AddExclusiveLock(ApiServerLocks.Journal, ApiServerLocks.JournalLevel)
            .AddCountingSemaphore(ApiServerLocks.Pool, settings.PoolSize, settings.PoolSize, ApiServerLocks.PoolLevel)
            .AddExclusiveLock(ApiServerLocks.PoolConnections, ApiServerLocks.PoolConnectionsLevel)
            .AddExclusiveLock(ApiServerLocks.Limiter, ApiServerLocks.LimiterLevel);
        for (int i = 0; i < settings.Accounts; i++)
        {
            locks.AddExclusiveLock(ApiServerLocks.Account(i), ApiServerLocks.AccountsLevel);
        }

        builder.Services.AddHealthChecks().AddLocksmith();

        // Requests' activities named "PUT /prices/ABC": Locksmith names a request's flow by it (messages, logs, /locks).
        builder.Services.AddSingleton<IStartupFilter, RequestActivityNames>();

        // Every error response is application/problem+json: a bad request names the parameter and what it must be, and a
        // lock wait that timed out (Locksmith:DefaultTimeout) is a 503 naming the lock: the server is busy, not broken.
        builder.Services.AddProblemDetails(static options => options.CustomizeProblemDetails = static context =>
        {
            if (context.Exception is LockTimeoutException timeout)
            {
                context.ProblemDetails.Detail =
                    $"Lock '{timeout.LockName}' was not free within its timeout (waited {timeout.Waited.TotalMilliseconds:0} ms): the server is busy; retry later.";
                context.HttpContext.Response.Headers.RetryAfter = "1";
            }
        });

        // dotnet-counters reads the Locksmith meter directly; OpenTelemetry gets it here, printed only when asked.
        builder.Services.AddOpenTelemetry().WithMetrics(metrics =>
        {
            metrics.AddMeter(LocksmithMetrics.MeterName);
            if (settings.OpenTelemetryConsole)
            {
                metrics.AddConsoleExporter();
            }
        });

        builder.Services.AddSingleton<PriceCache>();
        builder.Services.AddSingleton<RequestCounter>();
        builder.Services.AddSingleton<UnguardedCounter>();
        builder.Services.AddSingleton<TransferJournal>();
        builder.Services.AddSingleton<Bank>();
        builder.Services.AddSingleton<ConnectionPool>();
        builder.Services.AddSingleton<RateLimiter>();
        return builder;
    }

    /// <summary>Builds the app and maps every route.</summary>
    public static WebApplication Build(WebApplicationBuilder builder)
    {
        var app = builder.Build();
        app.UseExceptionHandler(new ExceptionHandlerOptions
        {
            StatusCodeSelector = static error => error is LockTimeoutException ? StatusCodes.Status503ServiceUnavailable : StatusCodes.Status500InternalServerError,

            // A lock timeout is the busy server's answer, logged by Locksmith (LockTimeout, 14001), not an unhandled failure.
            SuppressDiagnosticsCallback = static context => context.Exception is LockTimeoutException,
        });
        app.UseStatusCodePages();
        MapRoutes(app);
        return app;
    }

    /// <summary>
    /// Builds and starts the server for a command line (the main job, <c>--serve</c>): the started app, or null and one
    /// line saying why it could not start (invalid <c>ApiServer</c> or <c>Locksmith</c> settings, a port already taken)
    /// instead of the host's stack trace.
    /// </summary>
    /// <param name="args">Server configuration arguments.</param>
    /// <param name="loopbackPort">See <see cref="CreateBuilder"/>.</param>
    /// <param name="configure">More setup of the builder (logging filters), or null.</param>
    /// <param name="ct">Cancels the start.</param>
    internal static async Task<(WebApplication? App, string? Failure)> StartAsync(
        string[] args, int? loopbackPort, Action<WebApplicationBuilder>? configure, CancellationToken ct)
    {
        WebApplicationBuilder builder;
        try
        {
            builder = CreateBuilder(args, loopbackPort);
        }
        catch (OptionsValidationException ex)
        {
            return (null, $"The server's settings are invalid: {ex.Message}");
        }

        configure?.Invoke(builder);
        var quiet = new QuietStart();
        quiet.AttachTo(builder.Logging);
        var app = Build(builder);
        try
        {
            // Locksmith's section is bound and checked as the host starts, where a bad value (a misspelt key, a TimeSpan
            // that does not parse, WatchdogInterval = 0) escaped as the host's stack trace: read it first, so it is one
            // line naming the key, as the server's own settings are.
            _ = app.Services.GetRequiredService<IOptions<LocksmithOptions>>().Value;
        }
        catch (Exception ex) when (ex is OptionsValidationException or InvalidOperationException)
        {
            await app.DisposeAsync().ConfigureAwait(false);
            return (null, $"The server's settings are invalid: {ex.Message}");
        }

        try
        {
            await app.StartAsync(ct).ConfigureAwait(false);
            quiet.Started();
            return (app, null);
        }
        catch (IOException ex)
        {
            // Kestrel could not bind (the port is taken).
            await app.DisposeAsync().ConfigureAwait(false);
            return (null, $"The server could not start: {ex.Message} Pass --port P (or --urls) to listen elsewhere.");
        }
    }

    /// <summary>The address a started app listens on, e.g. <c>http://127.0.0.1:41234/</c>.</summary>
    public static Uri BaseAddress(WebApplication app)
    {
        string address = app.Urls.First();
        return new Uri(address.EndsWith('/') ? address : address + "/");
    }

    // Every read route takes HEAD too, as a static file would (monitors and link checkers probe with it): the same status
    // and headers, and Kestrel sends no body for a HEAD. MapGet alone answers HEAD with 405.
    private static readonly string[] s_getAndHead = [HttpMethods.Get, HttpMethods.Head];

    private static void MapRoutes(WebApplication app)
    {
        app.MapMethods("/prices/{symbol}", s_getAndHead, async (
            string symbol, PriceCache cache, RequestCounter counter, CancellationToken ct) =>
        {
            decimal? price = await cache.FindAsync(symbol, ct).ConfigureAwait(false);
            return Results.Ok(new { symbol, price });
        });

        app.MapPut("/prices/{symbol}", async (string symbol, string? value, PriceCache cache, CancellationToken ct) =>
        {
            var request = new RequestValues();
            decimal price = request.Amount(nameof(value), value, "a price");
            if (request.Problem() is { } problem)
            {
                return problem;
            }

            await cache.SetAsync(symbol, price, ct).ConfigureAwait(false);
            return Results.Ok(new { symbol, price });
        });

        app.MapPost("/hit", (RequestCounter counter, UnguardedCounter unguarded) =>
        {
            counter.Hit();
            unguarded.Hit();
            return Results.Ok();
        });

        app.MapPost("/transfer", (string? from, string? to, string? amount, Bank bank) =>
        {
            var request = new RequestValues();
            int source = request.Account(nameof(from), from, bank.Count);
            int target = request.Account(nameof(to), to, bank.Count);
            decimal sum = request.Amount(nameof(amount), amount, "an amount");
            if (request.IsValid && source == target)
            {
                request.Add(nameof(to), $"must differ from 'from' ({source}): a transfer moves money between two accounts.");
            }

            if (request.Problem() is { } problem)
            {
                return problem;
            }

            bool transferred = bank.Transfer(source, target, sum);
            return Results.Ok(new { transferred });
        });

        app.MapPost("/io", async (ConnectionPool pool, CancellationToken ct) =>
        {
            int connection = await pool.RunIoAsync(ct).ConfigureAwait(false);
            return Results.Ok(new { connection });
        });

        app.MapMethods("/limited", s_getAndHead, (RateLimiter limiter, HttpRequest request, HttpResponse response) =>
        {
            // A HEAD (a load balancer's or monitor's probe) answers what a GET would, without spending a client's token.
            if (HttpMethods.IsHead(request.Method) ? limiter.HasToken() : limiter.TryTake())
            {
                return Results.Ok(new { allowed = true });
            }

            // Problem+json like every other error, and when the next token will be there.
            response.Headers.RetryAfter = limiter.SecondsPerToken.ToString(System.Globalization.CultureInfo.InvariantCulture);
            // ASP.NET Core has no default type for 429 (RFC 6585 defines the status).
            return Results.Problem(
                statusCode: StatusCodes.Status429TooManyRequests,
                type: "https://tools.ietf.org/html/rfc6585#section-4",
                detail: "The rate limiter's bucket is empty: retry later.");
        });

        app.MapMethods("/totals", s_getAndHead, async (RequestCounter counter, UnguardedCounter unguarded, Bank bank, ConnectionPool pool,
            RateLimiter limiter, PriceCache cache, CancellationToken ct) =>
        {
            // The twin first: /hit counts the guarded counter before it, so every hit the twin shows is in the guarded
            // total read after it, and lostUpdates is never negative.
            long lost = unguarded.Total;
            long guarded = counter.Total();
            var balances = bank.Balances();
            var (transfers, volume) = bank.Journal.Totals();
            var (inUse, idle, borrows) = pool.Counts();
            var (allowed, refused) = limiter.Counts();
            var (symbols, writes, evictions) = await cache.CountsAsync(ct).ConfigureAwait(false);
            return Results.Ok(new
            {
                guardedHits = guarded,
                unguardedHits = lost,
                lostUpdates = guarded - lost,
                accounts = balances.Count,
                balances,
                totalBalance = balances.Sum(),
                expectedTotal = bank.ExpectedTotal,
                transfers,
                transferVolume = volume,
                poolSize = pool.Size,
                poolInUse = inUse,
                poolIdle = idle,
                poolBorrows = borrows,
                connectionCollisions = Connection.Collisions,
                limiterAllowed = allowed,
                limiterRefused = refused,
                priceSymbols = symbols,
                priceWrites = writes,
                priceEvictions = evictions,
            });
        });

        app.MapPost("/reset", async (RequestCounter counter, UnguardedCounter unguarded, Bank bank, ConnectionPool pool,
            RateLimiter limiter, PriceCache cache, CancellationToken ct) =>
        {
            counter.Reset();
            unguarded.Reset();
            bank.Reset();
            pool.ResetBorrows();
            limiter.Reset();
            Connection.ResetCollisions();
            await cache.ClearAsync(ct).ConfigureAwait(false);
            return Results.Ok(new { reset = true });
        });

        app.MapHealthChecks("/health");
        app.MapMethods("/locks.json", s_getAndHead, (ILockCatalog catalog) => Results.Json(LocksReport.Create(catalog)));
        app.MapMethods("/locks", s_getAndHead, (HttpRequest request) =>
            // Routing serves /locks/ here too, where the page's relative URLs (locks.json, totals) would name /locks/...:
            // send the browser to /locks (under the path base, if any), where they resolve.
            request.Path.Value is { } path && path.EndsWith('/')
                ? Results.Redirect($"{request.PathBase}/locks{request.QueryString}", permanent: true)
                : Results.Content(LocksPage.Html, "text/html; charset=utf-8"));
    }
}
