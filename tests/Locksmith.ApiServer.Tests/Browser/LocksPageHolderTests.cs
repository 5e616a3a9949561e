using System;
using System.Diagnostics;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Threading;
using System.Threading.Tasks;
using Locksmith.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Locksmith.ApiServer.Tests.Browser;

/// <summary>
/// The <c>/locks</c> table names each lock's holder as the timeout log lines do: the request (async flow) and its
/// activity, the thread and its name, not only <c>flow #6</c> / <c>thread 9</c>. Headless Chromium; never skipped.
/// </summary>
public sealed class LocksPageHolderTests
{
    // Locks no seed route takes: /totals, which the page fetches with /locks.json, reads every seed lock and would wait.
    private const string RequestGate = "held-by-request";
    private const string ThreadGate = "held-by-thread";
    private const int HeldPolls = 24_000;   // at least 5 ms each: a hang guard of 2 minutes, never reached by a working run

    [Fact]
    public async Task The_table_names_the_request_and_the_thread_holding_a_lock()
    {
        // Before, the holder cell read "flow #6" / "thread 9": an operator could not tell which request or worker it was.
        Chromium.RequirePath();
        var ct = TestContext.Current.CancellationToken;
        var hold = new HoldingRoute();
        await using var server = await RunningServer.StartAsync(builder =>
        {
            builder.Services.AddLocksmith().AddAsyncExclusiveLock(RequestGate, level: 70).AddExclusiveLock(ThreadGate, level: 80);
            builder.Services.AddSingleton<IStartupFilter>(hold);
        });
        var requestGate = server.Services.GetRequiredKeyedService<AsyncExclusiveLock>(RequestGate);
        var threadGate = server.Services.GetRequiredKeyedService<ExclusiveLock>(ThreadGate);
        var page = new Uri(server.Client.BaseAddress!, "locks");

        using var holder = HeldOnOtherThread.Hold("report-writer", release =>
        {
            using var scope = threadGate.Acquire();
            release.Wait();
        });
        var request = server.Client.PostAsync("hold", null, ct);
        LocksDom held;
        string? activity;
        int flow;
        try
        {
            activity = await hold.Holding.WaitAsync(Guard.HangLimit, ct);
            flow = requestGate.HolderFlowId;
            int polls = 0;
            while (!HolderShown(await server.GetJsonAsync("locks.json")) && polls++ < HeldPolls)
            {
                await Task.Delay(5, ct);
            }

            held = LocksDom.Parse(await Chromium.DumpDomAsync(page));
        }
        finally
        {
            hold.Release();
        }

        Assert.Equal(HttpStatusCode.OK, (await request.WaitAsync(Guard.HangLimit, ct)).StatusCode);
        holder.Release();
        var after = LocksDom.Parse(await Chromium.DumpDomAsync(page));

        TestContext.Current.TestOutputHelper?.WriteLine($"holders: {held.Cells[(RequestGate, "holder")]}; {held.Cells[(ThreadGate, "holder")]}");
        Assert.True(held.Refreshes >= 1, $"the page never refreshed; status: {held.Status}");
        // The request's activity, named by the sample after its method and path, as the runtime names the flow in its messages.
        Assert.Equal("POST /hold", activity);
        Assert.NotEqual(0, flow);
        Assert.Equal($"flow #{flow - LockCatalogEntry.FlowIdBase} ('{activity}')", held.Cells[(RequestGate, "holder")]);
        Assert.Equal($"thread {holder.ThreadId} ('report-writer')", held.Cells[(ThreadGate, "holder")]);
        Assert.Equal("–", after.Cells[(RequestGate, "holder")]);
        Assert.Equal("–", after.Cells[(ThreadGate, "holder")]);
    }

    private static bool HolderShown(System.Text.Json.JsonElement report) =>
        report.GetProperty("locks").EnumerateArray().Count(static l =>
            l.GetProperty("name").GetString() is RequestGate or ThreadGate &&
            l.GetProperty("holderDescription").ValueKind == System.Text.Json.JsonValueKind.String) == 2;

    /// <summary>
    /// <c>POST /hold</c>: takes <see cref="RequestGate"/> in the request's flow and keeps it until the test releases it;
    /// <see cref="Holding"/> gives the request's activity name once the lock is held.
    /// </summary>
    private sealed class HoldingRoute : IStartupFilter
    {
        private readonly TaskCompletionSource<string?> _holding = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task<string?> Holding => _holding.Task;

        public void Release() => _release.TrySetResult();

        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use(inner => async context =>
            {
                if (!context.Request.Path.Equals("/hold", StringComparison.Ordinal))
                {
                    await inner(context);
                    return;
                }

                var gate = context.RequestServices.GetRequiredKeyedService<AsyncExclusiveLock>(RequestGate);
                using (await gate.AcquireAsync(context.RequestAborted))
                {
                    _holding.TrySetResult(Activity.Current?.DisplayName);
                    await _release.Task.WaitAsync(Guard.HangLimit, context.RequestAborted);
                }

                context.Response.StatusCode = StatusCodes.Status200OK;
            });
            next(app);
        };
    }
}
