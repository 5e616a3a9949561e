using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Locksmith.ApiServer;

/// <summary>One pooled connection: it counts what was done with it, and says so if two requests ever share it.</summary>
public sealed class Connection(int id)
{
    private int _users;

    /// <summary>The connection's number.</summary>
    public int Id { get; } = id;

    /// <summary>Requests served on it.</summary>
    public long Uses { get; private set; }

    /// <summary>Times a request found it already in use: always 0 when the pool is right.</summary>
    public static long Collisions => Interlocked.Read(ref s_collisions);

    private static long s_collisions;

    /// <summary>Simulated I/O: a short delay while the connection is marked busy.</summary>
    public async Task RunAsync(int delayMilliseconds, CancellationToken cancellationToken)
    {
        if (Interlocked.Increment(ref _users) != 1)
        {
            Interlocked.Increment(ref s_collisions);
        }

        try
        {
            Uses++;
            await Task.Delay(delayMilliseconds, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            Interlocked.Decrement(ref _users);
        }
    }

    internal static void ResetCollisions() => Interlocked.Exchange(ref s_collisions, 0);
}

/// <summary>
/// The seed's connection pool: <c>pool</c> (a <see cref="CountingSemaphore"/> of N permits) admits at most N requests,
/// each awaiting its permit; the idle list is guarded by <c>pool.connections</c>, whose generated <c>Rent</c> and
/// <c>Return</c> run while the permit is held (a nesting: pool, then pool.connections).
/// </summary>
public sealed partial class ConnectionPool
{
    private readonly CountingSemaphore _slots;

    [LockOrder(ApiServerLocks.PoolConnectionsLevel)]
    private readonly ExclusiveLock _lock;

    [Guarded(Lock = nameof(_lock))]
    private readonly Stack<Connection> _idle = new();

    [Guarded(Lock = nameof(_lock))]
    private int _inUse;

    [Guarded(Lock = nameof(_lock))]
    private long _borrows;

    /// <summary>Takes the semaphore and the list's lock from the container and opens the connections.</summary>
    public ConnectionPool(
        [FromKeyedServices(ApiServerLocks.Pool)] CountingSemaphore slots,
        [FromKeyedServices(ApiServerLocks.PoolConnections)] ExclusiveLock connectionsLock,
        IOptions<ApiServerOptions> options)
    {
        _slots = slots;
        _lock = connectionsLock;
        Size = options.Value.PoolSize;
        IoMilliseconds = options.Value.IoMilliseconds;
        for (int i = Size - 1; i >= 0; i--)
        {
            _idle.Push(new Connection(i));
        }
    }

    /// <summary>How many connections the pool has.</summary>
    public int Size { get; }

    /// <summary>The longest simulated I/O, in milliseconds (each takes 0 to this, at random).</summary>
    public int IoMilliseconds { get; }

    /// <summary>Borrows a connection for one simulated I/O and gives it back; returns the connection's id.</summary>
    public async Task<int> RunIoAsync(CancellationToken cancellationToken)
    {
        // The generator leaves semaphores to the caller (LSM0010 quotes this line): the permit is held across the await.
        using var permit = await _slots.AcquireAsync(cancellationToken).ConfigureAwait(false);
        var connection = Rent();
        try
        {
            await connection.RunAsync(Random.Shared.Next(0, IoMilliseconds + 1), cancellationToken).ConfigureAwait(false);
            return connection.Id;
        }
        finally
        {
            Return(connection);
        }
    }

    [Guarded(Lock = nameof(_lock))]
    private Connection RentCore()
    {
        // The semaphore admitted this request, so a connection is idle; an empty list would be a pool bug.
        var connection = _idle.Count > 0 ? _idle.Pop() : throw new InvalidOperationException("The pool admitted more requests than it has connections.");
        _inUse++;
        _borrows++;
        return connection;
    }

    // Waits as long as it takes: a give-back that timed out would lose the connection while its permit goes back, and
    // the pool would then admit a request with no idle connection (a 500 on every later /io once all are lost).
    [Guarded(Lock = nameof(_lock), TimeoutMilliseconds = -1)]
    private void ReturnCore(Connection connection)
    {
        _idle.Push(connection);
        _inUse--;
    }

    [Guarded(Lock = nameof(_lock), WrapperName = "Counts")]
    private (int InUse, int Idle, long Borrows) ReadCounts() => (_inUse, _idle.Count, _borrows);

    [Guarded(Lock = nameof(_lock))]
    private void ResetBorrowsCore() => _borrows = 0;
}
