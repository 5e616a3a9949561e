using System;

namespace Locksmith.Testing;

/// <summary>How many schedules a controlled test explores, and how.</summary>
public sealed record ControlledTestOptions
{
    private static readonly TimeSpan s_longestIdleTimeout = TimeSpan.FromMilliseconds(int.MaxValue);

    /// <summary>
    /// The strategy that picks the next flow. Default: <see cref="SchedulingStrategy.Portfolio"/> (iterations take turns
    /// between Random, Pct(2) and Pct(3)); a strategy set here is used for every iteration.
    /// </summary>
    public SchedulingStrategy Strategy { get; init; } = SchedulingStrategy.Portfolio;

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
    /// when no flow can run, for code outside the run (a <c>Task.Run</c> body) to release a lock or permits flows wait for,
    /// or for a flow that reaches no scheduling point; then the run fails as stuck. A deadlock among the flows alone is
    /// reported at once, without this wait. Default: 30 seconds;
    /// at most <see cref="int.MaxValue"/> milliseconds (about 24.8 days), the longest wait the run can make. Not
    /// <see cref="System.Threading.Timeout.InfiniteTimeSpan"/>: while a debugger is attached, a flow paused at a breakpoint
    /// is waited for without it.
    /// </summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromSeconds(30);

    internal void Validate()
    {
        ArgumentNullException.ThrowIfNull(Strategy);
        ArgumentOutOfRangeException.ThrowIfLessThan(Iterations, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxSteps, 1);

        // Not allowed: a flow blocked outside Locksmith would hang the test for good instead of failing it as Stuck, and the
        // case that wants no limit, a flow paused at a breakpoint, is already waited for while a debugger is attached.
        if (IdleTimeout == System.Threading.Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentOutOfRangeException(
                nameof(IdleTimeout),
                IdleTimeout,
                "IdleTimeout cannot be infinite: a flow blocked on something outside Locksmith would then hang the test for good " +
                "instead of failing it as Stuck. While a debugger is attached, a flow paused at a breakpoint is waited for without " +
                "a limit anyway; for a real delay give a finite IdleTimeout (at most int.MaxValue ms, about 24.8 days).");
        }

        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(IdleTimeout, TimeSpan.Zero);

        // The run waits with it (Monitor.Wait, ManualResetEventSlim.Wait), which take at most int.MaxValue ms: refuse a longer
        // one here, naming the option, rather than from the first wait once the flows have started.
        ArgumentOutOfRangeException.ThrowIfGreaterThan(IdleTimeout, s_longestIdleTimeout);
    }
}
