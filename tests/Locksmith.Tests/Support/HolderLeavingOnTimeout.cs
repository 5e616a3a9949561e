using System.Diagnostics;
using System.Threading;
using System.Threading.Tasks;

namespace Locksmith.Tests.Support;

/// <summary>
/// A flow of its own (activity 'Holder') that holds an async lock and releases it from the lock's first
/// <see cref="LocksmithPolicy.TimeoutOccurred"/> event: the holder is gone by the time anything reads it after the
/// event's handler. Set up inside a <see cref="PolicyScope"/>, which restores the handler.
/// </summary>
internal sealed class HolderLeavingOnTimeout
{
    private AsyncLockScope _held;

    private HolderLeavingOnTimeout()
    {
    }

    /// <summary>The timeout event that made the holder leave, once it was raised.</summary>
    public LockTimeoutEvent? Timeout { get; private set; }

    /// <summary>Takes <paramref name="gate"/> in a flow of its own and installs the handler that lets go of it.</summary>
    public static async Task<HolderLeavingOnTimeout> TakeAsync(AsyncExclusiveLock gate)
    {
        var holder = new HolderLeavingOnTimeout();
        Task taking;
        using (ExecutionContext.SuppressFlow())
        {
            taking = Task.Run(async () =>
            {
                using var activity = new Activity("Holder").Start();
                holder._held = await gate.AcquireAsync();
            });
        }

        await taking;
        LocksmithPolicy.TimeoutOccurred = e =>
        {
            if (e.LockName == gate.Name && holder.Timeout is null)
            {
                holder.Timeout = e;
                holder._held.Dispose();
            }
        };

        return holder;
    }
}
