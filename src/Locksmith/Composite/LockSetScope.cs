using System;
using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using System.Threading;

namespace Locksmith;

/// <summary>
/// The locks a <see cref="LockSet"/> acquisition holds, in the global order; disposing it releases them all,
/// in reverse order. Allocation-free for up to four locks (larger sets rent their array from a pool).
/// </summary>
public ref struct LockSetScope
{
    private LockBuffer _inline;
    private LockPrimitive?[]? _rented;
    private int _count;

    /// <summary>How many distinct locks the scope holds.</summary>
    public readonly int Count => _count;

    /// <summary>Whether the scope holds its locks (false for the scope of a failed <c>TryAcquire</c>).</summary>
    public readonly bool IsAcquired => _count > 0;

    /// <summary>Releases every lock of the set, once; a member that fails to release does not keep the others held.</summary>
    /// <exception cref="SynchronizationLockException">Disposed on a thread that does not hold the locks, or after a copy of the scope was disposed.</exception>
    /// <remarks>When members fail (one released directly, a semaphore filled by other releases), the rest are still
    /// released and the first failure is thrown.</remarks>
    public void Dispose()
    {
        if (_count > 0 && _rented is { } rented && rented[0] is null)
        {
            DisposedThroughACopy();
            return;
        }

        Span<LockPrimitive?> locks = Locks;
        int count = _count;
        _count = 0;
        ExceptionDispatchInfo? first = null;
        for (int i = count - 1; i >= 0; i--)
        {
            ExitMember(locks[i]!, ref first);
            locks[i] = null;
        }

        ReturnBuffer();
        first?.Throw();
    }

    /// <summary>
    /// Releases one member; a failure is kept for the end, since the count is already 0 and stopping would leave the
    /// rest held with no scope to release them. Its own method, so the release loop has no exception handling.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ExitMember(LockPrimitive member, ref ExceptionDispatchInfo? first)
    {
        try
        {
            LockSet.ExitMember(member);
        }
        catch (Exception ex)
        {
            first ??= ExceptionDispatchInfo.Capture(ex);
        }
    }

    /// <summary>
    /// A copy of this scope (<c>var copy = scope;</c>) was disposed first: the rented array both share was cleared and
    /// handed back to the pool then. Throw, forgetting it, instead of failing on the cleared entries and handing the array
    /// back a second time, after which two later sets could rent the same array.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void DisposedThroughACopy()
    {
        int count = _count;
        _count = 0;
        _rented = null;
        throw new SynchronizationLockException(
            $"This lock set scope of {count} locks was released already, through a copy of it (var copy = scope;): dispose a scope once, and do not copy it.");
    }

    /// <summary>Where the set's locks live: inline, or in the rented array.</summary>
    [UnscopedRef]
    internal Span<LockPrimitive?> Locks => _rented is null ? _inline : _rented;

    /// <summary>The scope of a two-lock set taken on the fast path (<paramref name="second"/> null when both were one lock).</summary>
    internal static LockSetScope Of(LockPrimitive first, LockPrimitive? second)
    {
        var scope = default(LockSetScope);
        scope._inline[0] = first;
        scope._inline[1] = second;
        scope._count = second is null ? 1 : 2;
        return scope;
    }

    internal void EnsureCapacity(int capacity)
    {
        if (capacity > LockBuffer.Capacity)
        {
            _rented = ArrayPool<LockPrimitive?>.Shared.Rent(capacity);
        }
    }

    internal void SetCount(int count) => _count = count;

    /// <summary>Hands the locks back without releasing them (they were released already by the acquirer).</summary>
    internal void ReturnBuffer()
    {
        if (_rented is { } rented)
        {
            _rented = null;
            Array.Clear(rented);
            ArrayPool<LockPrimitive?>.Shared.Return(rented);
        }

        _inline = default;
    }
}
