using System;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Threading.Tasks;

namespace Locksmith.ApiServer.Tests;

/// <summary>The /locks page answers HEAD as it answers GET, without the body: real requests over loopback.</summary>
public sealed class LocksPageHeadTests
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
}
