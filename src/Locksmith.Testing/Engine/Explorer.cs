using System;
using System.Collections.Generic;
using System.Globalization;

namespace Locksmith.Testing.Engine;

/// <summary>Runs iterations of a scenario, each with its own strategy state, and turns the first failure into a report.</summary>
internal static class Explorer
{
    // PCT spreads its change points over the expected run length; before any run has been measured, guess this.
    private const int InitialStepEstimate = 64;

    public static ControlledTestResult Explore(Action<Scenario> build, ControlledTestOptions options, int stopAfter)
    {
        int longest = 0;
        int total = 0;
        for (int iteration = 0; iteration < stopAfter; iteration++)
        {
            int seed = Chooser.IterationSeed(options.Seed, iteration);
            var strategy = options.Strategy.ForIteration(iteration);
            Chooser chooser = strategy.IsPct
                ? new PctChooser(seed, strategy.Depth, longest > 0 ? longest : InitialStepEstimate, options.MaxSteps)
                : new RandomChooser(seed);
            var (run, failure) = RunOnce(build, options, iteration, chooser, replayed: false);
            total += run.Steps;
            // A run that spun into fair PCT's uniform tail says nothing about the length of a run without the spin.
            if (!chooser.WentFair)
            {
                longest = Math.Max(longest, run.Steps);
            }

            if (failure is not null)
            {
                return new ControlledTestResult(iteration + 1, total, Report(run, failure, options, iteration));
            }
        }

        return new ControlledTestResult(stopAfter, total, null);
    }

    public static ControlledTestResult Replay(Action<Scenario> build, ControlledTestOptions options, IReadOnlyList<Decision> schedule)
    {
        var (run, failure) = RunOnce(build, options, 0, new ReplayChooser(schedule), replayed: true);

        // The report offers the schedule given, not the choices made: a run that failed, or no longer fit, before the
        // schedule's end made only a prefix of it, and replaying that prefix would fail differently.
        return new ControlledTestResult(1, run.Steps, failure is null ? null : Report(run, failure, options, 0, replayed: schedule));
    }

    private static (ControlledRun Run, RunFailure? Failure) RunOnce(Action<Scenario> build, ControlledTestOptions options, int iteration, Chooser chooser, bool replayed)
    {
        var run = new ControlledRun(chooser, options.MaxSteps, options.IdleTimeout);
        var scenario = new Scenario(run, iteration);

        // Locks, counters and barriers created now belong to this run: they read the controller at construction.
        var previous = SchedulingHooks.Install(run);
        try
        {
            build(scenario);
        }
        catch (Exception ex) when (!ReferenceEquals(ex, scenario.Refusal))
        {
            // The scenario's own refusals (a misuse, the same on every iteration) come out as they are. A builder may depend on the iteration (Scenario.Iteration): without it and the seed, a failure on the
            // 40th iteration could not be run again alone.
            throw BuilderFailed(ex, options, iteration, replayed);
        }
        finally
        {
            SchedulingHooks.Install(previous);
        }

        run.Execute();
        if (run.Failure is { } failure)
        {
            return (run, failure);
        }

        run.BeginChecks();
        foreach (var check in scenario.Checks)
        {
            try
            {
                check();
            }
            catch (Exception ex)
            {
                return (run, new RunFailure(ControlledFailureKind.Assertion, $"a check failed: {ex.GetType().Name}: {run.NameFlowsIn(ex.Message)}", ex, null, []));
            }
        }

        return (run, null);
    }

    private static InvalidOperationException BuilderFailed(Exception ex, ControlledTestOptions options, int iteration, bool replayed)
    {
        var c = CultureInfo.InvariantCulture;
        string where = replayed
            ? "in a replay of a schedule (iteration 0)"
            : string.Create(c, $"in iteration {iteration} (seed {options.Seed}, strategy {options.Strategy}), before any flow ran; rerun it with new ControlledTestOptions {{ Seed = {options.Seed}, Strategy = SchedulingStrategy.{options.Strategy}, Iterations = {iteration + 1} }}");
        return new InvalidOperationException($"The scenario's builder threw {where}: {ex.GetType().Name}: {ex.Message}", ex);
    }

    private static ControlledTestReport Report(
        ControlledRun run, RunFailure failure, ControlledTestOptions options, int iteration, IReadOnlyList<Decision>? replayed = null) =>
        new(failure.Kind, failure.Summary, options.Seed, iteration, options.Strategy, run.Steps, ScheduleCodec.Encode(replayed ?? run.Decisions),
            [.. run.Trace], failure.Waits, failure.Exception, failure.Flow, replayOfSchedule: replayed is not null, bounds: options);
}
