using System;

namespace Locksmith.Postgres;

/// <summary>
/// An acquisition needed a connection beyond the provider's <see cref="PostgresLockProviderOptions.ConnectionBudget"/>:
/// every flow holding distributed locks holds a connection, so waiting for the pool could wait for a lock the same
/// process will only release after this acquisition. The message names the lock and the budget.
/// </summary>
public sealed class PostgresConnectionBudgetException : InvalidOperationException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="lockName">The lock whose acquisition was refused.</param>
    /// <param name="budget">The provider's connection budget.</param>
    /// <param name="message">The full message.</param>
    public PostgresConnectionBudgetException(string lockName, int budget, string message)
        : base(message)
    {
        LockName = lockName;
        Budget = budget;
    }

    /// <summary>The lock whose acquisition was refused.</summary>
    public string LockName { get; }

    /// <summary>The provider's connection budget.</summary>
    public int Budget { get; }
}
