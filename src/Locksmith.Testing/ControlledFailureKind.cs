namespace Locksmith.Testing;

/// <summary>Why a controlled run failed.</summary>
public enum ControlledFailureKind
{
    /// <summary>A check of the scenario (<see cref="Scenario.Finally(System.Action)"/>) threw.</summary>
    Assertion,

    /// <summary>Every live flow was blocked on a Locksmith lock, condition or barrier (the report names the cycle).</summary>
    Deadlock,

    /// <summary>The run took more than <see cref="ControlledTestOptions.MaxSteps"/> scheduling points: a livelock or a spin that never ends.</summary>
    StepBoundExceeded,

    /// <summary>An exception escaped a flow.</summary>
    UnhandledException,

    /// <summary>
    /// The run could not go on: an async flow awaited something outside Locksmith for longer than
    /// <see cref="ControlledTestOptions.IdleTimeout"/>, or a replayed schedule no longer fits the scenario.
    /// </summary>
    Stuck,
}
