namespace Locksmith;

/// <summary>How a guarded member or method uses its lock.</summary>
public enum LockAccess
{
    /// <summary>Exclusive access: the lock's only mode, or the write mode of a read-write lock. The default.</summary>
    Write = 0,

    /// <summary>Shared access: the read mode of a read-write lock. Code holding it must not change guarded state.</summary>
    Read = 1,
}
