using System;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;

namespace Locksmith;

internal static partial class ThrowHelper
{
    /// <summary>
    /// An acquisition given a token that was already cancelled: it takes nothing, not even a free lock (as
    /// <c>SemaphoreSlim.Wait</c> and <c>WaitAsync</c> do), so a loop that should stop does not go on taking locks. The one
    /// message of every such refusal, in-process or distributed.
    /// </summary>
    /// <param name="who">The thread or flow that asked.</param>
    /// <param name="what">What it asked, e.g. <c>for exclusive access to 'ledger'</c> or <c>LockSet for 'a', 'b'</c>.</param>
    /// <param name="cancellationToken">The cancelled token.</param>
    public static OperationCanceledException CanceledBeforeAcquiring(string who, string what, CancellationToken cancellationToken) =>
        new($"{SentenceStart(who)} asked {what} with a cancellation token that was already cancelled; nothing was taken (a cancelled token " +
            "refuses even a free lock).", cancellationToken);

    // "thread 4 ('worker')" and "flow #3" begin the sentence here.
    private static string SentenceStart(string who) => who.Length > 0 && char.IsLower(who[0]) ? char.ToUpperInvariant(who[0]) + who[1..] : who;

    /// <summary>
    /// The one message of a wait that was cancelled, in-process or distributed, sync or async: nothing is held. The waiter
    /// begins the sentence, as in timeouts and misuse: <c>Thread 4 ('worker') stopped waiting for …</c>, <c>Flow #3 (on thread
    /// 7) stopped waiting for …</c>.
    /// </summary>
    /// <param name="who">The thread or flow that waited (a flow with the thread it resumed on: <see cref="FlowOnThread"/>).</param>
    /// <param name="what">What it waited for, e.g. <c>exclusive access to 'ledger'</c>.</param>
    /// <param name="cancellationToken">The cancelled token.</param>
    /// <param name="inner">What the cancellation interrupted, if anything.</param>
    public static OperationCanceledException WaitCanceled(string who, string what, CancellationToken cancellationToken, Exception? inner = null) =>
        new($"{SentenceStart(who)} stopped waiting for {what}: its cancellation token was cancelled; nothing is held.", inner, cancellationToken);

    /// <summary>How the cancellation messages name one lock's mode: <c>exclusive access to 'ledger' (level 10)</c>.</summary>
    public static string AccessTo(LockPrimitive lockPrimitive, LockMode mode) => $"{LockKindNames.Of(mode)} access to {lockPrimitive.Describe()}";

    /// <inheritdoc cref="CanceledBeforeAcquiring(string, string, CancellationToken)"/>
    /// <param name="lockPrimitive">The lock asked for.</param>
    /// <param name="mode">The mode asked for.</param>
    /// <param name="who">The thread or flow that asked.</param>
    /// <param name="cancellationToken">The cancelled token.</param>
    /// <param name="permits">A semaphore's permits asked for, counted as its timeout counts them (see <see cref="WaitedFor"/>).</param>
    public static OperationCanceledException CanceledBeforeAcquiring(LockPrimitive lockPrimitive, LockMode mode, string who, CancellationToken cancellationToken, int permits = 0) =>
        CanceledBeforeAcquiring(who, "for " + WaitedFor(lockPrimitive, mode, permits), cancellationToken);

    /// <summary>A synchronous acquisition's up-front check: the calling thread's token was already cancelled.</summary>
    [DoesNotReturn]
    public static void ThrowCanceledBeforeAcquiring(LockPrimitive lockPrimitive, LockMode mode, CancellationToken cancellationToken, int permits = 0) =>
        throw CanceledBeforeAcquiring(lockPrimitive, mode, $"Thread {ThreadNames.Current()}", cancellationToken, permits);

    /// <summary>A set's acquisition given a token that was already cancelled: names the set's locks.</summary>
    [DoesNotReturn]
    public static void ThrowSetCanceledBeforeAcquiring(ReadOnlySpan<LockPrimitive?> locks, string who, CancellationToken cancellationToken) =>
        throw SetCanceledBeforeAcquiring(locks, who, cancellationToken);

    /// <inheritdoc cref="ThrowSetCanceledBeforeAcquiring"/>
    public static OperationCanceledException SetCanceledBeforeAcquiring(ReadOnlySpan<LockPrimitive?> locks, string who, CancellationToken cancellationToken) =>
        CanceledBeforeAcquiring(who, "LockSet for " + Names(locks), cancellationToken);

    /// <summary>A set's wait that was cancelled between its attempts: names the set's locks; nothing is held.</summary>
    [DoesNotReturn]
    public static void ThrowSetWaitCanceled(ReadOnlySpan<LockPrimitive?> locks, CancellationToken cancellationToken) =>
        throw SetWaitCanceled(locks, CurrentFlowOrThread(), cancellationToken);

    /// <inheritdoc cref="ThrowSetWaitCanceled"/>
    public static OperationCanceledException SetWaitCanceled(ReadOnlySpan<LockPrimitive?> locks, string who, CancellationToken cancellationToken) =>
        WaitCanceled(who, "LockSet's " + Names(locks), cancellationToken);

    private static string Names(ReadOnlySpan<LockPrimitive?> locks)
    {
        var names = new System.Text.StringBuilder();
        foreach (var member in locks)
        {
            if (member is not null)
            {
                names.Append(names.Length == 0 ? string.Empty : ", ").Append(member.Describe());
            }
        }

        return names.ToString();
    }

    /// <summary>
    /// A <see cref="ConditionVariable"/> wait ended by its token, before it waited (already cancelled) or while it slept;
    /// either way the thread holds the condition's lock when this is thrown.
    /// </summary>
    [DoesNotReturn]
    public static void ThrowConditionWaitCanceled(string conditionName, LockPrimitive lockPrimitive, bool beforeWaiting, CancellationToken cancellationToken) =>
        throw new OperationCanceledException(
            beforeWaiting
                ? $"Thread {ThreadNames.Current()} called Wait on {DescribeCondition(conditionName, lockPrimitive)} with a cancellation " +
                  "token that was already cancelled; it did not wait and still holds the lock."
                : $"Thread {ThreadNames.Current()} stopped waiting on {DescribeCondition(conditionName, lockPrimitive)}: its cancellation " +
                  "token was cancelled; it holds the lock again.",
            cancellationToken);

    /// <summary>
    /// What a cancelled wait was for: a semaphore's permits counted as its timeout counts them (<c>2 permit(s) of
    /// semaphore 'slots'</c>, <paramref name="permits"/> 0 when unknown), else <see cref="AccessTo"/>.
    /// </summary>
    public static string WaitedFor(LockPrimitive lockPrimitive, LockMode mode, int permits) =>
        mode != LockMode.Permit ? AccessTo(lockPrimitive, mode)
        : (permits > 0 ? $"{permits} permit(s)" : "permits") + $" of semaphore {lockPrimitive.Describe()}";

    /// <summary>A synchronous wait that was cancelled: named like an async one's; <paramref name="permits"/> as in <see cref="WaitedFor"/>.</summary>
    [DoesNotReturn]
    public static void ThrowWaitCanceled(LockPrimitive lockPrimitive, LockMode mode, int permits, CancellationToken cancellationToken) =>
        throw WaitCanceled($"thread {ThreadNames.Current()}", WaitedFor(lockPrimitive, mode, permits), cancellationToken);

    /// <summary>
    /// An async acquisition's up-front check, naming the flow that asked: a task cancelled with the named exception (as a <see cref="Task"/> it is
    /// Canceled, like <see cref="ValueTask.FromCanceled{TResult}(CancellationToken)"/>, and awaiting it throws the message).
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static ValueTask<T> CanceledBeforeAcquiringAsync<T>(LockPrimitive lockPrimitive, LockMode mode, CancellationToken cancellationToken, int permits = 0) =>
        CanceledWith<T>(CanceledBeforeAcquiring(lockPrimitive, mode, CurrentFlow(), cancellationToken, permits));

    /// <summary>A task cancelled with <paramref name="exception"/>: an async method that throws it, whose builder completes it as Canceled.</summary>
#pragma warning disable CS1998
    public static async ValueTask<T> CanceledWith<T>(OperationCanceledException exception) => throw exception;
#pragma warning restore CS1998
}
