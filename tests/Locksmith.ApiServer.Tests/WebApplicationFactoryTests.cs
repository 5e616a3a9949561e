using System.Net.Http;
using System.Net.Http.Json;
using System.Text.Json;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Mvc.Testing;

namespace Locksmith.ApiServer.Tests;

/// <summary>
/// The sample under ASP.NET Core's own test host, as <c>Program</c>'s doc says it can be: the factory runs the entry point
/// with no arguments and swaps Kestrel for its in-memory server.
/// </summary>
public sealed class WebApplicationFactoryTests
{
    [Fact]
    public async Task WebApplicationFactory_of_Program_serves_its_client_until_the_factory_is_disposed()
    {
        // The entry point ran the main job instead: its load went to http://127.0.0.1:0 and failed, and the job then
        // disposed the app, so the factory's client met an ObjectDisposedException (TestServer).
        const int Hits = 200;
        var ct = TestContext.Current.CancellationToken;
        await using var factory = new WebApplicationFactory<Program>();
        using var client = factory.CreateClient();

        for (int i = 0; i < Hits; i++)
        {
            (await client.PostAsync("hit", null, ct)).EnsureSuccessStatusCode();
        }

        var totals = await client.GetFromJsonAsync<JsonElement>("totals", ct);
        Assert.Equal(Hits, totals.GetProperty("guardedHits").GetInt64());
        Assert.Equal("Healthy", await client.GetStringAsync("health", ct));
        var locks = await client.GetFromJsonAsync<JsonElement>("locks.json", ct);
        Assert.Contains(locks.GetProperty("locks").EnumerateArray(), l => l.GetProperty("name").GetString() == ApiServerLocks.Hits);
    }
}
