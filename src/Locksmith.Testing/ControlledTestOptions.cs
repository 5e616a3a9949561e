using System;

namespace Locksmith.Testing;

/// <summary>How many schedules a controlled test explores, and how.</summary>
public sealed class ControlledTestOptions
{
    /// <summary>The strategy that picks the next flow. Default: <see cref="SchedulingStrategy.Random"/>.</summary>
    public SchedulingStrategy Strategy { get; init; } = SchedulingStrategy.Random;

    /// <summary>The seed; each iteration derives its own generator from it and its number. Default: 0.</summary>
    public int Seed { get; init; }

    /// <summary>How many runs (schedules) to explore; the test stops at the first failure. Default: 100.</summary>
    public int Iterations { get; init; } = 100;

    /// <summary>
    /// The scheduling points one run may take before it is reported as a livelock (a flow that keeps running without
    /// the scenario finishing). Default: 10,000.
    /// </summary>
    public int MaxSteps { get; init; } = 10_000;

    /// <summary>
    /// How long a run waits, in real time, for an async flow that awaits something outside Locksmith (a timer, I/O)
    /// when no flow can run, or for a flow that reaches no scheduling point; then the run fails as stuck. Default: 30 seconds.
    /// </summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromSeconds(30);

    internal void Validate()
    {
        ArgumentNullException.ThrowIfNull(Strategy);
        ArgumentOutOfRangeException.ThrowIfLessThan(Iterations, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxSteps, 1);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(IdleTimeout, TimeSpan.Zero);
    }
}
