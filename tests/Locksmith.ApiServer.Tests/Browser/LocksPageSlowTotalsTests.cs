using System;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Locksmith.ApiServer.Tests.Browser;

/// <summary>
/// The <c>/locks</c> page keeps drawing the locks while <c>/totals</c> does not answer: <c>/totals</c> takes the seed's
/// locks, so it waits while a request holds one, which is when an operator needs the locks' picture. Real-time headless
/// Chromium against a server that holds every <c>/totals</c> request until the test ends. Never skipped.
/// </summary>
public sealed class LocksPageSlowTotalsTests
{
    private const int Refreshes = 3;

    [Fact]
    public async Task The_locks_keep_refreshing_while_the_totals_do_not_answer()
    {
        // Before, the page read both with Promise.all: one /totals that did not answer stopped every later refresh.
        Chromium.RequirePath();
        var gate = new TotalsGate();
        await using var server = await RunningServer.StartAsync(builder => builder.Services.AddSingleton<IStartupFilter>(gate));
        try
        {
            await Chromium.RunUntilAsync(new Uri(server.Client.BaseAddress!, "locks"), gate.LocksReadWhileTotalsHeld);
        }
        finally
        {
            gate.Release();
        }

        Assert.True(gate.TotalsAsked >= 1, "the page never asked for the totals");
        Assert.True(gate.MaxTotalsInFlight == 1, $"{gate.MaxTotalsInFlight} totals requests were in flight at once: they piled up");
    }

    /// <summary>
    /// Holds every <c>/totals</c> request until <see cref="Release"/>; completes <see cref="LocksReadWhileTotalsHeld"/>
    /// once <see cref="Refreshes"/> <c>/locks.json</c> requests were answered while one was held.
    /// </summary>
    private sealed class TotalsGate : IStartupFilter
    {
        private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _locksRead = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _totalsAsked;
        private int _totalsInFlight;
        private int _maxTotalsInFlight;
        private int _locksWhileHeld;

        public Task LocksReadWhileTotalsHeld => _locksRead.Task;

        public int TotalsAsked => Volatile.Read(ref _totalsAsked);

        public int MaxTotalsInFlight => Volatile.Read(ref _maxTotalsInFlight);

        public void Release() => _release.TrySetResult();

        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use(inner => async context =>
            {
                if (context.Request.Path.Equals("/totals", StringComparison.Ordinal))
                {
                    Interlocked.Increment(ref _totalsAsked);
                    int inFlight = Interlocked.Increment(ref _totalsInFlight);
                    int max;
                    while (inFlight > (max = Volatile.Read(ref _maxTotalsInFlight)) && Interlocked.CompareExchange(ref _maxTotalsInFlight, inFlight, max) != max)
                    {
                    }

                    try
                    {
                        await _release.Task.WaitAsync(Guard.HangLimit, context.RequestAborted);
                        await inner(context);
                    }
                    finally
                    {
                        Interlocked.Decrement(ref _totalsInFlight);
                    }

                    return;
                }

                await inner(context);
                if (context.Request.Path.Equals("/locks.json", StringComparison.Ordinal) && Volatile.Read(ref _totalsInFlight) > 0 &&
                    Interlocked.Increment(ref _locksWhileHeld) >= Refreshes)
                {
                    _locksRead.TrySetResult();
                }
            });
            next(app);
        };
    }
}
