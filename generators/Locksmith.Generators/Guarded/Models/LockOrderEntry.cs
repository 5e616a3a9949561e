using Locksmith.Generators.Helpers;

namespace Locksmith.Generators.Guarded.Models;

/// <summary>A lock member's declared level, for the check that two locks of one type do not share one.</summary>
/// <param name="TypeName">The type that declares the lock.</param>
/// <param name="MemberName">The lock member.</param>
/// <param name="Level">The declared level.</param>
/// <param name="Kind">The <c>LockKind</c> member name of the lock's type, for the manifest.</param>
/// <param name="Location">Where to report a clash (diagnostics branch only).</param>
internal sealed record LockOrderEntry(string TypeName, string MemberName, int Level, string Kind, LocationInfo? Location);

/// <summary>One line of the generated lock-order manifest; no location, so edits elsewhere leave it equal.</summary>
internal sealed record ManifestEntry(string TypeName, string MemberName, int Level, string Kind);

/// <summary>
/// How the manifest's registration class is declared: file-local from C# 11 on, else internal under a name made from
/// the assembly's (file types need C# 11; a friend assembly's class of the same name must not clash).
/// </summary>
/// <param name="FileLocal">Whether the language version has file types.</param>
/// <param name="ClassName">The registration class's name.</param>
internal sealed record ManifestTarget(bool FileLocal, string ClassName);

/// <summary>What the parser makes of one <c>[LockOrder]</c>: the entry (when the member is a lock) and diagnostics.</summary>
internal sealed record ParsedLockOrder(LockOrderEntry? Entry, EquatableArray<DiagnosticInfo> Diagnostics);
