using System;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;

namespace Locksmith.ApiServer.MainJob;

/// <summary>What the client saw: per kind, how many requests were sent and succeeded; 429s; failures; latencies.</summary>
internal sealed class LoadResult
{
    public LoadResult(int requests)
    {
        LatencyTicks = new long[requests];
    }

    public long[] Sent { get; } = new long[LoadMix.KindCount];

    public long[] Succeeded { get; } = new long[LoadMix.KindCount];

    /// <summary>429s from <c>/limited</c>: the rate limiter refusing, which is not an error.</summary>
    public long Refused;

    /// <summary>Anything else that did not succeed (status or exception).</summary>
    public long Errors;

    public long Transferred;

    public long Declined;

    /// <summary>The first few failures, to print.</summary>
    public ConcurrentQueue<string> Failures { get; } = new();

    /// <summary>Each request's latency measured by the client (Stopwatch ticks), by request number.</summary>
    public long[] LatencyTicks { get; }

    public TimeSpan Elapsed { get; set; }

    public long SentOf(RequestKind kind) => Sent[(int)kind];

    public long SucceededOf(RequestKind kind) => Succeeded[(int)kind];

    /// <summary>The <paramref name="percentile"/>th latency in milliseconds (nearest rank).</summary>
    public double LatencyMilliseconds(double percentile)
    {
        if (LatencyTicks.Length == 0)
        {
            return 0;
        }

        long[] sorted = (long[])LatencyTicks.Clone();
        Array.Sort(sorted);
        int rank = Math.Clamp((int)Math.Ceiling(percentile / 100 * sorted.Length) - 1, 0, sorted.Length - 1);
        return sorted[rank] * 1000.0 / Stopwatch.Frequency;
    }
}

/// <summary>Sends the load over real HTTP, <c>concurrency</c> requests in flight, and counts what came back.</summary>
internal static class LoadDriver
{
    private const int FailuresKept = 10;

    public static async Task<LoadResult> RunAsync(
        HttpClient client, int requests, int concurrency, int accounts, Action onCompleted, CancellationToken ct)
    {
        var result = new LoadResult(requests);
        long started = Stopwatch.GetTimestamp();
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = concurrency, CancellationToken = ct };
        await Parallel.ForAsync(0, requests, parallel, async (i, token) =>
        {
            await SendOneAsync(client, result, i, accounts, token).ConfigureAwait(false);
            onCompleted();
        }).ConfigureAwait(false);
        result.Elapsed = Stopwatch.GetElapsedTime(started);
        return result;
    }

    private static async Task SendOneAsync(HttpClient client, LoadResult result, int i, int accounts, CancellationToken ct)
    {
        RequestKind kind = LoadMix.KindOf(i);
        Interlocked.Increment(ref result.Sent[(int)kind]);
        long start = Stopwatch.GetTimestamp();
        try
        {
            using var response = await LoadMix.SendAsync(client, i, accounts, ct).ConfigureAwait(false);
            string body = await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
            result.LatencyTicks[i] = Stopwatch.GetTimestamp() - start;
            if (kind == RequestKind.Limited && response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                Interlocked.Increment(ref result.Refused);
                return;
            }

            if (!response.IsSuccessStatusCode)
            {
                Fail(result, $"{LoadMix.PathOf(kind)} #{i}: {(int)response.StatusCode} {body}");
                return;
            }

            Interlocked.Increment(ref result.Succeeded[(int)kind]);
            if (kind == RequestKind.Transfer)
            {
                using var json = JsonDocument.Parse(body);
                bool moved = json.RootElement.TryGetProperty("transferred", out var t) && t.ValueKind == JsonValueKind.True;
                Interlocked.Increment(ref moved ? ref result.Transferred : ref result.Declined);
            }
        }
        catch (Exception ex) when (ex is HttpRequestException or JsonException || (ex is TaskCanceledException && !ct.IsCancellationRequested))
        {
            result.LatencyTicks[i] = Stopwatch.GetTimestamp() - start;
            Fail(result, $"{LoadMix.PathOf(kind)} #{i}: {ex.GetType().Name}: {ex.Message}");
        }
    }

    private static void Fail(LoadResult result, string failure)
    {
        if (Interlocked.Increment(ref result.Errors) <= FailuresKept)
        {
            result.Failures.Enqueue(failure);
        }
    }
}
