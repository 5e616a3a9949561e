using System;
using System.Net.Http;
using System.Net.Http.Json;
using System.Text.Json;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Builder;

namespace Locksmith.ApiServer.Tests;

/// <summary>The API server started in-process on Kestrel (127.0.0.1, a free port) and a client for it; real HTTP.</summary>
internal sealed class RunningServer : IAsyncDisposable
{
    private RunningServer(WebApplication app, HttpClient client)
    {
        App = app;
        Client = client;
    }

    public WebApplication App { get; }

    public HttpClient Client { get; }

    public IServiceProvider Services => App.Services;

    public static Task<RunningServer> StartAsync(params string[] args) => StartAsync(static _ => { }, args);

    /// <summary>Starts the server after <paramref name="configure"/> added to its builder (a test's middleware, say).</summary>
    public static async Task<RunningServer> StartAsync(Action<WebApplicationBuilder> configure, params string[] args)
    {
        var builder = ApiServerApp.CreateBuilder(args, loopbackPort: 0);
        configure(builder);
        var app = ApiServerApp.Build(builder);
        await app.StartAsync(TestContext.Current.CancellationToken);
        var handler = new SocketsHttpHandler { MaxConnectionsPerServer = 256, PooledConnectionLifetime = TimeSpan.FromMinutes(5) };
        var client = new HttpClient(handler) { BaseAddress = ApiServerApp.BaseAddress(app), Timeout = TimeSpan.FromMinutes(2) };
        return new RunningServer(app, client);
    }

    public async Task<JsonElement> GetJsonAsync(string path) =>
        await Client.GetFromJsonAsync<JsonElement>(path, TestContext.Current.CancellationToken);

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await App.StopAsync(TestContext.Current.CancellationToken);
        await App.DisposeAsync();
    }
}
