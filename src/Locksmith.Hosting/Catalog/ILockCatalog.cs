using System.Collections.Generic;

namespace Locksmith.Hosting;

/// <summary>
/// Every lock the container declared (through <see cref="ILocksmithBuilder"/>): what exists, in which global order,
/// who holds each and how many wait. Resolve it from the container.
/// </summary>
public interface ILockCatalog
{
    /// <summary>The declared lock names, in registration order, without creating any lock.</summary>
    IReadOnlyCollection<string> Names { get; }

    /// <summary>
    /// Reads every lock now (creating those not yet resolved) and returns them in the global order: ordered locks by
    /// level then name, then unordered locks by name. The <c>[LockOrder]</c> declarations of generated classes in loaded
    /// assemblies are listed among them, marked <see cref="LockCatalogEntry.IsDeclared"/>, even before any such lock
    /// exists. Plain data; the next call reads again.
    /// </summary>
    IReadOnlyList<LockCatalogEntry> Snapshot();

    /// <summary>
    /// The nestings the container's locks have seen since the host started (while
    /// <see cref="LocksmithOptions.StatisticsEnabled"/>): for each of its ordered locks taken while another ordered
    /// lock was held, the most recently taken held lock (the outer one, which may be any lock) and how many times.
    /// Sorted by the outer lock's level, then names. A stripe counts as its striped lock, outer or inner (<c>'ledger' →
    /// 'orders'</c>, not <c>'orders[3]'</c>), so striped locks are listed by their own names.
    /// </summary>
    IReadOnlyList<LockNestingEdge> NestingEdges();
}
