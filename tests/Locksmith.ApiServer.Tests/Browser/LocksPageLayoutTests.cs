using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Text.Json;
using System.Text.RegularExpressions;
using System.Threading.Tasks;
using Locksmith.ApiServer.MainJob;
using Locksmith.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Locksmith.ApiServer.Tests.Browser;

/// <summary>
/// The <c>/locks</c> page's graph with many locks, measured in headless Chromium: a probe page of the same origin opens
/// <c>/locks</c> in a 1200 × 900 frame and writes what the browser laid out (each node's box and label on screen, the
/// page's scroll width) as JSON into its own DOM, which the test reads from the DOM dump.
/// </summary>
public sealed partial class LocksPageLayoutTests
{
    private const int Accounts = 40;
    private const string Markup = "<b>x</b>&amp;";
    private static readonly string s_longName = "a-lock-whose-name-goes-on-" + string.Concat(Enumerable.Repeat("and-on-", 30)) + "end";

    [Fact]
    public async Task Forty_accounts_and_a_long_name_keep_labels_readable_inside_their_boxes_without_sideways_scroll()
    {
        // Before, the 40 accounts' row was shrunk to the window (labels about 3 px high), widths were guessed at 7 px a
        // character (a label could touch or pass its box's edge) and a long name made the page scroll sideways.
        Chromium.RequirePath();
        var ct = TestContext.Current.CancellationToken;
        await using var server = await RunningServer.StartAsync(static builder =>
        {
            builder.Services.AddSingleton<IStartupFilter>(new ProbePage());
            builder.Services.AddLocksmith().AddExclusiveLock(Markup, level: 70).AddExclusiveLock(s_longName, level: 70);
        }, $"--ApiServer:Accounts={Accounts}");
        for (int i = 0; i < 3 * Accounts; i++)
        {
            int from = i % Accounts, to = ((i * 7) + 3) % Accounts;
            if (from != to)
            {
                (await server.Client.PostAsync($"transfer?from={from}&to={to}&amount=1", null, ct)).EnsureSuccessStatusCode();
            }
        }

        var declared = ServerReadings.ReadLocks(await server.GetJsonAsync("locks.json"));
        string dom = await Chromium.DumpDomAsync(new Uri(server.Client.BaseAddress!, ProbePage.Path));
        var probe = ProbeResult().Match(dom);
        Assert.True(probe.Success, $"the probe wrote no result: {dom[..Math.Min(dom.Length, 2_000)]}");
        using var result = JsonDocument.Parse(WebUtility.HtmlDecode(probe.Groups[1].Value));
        var root = result.RootElement;
        var nodes = root.GetProperty("nodes").EnumerateArray().Select(static n => new Probed(
            n.GetProperty("name").GetString()!, n.GetProperty("level").GetString()!, n.GetProperty("label").GetString()!, n.GetProperty("title").GetString()!,
            Box(n.GetProperty("box")), Box(n.GetProperty("text")))).ToList();

        Assert.True(root.GetProperty("refreshes").GetInt32() >= 1, $"the page never refreshed; status: {root.GetProperty("status").GetString()}");
        Assert.Equal(declared.Select(static l => l.Name).Order(StringComparer.Ordinal), nodes.Select(static n => n.Name).Order(StringComparer.Ordinal));
        Assert.Equal(Accounts, nodes.Count(static n => n.Name.StartsWith("account-", StringComparison.Ordinal)));

        // Readable: every label is drawn at least 12 px high on screen, inside its box with room either side.
        Assert.All(nodes, static n => Assert.True(n.Text.Height >= 12, $"the label of {n.Name} is {n.Text.Height:0.0} px high"));
        Assert.All(nodes, static n => Assert.True(
            n.Text.Left >= n.Box.Left + 4 && n.Text.Right <= n.Box.Right - 4 && n.Text.Top >= n.Box.Top && n.Text.Bottom <= n.Box.Bottom,
            $"the label of {n.Name} ({n.Text}) is not inside its box ({n.Box}) with 4 px either side"));
        Assert.Equal(Markup, nodes.Single(static n => n.Name == Markup).Label);
        var longNode = nodes.Single(static n => n.Name == s_longName);
        Assert.EndsWith("…", longNode.Label, StringComparison.Ordinal);
        Assert.StartsWith(longNode.Label[..^1], s_longName, StringComparison.Ordinal);
        Assert.StartsWith(s_longName + " (", longNode.Title, StringComparison.Ordinal);

        // No sideways scroll at 1200 px, and the graph drawn at its own size (not shrunk to fit).
        Assert.True(root.GetProperty("scrollWidth").GetDouble() <= root.GetProperty("clientWidth").GetDouble(),
            $"the page scrolls sideways: {root.GetProperty("scrollWidth")} px wide in {root.GetProperty("clientWidth")} px");
        Assert.Equal(1.0, root.GetProperty("scale").GetDouble(), 3);

        // Still in the global order: top to bottom then left to right; a level's rows all above the next level's; no two
        // nodes of one row overlap.
        Assert.Equal(declared.Select(static l => l.Name), nodes.OrderBy(static n => n.Box.Top).ThenBy(static n => n.Box.Left).Select(static n => n.Name));
        var levels = nodes.GroupBy(static n => n.Level).Select(static g => (Top: g.Min(static n => n.Box.Top), Bottom: g.Max(static n => n.Box.Bottom))).OrderBy(static l => l.Top).ToArray();
        Assert.All(levels.Zip(levels.Skip(1)), static p => Assert.True(p.First.Bottom < p.Second.Top, $"a level's rows ({p.First}) reach into the next level's ({p.Second})"));
        foreach (var row in nodes.GroupBy(static n => n.Box.Top))
        {
            var leftToRight = row.OrderBy(static n => n.Box.Left).ToArray();
            Assert.All(leftToRight.Zip(leftToRight.Skip(1)), static p => Assert.True(p.First.Box.Right <= p.Second.Box.Left, $"{p.First.Name} overlaps {p.Second.Name}"));
        }
    }

    private static Rect Box(JsonElement box) =>
        new(box.GetProperty("left").GetDouble(), box.GetProperty("top").GetDouble(), box.GetProperty("right").GetDouble(), box.GetProperty("bottom").GetDouble());

    [GeneratedRegex("<pre id=\"probe\">(.+?)</pre>", RegexOptions.Singleline)]
    private static partial Regex ProbeResult();

    private sealed record Rect(double Left, double Top, double Right, double Bottom)
    {
        public double Height => Bottom - Top;
    }

    private sealed record Probed(string Name, string Level, string Label, string Title, Rect Box, Rect Text);

    /// <summary>Serves <see cref="Path"/>: <c>/locks</c> in a 1200 × 900 frame, measured once it has drawn a report.</summary>
    private sealed class ProbePage : IStartupFilter
    {
        public const string Path = "locks-probe";

        private const string Html = """
            <!DOCTYPE html>
            <html><body style="margin:0">
            <iframe id="frame" src="locks" style="width:1200px;height:900px;border:0"></iframe>
            <pre id="probe"></pre>
            <script>
            "use strict";
            const frame = document.getElementById("frame");
            const rect = r => ({ left: r.left, top: r.top, right: r.right, bottom: r.bottom });
            function probe() {
              const doc = frame.contentDocument;
              if (!doc || !doc.body || !(Number(doc.body.dataset.refreshes) >= 1)) { setTimeout(probe, 50); return; }
              const svg = doc.getElementById("graph");
              const nodes = [...doc.querySelectorAll("#nodes g.lock-node")].map(g => ({
                name: g.dataset.lock, level: g.dataset.level, label: g.querySelector("text").textContent,
                title: g.querySelector("title").textContent,
                box: rect(g.querySelector("rect").getBoundingClientRect()), text: rect(g.querySelector("text").getBoundingClientRect()) }));
              const root = doc.documentElement;
              document.getElementById("probe").textContent = JSON.stringify({
                refreshes: Number(doc.body.dataset.refreshes), status: doc.getElementById("status").textContent,
                scrollWidth: root.scrollWidth, clientWidth: root.clientWidth, scale: svg.getScreenCTM().a, nodes });
            }
            probe();
            </script>
            </body></html>
            """;

        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use(async (context, nextMiddleware) =>
            {
                if (context.Request.Path == "/" + Path)
                {
                    context.Response.ContentType = "text/html; charset=utf-8";
                    await context.Response.WriteAsync(Html, context.RequestAborted);
                    return;
                }

                await nextMiddleware(context);
            });
            next(app);
        };
    }
}
