namespace Locksmith;

/// <summary>What the runtime does when a thread acquires locks against the global lock order.</summary>
public enum OrderViolationAction
{
    /// <summary>Throw <see cref="LockOrderViolationException"/> before blocking, so the deadlock never happens. The default.</summary>
    Throw,

    /// <summary>Report the violation to <see cref="LocksmithPolicy.OrderViolationReported"/> and acquire anyway.</summary>
    Report,

    /// <summary>Do not check: acquire as if the locks were unordered.</summary>
    Ignore,
}
