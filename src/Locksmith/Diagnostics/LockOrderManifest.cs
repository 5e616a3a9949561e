using System;
using System.Collections.Generic;
using System.ComponentModel;
using System.Threading;

namespace Locksmith;

/// <summary>
/// The <c>[LockOrder]</c> levels the source generator saw in the loaded assemblies, registered by each assembly's
/// module initializer, so tools can show the declared order before any lock is created. Off every hot path.
/// </summary>
public static class LockOrderManifest
{
    private static readonly object s_gate = new();
    private static LockOrderDeclaration[] s_entries = [];

    /// <summary>Every declaration registered so far, in registration order; a snapshot.</summary>
    public static IReadOnlyList<LockOrderDeclaration> Entries => Volatile.Read(ref s_entries);

    /// <summary>Called by generated module initializers; not for user code. A repeated declaration is ignored.</summary>
    /// <param name="typeName">The type that declares the lock.</param>
    /// <param name="memberName">The lock member.</param>
    /// <param name="level">The declared level.</param>
    /// <param name="kind">The kind of the lock member.</param>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public static void Register(string typeName, string memberName, int level, LockKind kind)
    {
        ArgumentNullException.ThrowIfNull(typeName);
        ArgumentNullException.ThrowIfNull(memberName);
        var declaration = new LockOrderDeclaration(typeName, memberName, level, kind);
        lock (s_gate)
        {
            // Copy-on-write: readers take the array without a lock; registrations happen once per assembly load.
            var current = s_entries;
            if (Array.IndexOf(current, declaration) >= 0)
            {
                return;
            }

            var next = new LockOrderDeclaration[current.Length + 1];
            current.CopyTo(next, 0);
            next[^1] = declaration;
            Volatile.Write(ref s_entries, next);
        }
    }
}

/// <summary>One <c>[LockOrder]</c> declaration from <see cref="LockOrderManifest"/>.</summary>
/// <param name="TypeName">The type that declares the lock (its C# display name).</param>
/// <param name="MemberName">The lock member.</param>
/// <param name="Level">The declared level.</param>
/// <param name="Kind">The kind of the lock member.</param>
public readonly record struct LockOrderDeclaration(string TypeName, string MemberName, int Level, LockKind Kind);
