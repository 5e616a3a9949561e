using System;
using System.Runtime.CompilerServices;
using System.Threading;

namespace Locksmith.Testing.Support;

/// <summary>
/// Holds a lock on a named background thread until released or disposed:
/// <c>using var held = HeldOnOtherThread.Hold("holder", release =&gt; { using var s = l.Acquire(); release.Wait(); });</c>.
/// A failure of the holder (it could not take the lock, or releasing threw) is rethrown on the test thread.
/// </summary>
public sealed class HeldOnOtherThread : IDisposable
{
    private readonly ReleaseSignal _release = new();
    private readonly Worker _worker;
    private int _threadId;

    /// <summary>Starts the holder and returns at once; <see cref="WaitUntilHeld()"/> waits until it holds.</summary>
    /// <param name="name">The holder thread's name.</param>
    /// <param name="acquire">Takes the lock, then calls <see cref="ReleaseSignal.Wait"/> on what it is given before releasing.</param>
    public HeldOnOtherThread(string name, Action<ReleaseSignal> acquire)
    {
        _worker = Worker.Start(name, () =>
        {
            Volatile.Write(ref _threadId, Environment.CurrentManagedThreadId);
            acquire(_release);
        });
    }

    /// <summary>The holder thread's managed id (0 until it has started).</summary>
    public int ThreadId => Volatile.Read(ref _threadId);

    /// <summary>Starts a holder and returns once it holds the lock.</summary>
    /// <param name="name">The holder thread's name.</param>
    /// <param name="acquire">Takes the lock, then calls <see cref="ReleaseSignal.Wait"/> on what it is given before releasing.</param>
    /// <exception cref="AggregateException">The holder failed before it held the lock.</exception>
    public static HeldOnOtherThread Hold(string name, Action<ReleaseSignal> acquire)
    {
        var holder = new HeldOnOtherThread(name, acquire);
        try
        {
            holder.WaitUntilHeld();
        }
        catch
        {
            // Let a holder that is still running go; do not wait for it here, the exception says what went wrong.
            holder._release.Release();
            throw;
        }

        return holder;
    }

    /// <summary>Waits until the holder has taken its lock and waits to be released.</summary>
    /// <exception cref="AggregateException">The holder failed before it held the lock.</exception>
    public void WaitUntilHeld() => WaitUntilHeld(static () => true, "the holder waits to be released");

    /// <summary>
    /// Waits until the holder has taken its lock and <paramref name="isHeld"/> confirms it from this thread (bounded by
    /// the hang guard, never a clock assertion).
    /// </summary>
    /// <exception cref="AggregateException">The holder failed before it held the lock.</exception>
    public void WaitUntilHeld(Func<bool> isHeld, [CallerArgumentExpression(nameof(isHeld))] string? what = null)
    {
        Guard.SpinUntil(() => _worker.HasEnded || (_release.IsHolding && isHeld()), what);
        if (!_release.IsHolding)
        {
            // The holder ended before it held the lock: its exception says why.
            _worker.JoinGuarded();
            throw new InvalidOperationException($"The holder thread '{_worker.Name}' ended without calling release.Wait().");
        }
    }

    /// <summary>Lets the holder release its lock and waits for it; rethrows what the holder threw.</summary>
    public void Release()
    {
        _release.Release();
        _worker.JoinGuarded();
    }

    /// <summary>Same as <see cref="Release"/>; harmless after it.</summary>
    public void Dispose() => Release();
}

/// <summary>Given to a <see cref="HeldOnOtherThread"/> holder: it calls <see cref="Wait"/> while holding its lock.</summary>
public sealed class ReleaseSignal
{
    private readonly ManualResetEventSlim _released = new(false);
    private volatile bool _holding;

    internal bool IsHolding => _holding;

    /// <summary>Says that the holder now holds its lock, then blocks until the test releases it.</summary>
    /// <exception cref="TimeoutException">The test never released it within the hang limit.</exception>
    public void Wait()
    {
        _holding = true;
        if (!_released.Wait(Guard.HangLimit))
        {
            throw new TimeoutException("Hang guard: the holder was never released.");
        }
    }

    internal void Release() => _released.Set();
}
