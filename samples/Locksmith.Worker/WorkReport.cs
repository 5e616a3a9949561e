using System.Globalization;
using System.IO;

namespace Locksmith.Worker;

/// <summary>Every total of one run beside the value it must have; <see cref="IsExact"/> when all agree.</summary>
public sealed record WorkReport
{
    /// <summary>Producers × items per producer.</summary>
    public required long ItemsExpected { get; init; }

    /// <summary>Items the producers put in.</summary>
    public required long ItemsProduced { get; init; }

    /// <summary>Items the consumers took out.</summary>
    public required long ItemsConsumed { get; init; }

    /// <summary>The checksum of every item, computed on one thread.</summary>
    public required long ChecksumExpected { get; init; }

    /// <summary>The producers' checksum of what they put in.</summary>
    public required long ProducedChecksum { get; init; }

    /// <summary>The consumers' checksum of what they took out.</summary>
    public required long ConsumedChecksum { get; init; }

    /// <summary>The queue's capacity.</summary>
    public required int Capacity { get; init; }

    /// <summary>The deepest the queue got (never above <see cref="Capacity"/>).</summary>
    public required int MaxDepth { get; init; }

    /// <summary>How often a producer found the queue full and waited on "not full".</summary>
    public required long ProducerWaits { get; init; }

    /// <summary>How often a consumer found the queue empty and waited on "not empty".</summary>
    public required long ConsumerWaits { get; init; }

    /// <summary>Two phases per round.</summary>
    public required long PhasesExpected { get; init; }

    /// <summary>Phases the barrier completed.</summary>
    public required long PhasesCompleted { get; init; }

    /// <summary>The matrix checksum of the same rounds run on one thread.</summary>
    public required long MatrixChecksumExpected { get; init; }

    /// <summary>The matrix checksum of the parallel run.</summary>
    public required long MatrixChecksum { get; init; }

    /// <summary>Whether every total equals its expected value and the queue never went over its capacity.</summary>
    public bool IsExact =>
        ItemsProduced == ItemsExpected && ItemsConsumed == ItemsExpected
        && ProducedChecksum == ChecksumExpected && ConsumedChecksum == ChecksumExpected
        && MaxDepth <= Capacity
        && PhasesCompleted == PhasesExpected
        && MatrixChecksum == MatrixChecksumExpected;

    /// <summary>Writes the totals as a small table, each beside its expected value.</summary>
    public void WriteTo(TextWriter writer)
    {
        CultureInfo inv = CultureInfo.InvariantCulture;
        writer.WriteLine("total                    got                   expected              ok");
        Row("items produced", ItemsProduced, ItemsExpected);
        Row("items consumed", ItemsConsumed, ItemsExpected);
        Row("checksum produced", ProducedChecksum, ChecksumExpected);
        Row("checksum consumed", ConsumedChecksum, ChecksumExpected);
        writer.WriteLine(string.Format(inv, "{0,-24} {1,-21} {2,-21} {3}", "max queue depth", MaxDepth, "<= " + Capacity.ToString(inv), MaxDepth <= Capacity ? "yes" : "NO"));
        Row("phases completed", PhasesCompleted, PhasesExpected);
        Row("matrix checksum", MatrixChecksum, MatrixChecksumExpected);
        writer.WriteLine(string.Format(inv, "waits: producers {0:N0} (queue full), consumers {1:N0} (queue empty)", ProducerWaits, ConsumerWaits));
        writer.WriteLine(IsExact ? "every total is exact" : "A TOTAL IS WRONG");

        void Row(string name, long got, long expected) =>
            writer.WriteLine(string.Format(inv, "{0,-24} {1,-21} {2,-21} {3}", name, got, expected, got == expected ? "yes" : "NO"));
    }
}
