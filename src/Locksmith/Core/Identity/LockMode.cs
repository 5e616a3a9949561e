namespace Locksmith;

/// <summary>How a lock is held, as reported in diagnostics and metrics (<c>lock.mode</c>).</summary>
public enum LockMode
{
    /// <summary>Held by one owner alone.</summary>
    Exclusive,

    /// <summary>Held in shared read mode, alongside other readers.</summary>
    Read,

    /// <summary>Held in exclusive write mode.</summary>
    Write,

    /// <summary>One or more permits of a semaphore.</summary>
    Permit,
}
