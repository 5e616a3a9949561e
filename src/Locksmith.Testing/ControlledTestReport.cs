using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace Locksmith.Testing;

/// <summary>
/// What a failed controlled run tells: the kind of failure, where to find it again (seed, iteration, schedule), and the
/// trace of lock operations that led to it.
/// </summary>
public sealed class ControlledTestReport
{
    // A livelock's trace runs to the step bound; the message shows its end, the Trace property all of it.
    private const int MessageTraceLines = 200;

    internal ControlledTestReport(
        ControlledFailureKind kind, string summary, int seed, int iteration, SchedulingStrategy strategy, int steps, string schedule,
        IReadOnlyList<TraceEntry> trace, IReadOnlyList<WaitForEdge> waits, Exception? exception, string? flow, bool replayOfSchedule = false,
        ControlledTestOptions? bounds = null)
    {
        IsReplayOfSchedule = replayOfSchedule;
        _bounds = BoundsInitializers(bounds);
        Kind = kind;
        Summary = summary;
        Seed = seed;
        Iteration = iteration;
        Strategy = strategy;
        Steps = steps;
        Schedule = schedule;
        Trace = trace;
        Waits = waits;
        Exception = exception;
        Flow = flow;
    }

    /// <summary>The kind of failure.</summary>
    public ControlledFailureKind Kind { get; }

    /// <summary>One sentence on what went wrong.</summary>
    public string Summary { get; }

    /// <summary>The seed of the test (<see cref="ControlledTestOptions.Seed"/>).</summary>
    public int Seed { get; }

    /// <summary>The iteration (0-based) that failed; with <see cref="Seed"/> and the strategy it names the run.</summary>
    public int Iteration { get; }

    /// <summary>
    /// The strategy of the options that chose the schedule (for <see cref="SchedulingStrategy.Portfolio"/>, the report's
    /// first line also names the member that chose this iteration).
    /// </summary>
    public SchedulingStrategy Strategy { get; }

    /// <summary>The scheduling steps the run took.</summary>
    public int Steps { get; }

    /// <summary>
    /// The choices the scheduler made, one letter per flow (<c>a</c> is the first flow the scenario added), a count
    /// after a letter that repeats, and <c>!</c> before a flow whose timed wait the scheduler ended. Pass it to
    /// <see cref="ControlledTest.Replay(Action{Scenario}, string, ControlledTestOptions?)"/> to run exactly this schedule again.
    /// A replay's report gives the schedule it was given (<see cref="IsReplayOfSchedule"/>), also when the run failed or no
    /// longer fit before its end, so replaying it gives this failure again.
    /// </summary>
    public string Schedule { get; }

    /// <summary>Every operation of the run, in order.</summary>
    public IReadOnlyList<TraceEntry> Trace { get; }

    /// <summary>
    /// For a deadlock: the cycle of waits (flow → lock → holding flow), or, when there is no cycle among the flows,
    /// every blocked flow's wait. Empty for other failures.
    /// </summary>
    public IReadOnlyList<WaitForEdge> Waits { get; }

    /// <summary>The exception a flow or a check threw, if any.</summary>
    public Exception? Exception { get; }

    /// <summary>The flow the failure happened in, if one did.</summary>
    public string? Flow { get; }

    /// <summary>
    /// Whether the run replayed a given schedule (<see cref="ControlledTest.Replay(Action{Scenario}, string, ControlledTestOptions?)"/>):
    /// no seed chose it, so <see cref="Seed"/>, <see cref="Iteration"/> and <see cref="Strategy"/> name no run to rerun.
    /// </summary>
    public bool IsReplayOfSchedule { get; }

    /// <summary>
    /// The line that replays this run in a test: <see cref="ControlledTest.CheckReplay"/>, which throws while the run
    /// fails, so the test it is pasted into fails too.
    /// </summary>
    /// <remarks>
    /// When the run's <see cref="ControlledTestOptions.MaxSteps"/> or <see cref="ControlledTestOptions.IdleTimeout"/> was not
    /// the default, the line passes them (<c>new ControlledTestOptions { MaxSteps = 60 }</c>): with other bounds the same
    /// schedule may run into the step bound at another point, or wait for a flow for another time.
    /// </remarks>
    public string ReplayLine => _bounds.Length == 0
        ? $"ControlledTest.CheckReplay(scenario, \"{Schedule}\")"
        : $"ControlledTest.CheckReplay(scenario, \"{Schedule}\", new ControlledTestOptions {{ {_bounds} }})";

    // The run's bounds that differ from the defaults, as C# initializers ("MaxSteps = 60, IdleTimeout = …"), or empty: the
    // replay and rerun lines carry them, so that pasted as printed they run the same run.
    private readonly string _bounds;

    private static string BoundsInitializers(ControlledTestOptions? options)
    {
        if (options is null)
        {
            return string.Empty;
        }

        var c = CultureInfo.InvariantCulture;
        var defaults = new ControlledTestOptions();
        var parts = new List<string>(2);
        if (options.MaxSteps != defaults.MaxSteps)
        {
            parts.Add(string.Create(c, $"MaxSteps = {options.MaxSteps}"));
        }

        if (options.IdleTimeout != defaults.IdleTimeout)
        {
            var idle = options.IdleTimeout;
            parts.Add(idle.Ticks % TimeSpan.TicksPerSecond == 0
                ? string.Create(c, $"IdleTimeout = TimeSpan.FromSeconds({idle.Ticks / TimeSpan.TicksPerSecond})")
                : idle.Ticks % TimeSpan.TicksPerMillisecond == 0
                    ? string.Create(c, $"IdleTimeout = TimeSpan.FromMilliseconds({idle.Ticks / TimeSpan.TicksPerMillisecond})")
                    : string.Create(c, $"IdleTimeout = TimeSpan.FromTicks({idle.Ticks})"));
        }

        return string.Join(", ", parts);
    }

    /// <summary>The full report: summary, waits, replay line, seed, trace and exception.</summary>
    /// <returns>The report as text.</returns>
    public override string ToString()
    {
        var text = new StringBuilder();
        var c = CultureInfo.InvariantCulture;
        if (IsReplayOfSchedule)
        {
            text.Append(c, $"Controlled test failed ({Kind}) in a replay of schedule \"{Schedule}\" ({Steps} {(Steps == 1 ? "step" : "steps")}): {Summary}").AppendLine();
        }
        else
        {
            // A portfolio's report names the member that chose this run too; the rerun line keeps the portfolio, as the
            // member alone would choose different runs.
            var chose = Strategy.ForIteration(Iteration);
            string strategy = ReferenceEquals(chose, Strategy) ? Strategy.ToString() : $"{Strategy}, {chose} in this iteration";
            text.Append(c, $"Controlled test failed ({Kind}) in iteration {Iteration} (seed {Seed}, strategy {strategy}, {Steps} {(Steps == 1 ? "step" : "steps")}): {Summary}").AppendLine();
        }

        foreach (var wait in Waits)
        {
            text.Append("  ").Append(wait.ToString()).AppendLine();
        }

        text.Append("Replay: ").Append(ReplayLine).AppendLine();
        if (!IsReplayOfSchedule)
        {
            // C# to paste, as the replay line is: the options that run up to this iteration again.
            text.Append(c, $"Or rerun: new ControlledTestOptions {{ Seed = {Seed}, Strategy = SchedulingStrategy.{Strategy}, Iterations = {Iteration + 1}{(_bounds.Length == 0 ? string.Empty : ", " + _bounds)} }} (the last iteration fails)").AppendLine();
        }

        text.AppendLine("Trace:");
        int first = Math.Max(0, Trace.Count - MessageTraceLines);
        if (first > 0)
        {
            text.Append(c, $"  … {first} earlier entries (see ControlledTestReport.Trace)").AppendLine();
        }

        for (int i = first; i < Trace.Count; i++)
        {
            text.Append(Trace[i].ToString()).AppendLine();
        }

        if (Exception is not null)
        {
            text.AppendLine("Exception:").Append(Exception.ToString()).AppendLine();
        }

        return text.ToString();
    }
}
