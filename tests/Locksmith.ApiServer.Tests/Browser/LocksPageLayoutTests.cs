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

    [Theory]
    [InlineData(1200, 900)]
    [InlineData(390, 844)]
    public async Task Forty_accounts_and_a_long_name_keep_labels_readable_inside_their_boxes_without_sideways_scroll(int width, int height)
    {
        // Before, the 40 accounts' row was shrunk to the window (labels about 3 px high), widths were guessed at 7 px a
        // character (a label could touch or pass its box's edge) and a long name made the page scroll sideways; on a
        // phone's width the table still did.
        await using var server = await StartWithTransfersAsync();
        var declared = ServerReadings.ReadLocks(await server.GetJsonAsync("locks.json"));
        using var result = await ProbeAsync(server, width, height);
        var root = result.RootElement;
        var nodes = Nodes(root);

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

        // No sideways scroll, and the graph drawn at its own size (not shrunk to fit).
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

    [Fact]
    public async Task On_a_phone_the_page_fits_the_device_width_and_the_table_scrolls_in_its_box_with_names_whole()
    {
        // Before, the page had no viewport meta (a phone lays it out 980 px wide and shrinks it to the screen), and at
        // 390 px the table made the page scroll sideways while its lock column was squeezed to "acc / ount / -0".
        await using var server = await StartWithTransfersAsync();
        var declared = ServerReadings.ReadLocks(await server.GetJsonAsync("locks.json"));
        using var result = await ProbeAsync(server, 390, 844);
        var root = result.RootElement;
        var names = root.GetProperty("nameCells").EnumerateArray()
            .Select(static c => (Name: c.GetProperty("name").GetString()!, Lines: c.GetProperty("lines").GetInt32(), Box: Box(c.GetProperty("box")))).ToList();
        var table = Box(root.GetProperty("tableBox"));
        double clientWidth = root.GetProperty("clientWidth").GetDouble();

        Assert.True(root.GetProperty("refreshes").GetInt32() >= 1, $"the page never refreshed; status: {root.GetProperty("status").GetString()}");
        Assert.Contains("width=device-width", root.GetProperty("viewport").GetString() ?? "(no viewport meta)", StringComparison.Ordinal);
        Assert.True(root.GetProperty("scrollWidth").GetDouble() <= clientWidth, $"the page scrolls sideways: {root.GetProperty("scrollWidth")} px wide in {clientWidth} px");

        // The table is wider than a phone: it scrolls inside its own box, which fits the page.
        Assert.True(table.Right <= clientWidth, $"the table's box ({table}) passes the page's width ({clientWidth} px)");
        Assert.True(root.GetProperty("tableScrollWidth").GetDouble() > root.GetProperty("tableClientWidth").GetDouble(), "the table fits a phone: this test no longer tests its scrolling");

        // A lock's name reads whole: every name up to 16 characters ("pool.connections") on one line; the long one wraps.
        Assert.Equal(declared.Select(static l => l.Name).Order(StringComparer.Ordinal), names.Select(static n => n.Name).Order(StringComparer.Ordinal));
        Assert.All(names.Where(static n => n.Name.Length <= 16), static n => Assert.True(n.Lines == 1, $"the name {n.Name} is broken over {n.Lines} lines ({n.Box})"));
        Assert.True(names.Single(static n => n.Name == s_longName).Lines > 1, "the long name does not wrap");
    }

    [Theory]
    [InlineData(1200, 900)]
    [InlineData(390, 844)]
    public async Task Edge_counts_overlap_neither_each_other_nor_a_node_and_each_sits_on_its_edge_or_is_listed(int width, int height)
    {
        // Before, a count was put at a fixed point of its edge: between the wrapped lines of 40 accounts, counts of
        // edges that cross there were drawn over each other ("33" for two 3s) and over nodes.
        await using var server = await StartWithTransfersAsync();
        using var result = await ProbeAsync(server, width, height);
        var root = result.RootElement;
        var nodes = Nodes(root);
        var labels = root.GetProperty("labels").EnumerateArray().Select(static l => new Label(
            l.GetProperty("text").GetString()!, l.GetProperty("edges").GetString(), Box(l.GetProperty("box")),
            l.GetProperty("offPath").ValueKind == JsonValueKind.Number ? l.GetProperty("offPath").GetDouble() : null)).ToList();
        var edges = root.GetProperty("edges").EnumerateArray().Select(static e => (Edges: e.GetProperty("edges").GetString()!, Count: e.GetProperty("count").GetInt64())).ToList();
        var unplaced = root.GetProperty("unplaced").EnumerateArray().Select(static u => (Edges: u.GetProperty("edges").GetString(), Count: u.GetProperty("count").GetInt64())).ToList();
        var levelLabels = root.GetProperty("levelLabels").EnumerateArray().Select(static l => (Text: l.GetProperty("text").GetString()!, Box: Box(l.GetProperty("box")))).ToList();
        var graph = Box(root.GetProperty("graph"));

        Assert.True(root.GetProperty("refreshes").GetInt32() >= 1, $"the page never refreshed; status: {root.GetProperty("status").GetString()}");
        Assert.True(edges.Count >= Accounts, $"only {edges.Count} edges drawn: not the crowded graph this is about");
        Assert.NotEmpty(labels);

        // No count over another, over a node or over a level's name; every count inside the graph.
        for (int i = 0; i < labels.Count; i++)
        {
            for (int j = i + 1; j < labels.Count; j++)
            {
                var (a, b) = (labels[i], labels[j]);
                Assert.False(a.Box.Overlaps(b.Box), $"the counts '{a.Text}' ({a.Box}) and '{b.Text}' ({b.Box}) overlap");
            }
        }

        Assert.All(labels, l => Assert.All(nodes, n => Assert.False(l.Box.Overlaps(n.Box), $"the count '{l.Text}' ({l.Box}) overlaps the node of {n.Name} ({n.Box})")));
        Assert.All(labels, l => Assert.All(levelLabels, t => Assert.False(l.Box.Overlaps(t.Box), $"the count '{l.Text}' ({l.Box}) overlaps '{t.Text}' ({t.Box})")));
        Assert.All(labels, l => Assert.True(l.Box.Left >= graph.Left && l.Box.Right <= graph.Right && l.Box.Top >= graph.Top && l.Box.Bottom <= graph.Bottom,
            $"the count '{l.Text}' ({l.Box}) is not inside the graph ({graph})"));

        // Each count is its own edge's: on it or just beside it (its centre within half its diagonal and 4 px of the
        // path), or listed below the graph when it had no room; either way it adds up to the edge's count
        // (forward/backward for a lock-set arc).
        Assert.All(labels, static l => Assert.True(l.OffPath is { } d && d <= (l.Box.Diagonal / 2) + 4,
            $"the count '{l.Text}' ({l.Box}) is {l.OffPath?.ToString("0.0", System.Globalization.CultureInfo.InvariantCulture) ?? "not near any"} px off its edge {l.Edges}"));
        foreach (var (edge, count) in edges)
        {
            var shown = labels.Where(l => l.Edges == edge).Select(static l => l.Text.Split('/').Sum(long.Parse)).ToList();
            var listed = unplaced.Where(u => u.Edges == edge).Select(static u => u.Count).ToList();
            Assert.True(shown.Count + listed.Count == 1, $"the edge {edge} has {shown.Count} counts on the graph and {listed.Count} listed, not one");
            Assert.Equal(count, shown.Concat(listed).Single());
        }

        // Most counts fit on the graph (the list is for the crowded rest): at 1200 px nearly all, on a phone at least half.
        double placed = (double)labels.Count / edges.Count;
        Assert.True(placed >= (width >= 1000 ? 0.9 : 0.5), $"only {labels.Count} of {edges.Count} counts are on the graph");
    }

    [Fact]
    public async Task Counts_with_no_room_on_the_graph_are_listed_under_it_each_with_its_nestings()
    {
        // Twelve locks nesting into twelve on the next level: 144 edges cross in the 44 px between the two rows, too
        // few spots for all their counts. Before, they were drawn over each other there; now the ones with no room are
        // listed under the graph (and none of those on the graph overlaps another).
        Chromium.RequirePath();
        const int Fan = 12;
        await using var server = await RunningServer.StartAsync(static builder =>
        {
            builder.Services.AddSingleton<IStartupFilter>(new ProbePage());
            var locks = builder.Services.AddLocksmith();
            for (int i = 0; i < Fan; i++)
            {
                locks.AddExclusiveLock($"fan-a{i}", level: 70).AddExclusiveLock($"fan-b{i}", level: 71);
            }
        });
        for (int i = 0; i < Fan; i++)
        {
            for (int j = 0; j < Fan; j++)
            {
                using (server.Services.GetRequiredKeyedService<ExclusiveLock>($"fan-a{i}").Acquire())
                using (server.Services.GetRequiredKeyedService<ExclusiveLock>($"fan-b{j}").Acquire())
                {
                }
            }
        }

        using var result = await ProbeAsync(server, 1200, 900);
        var root = result.RootElement;
        var edges = root.GetProperty("edges").EnumerateArray().Select(static e => (Edges: e.GetProperty("edges").GetString()!, Count: e.GetProperty("count").GetInt64()))
            .Where(static e => e.Edges.Contains("fan-b", StringComparison.Ordinal)).ToList();
        var labels = root.GetProperty("labels").EnumerateArray().Select(static l => (Edges: l.GetProperty("edges").GetString(), Box: Box(l.GetProperty("box")))).ToList();
        var unplaced = root.GetProperty("unplaced").EnumerateArray()
            .Select(static u => (Edges: u.GetProperty("edges").GetString()!, Count: u.GetProperty("count").GetInt64(), Text: u.GetProperty("text").GetString()!)).ToList();

        Assert.True(root.GetProperty("refreshes").GetInt32() >= 1, $"the page never refreshed; status: {root.GetProperty("status").GetString()}");
        Assert.Equal(Fan * Fan, edges.Count);
        Assert.NotEmpty(unplaced);
        Assert.True(root.GetProperty("unplacedShown").GetBoolean(), "the list of counts with no room is hidden");
        Assert.Equal($"{unplaced.Count} counts with no room on the graph (hover an edge for its own)", root.GetProperty("unplacedSummary").GetString());
        foreach (var (edge, count, text) in unplaced)
        {
            var pair = JsonSerializer.Deserialize<string[][]>(edge)!.Single();
            Assert.Equal(edges.Single(e => e.Edges == edge).Count, count);
            Assert.Equal($"{pair[0]} → {pair[1]}: {count}", text);
            Assert.DoesNotContain(labels, l => l.Edges == edge);
        }

        for (int i = 0; i < labels.Count; i++)
        {
            for (int j = i + 1; j < labels.Count; j++)
            {
                Assert.False(labels[i].Box.Overlaps(labels[j].Box), $"the counts at {labels[i].Box} and {labels[j].Box} overlap");
            }
        }
    }

    /// <summary>The server with 40 accounts, two locks with awkward names, and 120 transfers among the accounts.</summary>
    private static async Task<RunningServer> StartWithTransfersAsync()
    {
        Chromium.RequirePath();
        var ct = TestContext.Current.CancellationToken;
        var server = await RunningServer.StartAsync(static builder =>
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

        return server;
    }

    /// <summary>What the probe page measured of <c>/locks</c> in a <paramref name="width"/> × <paramref name="height"/> frame.</summary>
    private static async Task<JsonDocument> ProbeAsync(RunningServer server, int width, int height)
    {
        string dom = await Chromium.DumpDomAsync(new Uri(server.Client.BaseAddress!, $"{ProbePage.Path}?w={width}&h={height}"));
        var probe = ProbeResult().Match(dom);
        Assert.True(probe.Success, $"the probe wrote no result: {dom[..Math.Min(dom.Length, 2_000)]}");
        return JsonDocument.Parse(WebUtility.HtmlDecode(probe.Groups[1].Value));
    }

    private static List<Probed> Nodes(JsonElement root) =>
        root.GetProperty("nodes").EnumerateArray().Select(static n => new Probed(
            n.GetProperty("name").GetString()!, n.GetProperty("level").GetString()!, n.GetProperty("label").GetString()!, n.GetProperty("title").GetString()!,
            Box(n.GetProperty("box")), Box(n.GetProperty("text")))).ToList();

    private static Rect Box(JsonElement box) =>
        new(box.GetProperty("left").GetDouble(), box.GetProperty("top").GetDouble(), box.GetProperty("right").GetDouble(), box.GetProperty("bottom").GetDouble());

    [GeneratedRegex("<pre id=\"probe\">(.+?)</pre>", RegexOptions.Singleline)]
    private static partial Regex ProbeResult();

    private sealed record Rect(double Left, double Top, double Right, double Bottom)
    {
        public double Height => Bottom - Top;

        public double Diagonal => Math.Sqrt(((Right - Left) * (Right - Left)) + (Height * Height));

        /// <summary>Whether the two share any area (touching edges do not).</summary>
        public bool Overlaps(Rect other) => Left < other.Right && other.Left < Right && Top < other.Bottom && other.Top < Bottom;
    }

    private sealed record Probed(string Name, string Level, string Label, string Title, Rect Box, Rect Text);

    /// <summary>An edge's count on the graph: its text, the edge it belongs to (<c>data-edges</c>), its box, and how far its centre is from that edge.</summary>
    private sealed record Label(string Text, string? Edges, Rect Box, double? OffPath);

    /// <summary>
    /// Serves <see cref="Path"/>: <c>/locks</c> in a frame of <c>?w=</c> × <c>?h=</c> px (1200 × 900 unless given), measured
    /// once it has drawn a report.
    /// </summary>
    private sealed class ProbePage : IStartupFilter
    {
        public const string Path = "locks-probe";

        private const string Html = """
            <!DOCTYPE html>
            <html><body style="margin:0">
            <iframe id="frame" style="border:0"></iframe>
            <pre id="probe"></pre>
            <script>
            "use strict";
            const query = new URLSearchParams(location.search);
            const frame = document.getElementById("frame");
            frame.style.width = (query.get("w") ?? "1200") + "px";
            frame.style.height = (query.get("h") ?? "900") + "px";
            frame.src = "locks";
            const rect = r => ({ left: r.left, top: r.top, right: r.right, bottom: r.bottom });
            // How far a label's centre is from its own edge's path, on screen (the path sampled every 2 px or so).
            function offPath(label, paths) {
              const path = paths.find(p => p.dataset.edges === label.dataset.edges);
              if (!path) return null;
              const r = label.getBoundingClientRect(), cx = (r.left + r.right) / 2, cy = (r.top + r.bottom) / 2;
              const ctm = path.getScreenCTM(), length = path.getTotalLength(), steps = Math.max(50, Math.ceil(length / 2));
              let best = Infinity;
              for (let i = 0; i <= steps; i++) {
                const p = path.getPointAtLength(length * i / steps).matrixTransform(ctm);
                best = Math.min(best, Math.hypot(p.x - cx, p.y - cy));
              }
              return best;
            }
            function probe() {
              const doc = frame.contentDocument;
              if (!doc || !doc.body || !(Number(doc.body.dataset.refreshes) >= 1)) { setTimeout(probe, 50); return; }
              const svg = doc.getElementById("graph");
              const nodes = [...doc.querySelectorAll("#nodes g.lock-node")].map(g => ({
                name: g.dataset.lock, level: g.dataset.level, label: g.querySelector("text").textContent,
                title: g.querySelector("title").textContent,
                box: rect(g.querySelector("rect").getBoundingClientRect()), text: rect(g.querySelector("text").getBoundingClientRect()) }));
              const paths = [...doc.querySelectorAll("#edges path.lock-edge")];
              const edges = paths.map(p => ({ edges: p.dataset.edges, count: Number(p.dataset.count) }));
              const labels = [...doc.querySelectorAll("#edges text.edge-count")].map(t => ({
                text: t.textContent, edges: t.dataset.edges ?? null, box: rect(t.getBoundingClientRect()), offPath: offPath(t, paths) }));
              const list = doc.getElementById("unplaced");
              const unplacedShown = !!list && !list.hidden && list.getBoundingClientRect().height > 0;
              const unplacedSummary = list?.querySelector("summary")?.textContent ?? null;
              const unplaced = [...doc.querySelectorAll("#unplaced-counts li")].map(li => ({
                edges: li.dataset.edges ?? null, count: Number(li.dataset.count), text: li.textContent }));
              const levelLabels = [...doc.querySelectorAll("#nodes text.level-label")].map(t => ({ text: t.textContent, box: rect(t.getBoundingClientRect()) }));
              // How many lines each lock's name takes in the table (its text's line boxes).
              const nameCells = [...doc.querySelectorAll('#contention td[data-stat="name"]')].map(td => {
                const range = doc.createRange();
                range.selectNodeContents(td);
                return { name: td.dataset.lock, lines: new Set([...range.getClientRects()].map(r => Math.round(r.top))).size, box: rect(td.getBoundingClientRect()) };
              });
              const table = doc.getElementById("contention"), tableBox = table.parentElement;
              const root = doc.documentElement;
              document.getElementById("probe").textContent = JSON.stringify({
                viewport: doc.querySelector('meta[name="viewport"]')?.content ?? null, nameCells,
                tableBox: rect(tableBox.getBoundingClientRect()), tableScrollWidth: tableBox.scrollWidth, tableClientWidth: tableBox.clientWidth,
                refreshes: Number(doc.body.dataset.refreshes), status: doc.getElementById("status").textContent,
                scrollWidth: root.scrollWidth, clientWidth: root.clientWidth, scale: svg.getScreenCTM().a,
                graph: rect(svg.getBoundingClientRect()), nodes, edges, labels, unplaced, unplacedShown, unplacedSummary, levelLabels });
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
