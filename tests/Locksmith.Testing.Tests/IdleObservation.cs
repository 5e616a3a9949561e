using System;
using System.Threading;
using Locksmith.Testing.Engine;
using Xunit;

namespace Locksmith.Testing.Tests;

/// <summary>
/// Counts a controlled run's idle waits and idle periods that ran out while it lives, and sets <see cref="LetGo"/> at
/// the run's first idle wait: outside code that must not release before the run waits for it waits on that. Disposing
/// it unhooks the observers and sets <see cref="LetGo"/>, so outside code never outlives a run that failed early.
/// </summary>
internal sealed class IdleObservation : IDisposable
{
    private int _idleWaits;
    private int _ranOut;

    public IdleObservation()
    {
        ControlledRun.IdleWaitObserver = _ =>
        {
            if (Interlocked.Increment(ref _idleWaits) >= 2)
            {
                WaitedAgain.Set();
            }

            LetGo.Set();
        };
        ControlledRun.IdleRanOutObserver = () => Interlocked.Increment(ref _ranOut);
    }

    /// <summary>Set at the run's first idle wait, and when the observation ends.</summary>
    public ManualResetEventSlim LetGo { get; } = new();

    /// <summary>Set at the run's second idle wait (not when the observation ends): the scheduler decided to wait again.</summary>
    public ManualResetEventSlim WaitedAgain { get; } = new();

    /// <summary>
    /// The run waited for outside code, and no wait ran out: its verdict came from what the outside code did, not from
    /// the clock.
    /// </summary>
    public void AssertWaitedWithoutRunningOut()
    {
        Assert.Equal(0, Volatile.Read(ref _ranOut));
        Assert.NotEqual(0, Volatile.Read(ref _idleWaits));
    }

    public void Dispose()
    {
        ControlledRun.IdleWaitObserver = null;
        ControlledRun.IdleRanOutObserver = null;

        // Set, not disposed: an outside thread may still be about to wait on it (it has no wait handle to free).
        LetGo.Set();
    }
}
