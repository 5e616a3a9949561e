namespace Locksmith.Generators.Guarded.Models;

/// <summary>One lock a wrapper takes.</summary>
/// <param name="Expression">The lock as C# text: <c>this._lock</c>, <c>global::Ns.Type.s_lock</c>, <c>from._lock</c>.</param>
/// <param name="DeclaredName">The name passed to <c>EnsureDeclared</c>, or null when the lock is no <c>LockPrimitive</c>.</param>
/// <param name="Level">The <c>[LockOrder]</c> level, or null.</param>
/// <param name="Policy">The <c>ReadWritePolicy</c> expression from <c>[ReadMostly]</c>, or null.</param>
/// <param name="NullCheckedParameter">A parameter whose lock this is, checked for null first; null for own locks.</param>
internal sealed record LockTargetModel(string Expression, string? DeclaredName, int? Level, string? Policy, string? NullCheckedParameter);
