using System;
using System.Diagnostics;
using System.Globalization;
using System.Threading;
using Microsoft.Extensions.DependencyInjection;

namespace Locksmith.Worker;

/// <summary>
/// The worker's whole job, runnable without a host (tests call it with small counts): producers and consumers through a
/// <see cref="BoundedQueue"/>, then the matrix phases on a <see cref="PhaseBarrier"/>, and a report of every total
/// beside the value it must have.
/// </summary>
/// <param name="queueLock">The queue's lock, registered by <see cref="WorkerRegistration.AddSeedWorker"/>.</param>
/// <param name="totalsLock">The totals' lock, registered beside it.</param>
public sealed class SeedWork(
    [FromKeyedServices(WorkerRegistration.QueueLockName)] ExclusiveLock queueLock,
    [FromKeyedServices(WorkerRegistration.TotalsLockName)] ExclusiveLock totalsLock)
{
    /// <summary>Runs the work <paramref name="options"/> describe and reports its totals.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    /// <exception cref="AggregateException">A producer, consumer or participant failed.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled first.</exception>
    public WorkReport Run(WorkerOptions options, CancellationToken cancellationToken = default) => Run(options, null, cancellationToken);

    /// <summary>
    /// Runs the work <paramref name="options"/> describe, passing <paramref name="progress"/> a line as each stage ends
    /// and as rounds end (<see cref="WorkerOptions.ProgressSeconds"/> apart), and reports its totals.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    /// <exception cref="AggregateException">A producer, consumer or participant failed.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled first.</exception>
    public WorkReport Run(WorkerOptions options, Action<string>? progress, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var lines = new ProgressLines(progress, options.ProgressSeconds);

        var queue = new BoundedQueue(queueLock, options.Capacity);
        var totals = new WorkTotals(totalsLock);
        ProduceAndConsume(options, queue, totals, cancellationToken);
        var (produced, producedChecksum, consumed, consumedChecksum) = totals.Read();
        var (maxDepth, producerWaits, consumerWaits) = queue.Statistics();
        lines.Always($"items: {consumed} of {(long)options.Producers * options.ItemsPerProducer} through the queue");

        var (matrixChecksum, phases) = MatrixPhases.RunParallel(
            options.Participants, options.Rows, options.Columns, options.Rounds, cancellationToken,
            round => lines.Round("matrix", round, options.Rounds));
        long matrixExpected = MatrixPhases.ExpectedChecksum(options.Rows, options.Columns, options.Rounds,
            round => lines.Round("check on one thread", round, options.Rounds));

        return new WorkReport
        {
            ItemsExpected = (long)options.Producers * options.ItemsPerProducer,
            ItemsProduced = produced,
            ItemsConsumed = consumed,
            ChecksumExpected = ExpectedItemChecksum(options.Producers, options.ItemsPerProducer),
            ProducedChecksum = producedChecksum,
            ConsumedChecksum = consumedChecksum,
            Capacity = options.Capacity,
            MaxDepth = maxDepth,
            ProducerWaits = producerWaits,
            ConsumerWaits = consumerWaits,
            PhasesExpected = 2L * options.Rounds,
            PhasesCompleted = phases,
            MatrixChecksumExpected = matrixExpected,
            MatrixChecksum = matrixChecksum,
        };
    }

    // A long run (4,096 by 4,096 for 1,000 rounds takes about 20 minutes) otherwise says nothing until its totals.
    private sealed class ProgressLines(Action<string>? write, int seconds)
    {
        private readonly Stopwatch _elapsed = Stopwatch.StartNew();
        private TimeSpan _last = TimeSpan.Zero;

        public void Always(string line)
        {
            if (write is not null)
            {
                _last = _elapsed.Elapsed;
                write(string.Create(CultureInfo.InvariantCulture, $"{line}, {_last.TotalSeconds:0.0} s elapsed"));
            }
        }

        // Called by one thread at a time (the barrier's post-phase action, then the one-thread check).
        public void Round(string stage, int round, int rounds)
        {
            if (write is not null && (round == rounds || _elapsed.Elapsed - _last >= TimeSpan.FromSeconds(seconds)))
            {
                Always(string.Create(CultureInfo.InvariantCulture, $"{stage}: round {round} of {rounds}"));
            }
        }
    }

    /// <summary>The item producer <paramref name="producer"/> puts in at position <paramref name="index"/>.</summary>
    public static long Item(int producer, int index) => ((long)producer << 32) | (uint)index;

    /// <summary>The checksum of every item, computed on one thread: what the consumers' checksum must equal.</summary>
    public static long ExpectedItemChecksum(int producers, int itemsPerProducer)
    {
        long sum = 0;
        for (int p = 0; p < producers; p++)
        {
            for (int i = 0; i < itemsPerProducer; i++)
            {
                sum = unchecked(sum + MatrixPhases.Mix(Item(p, i)));
            }
        }

        return sum;
    }

    // The first threads produce, the rest consume; the producers' last one completes the queue.
    private static void ProduceAndConsume(WorkerOptions options, BoundedQueue queue, WorkTotals totals, CancellationToken cancellationToken)
    {
        int producersLeft = options.Producers;
        Participants.Run("seed-worker", options.Producers + options.Consumers, cancellationToken, (me, token) =>
        {
            long count = 0, checksum = 0;
            if (me < options.Producers)
            {
                for (int i = 0; i < options.ItemsPerProducer; i++)
                {
                    long item = Item(me, i);
                    queue.Put(item, token);
                    count++;
                    checksum = unchecked(checksum + MatrixPhases.Mix(item));
                }

                totals.AddProduced(count, checksum);
                if (Interlocked.Decrement(ref producersLeft) == 0)
                {
                    queue.Complete();
                }
            }
            else
            {
                // A hash per item, summed: a lost item or one taken twice changes the checksum, the order does not.
                while (queue.Take(out long item, token))
                {
                    count++;
                    checksum = unchecked(checksum + MatrixPhases.Mix(item));
                }

                totals.AddConsumed(count, checksum);
            }
        });
    }
}
