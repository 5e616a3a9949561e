using System;

namespace Locksmith.Testing.Scenarios;

/// <summary>
/// A phased computation on a <see cref="PhaseBarrier"/>: in phase 1 each participant fills its own row of a grid
/// (reporting progress on a counter after each cell), in phase 2 each sums its neighbour's row. The barrier is what
/// makes phase 2 see whole rows; a participant that arrives after its phase-2 read, not before, sums a row its
/// neighbour has not finished.
/// </summary>
public sealed class BarrierPhaseTests
{
    private const int Rows = 3;
    private const int Columns = 3;

    private static long Cell(int row, int column) => ((row + 1) * 100) + column + 1;

    private static long RowSum(int row)
    {
        long sum = 0;
        for (int c = 0; c < Columns; c++)
        {
            sum += Cell(row, c);
        }

        return sum;
    }

    private static void Grid(Scenario scenario, bool misplacedArrival)
    {
        var barrier = new PhaseBarrier(Rows, name: "grid.barrier");
        var cellsDone = new AtomicCounter("grid.cells");
        var grid = new long[Rows, Columns];
        var sums = new long[Rows];
        for (int r = 0; r < Rows; r++)
        {
            int row = r;
            int neighbour = (row + 1) % Rows;
            scenario.Thread($"row{row}", () =>
            {
                for (int c = 0; c < Columns; c++)
                {
                    grid[row, c] = Cell(row, c);
                    cellsDone.Increment();
                }

                if (misplacedArrival && row == 0)
                {
                    // Broken: phase-2 work before this participant's arrival, so nothing says row 1 is done.
                    sums[row] = Sum(grid, neighbour);
                    barrier.SignalAndWait();
                    return;
                }

                barrier.SignalAndWait();
                sums[row] = Sum(grid, neighbour);
            });
        }

        scenario.Finally(() =>
        {
            Assert.Equal(Rows * Columns, cellsDone.Value);
            for (int row = 0; row < Rows; row++)
            {
                Assert.Equal(RowSum((row + 1) % Rows), sums[row]);
            }
        });
    }

    private static long Sum(long[,] grid, int row)
    {
        long sum = 0;
        for (int c = 0; c < Columns; c++)
        {
            sum += grid[row, c];
        }

        return sum;
    }

    [Theory]
    [InlineData("random", 1)]
    [InlineData("random", 17)]
    [InlineData("random", 2026)]
    [InlineData("pct2", 1)]
    [InlineData("pct2", 17)]
    [InlineData("pct2", 2026)]
    public void AReadBeforeTheArrivalIsFoundSummingAnUnfinishedRow(string strategy, int seed)
    {
        var report = Hunt.MustFind(s => Grid(s, misplacedArrival: true), strategy, seed, ControlledFailureKind.Assertion);

        var equal = Assert.IsType<Xunit.Sdk.EqualException>(report.Exception);
        Assert.Contains($"Expected: {RowSum(1)}", equal.Message, StringComparison.Ordinal);

        // The trace names the barrier and the counter. Row 0 arrived (after its read) before row 1 reported its last
        // cell: entries are logged where their effect falls, so row 0's read ended before row 1 wrote that cell.
        int row0Arrives = IndexOf(report, "row0", "arrive at", "grid.barrier", nth: 0);
        int row1LastCell = IndexOf(report, "row1", "update", "grid.cells", nth: Columns - 1);
        Assert.True(row0Arrives < row1LastCell, report.ToString());
        Assert.Contains(report.Trace, e => e is { Flow: "row1", Operation: "arrive at", Target: "grid.barrier" });
    }

    [Theory]
    [InlineData("random", 1)]
    [InlineData("pct2", 17)]
    [InlineData("pct3", 2026)]
    public void ArrivingBeforePhaseTwoIsNotFlagged(string strategy, int seed) =>
        Hunt.MustPass(s => Grid(s, misplacedArrival: false), strategy, seed);

    private static int IndexOf(ControlledTestReport report, string flow, string operation, string target, int nth)
    {
        int seen = 0;
        for (int i = 0; i < report.Trace.Count; i++)
        {
            if (report.Trace[i] is var e && e.Flow == flow && e.Operation == operation && e.Target == target && seen++ == nth)
            {
                return i;
            }
        }

        Assert.Fail($"no '{flow}: {operation} {target}' #{nth} in\n{report}");
        return -1;
    }
}
