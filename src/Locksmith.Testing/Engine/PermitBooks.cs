using System.Linq;
using System.Runtime.CompilerServices;

namespace Locksmith.Testing.Engine;

/// <summary>
/// A flow's permits by semaphore, taken less given back, kept weakly: a semaphore nothing refers to is never waited for
/// again, and a signal's books (one side gave back, the other took) never come back to zero. Under the run's gate.
/// </summary>
internal sealed class PermitBooks
{
    private readonly ConditionalWeakTable<CountingSemaphore, StrongBox<int>> _held = [];

    /// <summary>The permits of <paramref name="semaphore"/> booked: below zero for one that gave back permits others took.</summary>
    public int this[CountingSemaphore semaphore] => _held.TryGetValue(semaphore, out var held) ? held.Value : 0;

    /// <summary>The semaphores with an entry whose semaphore is still alive, for tests.</summary>
    public int Count => _held.Count();

    /// <summary>The permits of <paramref name="semaphore"/> booked, zero when none.</summary>
    public int GetValueOrDefault(CountingSemaphore semaphore) => this[semaphore];

    /// <summary>Adds <paramref name="count"/> (below zero: given back), forgetting a semaphore of which none are booked.</summary>
    public void Add(CountingSemaphore semaphore, int count)
    {
        var held = _held.GetOrCreateValue(semaphore);
        held.Value += count;
        if (held.Value == 0)
        {
            _held.Remove(semaphore);
        }
    }
}
