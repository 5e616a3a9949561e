namespace Locksmith;

/// <summary>The operations a controlled scheduler sees (Locksmith.Testing names them in its traces).</summary>
internal enum SchedulingOperation
{
    /// <summary>A lock acquisition, before its attempt.</summary>
    Acquire,

    /// <summary>A read-write lock's read acquisition, before its attempt.</summary>
    AcquireRead,

    /// <summary>A read-write lock's write acquisition, before its attempt.</summary>
    AcquireWrite,

    /// <summary>A lock release, after it.</summary>
    Release,

    /// <summary>A wait for a lock that was taken.</summary>
    Blocked,

    /// <summary>A condition-variable wait (after the waiter enlisted, before it releases the lock).</summary>
    Wait,

    /// <summary>A condition-variable notification of one waiter.</summary>
    Notify,

    /// <summary>A condition-variable notification of all waiters.</summary>
    NotifyAll,

    /// <summary>A barrier arrival.</summary>
    Arrive,

    /// <summary>A counter read.</summary>
    CounterRead,

    /// <summary>A counter update.</summary>
    CounterWrite,
}
