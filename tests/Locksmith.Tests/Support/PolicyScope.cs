using System;

namespace Locksmith.Tests.Support;

/// <summary>Sets process-wide policy for one test and restores it after (tests run sequentially).</summary>
internal sealed class PolicyScope : IDisposable
{
    private readonly TimeSpan _defaultTimeout = LocksmithPolicy.DefaultTimeout;
    private readonly OrderViolationAction _action = LocksmithPolicy.OrderViolationAction;
    private readonly Action<LockOrderViolation>? _onViolation = LocksmithPolicy.OrderViolationReported;
    private readonly Action<LockTimeoutEvent>? _onTimeout = LocksmithPolicy.TimeoutOccurred;
    private readonly Action<LongWaitEvent>? _onLongWait = LocksmithPolicy.LongWaitOccurred;
    private readonly TimeSpan _longWait = LocksmithPolicy.LongWaitThreshold;

    public static PolicyScope DefaultTimeout(TimeSpan timeout)
    {
        var scope = new PolicyScope();
        LocksmithPolicy.DefaultTimeout = timeout;
        return scope;
    }

    public static PolicyScope OrderViolations(OrderViolationAction action, Action<LockOrderViolation>? onViolation = null)
    {
        var scope = new PolicyScope();
        LocksmithPolicy.OrderViolationAction = action;
        LocksmithPolicy.OrderViolationReported = onViolation;
        return scope;
    }

    public static PolicyScope Capture() => new();

    public void Dispose()
    {
        LocksmithPolicy.DefaultTimeout = _defaultTimeout;
        LocksmithPolicy.OrderViolationAction = _action;
        LocksmithPolicy.OrderViolationReported = _onViolation;
        LocksmithPolicy.TimeoutOccurred = _onTimeout;
        LocksmithPolicy.LongWaitOccurred = _onLongWait;
        LocksmithPolicy.LongWaitThreshold = _longWait;
    }
}
