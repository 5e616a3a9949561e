using System;
using System.Diagnostics.CodeAnalysis;
using System.Threading;

namespace Locksmith;

// The async semaphore's messages: each names the semaphore, the flow and what to do instead.
internal static partial class ThrowHelper
{
    [DoesNotReturn]
    public static void ThrowAsyncSemaphoreTimeout(LockPrimitive semaphore, LockOwner waiter, int requested, SemaphoreGaveUp gaveUp, int maxCount, TimeSpan waited) =>
        throw new LockTimeoutException(semaphore.Name, 0, waited,
            $"{FlowStartingASentence(waiter)} timed out after {waited.TotalMilliseconds:0.#} ms waiting for " +
            (requested > 0 ? $"{requested} permit(s)" : "permits") + $" of semaphore {semaphore.Describe()}; " +
            SemaphoreStateWhenGaveUp(requested, gaveUp, maxCount) +
            " A semaphore has no owner: look for the code that acquired permits and did not release them.");

    [DoesNotReturn]
    public static void ThrowSemaphoreHoldReleasedTwice(LockPrimitive semaphore, int? scopeOwnerId, int count) =>
        throw new SynchronizationLockException(
            $"{CurrentFlowStartingASentence()} tried to give back {count} permit(s) of semaphore {semaphore.Describe()} through a scope " +
            (scopeOwnerId is { } id ? $"{StaleScopeOwner(id)} acquired" : "acquired earlier (its hold has served another acquisition since)") +
            ", but that scope already gave them back. Each scope releases once: dispose it once.");
}
