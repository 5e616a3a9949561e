namespace Locksmith.Generators.Guarded.Models;

/// <summary>Which acquisition a wrapper emits.</summary>
internal enum AcquireMode
{
    /// <summary><c>Acquire</c> / <c>TryAcquire</c> (exclusive or keyed locks).</summary>
    Exclusive,

    /// <summary><c>AcquireRead</c> / <c>TryAcquireRead</c>.</summary>
    Read,

    /// <summary><c>AcquireWrite</c> / <c>TryAcquireWrite</c>.</summary>
    Write,

    /// <summary><c>LockSet.Acquire</c> / <c>LockSet.TryAcquire</c> over several locks.</summary>
    Set,

    /// <summary>
    /// <c>AcquireManyAsync(keys)</c> of an async keyed lock: several keys of one lock (<c>[AcquiresLocksOf]</c> naming
    /// key parameters), taken together in key order by the lock itself. No timed form: the lock has no timed
    /// <c>AcquireManyAsync</c>.
    /// </summary>
    KeySet,

    /// <summary>
    /// <see cref="KeySet"/> over a lock that also has <c>AcquireManyAsync(keys, TimeSpan, CancellationToken)</c> and
    /// <c>TryAcquireManyAsync(keys, TimeSpan, CancellationToken)</c>: a timeout and a timed form, as the other modes have.
    /// </summary>
    TimedKeySet,
}
