using System;
using System.Runtime.CompilerServices;
using System.Threading;

namespace Locksmith.Testing.Support;

/// <summary>
/// The one bound on waits that should end at once, so a regression fails the test instead of hanging the run. The
/// bound is a hang guard, never a timing assertion: it is minutes where the expected wait is microseconds.
/// </summary>
public static class Guard
{
    /// <summary>How long any wait of a test may take before it counts as a hang.</summary>
    public static readonly TimeSpan HangLimit = TimeSpan.FromMinutes(2);

    /// <summary>Spins until <paramref name="condition"/> holds; throws if it never does.</summary>
    /// <exception cref="TimeoutException">The condition stayed false for <see cref="HangLimit"/>.</exception>
    public static void SpinUntil(Func<bool> condition, [CallerArgumentExpression(nameof(condition))] string? what = null)
    {
        if (!SpinWait.SpinUntil(condition, HangLimit))
        {
            throw new TimeoutException($"Hang guard: '{what}' never became true.");
        }
    }

    /// <summary>
    /// Joins a bare <paramref name="thread"/> (one a test must start itself, e.g. to leave it unnamed) within
    /// <see cref="HangLimit"/>. Prefer <see cref="Worker"/>, which also brings the thread's failure back.
    /// </summary>
    /// <exception cref="TimeoutException">The thread did not end within the hang limit.</exception>
    public static void JoinGuarded(this Thread thread)
    {
        if (!thread.Join(HangLimit))
        {
            throw new TimeoutException($"Hang guard: thread '{thread.Name}' never ended.");
        }
    }
}
