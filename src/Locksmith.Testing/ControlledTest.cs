using System;
using Locksmith.Testing.Engine;

namespace Locksmith.Testing;

/// <summary>
/// Runs a scenario of threads and async flows under a controlled scheduler: exactly one flow runs at a time, and every
/// Locksmith operation (acquire, release, condition wait and notify, barrier arrival, counter read and update, and
/// <see cref="Interleave"/>) is a point where the scheduler may switch to another flow. Each iteration explores one
/// schedule; a failure reports the seed, the schedule, a trace of lock operations and a line that replays it.
/// </summary>
/// <remarks>
/// Only operations on Locksmith primitives created inside the scenario builder (or inside a flow) are scheduling points
/// and only they are seen: code that synchronizes through something else (<see cref="System.Threading.Monitor"/>,
/// <see cref="System.Threading.Interlocked"/>, a <see cref="System.Threading.Tasks.Task"/> run on the pool) runs
/// uncontrolled. <see cref="StripedCounter"/> operations are not scheduling points (its few-nanosecond add would pay
/// for the check); use <see cref="AtomicCounter"/> or <see cref="Interleave"/> where a counter's interleaving matters.
/// A finite timeout never elapses in real time: the scheduler may choose to time a wait out when no flow could run
/// otherwise. An async flow that awaits a timer or I/O is waited for in real time, which makes its schedule depend on
/// timing: a replay by schedule waits for such a flow where the schedule runs it next, but a rerun by seed follows the
/// original only when the awaits come back in the same order; for runs that replay exactly both ways await only
/// Locksmith operations and <see cref="System.Threading.Tasks.Task.Yield"/>.
/// </remarks>
public static class ControlledTest
{
    /// <summary>Explores up to <see cref="ControlledTestOptions.Iterations"/> schedules and stops at the first failure.</summary>
    /// <param name="build">Adds the flows and checks to a fresh scenario; called once per run.</param>
    /// <param name="options">The strategy, seed and bounds; the defaults if null.</param>
    /// <returns>Passed, or the first failure's report.</returns>
    /// <exception cref="InvalidOperationException"><paramref name="build"/> threw; the message names the iteration and seed, and the builder's exception is its <see cref="Exception.InnerException"/>.</exception>
    public static ControlledTestResult Run(Action<Scenario> build, ControlledTestOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(build);
        options ??= new ControlledTestOptions();
        options.Validate();
        return Explorer.Explore(build, options, stopAfter: options.Iterations);
    }

    /// <summary>Like <see cref="Run"/>, but throws when a run fails: the form for a test method.</summary>
    /// <param name="build">Adds the flows and checks to a fresh scenario; called once per run.</param>
    /// <param name="options">The strategy, seed and bounds; the defaults if null.</param>
    /// <returns>The passing result (runs and steps made).</returns>
    /// <exception cref="ControlledTestFailure">A run failed; the message is the full report.</exception>
    /// <exception cref="InvalidOperationException"><paramref name="build"/> threw; the message names the iteration and seed, and the builder's exception is its <see cref="Exception.InnerException"/>.</exception>
    public static ControlledTestResult Check(Action<Scenario> build, ControlledTestOptions? options = null)
    {
        var result = Run(build, options);
        return result.Failure is { } failure ? throw new ControlledTestFailure(failure) : result;
    }

    /// <summary>Runs exactly the schedule a report gave (<see cref="ControlledTestReport.Schedule"/>): the same failure, the same trace.</summary>
    /// <param name="build">The same scenario builder as the run that failed.</param>
    /// <param name="schedule">The schedule string; spaces and line breaks around it are ignored.</param>
    /// <param name="options">Only the bounds are used (<see cref="ControlledTestOptions.MaxSteps"/>, <see cref="ControlledTestOptions.IdleTimeout"/>,
    /// which is also how long the replay waits for a flow its next choice runs while that flow awaits something outside Locksmith).</param>
    /// <returns>The run's result: <see cref="ControlledFailureKind.Stuck"/> when the schedule no longer fits the scenario,
    /// also when choices are left once every flow finished (it was recorded from other code).</returns>
    /// <exception cref="FormatException">The schedule string is empty or malformed, or has more choices than
    /// <see cref="ControlledTestOptions.MaxSteps"/> lets a run make.</exception>
    /// <exception cref="InvalidOperationException"><paramref name="build"/> threw; the message names the iteration and seed, and the builder's exception is its <see cref="Exception.InnerException"/>.</exception>
    public static ControlledTestResult Replay(Action<Scenario> build, string schedule, ControlledTestOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(build);
        ArgumentNullException.ThrowIfNull(schedule);
        options ??= new ControlledTestOptions();
        options.Validate();
        return Explorer.Replay(build, options, ScheduleCodec.Decode(schedule, options.MaxSteps));
    }

    /// <summary>
    /// Like <see cref="Replay(Action{Scenario}, string, ControlledTestOptions?)"/>, but throws when the replayed run fails:
    /// the form a report's replay line uses, so that line pasted into a test fails the test while the run fails.
    /// </summary>
    /// <param name="build">The same scenario builder as the run that failed.</param>
    /// <param name="schedule">The schedule string; spaces and line breaks around it are ignored.</param>
    /// <param name="options">Only the bounds are used, as in <see cref="Replay(Action{Scenario}, string, ControlledTestOptions?)"/>.</param>
    /// <returns>The passing result.</returns>
    /// <exception cref="ControlledTestFailure">The replayed run failed; the message is the full report.</exception>
    /// <exception cref="FormatException">The schedule string is empty or malformed, or has more choices than
    /// <see cref="ControlledTestOptions.MaxSteps"/> lets a run make.</exception>
    /// <exception cref="InvalidOperationException"><paramref name="build"/> threw; the message names the iteration and seed, and the builder's exception is its <see cref="Exception.InnerException"/>.</exception>
    public static ControlledTestResult CheckReplay(Action<Scenario> build, string schedule, ControlledTestOptions? options = null)
    {
        var result = Replay(build, schedule, options);
        return result.Failure is { } failure ? throw new ControlledTestFailure(failure) : result;
    }

    /// <summary>
    /// Runs the iterations of <paramref name="options"/> again up to <paramref name="iteration"/> and returns that
    /// iteration's result (the PCT strategy learns its step estimate from earlier iterations, so they run too).
    /// </summary>
    /// <param name="build">The same scenario builder.</param>
    /// <param name="options">The same strategy and seed as the run that failed.</param>
    /// <param name="iteration">The iteration the report named.</param>
    /// <returns>The result of that iteration (or of an earlier one, if it failed first).</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="iteration"/> is negative, or not below the options'
    /// <see cref="ControlledTestOptions.Iterations"/> (no run with these options has it).</exception>
    /// <exception cref="InvalidOperationException"><paramref name="build"/> threw; the message names the iteration and seed, and the builder's exception is its <see cref="Exception.InnerException"/>.</exception>
    public static ControlledTestResult Replay(Action<Scenario> build, ControlledTestOptions options, int iteration)
    {
        ArgumentNullException.ThrowIfNull(build);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        ArgumentOutOfRangeException.ThrowIfNegative(iteration);
        if (iteration >= options.Iterations)
        {
            // The report's iteration comes from a run with these options: a larger one means different options.
            throw new ArgumentOutOfRangeException(
                nameof(iteration),
                iteration,
                $"Iteration {iteration} is not in a run of {options.Iterations} iteration(s) (0 to {options.Iterations - 1}). " +
                "Pass the options of the run whose report named it (its Iterations, Strategy and Seed).");
        }

        return Explorer.Explore(build, options, stopAfter: iteration + 1);
    }

    /// <summary>
    /// An explicit scheduling point: inside a controlled flow the scheduler may run another flow here; anywhere else it
    /// does nothing. Add it where a flow touches shared state without a Locksmith operation.
    /// </summary>
    public static void Interleave() => ControlledRun.InterleaveCurrent();
}
