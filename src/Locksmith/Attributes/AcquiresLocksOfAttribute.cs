using System;

namespace Locksmith;

/// <summary>
/// Declares that a method needs the locks of several objects, each passed as a parameter: the generated wrapper takes
/// them all at once in the global lock order (level, then id) through <c>LockSet</c>, then calls the method.
/// </summary>
/// <remarks>
/// The method is named <c>XxxCore</c> (the wrapper is <c>Xxx</c>, with a timed <c>TryXxx</c>) or sets
/// <see cref="WrapperName"/>. Inside it, the guarded state of the named parameters counts as held.
/// </remarks>
/// <example>
/// <code>
/// [AcquiresLocksOf(nameof(from), nameof(to), Lock = nameof(_lock))]
/// private static void TransferCore(Account from, Account to, decimal amount)
/// {
///     from._balance -= amount;
///     to._balance += amount;
/// }
/// // generated: public static void Transfer(Account from, Account to, decimal amount)
/// </code>
/// </example>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false, Inherited = false)]
public sealed class AcquiresLocksOfAttribute : Attribute
{
    /// <summary>Names the parameters whose locks the method needs.</summary>
    /// <param name="parameterNames">The parameters; write <c>nameof(from), nameof(to)</c>.</param>
    public AcquiresLocksOfAttribute(params string[] parameterNames)
    {
        ParameterNames = parameterNames ?? [];
    }

    /// <summary>The parameters whose locks the method needs.</summary>
    public string[] ParameterNames { get; }

    /// <summary>The lock member on the parameters' type; write <c>nameof(_lock)</c>. Required.</summary>
    public string Lock { get; set; } = string.Empty;

    /// <summary>
    /// How long the wrapper waits for all the locks before it throws <see cref="LockTimeoutException"/>:
    /// 0 (the default) uses <see cref="LocksmithPolicy.DefaultTimeout"/>, -1 waits forever, a positive value is milliseconds.
    /// </summary>
    public int TimeoutMilliseconds { get; set; }

    /// <summary>The name of the generated wrapper; by default <c>XxxCore</c> gets <c>Xxx</c>.</summary>
    public string? WrapperName { get; set; }

    /// <summary>
    /// The accessibility of the generated wrappers. When it is not set, the widest one that every type of the signature
    /// allows (<see cref="WrapperVisibility.Public"/> when they are all public); when it is set, the signature must allow it.
    /// </summary>
    public WrapperVisibility Visibility { get; set; }
}
