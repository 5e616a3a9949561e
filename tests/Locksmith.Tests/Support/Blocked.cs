using System.Threading;

namespace Locksmith.Tests.Support;

/// <summary>Waits until some thread is registered as blocked on a lock (past its spin, parked in the slow path).</summary>
internal static class Blocked
{
    public static void OnLock(LockPrimitive lockPrimitive) =>
        Guard.SpinUntil(() =>
        {
            foreach (var owner in LockOwner.Snapshot())
            {
                if (ReferenceEquals(owner.WaitingFor, lockPrimitive))
                {
                    return true;
                }
            }

            return false;
        });
}
