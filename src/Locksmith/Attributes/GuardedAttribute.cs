using System;

namespace Locksmith;

/// <summary>
/// Declares that a field, property or method is guarded by a lock of the same type: the state may only be touched,
/// and the method only run, while that lock is held.
/// </summary>
/// <remarks>
/// <para>On a method named <c>XxxCore</c> in a <see langword="partial"/> type, the Locksmith source generator writes a
/// wrapper <c>Xxx</c> with the same parameters that takes the lock, calls the method and releases the lock on every
/// path, and a timed form <c>TryXxx(…, TimeSpan timeout, out TResult result)</c> that returns <see langword="false"/>
/// when the lock could not be taken in time. A method with another name needs <see cref="WrapperName"/>.</para>
/// <para>On a field or property, the Locksmith analyzers report every read or write made outside code that holds the
/// lock: a guarded method of the lock, a <c>using</c> scope of the lock's <c>Acquire</c>, or a constructor.</para>
/// </remarks>
/// <example>
/// <code>
/// public partial class Account
/// {
///     [LockOrder(10)] private readonly ExclusiveLock _lock = new();
///     [Guarded(Lock = nameof(_lock))] private decimal _balance;
///
///     [Guarded(Lock = nameof(_lock))]
///     private void DepositCore(decimal amount) => _balance += amount;   // generated: public void Deposit(decimal amount)
/// }
/// </code>
/// </example>
[AttributeUsage(AttributeTargets.Field | AttributeTargets.Property | AttributeTargets.Method, AllowMultiple = false, Inherited = false)]
public sealed class GuardedAttribute : Attribute
{
    /// <summary>The lock member (field or property) of this type that guards the target; write <c>nameof(_lock)</c>. Required.</summary>
    public string Lock { get; set; } = string.Empty;

    /// <summary>
    /// How the target uses the lock: <see cref="LockAccess.Write"/> (exclusive, the default) or
    /// <see cref="LockAccess.Read"/> (the read mode of a read-write lock; the method must not assign guarded state).
    /// </summary>
    public LockAccess Access { get; set; }

    /// <summary>
    /// For a keyed lock such as <c>StripedLock&lt;TKey&gt;</c>: the parameter (<c>nameof(key)</c>) whose value picks the
    /// stripe to take. Required for a keyed lock, not allowed for any other.
    /// </summary>
    public string? StripeBy { get; set; }

    /// <summary>
    /// How long the generated wrapper waits for the lock before it throws <see cref="LockTimeoutException"/>:
    /// 0 (the default) uses <see cref="LocksmithPolicy.DefaultTimeout"/>, -1 waits forever, a positive value is milliseconds.
    /// </summary>
    public int TimeoutMilliseconds { get; set; }

    /// <summary>
    /// The name of the generated wrapper. By default a method <c>XxxCore</c> gets <c>Xxx</c> (and <c>TryXxx</c>; a
    /// wrapper already named <c>TryXxx</c> gets <c>TryXxxWithin</c>); a method whose name does not end in <c>Core</c>
    /// must set it.
    /// </summary>
    public string? WrapperName { get; set; }

    /// <summary>
    /// The accessibility of the generated wrappers. When it is not set, the widest one that every type of the signature
    /// allows (<see cref="WrapperVisibility.Public"/> when they are all public); when it is set, the signature must allow it.
    /// </summary>
    public WrapperVisibility Visibility { get; set; }
}
