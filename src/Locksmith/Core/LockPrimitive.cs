using System.Threading;

namespace Locksmith;

/// <summary>
/// The identity every Locksmith lock shares: a name for messages and metrics, an optional order level,
/// its kind, and a process-unique id that breaks ties between locks of one level.
/// </summary>
/// <remarks>
/// Only locks with a <see cref="Level"/> take part in global lock-order checking; an unordered lock pays
/// nothing for it on its fast path.
/// </remarks>
public abstract class LockPrimitive
{
    private static long s_nextId;

    // Kept as plain fields so the inlined fast paths test them without a property call.
    internal readonly bool IsOrdered;
    internal readonly int OrderLevel;
    internal readonly string KindTag;

    private protected LockPrimitive(string? name, int? level, LockKind kind)
    {
        Id = Interlocked.Increment(ref s_nextId);
        Kind = kind;
        KindTag = LockKindNames.Of(kind);
        Name = string.IsNullOrWhiteSpace(name) ? $"{GetType().Name}#{Id}" : name;
        Level = level;
        IsOrdered = level.HasValue;
        OrderLevel = level.GetValueOrDefault();
    }

    /// <summary>The lock's name, used in every exception message, diagnostic and metric tag.</summary>
    public string Name { get; }

    /// <summary>
    /// The lock's level in the global lock order, or <see langword="null"/> if the lock is unordered.
    /// A thread may only acquire an ordered lock whose level is greater than every ordered lock it holds.
    /// </summary>
    public int? Level { get; }

    /// <summary>The kind of primitive.</summary>
    public LockKind Kind { get; }

    /// <summary>A process-unique id; the global order sorts locks of one level by it.</summary>
    public long Id { get; }

    /// <summary>
    /// The managed thread id of the thread that holds the lock exclusively, or 0 when it is free or is held
    /// only in a shared mode. Diagnostics (deadlock detection, timeout messages) read it; it is a snapshot.
    /// </summary>
    internal abstract int ExclusiveOwnerId { get; }

    /// <summary>
    /// Acquires the lock exclusively (write mode, one permit) for <c>LockSet</c>, which has already checked the
    /// global order for the whole set: no order check here, but the lock is recorded as held.
    /// </summary>
    /// <returns>False when <paramref name="timeoutMs"/> (0 = try once, -1 = infinite) elapsed.</returns>
    internal abstract bool EnterForSet(int timeoutMs, CancellationToken cancellationToken);

    /// <summary>Releases what <see cref="EnterForSet"/> acquired.</summary>
    internal abstract void ExitForSet();

    /// <inheritdoc/>
    public override string ToString() => Level is { } level ? $"{Name} (level {level})" : Name;

    /// <summary>The name and level as messages print them.</summary>
    internal string Describe() => Level is { } level ? $"'{Name}' (level {level})" : $"'{Name}'";
}
