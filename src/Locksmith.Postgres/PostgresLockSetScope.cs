using System;
using System.Threading;
using System.Threading.Tasks;

namespace Locksmith.Postgres;

/// <summary>
/// The distributed locks a <see cref="PostgresLockSet"/> (or <see cref="PostgresKeyedLock{TKey}.AcquireManyAsync(System.Collections.Generic.IReadOnlyList{TKey}, CancellationToken)"/>)
/// took together; disposing it releases them all, in reverse order.
/// </summary>
public readonly struct PostgresLockSetScope : IDisposable, IAsyncDisposable
{
    private readonly PostgresHold[]? _holds;
    private readonly CancellationTokenSource? _lost;
    private readonly CancellationToken _lostToken;

    internal PostgresLockSetScope(PostgresHold[] holds)
    {
        _holds = holds;
        var tokens = new CancellationToken[holds.Length];
        for (int i = 0; i < holds.Length; i++)
        {
            tokens[i] = holds[i].LostToken;
        }

        _lost = CancellationTokenSource.CreateLinkedTokenSource(tokens);

        // Read once: a disposed source's Token throws, and copies of the scope may be read after the release.
        _lostToken = _lost.Token;
    }

    /// <summary>Whether the scope holds the locks (false for a <c>TryAcquireAsync</c> that timed out).</summary>
    public bool IsAcquired => _holds is not null;

    /// <summary>How many distinct locks (keys) the scope holds.</summary>
    public int Count => _holds?.Length ?? 0;

    /// <summary>Cancelled when the session holding any of the locks is found gone (see <see cref="PostgresLockScope.LostToken"/>).</summary>
    public CancellationToken LostToken => _lostToken;

    /// <summary>Releases every lock with blocking round trips.</summary>
    /// <remarks>
    /// Each lock is released whatever the release of another threw; that error is thrown once all are released (several
    /// as an <see cref="AggregateException"/>).
    /// </remarks>
    /// <exception cref="SynchronizationLockException">The scope was already disposed (thrown at once).</exception>
    public void Dispose()
    {
        if (_holds is null)
        {
            return;
        }

        ClaimAll(_holds);
        var errors = default(ReleaseErrors);
        for (int i = _holds.Length - 1; i >= 0; i--)
        {
            try
            {
                _holds[i].ReleaseClaimed();
            }
            catch (Exception e)
            {
                errors.Add(e);
            }
        }

        _lost!.Dispose();
        errors.ThrowIfAny();
    }

    /// <summary>Releases every lock.</summary>
    /// <remarks>
    /// Each lock is released whatever the release of another threw; that error comes from the task once all are released
    /// (several as an <see cref="AggregateException"/>).
    /// </remarks>
    /// <exception cref="SynchronizationLockException">The scope was already disposed (thrown at once).</exception>
    public ValueTask DisposeAsync()
    {
        if (_holds is null)
        {
            return default;
        }

        // The bookkeeping of every hold here, in the disposing frame; then the round trips.
        ClaimAll(_holds);
        var unlocks = new ValueTask[_holds.Length];
        for (int i = _holds.Length - 1; i >= 0; i--)
        {
            unlocks[i] = _holds[i].ReleaseClaimedAsync();
        }

        return WhenAll(unlocks, _lost!);
    }

    /// <summary>
    /// Claims every hold, last first, as they are released: a second disposal fails on the first, before anything is
    /// touched (each disposal claims in the same order, so even two at once never split the holds between them).
    /// </summary>
    private static void ClaimAll(PostgresHold[] holds)
    {
        // Every disposal claims the last hold first, so a second one is refused there: name the set, not that member.
        if (!holds[^1].TryClaim())
        {
            PostgresErrors.ThrowSetReleasedTwice(holds);
        }

        for (int i = holds.Length - 2; i >= 0; i--)
        {
            holds[i].Claim();
        }
    }

    private static async ValueTask WhenAll(ValueTask[] unlocks, CancellationTokenSource lost)
    {
        var errors = default(ReleaseErrors);
        for (int i = unlocks.Length - 1; i >= 0; i--)
        {
            try
            {
                await unlocks[i].ConfigureAwait(false);
            }
            catch (Exception e)
            {
                errors.Add(e);
            }
        }

        lost.Dispose();
        errors.ThrowIfAny();
    }
}
