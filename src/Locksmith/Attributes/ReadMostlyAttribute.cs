using System;

namespace Locksmith;

/// <summary>
/// Declares that a type's guarded state is read far more often than written: its <see cref="ReadWriteLock"/> is
/// declared with <see cref="Policy"/>, methods guarded with <see cref="LockAccess.Read"/> get wrappers that take the
/// read lock, and the others take the write lock.
/// </summary>
/// <remarks>The Locksmith analyzers report, as an error, a read-access method that assigns guarded state.</remarks>
/// <example>
/// <code>
/// [ReadMostly(Policy = ReadWritePolicy.WriterPreferred)]
/// public partial class PriceCache
/// {
///     [LockOrder(20)] private readonly ReadWriteLock _lock = new();
///     [Guarded(Lock = nameof(_lock))] private readonly Dictionary&lt;string, decimal&gt; _prices = new();
///
///     [Guarded(Lock = nameof(_lock), Access = LockAccess.Read)]
///     private decimal? FindCore(string sku) => _prices.TryGetValue(sku, out var p) ? p : null;   // Find: read lock
///
///     [Guarded(Lock = nameof(_lock))]
///     private void SetCore(string sku, decimal price) => _prices[sku] = price;                    // Set: write lock
/// }
/// </code>
/// </example>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Struct, AllowMultiple = false, Inherited = false)]
public sealed class ReadMostlyAttribute : Attribute
{
    /// <summary>Who goes first when readers and writers wait; <see cref="ReadWritePolicy.WriterPreferred"/> by default.</summary>
    public ReadWritePolicy Policy { get; set; } = ReadWritePolicy.WriterPreferred;
}
