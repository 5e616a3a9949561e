using System;
using System.Diagnostics.CodeAnalysis;
using System.Threading;

namespace Locksmith;

/// <summary>
/// Every throw of the runtime, kept out of the inlined fast paths. Each message names the lock and the thread.
/// </summary>
internal static partial class ThrowHelper
{
    [DoesNotReturn]
    public static void ThrowTimeoutOutOfRange(string paramName, TimeSpan timeout) =>
        throw new ArgumentOutOfRangeException(paramName, timeout,
            "The timeout must be Timeout.InfiniteTimeSpan, TimeSpan.Zero or a positive duration of at most int.MaxValue milliseconds.");

    [DoesNotReturn]
    public static void ThrowTimeoutOutOfRange(LockPrimitive lockPrimitive, TimeSpan timeout) =>
        ThrowTimeoutOutOfRangeFor(lockPrimitive.Describe(), timeout);

    /// <summary>A timeout out of range given to <paramref name="described"/> (what it names: a lock, a set, a condition, a barrier).</summary>
    [DoesNotReturn]
    public static void ThrowTimeoutOutOfRangeFor(string described, TimeSpan timeout) =>
        throw new ArgumentOutOfRangeException("timeout", timeout,
            $"The timeout for {described} must be Timeout.InfiniteTimeSpan, TimeSpan.Zero or a positive duration of " +
            "at most int.MaxValue milliseconds.");

    /// <summary>How a timeout's message names a condition variable: its name and its lock.</summary>
    public static string DescribeCondition(string conditionName, LockPrimitive lockPrimitive) =>
        $"condition variable '{conditionName}' (of {lockPrimitive.Describe()})";

    /// <summary>How a timeout's message names a lock set: its members, as given (built only to throw).</summary>
    public static string DescribeSet(System.Collections.Generic.IEnumerable<object?> members) =>
        "the lock set of " + string.Join(", ", System.Linq.Enumerable.Select(members, DescribeMember));

    private static string DescribeMember(object? member) => member switch
    {
        null => "null",
        LockPrimitive lockPrimitive => lockPrimitive.Describe(),
        _ => $"'{member}'",
    };

    [DoesNotReturn]
    public static void ThrowRecursion(LockPrimitive lockPrimitive, string hint) =>
        throw new LockRecursionException(
            $"Thread {ThreadNames.Current()} tried to acquire {lockPrimitive.Describe()}, which it already holds. " +
            $"{NotReentrant(lockPrimitive, lockPrimitive.GetType().Name)}, so waiting would deadlock. {StripeHintOr(lockPrimitive, "AcquireMany", hint)}");

    /// <summary>
    /// Why a lock refuses re-entry, naming what the user built: a stripe is named by its striped lock, whose keys share
    /// stripes (the user never made the stripe's own type, and may have asked by another key of the same stripe).
    /// </summary>
    public static string NotReentrant(LockPrimitive lockPrimitive, string typeName) =>
        lockPrimitive.StripedParent is { } striped
            ? $"{StripeOf(striped)}, and a stripe is not reentrant"
            : $"{typeName} is not reentrant";

    /// <summary>"It is a stripe of StripedLock&lt;string&gt; 'accounts', which every key that maps to it shares".</summary>
    public static string StripeOf(LockPrimitive striped) =>
        $"It is a stripe of {FriendlyTypeName(striped.GetType())} '{striped.Name}', which every key that maps to it shares";

    /// <summary>The advice for re-entry into a stripe (one call for several keys), or <paramref name="hint"/> for any other lock.</summary>
    public static string StripeHintOr(LockPrimitive lockPrimitive, string takeMany, string hint) =>
        lockPrimitive.StripedParent is null
            ? hint
            : $"Release the key's scope before taking it, or another key of that stripe, again; to hold several keys at once, take them in one {takeMany} call, which takes a stripe they share once.";

    /// <summary>A generic type as C# spells it, for messages: <c>StripedLock&lt;string&gt;</c>.</summary>
    private static string FriendlyTypeName(Type type)
    {
        if (!type.IsGenericType)
        {
            return KeywordFor(type) ?? type.Name;
        }

        if (Nullable.GetUnderlyingType(type) is { } underlying)
        {
            return FriendlyTypeName(underlying) + "?";
        }

        string name = type.Name[..type.Name.IndexOf('`', StringComparison.Ordinal)];
        return $"{name}<{string.Join(", ", System.Linq.Enumerable.Select(type.GetGenericArguments(), FriendlyTypeName))}>";
    }

    private static string? KeywordFor(Type type) => Type.GetTypeCode(type) switch
    {
        TypeCode.String => "string",
        TypeCode.Int32 => "int",
        TypeCode.Int64 => "long",
        TypeCode.Int16 => "short",
        TypeCode.Byte => "byte",
        TypeCode.UInt32 => "uint",
        TypeCode.UInt64 => "ulong",
        TypeCode.Char => "char",
        TypeCode.Boolean => "bool",
        TypeCode.Double => "double",
        TypeCode.Decimal => "decimal",
        _ => type == typeof(object) ? "object" : null,
    };

    [DoesNotReturn]
    public static void ThrowNotOwner(LockPrimitive lockPrimitive, int ownerThreadId) =>
        throw new SynchronizationLockException(
            $"Thread {ThreadNames.Current()} tried to release {lockPrimitive.Describe()}, which it does not hold " +
            (ownerThreadId == 0 ? "(the lock is not held). " : $"(it is held by thread {ThreadNames.Of(ownerThreadId)}). ") +
            "Only the owning thread may release it; dispose the scope returned by Acquire on the thread that acquired it.");

    [DoesNotReturn]
    public static void ThrowNotHeldForWait(LockPrimitive lockPrimitive, string conditionName) =>
        throw new SynchronizationLockException(
            $"Thread {ThreadNames.Current()} called Wait on condition variable '{conditionName}' without holding its lock " +
            $"{lockPrimitive.Describe()}. Acquire the lock first: waiting without it would miss notifications.");

    /// <summary>
    /// Permits given back past the maximum: names the thread, or the async flow it runs when that flow holds async locks
    /// (an async scope's give-back runs in its flow, which holds it until then).
    /// </summary>
    [DoesNotReturn]
    public static void ThrowSemaphoreFull(LockPrimitive semaphore, int releaseCount, int currentCount, int maxCount) =>
        throw new SemaphoreFullException(
            $"{SentenceStart(CurrentFlowOrThread())} released {releaseCount} permit(s) of semaphore {semaphore.Describe()}, " +
            $"which has {currentCount} of its maximum {maxCount} free: that would make {(long)currentCount + releaseCount}. A permit was released " +
            "more often than it was acquired, or more at once than were taken.");

    [DoesNotReturn]
    public static void ThrowTimeout(LockPrimitive lockPrimitive, LockMode mode, int ownerThreadId, string? ownerName, TimeSpan waited)
    {
        // ownerName is the one the timeout's event carried (ThreadNames.NameOf, read once as the wait gave up): read
        // again here, a holder whose thread ended meanwhile would be named by id only.
        throw new LockTimeoutException(lockPrimitive.Name, ownerThreadId, ownerName, waited,
            $"Thread {ThreadNames.Current()} timed out after {waited.TotalMilliseconds:0.#} ms waiting for {LockKindNames.Of(mode)} access to " +
            $"{lockPrimitive.Describe()}, " +
            (ownerThreadId == 0 ? NoHolderNamed(mode) : $"held by thread {ThreadNames.Format(ownerThreadId, ownerName)}."));
    }

    /// <summary>
    /// A timeout's words when no holder was left to name as the wait gave up: read and write modes can be held by readers
    /// (no single owner); an exclusive lock has no shared mode, so its holder can only have left just then.
    /// </summary>
    public static string NoHolderNamed(LockMode mode) =>
        mode == LockMode.Exclusive ? "released as the wait ended (its holder left just then)." : "held in a shared mode or released as the wait ended.";

    [DoesNotReturn]
    public static void ThrowArgumentOutOfRange(string paramName, object? value, string message) =>
        throw new ArgumentOutOfRangeException(paramName, value, message);
}
