using System;
using System.Globalization;

namespace Locksmith.Testing;

/// <summary>How a controlled run chooses the next flow at each scheduling point.</summary>
/// <remarks>
/// Every strategy draws from a generator seeded per iteration (<see cref="ControlledTestOptions.Seed"/>), so one seed
/// and iteration always give the same schedule and trace.
/// </remarks>
public sealed record SchedulingStrategy
{
    // The portfolio's rotation, by iteration number: PCT in two of every three runs, since Random already finds the
    // bugs that need one switch anywhere within a few runs, and PCT alone finds those that need a flow parked for long.
    private static readonly SchedulingStrategy[] s_rotation = [new(false, 0, false), new(true, 2, false), new(true, 3, false)];

    private readonly bool _isPortfolio;

    private SchedulingStrategy(bool isPct, int depth, bool isPortfolio)
    {
        IsPct = isPct;
        Depth = depth;
        _isPortfolio = isPortfolio;
    }

    /// <summary>A uniform random choice among the runnable flows at every scheduling point.</summary>
    public static SchedulingStrategy Random { get; } = s_rotation[0];

    /// <summary>
    /// The default: iterations take turns between <see cref="Random"/>, <see cref="Pct(int)"/> with depth 2 and
    /// <see cref="Pct(int)"/> with depth 3, by iteration number (iteration <c>i</c> uses the <c>i % 3</c>-th of these).
    /// </summary>
    /// <remarks>
    /// Random finds a bug that needs one unlucky switch anywhere; PCT finds one that needs a flow switched out and kept
    /// out while the others run for long, which a uniform choice at every step almost never does. Each iteration is
    /// still chosen by the seed and its number alone (PCT's step estimate is learnt from the earlier iterations of the
    /// same test, as with <see cref="Pct(int)"/>), so a report replays by schedule and by seed as with a single strategy.
    /// </remarks>
    public static SchedulingStrategy Portfolio { get; } = new(false, 0, true);

    /// <summary>Whether this is the PCT strategy.</summary>
    public bool IsPct { get; }

    /// <summary>The bug depth <c>d</c> of the PCT strategy (0 for <see cref="Random"/> and <see cref="Portfolio"/>).</summary>
    public int Depth { get; }

    /// <summary>
    /// Probabilistic concurrency testing (Burckhardt et al., ASPLOS 2010): every flow gets a random priority, the
    /// highest-priority runnable flow runs, and at <paramref name="depth"/> − 1 random steps the running flow drops to
    /// the lowest priority. A bug that needs <paramref name="depth"/> ordering constraints is found with probability at
    /// least 1/(n·k^(d−1)) per iteration (n flows, k steps).
    /// </summary>
    /// <remarks>
    /// The run length k is learnt from the longest earlier run of the test (64 steps before the first). Past four times
    /// that length (at most half of <see cref="ControlledTestOptions.MaxSteps"/>) the choices turn uniform, as in fair
    /// PCT, so that a flow spin-waiting with <see cref="ControlledTest.Interleave"/> does not starve the flow it waits
    /// for; a true livelock still reaches the step bound. Runs that reached that uniform tail do not lengthen k.
    /// </remarks>
    /// <param name="depth">The bug depth d; at least 1.</param>
    /// <returns>The strategy.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="depth"/> is less than 1.</exception>
    public static SchedulingStrategy Pct(int depth = 3)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(depth, 1);
        return new SchedulingStrategy(true, depth, false);
    }

    /// <summary>The single strategy that chooses iteration <paramref name="iteration"/>'s schedule: a member of the portfolio, or this one.</summary>
    internal SchedulingStrategy ForIteration(int iteration) => _isPortfolio ? s_rotation[iteration % s_rotation.Length] : this;

    /// <inheritdoc/>
    public override string ToString() => _isPortfolio ? "Portfolio" : IsPct ? string.Create(CultureInfo.InvariantCulture, $"Pct({Depth})") : "Random";
}
