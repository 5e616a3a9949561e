using System;
using System.Diagnostics.CodeAnalysis;

namespace Locksmith;

internal static partial class ThrowHelper
{
    /// <summary>A permit count out of range; <paramref name="async"/>: asked by an async overload, so the message names the flow.</summary>
    [DoesNotReturn]
    public static void ThrowPermitCountOutOfRange(LockPrimitive semaphore, int count, int maxCount, bool async) =>
        throw new ArgumentOutOfRangeException(nameof(count), count,
            $"{(async ? CurrentFlowStartingASentence() : $"Thread {ThreadNames.Current()}")} asked for {count} permit(s) of semaphore {semaphore.Describe()}; " +
            $"the count must be between 1 and its maximum {maxCount}.");

    /// <summary>A release count not positive: names the caller as a release past the maximum does (<see cref="ThrowSemaphoreFull"/>).</summary>
    [DoesNotReturn]
    public static void ThrowReleaseCountOutOfRange(LockPrimitive semaphore, int count) =>
        throw new ArgumentOutOfRangeException(nameof(count), count,
            $"{SentenceStart(CurrentFlowOrThread())} tried to release {count} permit(s) of semaphore {semaphore.Describe()}; " +
            "the count must be at least 1.");

    [DoesNotReturn]
    public static void ThrowSemaphoreTimeout(LockPrimitive semaphore, int requested, SemaphoreGaveUp gaveUp, int maxCount, TimeSpan waited) =>
        throw new LockTimeoutException(semaphore.Name, 0, waited,
            $"Thread {ThreadNames.Current()} timed out after {waited.TotalMilliseconds:0.#} ms waiting for {requested} permit(s) of " +
            $"semaphore {semaphore.Describe()}; {SemaphoreStateWhenGaveUp(requested, gaveUp, maxCount)} A semaphore has no owner: " +
            "look for the code that acquired permits and did not release them.");

    /// <summary>
    /// The semaphore as the wait saw it when it gave up, never read again afterwards: permits given back after that
    /// (by the time the message is built) would contradict the timeout.
    /// </summary>
    internal static string SemaphoreStateWhenGaveUp(int requested, SemaphoreGaveUp gaveUp, int maxCount) =>
        gaveUp.Free < requested ? $"when it gave up, {gaveUp.Free} of its maximum {maxCount} were free."
        : gaveUp.HeldBack ? $"when it gave up, {gaveUp.Free} of its maximum {maxCount} were free but held for waiters queued ahead of it."
        : $"when it gave up, {gaveUp.Free} of its maximum {maxCount} were free, given back only as it gave up.";
}
