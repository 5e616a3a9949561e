using System.Runtime.CompilerServices;

namespace Locksmith.Benchmarks.Harness;

/// <summary>
/// A critical section of fixed length: a chain of dependent integer multiply-adds that the JIT can neither
/// remove (the result is returned and consumed) nor shorten (every step needs the one before it).
/// </summary>
/// <remarks>
/// The iteration counts were calibrated once on the benchmark machine (2-core Xeon, KVM, ~1.5 ns a step) so that
/// the section alone takes about 50 ns, 1 µs and 10 µs. They are hard-coded so every run does the same work; the
/// <c>Section_Alone</c> rows of <see cref="SectionLengthBenchmarks"/> show what the lengths really are on the
/// machine of the run.
/// </remarks>
public static class CriticalSection
{
    /// <summary>About 50 ns of work.</summary>
    public const int ShortIterations = 30;

    /// <summary>About 1 µs of work.</summary>
    public const int MediumIterations = 680;

    /// <summary>About 10 µs of work.</summary>
    public const int LongIterations = 6_800;

    /// <summary>Runs <paramref name="iterations"/> dependent steps from <paramref name="seed"/> and returns the last value.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static long Run(int iterations, long seed)
    {
        long x = seed;
        for (int i = 0; i < iterations; i++)
        {
            x = (x * 6364136223846793005L) + 1442695040888963407L;
        }

        return x;
    }
}
