using System;
using System.Threading.Tasks;

namespace Locksmith.Tests.Support;

/// <summary>The seed's lost update: many concurrent tasks do a non-atomic read-modify-write under a primitive.</summary>
internal static class LostUpdate
{
    public const int Tasks = 10_000;
    public const int IncrementsPerTask = 10;

    /// <summary>
    /// Runs <see cref="Tasks"/> tasks that each call <paramref name="incrementUnderLock"/> with the unsafe increment
    /// <see cref="IncrementsPerTask"/> times; returns the final count, which is exact only if the primitive excludes.
    /// </summary>
    public static long Run(Action<Action> incrementUnderLock)
    {
        long counter = 0;
        void UnsafeIncrement()
        {
            long read = counter;
            // A yield point between the read and the write makes a lost update likely if exclusion is broken.
            if ((read & 0x3F) == 0)
            {
                System.Threading.Thread.Yield();
            }

            counter = read + 1;
        }

        var tasks = new Task[Tasks];
        for (int i = 0; i < tasks.Length; i++)
        {
            tasks[i] = Task.Run(() =>
            {
                for (int k = 0; k < IncrementsPerTask; k++)
                {
                    incrementUnderLock(UnsafeIncrement);
                }
            });
        }

        Task.WaitAll(tasks);
        return counter;
    }
}
