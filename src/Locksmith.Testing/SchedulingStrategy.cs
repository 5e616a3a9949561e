using System;
using System.Globalization;

namespace Locksmith.Testing;

/// <summary>How a controlled run chooses the next flow at each scheduling point.</summary>
/// <remarks>
/// Both strategies draw from a generator seeded per iteration (<see cref="ControlledTestOptions.Seed"/>), so one seed
/// and iteration always give the same schedule and trace.
/// </remarks>
public sealed class SchedulingStrategy
{
    private SchedulingStrategy(bool isPct, int depth)
    {
        IsPct = isPct;
        Depth = depth;
    }

    /// <summary>A uniform random choice among the runnable flows at every scheduling point.</summary>
    public static SchedulingStrategy Random { get; } = new(false, 0);

    /// <summary>Whether this is the PCT strategy.</summary>
    public bool IsPct { get; }

    /// <summary>The bug depth <c>d</c> of the PCT strategy (0 for <see cref="Random"/>).</summary>
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
        return new SchedulingStrategy(true, depth);
    }

    /// <inheritdoc/>
    public override string ToString() => IsPct ? string.Create(CultureInfo.InvariantCulture, $"Pct({Depth})") : "Random";
}
