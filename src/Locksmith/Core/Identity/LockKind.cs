namespace Locksmith;

/// <summary>The kind of a Locksmith primitive, as reported in diagnostics and metrics (<c>lock.kind</c>).</summary>
public enum LockKind
{
    /// <summary>A non-reentrant mutual-exclusion lock (<see cref="ExclusiveLock"/>).</summary>
    Exclusive,

    /// <summary>A mutual-exclusion lock its owner may acquire again (<c>ReentrantLock</c>).</summary>
    Reentrant,

    /// <summary>A counting semaphore with no owner (<c>CountingSemaphore</c>).</summary>
    Semaphore,

    /// <summary>A busy-waiting lock for very short critical sections (<see cref="SpinGate"/>).</summary>
    Spin,

    /// <summary>A lock with shared read and exclusive write modes.</summary>
    ReadWrite,

    /// <summary>A set of locks chosen by key.</summary>
    Striped,

    /// <summary>A non-reentrant mutual-exclusion lock owned by an async flow (<c>AsyncExclusiveLock</c>).</summary>
    AsyncExclusive,

    /// <summary>A lock with shared read and exclusive write modes, owned by async flows (<c>AsyncReadWriteLock</c>).</summary>
    AsyncReadWrite,

    /// <summary>A set of async locks chosen by key (<c>AsyncStripedLock</c>).</summary>
    AsyncStriped,

    /// <summary>An exclusive lock held in a shared server for every process that uses it (a PostgreSQL advisory lock).</summary>
    DistributedExclusive,

    /// <summary>A lock with shared read and exclusive write modes held in a shared server (PostgreSQL advisory locks).</summary>
    DistributedReadWrite,

    /// <summary>A class of exclusive locks chosen by key, held in a shared server (PostgreSQL advisory locks).</summary>
    DistributedKeyed,
}
