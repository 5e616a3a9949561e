using System;
using System.Threading;

namespace Locksmith.Testing.Support;

/// <summary>
/// A named background thread whose failure is not lost. An exception escaping the body of a bare
/// <see cref="Thread"/> kills the test host; here it is kept and rethrown on the test thread by
/// <see cref="JoinGuarded"/> or <see cref="Join(TimeSpan)"/>, so an assertion inside the body fails its test.
/// </summary>
public sealed class Worker
{
    private readonly Thread _thread;
    private Exception? _failure;

    private Worker(string name, Action body)
    {
        _thread = new Thread(() =>
        {
            try
            {
                body();
            }
            catch (Exception exception)
            {
                Volatile.Write(ref _failure, exception);
            }
        })
        { IsBackground = true, Name = name };
    }

    /// <summary>The thread's name.</summary>
    public string Name => _thread.Name!;

    /// <summary>Interrupts the thread (a <see cref="ThreadInterruptedException"/> where it blocks), for tests of waits that end by an exception.</summary>
    public void Interrupt() => _thread.Interrupt();

    /// <summary>Whether the body has returned or thrown.</summary>
    public bool HasEnded => !_thread.IsAlive;

    /// <summary>Whether the thread is blocked in a wait, a sleep or a join (a snapshot).</summary>
    public bool IsBlocked => (_thread.ThreadState & ThreadState.WaitSleepJoin) != 0;

    /// <summary>Starts <paramref name="body"/> on a new background thread named <paramref name="name"/>.</summary>
    public static Worker Start(string name, Action body)
    {
        var worker = new Worker(name, body);
        worker._thread.Start();
        return worker;
    }

    /// <summary>Waits for the thread within <see cref="Guard.HangLimit"/>, then rethrows what its body threw.</summary>
    /// <exception cref="TimeoutException">The thread did not end within the hang limit.</exception>
    /// <exception cref="AggregateException">The body threw (the inner exception); thrown once.</exception>
    public void JoinGuarded()
    {
        if (!_thread.Join(Guard.HangLimit))
        {
            throw new TimeoutException($"Hang guard: thread '{Name}' never ended.");
        }

        ThrowIfFailed();
    }

    /// <summary>Waits up to <paramref name="timeout"/>; once the thread has ended, rethrows what its body threw.</summary>
    /// <returns>Whether the thread ended.</returns>
    /// <exception cref="AggregateException">The body threw (the inner exception); thrown once.</exception>
    public bool Join(TimeSpan timeout)
    {
        if (!_thread.Join(timeout))
        {
            return false;
        }

        ThrowIfFailed();
        return true;
    }

    /// <summary>Waits for the thread within the hang limit without rethrowing; returns (and forgets) what its body threw.</summary>
    internal Exception? JoinAndTakeFailure()
    {
        if (!_thread.Join(Guard.HangLimit))
        {
            return new TimeoutException($"Hang guard: thread '{Name}' never ended.");
        }

        return Interlocked.Exchange(ref _failure, null);
    }

    private void ThrowIfFailed()
    {
        if (Interlocked.Exchange(ref _failure, null) is { } failure)
        {
            throw new AggregateException($"Thread '{Name}' failed.", failure);
        }
    }
}
