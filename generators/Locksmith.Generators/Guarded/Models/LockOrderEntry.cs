using Locksmith.Generators.Helpers;

namespace Locksmith.Generators.Guarded.Models;

/// <summary>A lock member's declared level, for the check that two locks of one type do not share one.</summary>
/// <param name="TypeName">The type that declares the lock.</param>
/// <param name="MemberName">The lock member.</param>
/// <param name="Level">The declared level.</param>
/// <param name="Location">Where to report a clash (diagnostics branch only).</param>
internal sealed record LockOrderEntry(string TypeName, string MemberName, int Level, LocationInfo? Location);

/// <summary>What the parser makes of one <c>[LockOrder]</c>: the entry (when the member is a lock) and diagnostics.</summary>
internal sealed record ParsedLockOrder(LockOrderEntry? Entry, EquatableArray<DiagnosticInfo> Diagnostics);
