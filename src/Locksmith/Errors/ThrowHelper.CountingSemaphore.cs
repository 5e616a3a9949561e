using System;
using System.Diagnostics.CodeAnalysis;

namespace Locksmith;

internal static partial class ThrowHelper
{
    [DoesNotReturn]
    public static void ThrowPermitCountOutOfRange(LockPrimitive semaphore, int count, int maxCount) =>
        throw new ArgumentOutOfRangeException(nameof(count), count,
            $"Thread {ThreadNames.Current()} asked for {count} permit(s) of semaphore {semaphore.Describe()}; " +
            $"the count must be between 1 and its maximum {maxCount}.");

    [DoesNotReturn]
    public static void ThrowReleaseCountOutOfRange(LockPrimitive semaphore, int count) =>
        throw new ArgumentOutOfRangeException(nameof(count), count,
            $"Thread {ThreadNames.Current()} released {count} permit(s) of semaphore {semaphore.Describe()}; " +
            "the count must be at least 1.");

    [DoesNotReturn]
    public static void ThrowSemaphoreTimeout(LockPrimitive semaphore, int requested, int available, int maxCount, TimeSpan waited) =>
        throw new LockTimeoutException(semaphore.Name, 0, waited,
            $"Thread {ThreadNames.Current()} timed out after {waited.TotalMilliseconds:0.#} ms waiting for {requested} permit(s) of " +
            $"semaphore {semaphore.Describe()}, which had {available} of its maximum {maxCount} free. A semaphore has no owner: " +
            "look for the code that acquired permits and did not release them.");
}
