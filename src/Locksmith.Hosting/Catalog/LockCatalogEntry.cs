using System.Collections.Generic;
using System.Text.Json.Serialization;

namespace Locksmith.Hosting;

/// <summary>One lock of the container as the catalog saw it: identity and live state, plain data.</summary>
/// <param name="Name">The lock's name (its service key).</param>
/// <param name="Kind">The kind of primitive.</param>
/// <param name="Level">Its level in the global lock order, or null when unordered.</param>
/// <param name="State">What it was doing when read.</param>
/// <remarks>
/// Serialized as JSON (the health check's <c>locks</c> data, which writers and publishers serialize whole), the kind is
/// its name (<c>"Exclusive"</c>), as logs and the health check's other data name it, not the enum's number.
/// </remarks>
public sealed record LockCatalogEntry(
    string Name,
    [property: JsonConverter(typeof(JsonStringEnumConverter<LockKind>))] LockKind Kind,
    int? Level,
    LockState State)
{
    /// <summary>The first id given to async flows; a <see cref="LockState.HolderId"/> at or above it names a flow.</summary>
    public const int FlowIdBase = 1 << 30;

    internal LockCatalogEntry(LockPrimitive lockPrimitive, LockState state)
        : this(lockPrimitive.Name, lockPrimitive.Kind, lockPrimitive.Level, state)
    {
        LockId = lockPrimitive.Id;
    }

    /// <summary>
    /// The lock instance's <see cref="LockPrimitive.Id"/>, as <see cref="LockWaitInProgress.LockId"/> names a wait's lock;
    /// 0 for a declaration (<see cref="IsDeclared"/>).
    /// </summary>
    public long LockId { get; init; }

    /// <summary>
    /// Whether this entry is a <c>[LockOrder]</c> declaration from the generator's manifest
    /// (<see cref="LockOrderManifest"/>) rather than a lock of the container: named "Type.member", it shows the declared
    /// order before any such lock exists, and its <see cref="State"/> is empty.
    /// </summary>
    public bool IsDeclared { get; init; }

    /// <summary>
    /// The type whose <c>[LockOrder]</c> member declares the lock (its C# name): a declaration's own; for a lock of the
    /// container, the generated class that received it, once a wrapper of that class applied the declaration to this very
    /// instance (the declaration is then not listed apart); null before, and for a lock no generated class declares.
    /// </summary>
    public string? DeclaringType { get; init; }

    /// <summary>The <c>[LockOrder]</c> member of <see cref="DeclaringType"/> (field or property), or null when that is null.</summary>
    public string? DeclaredMember { get; init; }

    /// <summary>
    /// Every <c>[LockOrder]</c> member that declares this lock, as <c>Type.member</c>: <see cref="DeclaringType"/>'s first,
    /// then those of other generated classes that received the same container lock and whose wrappers ran (their
    /// declarations are then not listed apart either); a declaration's own one; empty for a lock no generated class declares.
    /// </summary>
    public IReadOnlyList<string> Declarers { get; init; } = [];

    /// <summary>
    /// What the lock did since the host started: acquisitions, contentions, waits, p99 and longest wait, timeouts
    /// (<see cref="LocksmithOptions.StatisticsEnabled"/>; all 0 when off, for declarations, or before any use).
    /// </summary>
    public LockStatistics Statistics { get; init; }

    /// <summary>Whether the holder is an async flow rather than a thread.</summary>
    public bool HolderIsFlow => State.HolderId >= FlowIdBase;

    /// <summary>"thread 12", "flow #3", or null when no single holder is known.</summary>
    public string? Holder => State.HolderId == 0 ? null : OwnerText(State.HolderId, null);

    /// <summary>
    /// The holder as the runtime's timeout messages and Locksmith's log lines name it (<see cref="LockPrimitive.DescribeHolder"/>):
    /// <c>thread 12 ('worker')</c>, <c>flow #3 ('GET /orders')</c>, so an operator sees which worker or request holds the
    /// lock; <see cref="Holder"/>'s text when no name was known or the holder changed while the catalog read the lock; null
    /// when no single holder is known.
    /// </summary>
    public string? HolderDescription
    {
        get => State.HolderId == 0 ? null : _holderDescription ?? Holder;
        init => _holderDescription = value;
    }

    private readonly string? _holderDescription;

    /// <summary>
    /// <paramref name="description"/> (the lock's <see cref="LockPrimitive.DescribeHolder"/>, read after
    /// <paramref name="state"/>) when it names the holder <paramref name="state"/> gave, else null: the holder may leave
    /// or change between the two reads, and an entry must never pair one holder's id with another's name.
    /// </summary>
    internal static string? DescriptionOf(LockState state, string? description)
    {
        if (state.HolderId == 0 || description is null)
        {
            return null;
        }

        string id = OwnerText(state.HolderId, null);
        return description.StartsWith(id, System.StringComparison.Ordinal) &&
            (description.Length == id.Length || description[id.Length] == ' ')
            ? description
            : null;
    }

    /// <summary>
    /// A thread or flow as the runtime's exceptions name it: <c>thread 12</c>, <c>thread 12 ('worker')</c>, <c>flow #3</c>,
    /// <c>flow #3 ('GET /orders')</c>; <paramref name="name"/> is the thread's name, or the flow's Activity name (as a
    /// deadlock edge gives it), when known.
    /// </summary>
    internal static string OwnerText(int ownerId, string? name) =>
        ownerId >= FlowIdBase
            ? string.IsNullOrEmpty(name) ? $"flow #{ownerId - FlowIdBase}" : $"flow #{ownerId - FlowIdBase} ('{name}')"
            : string.IsNullOrEmpty(name) ? $"thread {ownerId}" : $"thread {ownerId} ('{name}')";
}
