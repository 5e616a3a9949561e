using System;
using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using System.Threading.Tasks;

namespace Locksmith;

/// <summary>
/// The async locks an async <see cref="LockSet"/> acquisition (or an <see cref="AsyncStripedLock{TKey}"/>'s
/// <c>AcquireManyAsync</c>) holds, in the global order; disposing it releases them all, in reverse order.
/// </summary>
/// <remarks>
/// Like <see cref="AsyncLockScope"/>, each hold is released once: disposing the scope a second time (or a copy of it)
/// throws <see cref="System.Threading.SynchronizationLockException"/> naming a lock, instead of releasing a later
/// owner's hold. The default scope (from a <c>TryAcquireAsync</c> that timed out) holds nothing. Sets of up to four
/// locks are kept inline; larger ones in an array of their own.
/// </remarks>
public readonly struct AsyncLockSetScope : IDisposable, IAsyncDisposable
{
    private readonly AsyncScopeBuffer _inline;
    private readonly AsyncLockScope[]? _more;
    private readonly int _count;

    private AsyncLockSetScope(AsyncScopeBuffer inline, AsyncLockScope[]? more, int count)
    {
        _inline = inline;
        _more = more;
        _count = count;
    }

    /// <summary>Whether the scope holds its locks (false for a <c>TryAcquireAsync</c> that timed out).</summary>
    public bool IsAcquired => _count > 0;

    /// <summary>How many distinct locks the scope holds.</summary>
    public int Count => _count;

    /// <summary>Releases every lock of the set, in reverse order.</summary>
    /// <exception cref="System.Threading.SynchronizationLockException">The set was already released.</exception>
    public void Dispose()
    {
        ReadOnlySpan<AsyncLockScope> scopes = _more is null ? _inline[.._count] : _more.AsSpan(0, _count);
        ExceptionDispatchInfo? first = null;
        for (int i = scopes.Length - 1; i >= 0; i--)
        {
            try
            {
                scopes[i].Dispose();
            }
            catch (Exception ex)
            {
                // Release the rest before reporting the first failure: stale or full members must not keep the others held.
                first ??= ExceptionDispatchInfo.Capture(ex);
            }
        }

        first?.Throw();
    }

    /// <summary>Releases every lock of the set; completes at once (for <c>await using</c>).</summary>
    /// <exception cref="System.Threading.SynchronizationLockException">The set was already released.</exception>
    public ValueTask DisposeAsync()
    {
        Dispose();
        return default;
    }

    /// <summary>A scope over <paramref name="scopes"/>, held in the global order.</summary>
    internal static AsyncLockSetScope Of(ReadOnlySpan<AsyncLockScope> scopes)
    {
        if (scopes.Length <= AsyncScopeBuffer.Capacity)
        {
            var inline = default(AsyncScopeBuffer);
            scopes.CopyTo(inline);
            return new AsyncLockSetScope(inline, null, scopes.Length);
        }

        return new AsyncLockSetScope(default, scopes.ToArray(), scopes.Length);
    }
}

/// <summary>Inline room for the scopes of a small async set, so sets of up to four locks need no array.</summary>
[InlineArray(Capacity)]
internal struct AsyncScopeBuffer
{
    public const int Capacity = 4;

    private AsyncLockScope _element;
}
