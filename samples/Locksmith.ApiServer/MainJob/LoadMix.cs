using System.Globalization;
using System.Net.Http;
using System.Threading;
using System.Threading.Tasks;

namespace Locksmith.ApiServer.MainJob;

/// <summary>The kinds of request the main job sends.</summary>
internal enum RequestKind
{
    Hit,
    Transfer,
    PriceRead,
    PriceWrite,
    Io,
    Limited,
}

/// <summary>
/// The seed's load as a fixed rotation of ten requests (three hits, two transfers, two price reads, a price write, an
/// I/O on a pooled connection, a rate-limited call), so what each route must have counted is known exactly.
/// </summary>
internal static class LoadMix
{
    public const int KindCount = 6;

    private static readonly RequestKind[] s_rotation =
    [
        RequestKind.Hit, RequestKind.Transfer, RequestKind.PriceRead, RequestKind.Hit, RequestKind.Transfer,
        RequestKind.PriceRead, RequestKind.PriceWrite, RequestKind.Io, RequestKind.Limited, RequestKind.Hit,
    ];

    public static RequestKind KindOf(int i) => s_rotation[i % s_rotation.Length];

    public static string PathOf(RequestKind kind) => kind switch
    {
        RequestKind.Hit => "/hit",
        RequestKind.Transfer => "/transfer",
        RequestKind.PriceRead => "/prices (GET)",
        RequestKind.PriceWrite => "/prices (PUT)",
        RequestKind.Io => "/io",
        _ => "/limited",
    };

    /// <summary>Sends request <paramref name="i"/> of the run.</summary>
    public static Task<HttpResponseMessage> SendAsync(HttpClient client, int i, int accounts, CancellationToken ct)
    {
        // Round r's two transfers move money both ways between one pair of accounts; the pairs walk over every
        // account, so opposite transfers meet (their locks are taken in the global order, so they cannot deadlock).
        int round = i / s_rotation.Length;
        int a = round % accounts;
        int b = (a + 1 + ((round / accounts) % (accounts - 1))) % accounts;
        (int from, int to) = i % s_rotation.Length == 1 ? (a, b) : (b, a);
        string symbol = "SYM" + (round % 7).ToString(CultureInfo.InvariantCulture);
        return KindOf(i) switch
        {
            RequestKind.Hit => client.PostAsync("hit", null, ct),
            RequestKind.Transfer => client.PostAsync(
                string.Create(CultureInfo.InvariantCulture, $"transfer?from={from}&to={to}&amount={1 + (i % 9)}"), null, ct),
            RequestKind.PriceRead => client.GetAsync("prices/" + symbol, ct),
            RequestKind.PriceWrite => client.PutAsync(
                string.Create(CultureInfo.InvariantCulture, $"prices/{symbol}?value={100 + (i % 50)}.5"), null, ct),
            RequestKind.Io => client.PostAsync("io", null, ct),
            _ => client.GetAsync("limited", ct),
        };
    }
}
