using System;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Locksmith.ApiServer.Tests.Browser;

/// <summary>
/// The <c>/locks</c> page's refreshes in real-time headless Chromium against a server whose first <c>/locks.json</c>
/// answer is slow; the server counts the page's requests in flight. Without Chromium the test fails; never skipped.
/// </summary>
public sealed class LocksPageRefreshTests
{
    private const int Requests = 3;

    [Fact]
    public async Task The_page_starts_a_refresh_only_after_the_last_one_finished()
    {
        // Before, setInterval started a refresh every second whatever the last one was doing: while the first answer was
        // held, the next request came in beside it (two in flight), and under load they piled up and drew out of order.
        Chromium.RequirePath();
        var gate = new LocksJsonGate();
        await using var server = await RunningServer.StartAsync(builder => builder.Services.AddSingleton<IStartupFilter>(gate));

        await Chromium.RunUntilAsync(new Uri(server.Client.BaseAddress!, "locks"), gate.Asked);

        Assert.True(gate.Count >= Requests, $"the page asked for locks.json {gate.Count} times");
        Assert.True(gate.MaxInFlight == 1,
            $"{gate.MaxInFlight} requests for locks.json were in flight at once: a refresh started before the last one finished");
    }

    /// <summary>
    /// Holds the first <c>/locks.json</c> request until a second one comes in, or for three seconds (three of the page's
    /// one-second periods; a hold, not an assertion), counts the requests in flight at once, and completes
    /// <see cref="Asked"/> at the <see cref="Requests"/>th request.
    /// </summary>
    private sealed class LocksJsonGate : IStartupFilter
    {
        private static readonly TimeSpan s_firstHold = TimeSpan.FromSeconds(3);

        private readonly TaskCompletionSource _second = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _asked = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _count;
        private int _inFlight;
        private int _maxInFlight;

        public int Count => Volatile.Read(ref _count);

        public int MaxInFlight => Volatile.Read(ref _maxInFlight);

        public Task Asked => _asked.Task;

        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use(inner => async context =>
            {
                if (!context.Request.Path.Equals("/locks.json", StringComparison.Ordinal))
                {
                    await inner(context);
                    return;
                }

                int number = Interlocked.Increment(ref _count);
                int inFlight = Interlocked.Increment(ref _inFlight);
                int max;
                while (inFlight > (max = Volatile.Read(ref _maxInFlight)) && Interlocked.CompareExchange(ref _maxInFlight, inFlight, max) != max)
                {
                }

                try
                {
                    if (number == 1)
                    {
                        await Task.WhenAny(_second.Task, Task.Delay(s_firstHold, context.RequestAborted));
                    }
                    else
                    {
                        _second.TrySetResult();
                    }

                    await inner(context);
                }
                finally
                {
                    Interlocked.Decrement(ref _inFlight);
                    if (number >= Requests)
                    {
                        _asked.TrySetResult();
                    }
                }
            });
            next(app);
        };
    }
}
