using System;
using System.Collections.Generic;

namespace Locksmith.Testing.Engine;

/// <summary>A strategy's state for one run: picks among the candidate flows (always listed in flow order).</summary>
internal abstract class Chooser
{
    /// <summary>Whether the run went past the strategy's own horizon (fair PCT's switch to uniform choices).</summary>
    public virtual bool WentFair => false;

    /// <summary>
    /// The flow the next choice must run, when the strategy already knows it (a replay), else -1: if that flow awaits
    /// something not back yet, the run waits for it rather than offer a choice without it.
    /// </summary>
    public virtual int NextFlow => -1;

    /// <summary>Called once the scenario's flows are known, before the first choice.</summary>
    public virtual void Begin(int flowCount)
    {
    }

    /// <summary>Called when every flow finished; a replay whose schedule has choices left throws <see cref="ScheduleMismatchException"/>.</summary>
    public virtual void End()
    {
    }

    /// <summary>Picks the flow to run next; returns an index into <paramref name="runnable"/>.</summary>
    public abstract int PickRunnable(IReadOnlyList<FlowState> runnable, int step);

    /// <summary>No flow can run: picks the timed wait to end; returns an index into <paramref name="timed"/>.</summary>
    public abstract int PickTimeout(IReadOnlyList<FlowState> timed, int step);

    /// <summary>A per-iteration seed: the same for one (seed, iteration) on every machine and run.</summary>
    public static int IterationSeed(int seed, int iteration)
    {
        // SplitMix64 finalizer over both numbers: neighbouring iterations get unrelated generators.
        ulong z = ((ulong)(uint)seed << 32) | (uint)iteration;
        z += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        z ^= z >> 31;
        return (int)(z & 0x7FFFFFFF);
    }
}

/// <summary>A uniform choice at every point.</summary>
internal sealed class RandomChooser(int seed) : Chooser
{
    // A seeded System.Random is the same sequence on every run of one runtime version.
    private readonly Random _random = new(seed);

    public override int PickRunnable(IReadOnlyList<FlowState> runnable, int step) => _random.Next(runnable.Count);

    public override int PickTimeout(IReadOnlyList<FlowState> timed, int step) => _random.Next(timed.Count);
}

/// <summary>
/// PCT: random distinct priorities, the highest-priority runnable flow runs, and at d − 1 change points (steps drawn
/// from the estimated run length) the flow that would run drops below every other. Past four times that length the
/// choices turn uniform, as in fair PCT: a flow that spin-waits with Interleave() for a lower-priority one would
/// otherwise starve it until the step bound, while a true livelock still reaches the bound.
/// </summary>
internal sealed class PctChooser(int seed, int depth, int estimatedSteps, int maxSteps) : Chooser
{
    private const int FairAfterEstimates = 4;

    private readonly Random _random = new(seed);

    // At most half the step bound, so a spin-wait always has room to end under uniform choices.
    private readonly int _fairAfter = Math.Min(FairAfterEstimates * Math.Max(estimatedSteps, depth), Math.Max(maxSteps / 2, 1));
    private bool _wentFair;
    private readonly HashSet<int> _changePoints = [];
    private int[] _priority = [];
    private int _lowest;

    public override void Begin(int flowCount)
    {
        // A random permutation of flowCount..2·flowCount−1: distinct, and all above the priorities change points hand out.
        _priority = new int[flowCount];
        for (int i = 0; i < flowCount; i++)
        {
            _priority[i] = flowCount + i;
        }

        _random.Shuffle(_priority);
        _lowest = flowCount;
        int span = Math.Max(estimatedSteps, depth);
        while (_changePoints.Count < Math.Min(depth - 1, span))
        {
            _changePoints.Add(_random.Next(1, span + 1));
        }
    }

    public override int PickRunnable(IReadOnlyList<FlowState> runnable, int step)
    {
        if (step > _fairAfter)
        {
            _wentFair = true;
            return _random.Next(runnable.Count);
        }

        if (_changePoints.Contains(step))
        {
            _priority[runnable[Highest(runnable)].Index] = --_lowest;
        }

        return Highest(runnable);
    }

    public override bool WentFair => _wentFair;

    public override int PickTimeout(IReadOnlyList<FlowState> timed, int step) => Highest(timed);

    private int Highest(IReadOnlyList<FlowState> flows)
    {
        int best = 0;
        for (int i = 1; i < flows.Count; i++)
        {
            if (_priority[flows[i].Index] > _priority[flows[best].Index])
            {
                best = i;
            }
        }

        return best;
    }
}

/// <summary>Follows a recorded schedule; a choice the scenario no longer offers ends the run as stuck.</summary>
internal sealed class ReplayChooser(IReadOnlyList<Decision> decisions) : Chooser
{
    private int _position;
    private int _flowCount;

    public override void Begin(int flowCount) => _flowCount = flowCount;

    public override void End()
    {
        // Recorded from a run that went further: what is replayed is not the run the schedule recorded.
        if (_position < decisions.Count)
        {
            throw new ScheduleMismatchException(
                $"every flow finished after {_position} of its {decisions.Count} choices, and {decisions.Count - _position} " +
                $"{(decisions.Count - _position == 1 ? "is" : "are")} left unused: the code under test changed since the schedule was recorded, or it is another scenario's");
        }
    }

    // A choice that runs a flow (not one that times a wait out, which is taken only when no flow can run).
    public override int NextFlow => _position < decisions.Count && !decisions[_position].TimeOut ? decisions[_position].Flow : -1;

    public override int PickRunnable(IReadOnlyList<FlowState> runnable, int step) => Follow(runnable, timeOut: false);

    public override int PickTimeout(IReadOnlyList<FlowState> timed, int step) => Follow(timed, timeOut: true);

    private int Follow(IReadOnlyList<FlowState> candidates, bool timeOut)
    {
        if (_position >= decisions.Count)
        {
            throw new ScheduleMismatchException(
                $"the schedule ends after {decisions.Count} choices but the run goes on (a run that exceeded MaxSteps ends its " +
                "schedule there: replay it with that run's MaxSteps, as its replay line does)");
        }

        var decision = decisions[_position++];
        if (decision.Flow >= _flowCount)
        {
            // A schedule from another scenario, or one that lost flows since.
            throw new ScheduleMismatchException(
                $"choice {_position} of the schedule {(decision.TimeOut ? "times out" : "runs")} flow '{(char)('a' + decision.Flow)}', " +
                $"but the scenario has {_flowCount} flow{(_flowCount == 1 ? " (a)" : $"s (a to {(char)('a' + _flowCount - 1)})")}");
        }

        for (int i = 0; i < candidates.Count; i++)
        {
            if (candidates[i].Index == decision.Flow && decision.TimeOut == timeOut)
            {
                return i;
            }
        }

        throw new ScheduleMismatchException(
            $"choice {_position} of the schedule {(decision.TimeOut ? "times out" : "runs")} flow '{(char)('a' + decision.Flow)}', which the run does not offer there");
    }
}

/// <summary>A replayed schedule does not fit the scenario (it changed, or it is not deterministic).</summary>
internal sealed class ScheduleMismatchException(string message) : Exception(message);
