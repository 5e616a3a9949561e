using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Locksmith.ApiServer.Tests;

/// <summary>Every GET route answers HEAD as it answers GET, without the body: real requests over loopback.</summary>
public sealed class HeadRequestTests
{
    [Fact]
    public async Task HEAD_locks_answers_200_with_GETs_headers_and_no_body()
    {
        // Before, only GET was mapped: HEAD /locks answered 405 Method Not Allowed, so monitors and link checkers that
        // probe with HEAD saw the page as broken.
        var ct = TestContext.Current.CancellationToken;
        await using var server = await RunningServer.StartAsync();

        using var get = await server.Client.GetAsync("locks", ct);
        using var head = await server.Client.SendAsync(new HttpRequestMessage(HttpMethod.Head, "locks"), ct);
        byte[] getBody = await get.Content.ReadAsByteArrayAsync(ct);
        byte[] headBody = await head.Content.ReadAsByteArrayAsync(ct);

        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        Assert.Equal("text/html; charset=utf-8", head.Content.Headers.ContentType?.ToString());
        Assert.Equal(get.Content.Headers.ContentType, head.Content.Headers.ContentType);
        Assert.Equal(getBody.Length, head.Content.Headers.ContentLength);
        Assert.Equal(get.Content.Headers.ContentLength, head.Content.Headers.ContentLength);
        Assert.Equal(
            get.Headers.Where(static h => h.Key != "Date").Select(static h => $"{h.Key}: {string.Join(",", h.Value)}").Order(),
            head.Headers.Where(static h => h.Key != "Date").Select(static h => $"{h.Key}: {string.Join(",", h.Value)}").Order());
        Assert.NotEmpty(getBody);
        Assert.Empty(headBody);
    }

    [Fact]
    public async Task HEAD_on_every_GET_route_answers_as_GET_does_without_a_body()
    {
        // Before, only /locks took HEAD: /locks.json, /totals, /prices/{symbol} and /limited answered 405 Method Not
        // Allowed to a HEAD, so a monitor probing them saw a working route as broken.
        var ct = TestContext.Current.CancellationToken;
        await using var server = await RunningServer.StartAsync();

        // Every GET route is probed below (a new one fails here until it is added), and each takes HEAD too.
        string[] probed = ["/prices/{symbol}", "/limited", "/totals", "/locks.json", "/locks"];
        var getRoutes = server.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(static e => e.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods.Contains("GET") == true)
            .ToList();
        Assert.Equal(probed.Order(), getRoutes.Select(static e => e.RoutePattern.RawText!).Order());

        var failures = new List<string>();
        foreach (string path in (string[])["prices/ABC", "limited", "totals", "health", "locks.json", "locks"])
        {
            using var get = await server.Client.GetAsync(path, ct);
            using var head = await server.Client.SendAsync(new HttpRequestMessage(HttpMethod.Head, path), ct);
            byte[] getBody = await get.Content.ReadAsByteArrayAsync(ct);
            byte[] headBody = await head.Content.ReadAsByteArrayAsync(ct);
            if (get.StatusCode != HttpStatusCode.OK || head.StatusCode != HttpStatusCode.OK
                || !Equals(get.Content.Headers.ContentType, head.Content.Headers.ContentType)
                || getBody.Length == 0 || headBody.Length != 0)
            {
                failures.Add($"{path}: GET {(int)get.StatusCode} {get.Content.Headers.ContentType} ({getBody.Length} B), " +
                    $"HEAD {(int)head.StatusCode} {head.Content.Headers.ContentType} ({headBody.Length} B)");
            }
        }

        Assert.True(failures.Count == 0, string.Join(Environment.NewLine, failures));
    }

    [Fact]
    public async Task HEAD_limited_reports_what_GET_would_answer_without_taking_a_token()
    {
        // Before, HEAD /limited ran GET's handler and took a token: a load balancer or monitor probing it spent the
        // clients' budget, and counted as allowed or refused on /totals. A bucket of 2 that refills one token in
        // 1,000 s stays as the requests leave it for the test's length.
        var ct = TestContext.Current.CancellationToken;
        await using var server = await RunningServer.StartAsync("--ApiServer:RateLimitCapacity=2", "--ApiServer:RateLimitPerSecond=0.001");

        for (int i = 0; i < 3; i++)
        {
            using var probe = await server.Client.SendAsync(new HttpRequestMessage(HttpMethod.Head, "limited"), ct);
            Assert.Equal(HttpStatusCode.OK, probe.StatusCode);
        }

        using (var first = await server.Client.GetAsync("limited", ct))
        using (var second = await server.Client.GetAsync("limited", ct))
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
            Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        }

        // The bucket is empty now: a HEAD says so as GET would (429, Retry-After, problem+json), and takes nothing.
        using var emptyHead = await server.Client.SendAsync(new HttpRequestMessage(HttpMethod.Head, "limited"), ct);
        using var emptyGet = await server.Client.GetAsync("limited", ct);
        Assert.Equal(HttpStatusCode.TooManyRequests, emptyHead.StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, emptyGet.StatusCode);
        Assert.Equal("1000", emptyHead.Headers.RetryAfter?.ToString());
        Assert.Equal(emptyGet.Headers.RetryAfter, emptyHead.Headers.RetryAfter);
        Assert.Equal(emptyGet.Content.Headers.ContentType, emptyHead.Content.Headers.ContentType);
        Assert.Empty(await emptyHead.Content.ReadAsByteArrayAsync(ct));

        var totals = await server.GetJsonAsync("totals");
        Assert.Equal(2, totals.GetProperty("limiterAllowed").GetInt64());
        Assert.Equal(1, totals.GetProperty("limiterRefused").GetInt64());
    }
}
