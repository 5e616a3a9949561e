using System;
using System.Threading.Tasks;

namespace Locksmith.Postgres.Tests;

/// <summary>Two providers standing for two processes, and a lock name no other test uses.</summary>
internal sealed class TwoProcesses : IAsyncDisposable
{
    public TwoProcesses(string prefix)
    {
        First = PostgresServer.Provider();
        Second = PostgresServer.Provider();
        Name = PostgresServer.Unique(prefix);
    }

    public PostgresLockProvider First { get; }

    public PostgresLockProvider Second { get; }

    public string Name { get; }

    public void Deconstruct(out PostgresLockProvider first, out PostgresLockProvider second, out string name)
    {
        first = First;
        second = Second;
        name = Name;
    }

    /// <summary>The exclusive lock of <see cref="Name"/>, as each process sees it.</summary>
    public (PostgresExclusiveLock Mine, PostgresExclusiveLock Theirs) ExclusiveLocks() =>
        (First.CreateExclusiveLock(Name), Second.CreateExclusiveLock(Name));

    // Second first, as two `await using` declarations would.
    public async ValueTask DisposeAsync()
    {
        await Second.DisposeAsync();
        await First.DisposeAsync();
    }
}
