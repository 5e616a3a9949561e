namespace Locksmith.Testing;

/// <summary>Why a controlled run failed.</summary>
public enum ControlledFailureKind
{
    /// <summary>A check of the scenario (<see cref="Scenario.Finally(System.Action)"/>) threw.</summary>
    Assertion,

    /// <summary>
    /// Every live flow was blocked on a Locksmith lock, semaphore, condition or barrier that nothing left could release,
    /// notify or reach (the report names the cycle, or why no flow can end the wait: a holder that finished, a missed
    /// notification, a barrier short of participants).
    /// </summary>
    Deadlock,

    /// <summary>The run took more than <see cref="ControlledTestOptions.MaxSteps"/> scheduling points: a livelock or a spin that never ends.</summary>
    StepBoundExceeded,

    /// <summary>An exception escaped a flow.</summary>
    UnhandledException,

    /// <summary>
    /// The run could not go on for <see cref="ControlledTestOptions.IdleTimeout"/> of real time: a flow blocked on something
    /// outside Locksmith (a <c>SemaphoreSlim</c>, <c>Monitor</c>, a task's <c>Wait</c>) or spinning without a scheduling
    /// point, an async flow awaiting something outside Locksmith (a timer, I/O), or flows waiting for a lock or permits that
    /// code outside the run (a <c>Task.Run</c> body, a timer's callback) holds and did not give back; or a replayed
    /// schedule no longer fits the scenario. The report names the flow and what it waits for.
    /// </summary>
    Stuck,
}
