using System;
using System.Threading;

namespace Locksmith.Tests.Support;

/// <summary>Holds a lock on a named background thread until released (or disposed).</summary>
internal sealed class HeldOnOtherThread : IDisposable
{
    private readonly ManualResetEventSlim _release = new(false);
    private readonly Thread _thread;
    private int _threadId;

    /// <param name="name">The holder thread's name.</param>
    /// <param name="acquire">Takes the lock, then waits on the event it is given before releasing.</param>
    public HeldOnOtherThread(string name, Action<ManualResetEventSlim> acquire)
    {
        _thread = Concurrently.Start(name, () =>
        {
            Volatile.Write(ref _threadId, Environment.CurrentManagedThreadId);
            acquire(_release);
        });
    }

    public int ThreadId => Volatile.Read(ref _threadId);

    /// <summary>Waits (bounded by spinning on a condition, not a clock assertion) until the holder has the lock.</summary>
    public void WaitUntilHeld(Func<bool> isHeld)
    {
        Guard.SpinUntil(() => ThreadId != 0 && isHeld());
    }

    public void Release()
    {
        _release.Set();
        _thread.JoinGuarded();
    }

    public void Dispose()
    {
        _release.Set();
        _thread.JoinGuarded();
    }
}
