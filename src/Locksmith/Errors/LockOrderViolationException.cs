using System;

namespace Locksmith;

/// <summary>
/// A thread tried to acquire a lock whose level is not greater than a lock it already holds. Thrown before
/// blocking under <see cref="OrderViolationAction.Throw"/>, so the deadlock the order prevents never happens.
/// </summary>
public sealed class LockOrderViolationException : InvalidOperationException
{
    /// <summary>Creates the exception from the violation it reports.</summary>
    public LockOrderViolationException(LockOrderViolation violation)
        : base(violation?.Message)
    {
        ArgumentNullException.ThrowIfNull(violation);
        Violation = violation;
    }

    /// <summary>Both locks, their levels, and the thread.</summary>
    public LockOrderViolation Violation { get; }
}
