using System;
using System.Threading;

namespace Locksmith.Worker;

/// <summary>
/// The seed's matrix phases on a <see cref="PhaseBarrier"/>. Each round has two phases: phase 1 computes a partial
/// (a hash) of every row a participant owns; phase 2 rewrites each owned row from the partials of the rows above and
/// below it, which other participants computed (rows are dealt out in turn, so a neighbour is always someone else's).
/// A barrier ends each phase: phase 2 must not read a partial before it is written, and the next phase 1 must not
/// overwrite a partial another participant is still reading.
/// </summary>
/// <remarks>
/// The same row functions run once more on one thread (<see cref="ExpectedChecksum"/>), so the checksum of the
/// parallel run equals the sequential one exactly when the barrier kept the phases apart.
/// </remarks>
public sealed class MatrixPhases
{
    private readonly long[][] _matrix;
    private readonly long[] _partials;
    private readonly int _rows;
    private readonly int _columns;

    /// <summary>Creates the starting matrix.</summary>
    public MatrixPhases(int rows, int columns)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(rows, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(columns, 1);
        _rows = rows;
        _columns = columns;
        _matrix = new long[rows][];
        for (int r = 0; r < rows; r++)
        {
            _matrix[r] = new long[columns];
            for (int c = 0; c < columns; c++)
            {
                _matrix[r][c] = Mix(((long)r << 32) | (uint)c);
            }
        }

        _partials = new long[rows];
    }

    /// <summary>
    /// Runs <paramref name="rounds"/> rounds on <paramref name="participants"/> threads meeting at a barrier after each
    /// phase. Returns the matrix checksum and the phases the barrier completed (counted by its post-phase action).
    /// <paramref name="roundDone"/>, if given, is called with each round's number (1 to <paramref name="rounds"/>) as it ends.
    /// </summary>
    public static (long Checksum, long Phases) RunParallel(
        int participants, int rows, int columns, int rounds, CancellationToken cancellationToken, Action<int>? roundDone = null)
    {
        var matrix = new MatrixPhases(rows, columns);
        long phases = 0;
        // The post-phase action runs once per phase, on the last participant to arrive, before anyone goes on.
        var barrier = new PhaseBarrier(participants, _ =>
        {
            phases++;
            if (phases % 2 == 0)
            {
                roundDone?.Invoke((int)(phases / 2));
            }
        }, "matrix-phases");
        Participants.Run("matrix", participants, cancellationToken, (me, token) =>
        {
            for (int round = 0; round < rounds; round++)
            {
                for (int r = me; r < rows; r += participants)
                {
                    matrix.ComputePartial(r);
                }

                barrier.SignalAndWait(token);

                for (int r = me; r < rows; r += participants)
                {
                    matrix.CombineRow(r);
                }

                barrier.SignalAndWait(token);
            }
        });

        // Every participant has been joined: the post-phase action's count is final and visible here.
        return (matrix.Checksum(), Volatile.Read(ref phases));
    }

    /// <summary>
    /// The checksum the same rounds give on one thread, one phase after the other; <paramref name="roundDone"/>, if
    /// given, is called with each round's number as it ends.
    /// </summary>
    public static long ExpectedChecksum(int rows, int columns, int rounds, Action<int>? roundDone = null)
    {
        var matrix = new MatrixPhases(rows, columns);
        for (int round = 0; round < rounds; round++)
        {
            for (int r = 0; r < rows; r++)
            {
                matrix.ComputePartial(r);
            }

            for (int r = 0; r < rows; r++)
            {
                matrix.CombineRow(r);
            }

            roundDone?.Invoke(round + 1);
        }

        return matrix.Checksum();
    }

    // Phase 1: reads only row r, writes only partial r.
    private void ComputePartial(int r)
    {
        long hash = r;
        long[] row = _matrix[r];
        for (int c = 0; c < _columns; c++)
        {
            hash = unchecked((hash * 31) + row[c]);
        }

        _partials[r] = Mix(hash);
    }

    // Phase 2: reads the partials of rows r - 1 and r + 1 (other participants'), writes only row r.
    private void CombineRow(int r)
    {
        long above = _partials[(r + _rows - 1) % _rows];
        long below = _partials[(r + 1) % _rows];
        long[] row = _matrix[r];
        for (int c = 0; c < _columns; c++)
        {
            row[c] = Mix(unchecked(row[c] + above - (below * (c + 1))));
        }
    }

    private long Checksum()
    {
        long sum = 0;
        for (int r = 0; r < _rows; r++)
        {
            for (int c = 0; c < _columns; c++)
            {
                sum = unchecked((sum * 1_000_003) ^ _matrix[r][c]);
            }
        }

        return sum;
    }

    /// <summary>A 64-bit finaliser (SplitMix64's): every input bit moves every output bit.</summary>
    internal static long Mix(long value)
    {
        ulong z = unchecked((ulong)value + 0x9E3779B97F4A7C15UL);
        z = unchecked((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL);
        z = unchecked((z ^ (z >> 27)) * 0x94D049BB133111EBUL);
        return unchecked((long)(z ^ (z >> 31)));
    }
}
