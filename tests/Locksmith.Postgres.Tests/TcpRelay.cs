using System;
using System.Collections.Generic;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using Npgsql;

namespace Locksmith.Postgres.Tests;

/// <summary>
/// A TCP relay on 127.0.0.1 in front of the real server, so a test can cut the network between a provider and the
/// server: <see cref="Cut"/> closes every relayed socket and stops accepting, as a dead link or router would.
/// </summary>
internal sealed class TcpRelay : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly List<Socket> _sockets = [];
    private readonly Task _accepting;
    private readonly string _host;
    private readonly int _port;
    private volatile TaskCompletionSource? _holding;
    private readonly TaskCompletionSource _thawed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile bool _frozen;
    private volatile bool _cut;
    private volatile byte[]? _freezeOn;
    private int _held;
    private int _relayed;

    public TcpRelay()
    {
        var server = new NpgsqlConnectionStringBuilder(PostgresServer.ConnectionString);
        _host = server.Host ?? "127.0.0.1";
        _port = server.Port;
        _listener.Start();
        _accepting = AcceptAsync();
    }

    /// <summary>The server's connection string, through this relay.</summary>
    public string ConnectionString => new NpgsqlConnectionStringBuilder(PostgresServer.ConnectionString)
    {
        Host = "127.0.0.1",
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port,
        Pooling = true,
    }.ConnectionString;

    /// <summary>New connections (a cancel request's, say) are accepted but not relayed until <see cref="LetThrough"/>.</summary>
    public void HoldNewConnections() => _holding = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Relays the held connections, and new ones again.</summary>
    public void LetThrough() => Interlocked.Exchange(ref _holding, null)?.TrySetResult();

    /// <summary>How many connections were held (accepted while <see cref="HoldNewConnections"/> was in force).</summary>
    public int HeldConnections => Volatile.Read(ref _held);

    /// <summary>Connections relayed to the server so far.</summary>
    public int RelayedConnections => Volatile.Read(ref _relayed);

    /// <summary>
    /// The link goes silent, as a dead route does: every connection stays open at both ends, but nothing read from
    /// either side is passed on, and new connections are held. Nothing fails; every read just waits.
    /// </summary>
    public void Freeze()
    {
        _frozen = true;
        HoldNewConnections();
    }

    /// <summary>
    /// The link goes silent, as <see cref="Freeze"/> makes it, at the moment a client sends a statement containing
    /// <paramref name="text"/> (that statement is swallowed): a test can so silence the link exactly before one statement.
    /// The relay reads the statements only on connections without TLS (SslMode=Disable).
    /// </summary>
    public void FreezeWhenClientSends(string text) => _freezeOn = System.Text.Encoding.UTF8.GetBytes(text);

    /// <summary>Closes every relayed connection at both ends and refuses new ones.</summary>
    public void Cut()
    {
        _cut = true;
        _listener.Stop();
        lock (_sockets)
        {
            foreach (var socket in _sockets)
            {
                socket.Close();
            }

            _sockets.Clear();
        }
    }

    public async ValueTask DisposeAsync()
    {
        Cut();
        _thawed.TrySetResult();
        LetThrough();
        try
        {
            await _accepting.ConfigureAwait(false);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // Stopped.
        }
    }

    private async Task AcceptAsync()
    {
        while (true)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptSocketAsync().ConfigureAwait(false);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            if (_holding is { } holding)
            {
                Interlocked.Increment(ref _held);
                await holding.Task.ConfigureAwait(false);
                if (_cut)
                {
                    client.Close();
                    return;
                }
            }

            var server = new Socket(SocketType.Stream, ProtocolType.Tcp);
            await server.ConnectAsync(_host, _port).ConfigureAwait(false);
            lock (_sockets)
            {
                _sockets.Add(client);
                _sockets.Add(server);
            }

            Interlocked.Increment(ref _relayed);
            _ = PumpAsync(client, server, fromClient: true);
            _ = PumpAsync(server, client, fromClient: false);
        }
    }

    private async Task PumpAsync(Socket from, Socket to, bool fromClient)
    {
        var buffer = new byte[16 * 1024];
        try
        {
            int read;
            while ((read = await from.ReceiveAsync(buffer, SocketFlags.None).ConfigureAwait(false)) > 0)
            {
                if (fromClient && _freezeOn is { } marker && buffer.AsSpan(0, read).IndexOf(marker) >= 0)
                {
                    Freeze();
                }

                if (_frozen)
                {
                    // Swallowed until the relay is disposed: a frozen link never delivers.
                    await _thawed.Task.ConfigureAwait(false);
                    return;
                }

                await to.SendAsync(buffer.AsMemory(0, read), SocketFlags.None).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // The relay was cut, or one side hung up.
        }
        finally
        {
            from.Close();
            to.Close();
        }
    }
}
