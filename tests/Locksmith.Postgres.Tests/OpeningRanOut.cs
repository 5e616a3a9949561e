using System;
using Npgsql;
using Xunit;

namespace Locksmith.Postgres.Tests;

/// <summary>
/// What an acquisition that ran out of time opening its session leaves: an <see cref="NpgsqlException"/> saying so (a
/// transient one, a <see cref="TimeoutException"/> inside), the one connection still held at the relay, and nothing in
/// use or held by the provider. For the first opening and for the reconnect that replaces a stale pooled connection.
/// </summary>
internal static class OpeningRanOut
{
    /// <param name="lockText">The lock as the message names it (<c>'nightly'</c>, or <c>'nightly' (level 1)</c>).</param>
    public static void AssertReported(NpgsqlException error, TcpRelay relay, PostgresLockProvider provider, string lockText)
    {
        Assert.Equal(1, relay.HeldConnections);
        Assert.Contains($"could not open a PostgreSQL session to acquire {lockText} on {provider.ServerIdentity} within the acquisition's timeout", error.Message, StringComparison.Ordinal);
        Assert.Contains("nothing is held, and no holder refused it", error.Message, StringComparison.Ordinal);
        Assert.IsType<TimeoutException>(error.InnerException);
        Assert.True(error.IsTransient);
        Assert.Equal(0, provider.ConnectionsInUse);
        Assert.Equal(0, provider.HeldCount);
    }
}
