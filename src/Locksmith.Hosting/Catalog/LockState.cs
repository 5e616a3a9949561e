namespace Locksmith.Hosting;

/// <summary>A lock's live state as its type exposes it, read for the catalog; a snapshot, stale at once.</summary>
/// <param name="IsHeld">Whether anyone holds the lock (in any mode).</param>
/// <param name="HolderId">
/// The exclusive holder's managed thread id, or its async flow id (2^30 and up); 0 when free, held shared, or not exposed.
/// </param>
/// <param name="WaitingCount">How many wait for the lock, where the type exposes it; otherwise null.</param>
/// <param name="SharedCount">Readers of a read-write lock, or permits taken from a semaphore; null for other kinds.</param>
public readonly record struct LockState(bool IsHeld, int HolderId = 0, int? WaitingCount = null, int? SharedCount = null);
