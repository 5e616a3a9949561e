using System;

namespace Locksmith;

/// <summary>
/// Declares a lock member's level in the global lock order: a thread may only take a lock whose level is greater
/// than that of every ordered lock it holds.
/// </summary>
/// <remarks>
/// Generated wrappers pass the level to the lock (<see cref="LockPrimitive.EnsureDeclared(string, int?)"/>) before
/// acquiring it, so a lock created with <c>new()</c> is ordered. The Locksmith analyzers report a guarded method that
/// calls the wrapper of a lock whose level is not greater than its own, and two locks of one type with the same level.
/// </remarks>
/// <example>
/// <code>
/// [LockOrder(10)] private readonly ExclusiveLock _accountLock = new();
/// [LockOrder(20)] private readonly ExclusiveLock _auditLock = new();   // may be taken while _accountLock is held
/// </code>
/// </example>
[AttributeUsage(AttributeTargets.Field | AttributeTargets.Property, AllowMultiple = false, Inherited = false)]
public sealed class LockOrderAttribute : Attribute
{
    /// <summary>Declares the level of the lock member.</summary>
    /// <param name="level">The level; locks are acquired in increasing level.</param>
    public LockOrderAttribute(int level)
    {
        Level = level;
    }

    /// <summary>The level of the lock member in the global lock order.</summary>
    public int Level { get; }
}
