using System.Diagnostics.CodeAnalysis;
using System.Threading;

namespace Locksmith;

internal static partial class ThrowHelper
{
    [DoesNotReturn]
    public static void ThrowReentryLimit(LockPrimitive lockPrimitive) =>
        throw new LockRecursionException(
            $"Thread {ThreadNames.Current()} tried to acquire {lockPrimitive.Describe()} again, but it already holds it " +
            $"{int.MaxValue} times, the most its recursion count can record. This is almost certainly unbounded recursion.");
}
