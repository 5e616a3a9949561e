using System;
using System.Runtime.CompilerServices;
using System.Threading;

namespace Locksmith.Tests.Support;

/// <summary>
/// Bounds on waits that should end at once, so a regression fails the test instead of hanging the run. The bound
/// is a hang guard, never a timing assertion: it is minutes where the expected wait is microseconds.
/// </summary>
internal static class Guard
{
    public static readonly TimeSpan HangLimit = TimeSpan.FromMinutes(2);

    /// <summary>Spins until <paramref name="condition"/> holds; throws if it never does.</summary>
    public static void SpinUntil(Func<bool> condition, [CallerArgumentExpression(nameof(condition))] string? what = null)
    {
        if (!SpinWait.SpinUntil(condition, HangLimit))
        {
            throw new TimeoutException($"Hang guard: '{what}' never became true.");
        }
    }

    /// <summary>Joins <paramref name="thread"/>; throws if it never ends.</summary>
    public static void JoinGuarded(this Thread thread)
    {
        if (!thread.Join(HangLimit))
        {
            throw new TimeoutException($"Hang guard: thread '{thread.Name}' never ended.");
        }
    }
}
