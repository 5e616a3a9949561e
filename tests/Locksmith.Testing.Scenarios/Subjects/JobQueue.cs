using System;
using System.Collections.Generic;

namespace Locksmith.Testing.Scenarios.Subjects;

/// <summary>How a consumer waits for work: the bug under test and its two fixes.</summary>
public enum WaitStyle
{
    /// <summary>Broken: checks once with <c>if</c>, so a wake-up whose job another consumer took dequeues from an empty queue.</summary>
    If,

    /// <summary>Checks again after every wake-up.</summary>
    While,

    /// <summary><see cref="ConditionVariable.WaitUntil(Func{bool})"/>, which runs the <c>while</c> loop itself.</summary>
    WaitUntil,
}

/// <summary>A queue of jobs guarded by one lock, with a condition that tells consumers a job arrived.</summary>
public sealed class JobQueue
{
    private readonly ExclusiveLock _lock = new("jobs.lock");
    private readonly ConditionVariable _notEmpty;
    private readonly Queue<int> _jobs = [];

    /// <summary>Creates the queue; create it inside the scenario builder, so its lock and condition are controlled.</summary>
    public JobQueue() => _notEmpty = new ConditionVariable(_lock, "jobs.notEmpty");

    /// <summary>Adds a job and wakes one consumer.</summary>
    public void Put(int job)
    {
        using (_lock.Acquire())
        {
            _jobs.Enqueue(job);
        }

        _notEmpty.Notify();
    }

    /// <summary>Takes a job, waiting while there is none.</summary>
    /// <exception cref="InvalidOperationException">The <see cref="WaitStyle.If"/> bug: the queue was empty after the wait.</exception>
    public int Take(WaitStyle style)
    {
        using var scope = _lock.Acquire();
        switch (style)
        {
            case WaitStyle.If:
                // Broken: returning from Wait does not mean a job is there; another consumer may have taken it.
                if (_jobs.Count == 0)
                {
                    _notEmpty.Wait();
                }

                break;
            case WaitStyle.While:
                while (_jobs.Count == 0)
                {
                    _notEmpty.Wait();
                }

                break;
            default:
                _notEmpty.WaitUntil(() => _jobs.Count != 0);
                break;
        }

        return _jobs.Dequeue();
    }
}
