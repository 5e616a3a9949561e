using System;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Threading;

namespace Locksmith;

/// <summary>
/// A lock-free 64-bit counter: every operation is one atomic instruction, or a compare-and-swap retry loop for
/// <see cref="Update(Func{long, long})"/>.
/// </summary>
/// <remarks>
/// One shared field is the right choice while few threads write it. For a counter many threads increment at once
/// (request counts, hit counters) prefer <see cref="StripedCounter"/>: every write here moves the same cache line
/// between cores.
/// </remarks>
public sealed class AtomicCounter
{
    private static long s_nextId;

    private long _value;

    // The controlled scheduler the counter was created under (Locksmith.Testing), or null: then each operation is a
    // scheduling point.
    private readonly ISchedulingController? _controller;

    /// <summary>Creates a counter at 0 with a generated name.</summary>
    public AtomicCounter()
        : this(0, null)
    {
    }

    /// <summary>Creates a counter at 0.</summary>
    /// <param name="name">The name <see cref="ToString"/> shows; a generated one if null.</param>
    public AtomicCounter(string? name)
        : this(0, name)
    {
    }

    /// <summary>Creates a counter.</summary>
    /// <param name="initialValue">The starting value.</param>
    /// <param name="name">The name <see cref="ToString"/> shows; a generated one if null.</param>
    public AtomicCounter(long initialValue, string? name = null)
    {
        _value = initialValue;
        _controller = SchedulingHooks.Current;
        Name = string.IsNullOrWhiteSpace(name) ? $"{nameof(AtomicCounter)}#{Interlocked.Increment(ref s_nextId)}" : name;
    }

    /// <summary>The counter's name.</summary>
    public string Name { get; }

    /// <summary>The current value (a volatile read; atomic on every platform).</summary>
    public long Value
    {
        get
        {
            Schedule(SchedulingOperation.CounterRead);
            return Volatile.Read(ref _value);
        }
    }

    /// <summary>Adds 1.</summary>
    /// <returns>The new value.</returns>
    public long Increment()
    {
        Schedule(SchedulingOperation.CounterWrite);
        return Interlocked.Increment(ref _value);
    }

    /// <summary>Subtracts 1.</summary>
    /// <returns>The new value.</returns>
    public long Decrement()
    {
        Schedule(SchedulingOperation.CounterWrite);
        return Interlocked.Decrement(ref _value);
    }

    /// <summary>Adds <paramref name="delta"/> (which may be negative); wraps around on overflow.</summary>
    /// <returns>The new value.</returns>
    public long Add(long delta)
    {
        Schedule(SchedulingOperation.CounterWrite);
        return Interlocked.Add(ref _value, delta);
    }

    /// <summary>Sets the value to <paramref name="value"/> if it equals <paramref name="comparand"/>.</summary>
    /// <returns>The value before the call; the exchange happened if it equals <paramref name="comparand"/>.</returns>
    public long CompareExchange(long value, long comparand)
    {
        Schedule(SchedulingOperation.CounterWrite);
        return Interlocked.CompareExchange(ref _value, value, comparand);
    }

    /// <summary>Sets the value to <paramref name="value"/>.</summary>
    /// <returns>The value before the call.</returns>
    public long Exchange(long value)
    {
        Schedule(SchedulingOperation.CounterWrite);
        return Interlocked.Exchange(ref _value, value);
    }

    /// <summary>Replaces the value with <c>update(value)</c>, atomically: retried until no other write intervened.</summary>
    /// <param name="update">Computes the new value from the current one. It may run several times, so it must be free of side effects.</param>
    /// <returns>The new value.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="update"/> is null.</exception>
    public long Update(Func<long, long> update)
    {
        ArgumentNullException.ThrowIfNull(update);
        Schedule(SchedulingOperation.CounterWrite);
        long current = Volatile.Read(ref _value);
        while (true)
        {
            long next = update(current);
            long seen = Interlocked.CompareExchange(ref _value, next, current);
            if (seen == current)
            {
                return next;
            }

            current = seen;
        }
    }

    /// <summary>
    /// Replaces the value with <c>update(value, state)</c>, atomically. Passing <paramref name="state"/> lets a
    /// <see langword="static"/> lambda do the update, so no closure is allocated.
    /// </summary>
    /// <typeparam name="TState">The type of the state passed to <paramref name="update"/>.</typeparam>
    /// <param name="state">Passed to every call of <paramref name="update"/>.</param>
    /// <param name="update">Computes the new value from the current one and the state. It may run several times, so it must be free of side effects.</param>
    /// <returns>The new value.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="update"/> is null.</exception>
    public long Update<TState>(TState state, Func<long, TState, long> update)
    {
        ArgumentNullException.ThrowIfNull(update);
        Schedule(SchedulingOperation.CounterWrite);
        long current = Volatile.Read(ref _value);
        while (true)
        {
            long next = update(current, state);
            long seen = Interlocked.CompareExchange(ref _value, next, current);
            if (seen == current)
            {
                return next;
            }

            current = seen;
        }
    }

    /// <summary>The name and the current value.</summary>
    public override string ToString() => $"{Name} = {Volatile.Read(ref _value).ToString(CultureInfo.InvariantCulture)}";

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Schedule(SchedulingOperation operation)
    {
        if (_controller is not null)
        {
            SchedulePoint(operation);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void SchedulePoint(SchedulingOperation operation) => _controller!.Point(operation, this, Name);
}
