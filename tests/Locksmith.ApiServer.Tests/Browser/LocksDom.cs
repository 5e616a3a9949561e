using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Net;
using System.Text.RegularExpressions;

namespace Locksmith.ApiServer.Tests.Browser;

/// <summary>
/// One lock's node in the page's graph: <c>&lt;g class="lock-node" data-lock data-level data-width transform="translate(x,y)"&gt;</c>;
/// <paramref name="IsWaiting"/> when drawn as waited for (class <c>waiting</c>).
/// </summary>
internal sealed record LockNode(string Name, int? Level, double X, double Y, double Width, bool IsWaiting = false);

/// <summary>One drawn arrow or arc: the nestings of <c>/locks.json</c> it stands for (<c>outer&gt;inner</c>).</summary>
internal sealed record LockEdge(IReadOnlyList<(string Outer, string Inner)> Nestings);

/// <summary>A count written beside an edge, where the page put it.</summary>
internal sealed record EdgeLabel(string Text, double X, double Y);

/// <summary>
/// What the <c>/locks</c> page drew, read from Chromium's DOM dump: the graph's lock nodes, the contention table's
/// cells (<c>&lt;td data-lock data-stat&gt;</c>) and how many times the page refreshed (<c>body data-refreshes</c>).
/// </summary>
internal sealed partial class LocksDom
{
    private LocksDom(
        IReadOnlyList<LockNode> nodes, IReadOnlyList<LockEdge> edges, IReadOnlyList<EdgeLabel> labels,
        IReadOnlyDictionary<(string Lock, string Stat), string> cells, IReadOnlyDictionary<(string Lock, string Stat), string> cellTitles,
        int refreshes, string status)
    {
        CellTitles = cellTitles;
        Nodes = nodes;
        Edges = edges;
        Labels = labels;
        Cells = cells;
        Refreshes = refreshes;
        Status = status;
    }

    public IReadOnlyList<LockNode> Nodes { get; }

    public IReadOnlyList<LockEdge> Edges { get; }

    public IReadOnlyList<EdgeLabel> Labels { get; }

    public IReadOnlyDictionary<(string Lock, string Stat), string> Cells { get; }

    /// <summary>The <c>title</c> (hover text) of the table's cells that have one.</summary>
    public IReadOnlyDictionary<(string Lock, string Stat), string> CellTitles { get; }

    public int Refreshes { get; }

    /// <summary>The page's status line (e.g. "refresh failed: ..."), for failure messages.</summary>
    public string Status { get; }

    public static LocksDom Parse(string html)
    {
        var nodes = new List<LockNode>();
        foreach (Match tag in GroupTag().Matches(html))
        {
            var attributes = Attributes(tag.Value);
            if (!attributes.TryGetValue("class", out string? cls) || !cls.Split(' ').Contains("lock-node", StringComparer.Ordinal)
                || !attributes.TryGetValue("data-lock", out string? name))
            {
                continue;
            }

            int? level = attributes.TryGetValue("data-level", out string? l) && int.TryParse(l, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) ? v : null;
            var place = attributes.TryGetValue("transform", out string? t) ? Translate().Match(t) : Match.Empty;
            Assert.True(place.Success, $"the node of {name} has no translate(x,y): {tag.Value}");
            Assert.True(attributes.TryGetValue("data-width", out string? w), $"the node of {name} has no data-width: {tag.Value}");
            nodes.Add(new LockNode(name, level, Coordinate(place.Groups[1].Value), Coordinate(place.Groups[2].Value), Coordinate(w!),
                cls.Split(' ').Contains("waiting", StringComparer.Ordinal)));
        }

        var edges = new List<LockEdge>();
        foreach (Match tag in PathTag().Matches(html))
        {
            var attributes = Attributes(tag.Value);
            if (attributes.TryGetValue("class", out string? cls) && cls.Split(' ').Contains("lock-edge", StringComparer.Ordinal))
            {
                Assert.True(attributes.TryGetValue("data-edges", out string? nestings), $"an edge names no nestings: {tag.Value}");
                edges.Add(new LockEdge(NestingsOf(nestings!)));
            }
        }

        var labels = new List<EdgeLabel>();
        foreach (Match text in TextTag().Matches(html))
        {
            var attributes = Attributes(text.Groups[1].Value);
            if (attributes.TryGetValue("class", out string? cls) && cls == "edge-count")
            {
                labels.Add(new EdgeLabel(WebUtility.HtmlDecode(text.Groups[2].Value), Coordinate(attributes["x"]), Coordinate(attributes["y"])));
            }
        }

        var cells = new Dictionary<(string, string), string>();
        var cellTitles = new Dictionary<(string, string), string>();
        foreach (Match cell in CellTag().Matches(html))
        {
            var attributes = Attributes(cell.Groups[1].Value);
            if (attributes.TryGetValue("data-lock", out string? name) && attributes.TryGetValue("data-stat", out string? stat))
            {
                cells[(name, stat)] = WebUtility.HtmlDecode(cell.Groups[2].Value).Trim();
                if (attributes.TryGetValue("title", out string? title))
                {
                    cellTitles[(name, stat)] = title;
                }
            }
        }

        var body = BodyTag().Match(html);
        int refreshes = body.Success && Attributes(body.Value).TryGetValue("data-refreshes", out string? r)
            && int.TryParse(r, NumberStyles.Integer, CultureInfo.InvariantCulture, out int n) ? n : -1;
        var status = StatusLine().Match(html);
        return new LocksDom(nodes, edges, labels, cells, cellTitles, refreshes, status.Success ? WebUtility.HtmlDecode(status.Groups[1].Value) : "(no status line)");
    }

    /// <summary>A whole-number cell of the contention table, e.g. <c>Stat("pool", "contentions")</c>.</summary>
    public long Stat(string lockName, string stat)
    {
        Assert.True(Cells.TryGetValue((lockName, stat), out string? text), $"the table has no {stat} cell for {lockName}; page status: {Status}");
        Assert.True(long.TryParse(text, NumberStyles.AllowThousands, CultureInfo.InvariantCulture, out long value), $"{lockName}'s {stat} cell is not a number: '{text}'");
        return value;
    }

    /// <summary>An edge's <c>data-edges</c>: JSON, <c>[["outer","inner"], ...]</c>, whatever the names hold.</summary>
    private static (string Outer, string Inner)[] NestingsOf(string json)
    {
        string[][]? pairs;
        try
        {
            pairs = System.Text.Json.JsonSerializer.Deserialize<string[][]>(json);
        }
        catch (System.Text.Json.JsonException error)
        {
            throw new Xunit.Sdk.XunitException($"data-edges is not a JSON list of [outer, inner] pairs: '{json}' ({error.Message})");
        }

        Assert.True(pairs is { Length: > 0 } && pairs.All(static p => p is { Length: 2 }), $"data-edges is not a list of [outer, inner] pairs: '{json}'");
        return pairs!.Select(static p => (p[0], p[1])).ToArray();
    }

    private static double Coordinate(string text) => double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture);

    private static Dictionary<string, string> Attributes(string tag)
    {
        var attributes = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (Match a in Attribute().Matches(tag))
        {
            attributes[a.Groups[1].Value] = WebUtility.HtmlDecode(a.Groups[2].Value);
        }

        return attributes;
    }

    [GeneratedRegex("<g\\s[^>]*>")]
    private static partial Regex GroupTag();

    [GeneratedRegex("<path\\s[^>]*>")]
    private static partial Regex PathTag();

    [GeneratedRegex("<text\\b([^>]*)>([^<]*)</text>")]
    private static partial Regex TextTag();

    [GeneratedRegex("<td\\b([^>]*)>([^<]*)</td>")]
    private static partial Regex CellTag();

    [GeneratedRegex("<body\\b[^>]*>")]
    private static partial Regex BodyTag();

    [GeneratedRegex("<p id=\"status\"[^>]*>([^<]*)</p>")]
    private static partial Regex StatusLine();

    [GeneratedRegex("([A-Za-z_:][-A-Za-z0-9_:.]*)=\"([^\"]*)\"")]
    private static partial Regex Attribute();

    [GeneratedRegex("translate\\(\\s*([-0-9.eE]+)[\\s,]+([-0-9.eE]+)\\s*\\)")]
    private static partial Regex Translate();
}
