using System;
using System.Net.Http;
using System.Threading.Tasks;
using Microsoft.Extensions.Options;

namespace Locksmith.ApiServer.Tests;

/// <summary>The price cache holds at most ApiServer:PriceCapacity symbols; a new one when full evicts the oldest written.</summary>
public sealed class PriceCapacityTests
{
    [Fact]
    public async Task A_new_symbol_when_the_cache_is_full_evicts_the_one_written_longest_ago()
    {
        // Before, every new symbol a client sent stayed for the server's life: memory grew with the symbols sent.
        var ct = TestContext.Current.CancellationToken;
        await using var server = await RunningServer.StartAsync("--ApiServer:PriceCapacity=3");

        foreach (string write in new[] { "AAA?value=1", "BBB?value=2", "CCC?value=3", "aaa?value=4", "DDD?value=5" })
        {
            using var response = await server.Client.PutAsync($"prices/{write}", null, ct);
            response.EnsureSuccessStatusCode();
        }

        var totals = await server.GetJsonAsync("totals");

        // AAA was written again (as aaa) after BBB, so BBB was the oldest write when DDD came.
        Assert.Equal(3, totals.GetProperty("priceSymbols").GetInt32());
        Assert.Equal(5, totals.GetProperty("priceWrites").GetInt64());
        Assert.Equal(1, totals.GetProperty("priceEvictions").GetInt64());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, (await server.GetJsonAsync("prices/BBB")).GetProperty("price").ValueKind);
        Assert.Equal(4m, (await server.GetJsonAsync("prices/AAA")).GetProperty("price").GetDecimal());
        Assert.Equal(3m, (await server.GetJsonAsync("prices/CCC")).GetProperty("price").GetDecimal());
        Assert.Equal(5m, (await server.GetJsonAsync("prices/DDD")).GetProperty("price").GetDecimal());
    }

    [Fact]
    public void A_capacity_below_1_stops_the_server_before_it_starts_naming_the_key()
    {
        var error = Assert.Throws<OptionsValidationException>(() => ApiServerApp.CreateBuilder(["--ApiServer:PriceCapacity=0"], loopbackPort: 0));

        Assert.Contains("ApiServer:PriceCapacity = '0' is invalid: the price cache must hold at least 1 symbol.", error.Message, StringComparison.Ordinal);
    }
}
