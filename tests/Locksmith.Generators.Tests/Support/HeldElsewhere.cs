using System;
using System.Threading;

namespace Locksmith.Generators.Tests.Support;

/// <summary>
/// Holds a lock on another thread until disposed: <c>using var held = new HeldElsewhere(wait =&gt; { using var s = l.Acquire(); wait(); });</c>.
/// The constructor returns once the other thread holds it.
/// </summary>
internal sealed class HeldElsewhere : IDisposable
{
    private readonly ManualResetEventSlim _held = new();
    private readonly ManualResetEventSlim _release = new();
    private readonly Thread _thread;
    private Exception? _error;

    public HeldElsewhere(Action<Action> hold)
    {
        _thread = new Thread(() =>
        {
            try
            {
                hold(() =>
                {
                    _held.Set();
                    _release.Wait();
                });
            }
            catch (Exception exception)
            {
                _error = exception;
                _held.Set();
            }
        })
        { IsBackground = true, Name = "holder" };
        _thread.Start();
        _held.Wait();
        if (_error is not null)
        {
            throw new InvalidOperationException("The holder thread failed to take the lock.", _error);
        }
    }

    public void Dispose()
    {
        _release.Set();
        _thread.Join();
        _held.Dispose();
        _release.Dispose();
        if (_error is not null)
        {
            throw new InvalidOperationException("The holder thread failed while holding or releasing the lock.", _error);
        }
    }
}
