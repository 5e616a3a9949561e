using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Locksmith.Tests.Support;

namespace Locksmith.Tests.Composite;

/// <summary>
/// A lock set is all or nothing on every way out: whatever makes it fail — a member the caller holds, an order
/// violation, cancellation, a timeout, a member that throws — no member is left held, on every path of
/// <see cref="LockSet"/>. Each case checks every member from another thread afterwards.
/// </summary>
public sealed class LockSetAllOrNothingTests
{
    public enum Kind
    {
        Exclusive,
        Reentrant,
        Spin,
        ReadWrite,
        Semaphore,
    }

    public enum Failure
    {
        /// <summary>The caller holds an extra <see cref="ExclusiveLock"/> of the set (the bug report's case).</summary>
        CallerHoldsOther,

        /// <summary>The caller holds a member of the kind under test (exclusive, spin, write lock).</summary>
        CallerHoldsMember,

        /// <summary>The caller holds the read lock of a <see cref="ReadWriteLock"/> member.</summary>
        CallerReadsMember,

        /// <summary>The caller holds a level-20 lock; the set contains a level-10 lock; violations throw.</summary>
        OrderViolation,

        /// <summary>A member is held on another thread and the token is already cancelled.</summary>
        Cancelled,

        /// <summary>A member is held on another thread; the token is cancelled while the set waits for it.</summary>
        CancelledWhileWaiting,

        /// <summary>A member is held on another thread past the set's timeout.</summary>
        Timeout,

        /// <summary>A member throws on its first attempt, after the members before it were taken.</summary>
        MemberThrows,

        /// <summary>A member is busy at first, then throws while the set holds the lock it blocked on and others.</summary>
        MemberThrowsAfterBusy,
    }

    public enum Path
    {
        /// <summary><c>LockSet.Acquire(first, second)</c>.</summary>
        TwoLocks,

        /// <summary><c>LockSet.Acquire(span)</c> with three locks (the token form for cancellation).</summary>
        Span,

        /// <summary><c>LockSet.Acquire(span)</c> with six locks: the scope rents its buffer.</summary>
        LargeSpan,

        /// <summary><c>LockSet.TryAcquire(timeout, out scope, span)</c>.</summary>
        TryAcquire,

        /// <summary><c>LockSet.Acquire(timeout, span)</c>.</summary>
        TimedAcquire,
    }

    private static readonly TimeSpan s_shortTimeout = TimeSpan.FromMilliseconds(30);

    public static TheoryData<Kind, Failure, Path> Cases()
    {
        var data = new TheoryData<Kind, Failure, Path>();
        foreach (var kind in Enum.GetValues<Kind>())
        {
            foreach (var failure in Enum.GetValues<Failure>())
            {
                foreach (var path in Enum.GetValues<Path>())
                {
                    if (Applies(kind, failure, path))
                    {
                        data.Add(kind, failure, path);
                    }
                }
            }
        }

        return data;
    }

    private static bool Applies(Kind kind, Failure failure, Path path) => failure switch
    {
        // A held ReentrantLock is re-entered (see below), a semaphore has no owner.
        Failure.CallerHoldsMember => kind is Kind.Exclusive or Kind.Spin or Kind.ReadWrite,
        Failure.CallerReadsMember => kind is Kind.ReadWrite,
        // The two-lock overload takes no token.
        Failure.Cancelled or Failure.CancelledWhileWaiting => path != Path.TwoLocks,
        _ => true,
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void FailedSet_LeavesNoMemberHeld(Kind kind, Failure failure, Path path)
    {
        using var policy = PolicyScope.OrderViolations(OrderViolationAction.Throw);
        // Every blocking form is bounded, so a regression fails instead of hanging the run.
        LocksmithPolicy.DefaultTimeout = failure == Failure.Timeout ? s_shortTimeout : Guard.HangLimit;
        TimeSpan timeout = failure == Failure.Timeout ? s_shortTimeout : Guard.HangLimit;

        int memberCount = path switch { Path.TwoLocks => 1, Path.LargeSpan => 5, _ => 2 };
        int? level = failure == Failure.OrderViolation ? 30 : null;
        var members = new List<LockPrimitive>();
        for (int i = 0; i < memberCount; i++)
        {
            members.Add(Create(kind, $"{kind}-{i}", level));
        }

        // The member that makes the set fail is created last, so (unordered, highest id) it sorts last: every
        // other member is taken before it is reached.
        var releaseAfter = new List<Action>();
        HeldOnOtherThread? holder = null;
        using var cancellation = new CancellationTokenSource();
        Worker? canceller = null;
        LockPrimitive culprit;
        switch (failure)
        {
            case Failure.CallerHoldsOther:
                var x = new ExclusiveLock("x");
                x.Acquire();
                releaseAfter.Add(x.Release);
                culprit = x;
                break;
            case Failure.CallerHoldsMember:
                culprit = Create(kind, $"{kind}-held", level);
                releaseAfter.Add(HoldHere(culprit));
                break;
            case Failure.CallerReadsMember:
                var read = new ReadWriteLock("read-held");
                read.AcquireRead();
                releaseAfter.Add(read.ReleaseRead);
                culprit = read;
                break;
            case Failure.OrderViolation:
                var high = new ExclusiveLock("high", level: 20);
                high.Acquire();
                releaseAfter.Add(high.Release);
                culprit = new ExclusiveLock("low", level: 10);
                break;
            case Failure.Cancelled:
            case Failure.Timeout:
                culprit = Create(kind, $"{kind}-busy", level);
                holder = HoldElsewhere(culprit);
                if (failure == Failure.Cancelled)
                {
                    cancellation.Cancel();
                }

                break;
            case Failure.CancelledWhileWaiting:
                var busy = new ExclusiveLock("busy");
                holder = HoldElsewhere(busy);
                culprit = busy;
                canceller = Concurrently.Start("canceller", () =>
                {
                    Blocked.OnLock(busy);
                    cancellation.Cancel();
                });
                break;
            case Failure.MemberThrows:
                culprit = new ThrowingMember("thrower", busyAttempts: 0);
                break;
            case Failure.MemberThrowsAfterBusy:
                // The two-lock overload tries the member once on its fast path before the span path starts.
                culprit = new ThrowingMember("thrower", busyAttempts: path == Path.TwoLocks ? 2 : 1);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(failure));
        }

        var set = members.Append(culprit).Cast<ILockSetMember>().ToArray();
        var token = failure is Failure.Cancelled or Failure.CancelledWhileWaiting ? cancellation.Token : CancellationToken.None;
        bool acquired = false;
        var thrown = Record.Exception(() => acquired = Act(path, set, timeout, token));

        canceller?.JoinGuarded();
        Assert.False(acquired);
        AssertExpected(failure, path, thrown, culprit);
        if (culprit is ThrowingMember thrower)
        {
            Assert.Equal(0, thrower.Releases);
        }

        // Nothing taken by the set may be held now: every member is free for another thread.
        holder?.Release();
        foreach (var release in releaseAfter)
        {
            release();
        }

        List<LockPrimitive> all = culprit is ThrowingMember ? members : [.. members, culprit];
        AssertFreeForAnotherThread(all);

        // And the caller's own record is clean: it takes the whole set (ordered locks included) and releases it.
        using (LockSet.Acquire([.. all.Cast<ILockSetMember>()]))
        {
        }

        AssertFreeForAnotherThread(all);
    }

    [Fact]
    public void BugReport_HeldLockInSet_IsRejected_AndTheOtherStaysFree()
    {
        var a = new ExclusiveLock("a");
        var x = new ExclusiveLock("x");
        using (x.Acquire())
        {
            var ex = Assert.Throws<LockRecursionException>(() => { using var s = LockSet.Acquire(a, x); });
            Assert.False(a.IsHeldByCurrentThread);
            Assert.Contains("'x'", ex.Message, StringComparison.Ordinal);
            Assert.Contains(Environment.CurrentManagedThreadId.ToString(System.Globalization.CultureInfo.InvariantCulture), ex.Message, StringComparison.Ordinal);
            Assert.Contains("Release it before acquiring the set", ex.Message, StringComparison.Ordinal);
        }

        AssertFreeForAnotherThread([a, x]);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void HeldReadWriteLock_IsRejected_NamingTheMode(bool holdRead)
    {
        var free = new ExclusiveLock("free");
        var rw = new ReadWriteLock("rw");
        if (holdRead)
        {
            rw.AcquireRead();
        }
        else
        {
            rw.AcquireWrite();
        }

        var ex = Assert.Throws<LockRecursionException>(() => { using var s = LockSet.Acquire(TimeSpan.FromSeconds(30), free, rw); });
        Assert.Contains("'rw'", ex.Message, StringComparison.Ordinal);
        Assert.Contains(holdRead ? "its read lock" : "its write lock", ex.Message, StringComparison.Ordinal);
        Assert.False(free.IsHeld);

        if (holdRead)
        {
            rw.ReleaseRead();
        }
        else
        {
            rw.ReleaseWrite();
        }

        AssertFreeForAnotherThread([free, rw]);
    }

    public static TheoryData<Path> AllPaths()
    {
        var data = new TheoryData<Path>();
        foreach (var path in Enum.GetValues<Path>())
        {
            data.Add(path);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(AllPaths))]
    public void HeldReentrantLock_IsEnteredOnceMore_AndReleasedOnceWithTheSet(Path path)
    {
        using var policy = PolicyScope.DefaultTimeout(Guard.HangLimit);
        var reentrant = new ReentrantLock("reentrant");
        var others = Enumerable.Range(0, path switch { Path.TwoLocks => 1, Path.LargeSpan => 5, _ => 2 })
            .Select(i => (LockPrimitive)new ExclusiveLock($"other-{i}")).ToList();
        var set = others.Append(reentrant).Cast<ILockSetMember>().ToArray();

        using (reentrant.Acquire())
        {
            Assert.True(Act(path, set, Guard.HangLimit, CancellationToken.None, afterTaking: () =>
            {
                Assert.Equal(2, reentrant.RecursionCount);
                Assert.All(others, o => Assert.True(((ExclusiveLock)o).IsHeldByCurrentThread));
            }));
            Assert.Equal(1, reentrant.RecursionCount);
        }

        AssertFreeForAnotherThread([.. others, reentrant]);
    }

    [Fact]
    public void MemberThrowingOnEveryAttempt_UnderContention_LeavesNothingHeld_ManyTimes()
    {
        // Iteration-bounded: the contended retry loop meets a throwing member at many points of its schedule.
        var a = new ExclusiveLock("a");
        var b = new ExclusiveLock("b");
        for (int i = 0; i < 200; i++)
        {
            var thrower = new ThrowingMember("thrower", busyAttempts: i % 4);
            Assert.Throws<InvalidOperationException>(() => { using var s = LockSet.Acquire(Guard.HangLimit, a, b, thrower); });
            Assert.Equal(0, thrower.Releases);
            Assert.False(a.IsHeld);
            Assert.False(b.IsHeld);
        }

        AssertFreeForAnotherThread([a, b]);
    }

    private static bool Act(Path path, ILockSetMember[] set, TimeSpan timeout, CancellationToken token, Action? afterTaking = null)
    {
        bool withToken = token.CanBeCanceled;
        switch (path)
        {
            case Path.TwoLocks:
                using (LockSet.Acquire(set[0], set[1]))
                {
                    afterTaking?.Invoke();
                }

                return true;
            case Path.Span:
            case Path.LargeSpan:
                using (withToken ? LockSet.Acquire(Timeout.InfiniteTimeSpan, token, set) : LockSet.Acquire(set))
                {
                    afterTaking?.Invoke();
                }

                return true;
            case Path.TryAcquire:
                bool acquired = withToken
                    ? LockSet.TryAcquire(timeout, token, out var scope, set)
                    : LockSet.TryAcquire(timeout, out scope, set);
                using (scope)
                {
                    if (acquired)
                    {
                        afterTaking?.Invoke();
                    }
                }

                return acquired;
            case Path.TimedAcquire:
                using (withToken ? LockSet.Acquire(timeout, token, set) : LockSet.Acquire(timeout, set))
                {
                    afterTaking?.Invoke();
                }

                return true;
            default:
                throw new ArgumentOutOfRangeException(nameof(path));
        }
    }

    private static void AssertExpected(Failure failure, Path path, Exception? thrown, LockPrimitive culprit)
    {
        switch (failure)
        {
            case Failure.CallerHoldsOther:
            case Failure.CallerHoldsMember:
            case Failure.CallerReadsMember:
                var recursion = Assert.IsType<LockRecursionException>(thrown);
                Assert.Contains(culprit.Describe(), recursion.Message, StringComparison.Ordinal);
                Assert.Contains("Nothing was taken", recursion.Message, StringComparison.Ordinal);
                break;
            case Failure.OrderViolation:
                Assert.IsType<LockOrderViolationException>(thrown);
                break;
            case Failure.Cancelled:
            case Failure.CancelledWhileWaiting:
                Assert.IsAssignableFrom<OperationCanceledException>(thrown);
                break;
            case Failure.Timeout:
                if (path == Path.TryAcquire)
                {
                    Assert.Null(thrown);
                }
                else
                {
                    Assert.Equal(culprit.Name, Assert.IsType<LockTimeoutException>(thrown).LockName);
                }

                break;
            case Failure.MemberThrows:
            case Failure.MemberThrowsAfterBusy:
                Assert.Equal(ThrowingMember.Message, Assert.IsType<InvalidOperationException>(thrown).Message);
                break;
        }
    }

    private static LockPrimitive Create(Kind kind, string name, int? level) => kind switch
    {
        Kind.Exclusive => new ExclusiveLock(name, level),
        Kind.Reentrant => new ReentrantLock(name, level),
        Kind.Spin => new SpinGate(name, level),
        Kind.ReadWrite => new ReadWriteLock(name, level: level),
        Kind.Semaphore => new CountingSemaphore(1, 1, name, level),
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    /// <summary>Takes <paramref name="member"/> on the calling thread; returns how to release it.</summary>
    private static Action HoldHere(LockPrimitive member)
    {
        switch (member)
        {
            case ExclusiveLock exclusive:
                exclusive.Acquire();
                return exclusive.Release;
            case SpinGate gate:
                gate.Acquire();
                return gate.Release;
            case ReadWriteLock readWrite:
                readWrite.AcquireWrite();
                return readWrite.ReleaseWrite;
            default:
                throw new ArgumentOutOfRangeException(nameof(member));
        }
    }

    /// <summary>Holds <paramref name="member"/> (write mode, its one permit) on another thread until released.</summary>
    private static HeldOnOtherThread HoldElsewhere(LockPrimitive member)
    {
        HeldOnOtherThread holder;
        switch (member)
        {
            case ExclusiveLock exclusive:
                holder = new HeldOnOtherThread("holder", release => { using var s = exclusive.Acquire(); release.Wait(); });
                holder.WaitUntilHeld(() => exclusive.IsHeld);
                return holder;
            case ReentrantLock reentrant:
                holder = new HeldOnOtherThread("holder", release => { using var s = reentrant.Acquire(); release.Wait(); });
                holder.WaitUntilHeld(() => reentrant.IsHeld);
                return holder;
            case SpinGate gate:
                holder = new HeldOnOtherThread("holder", release => { using var s = gate.Acquire(); release.Wait(); });
                holder.WaitUntilHeld(() => gate.IsHeld);
                return holder;
            case ReadWriteLock readWrite:
                return readWrite.HoldWrite("holder");
            case CountingSemaphore semaphore:
                holder = new HeldOnOtherThread("holder", release => { using var s = semaphore.Acquire(); release.Wait(); });
                holder.WaitUntilHeld(() => semaphore.CurrentCount == 0);
                return holder;
            default:
                throw new ArgumentOutOfRangeException(nameof(member));
        }
    }

    /// <summary>
    /// On another thread (ownership matters), takes every member with <c>TryAcquire(TimeSpan.Zero, …)</c> and releases
    /// it again; fails naming each member that was still held, or that the release left held.
    /// </summary>
    private static void AssertFreeForAnotherThread(IReadOnlyList<LockPrimitive> members)
    {
        var problems = new List<string>();
        var checker = Concurrently.Start("checker", () =>
        {
            foreach (var member in members)
            {
                string? problem = TakeAndRelease(member);
                if (problem is not null)
                {
                    problems.Add($"{member.Name}: {problem}");
                }
            }
        });
        checker.JoinGuarded();
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    private static string? TakeAndRelease(LockPrimitive member)
    {
        switch (member)
        {
            case ExclusiveLock exclusive:
                if (!exclusive.TryAcquire(TimeSpan.Zero, out var exclusiveScope))
                {
                    return $"held by thread {exclusive.OwnerThreadId}";
                }

                exclusiveScope.Dispose();
                return exclusive.IsHeld ? "still held after release" : null;
            case ReentrantLock reentrant:
                if (!reentrant.TryAcquire(TimeSpan.Zero, out var reentrantScope))
                {
                    return $"held by thread {reentrant.OwnerThreadId}";
                }

                reentrantScope.Dispose();
                return reentrant.IsHeld ? "still held after release" : null;
            case SpinGate gate:
                if (!gate.TryAcquire(TimeSpan.Zero, out var gateScope))
                {
                    return $"held by thread {gate.OwnerThreadId}";
                }

                gateScope.Dispose();
                return gate.IsHeld ? "still held after release" : null;
            case ReadWriteLock readWrite:
                if (!readWrite.TryAcquireWrite(TimeSpan.Zero, out var writeScope))
                {
                    return $"writer {readWrite.WriterThreadId}, {readWrite.CurrentReaderCount} reader(s)";
                }

                writeScope.Dispose();
                return readWrite.WriterThreadId != 0 || readWrite.CurrentReaderCount != 0 ? "still held after release" : null;
            case CountingSemaphore semaphore:
                if (!semaphore.TryAcquire(TimeSpan.Zero, out var permit))
                {
                    return $"{semaphore.CurrentCount} of {semaphore.MaxCount} permits free";
                }

                permit.Dispose();
                return semaphore.CurrentCount != semaphore.MaxCount ? "permit not given back" : null;
            default:
                return $"unexpected member type {member.GetType().Name}";
        }
    }

    /// <summary>
    /// A set member that is busy for its first <c>busyAttempts</c> tries (without waiting), then throws — also when asked
    /// to wait for it: a stand-in for any member that fails while the set already holds others. It is never taken, so
    /// the set must never release it.
    /// </summary>
    private sealed class ThrowingMember(string name, int busyAttempts) : LockPrimitive(name, null, LockKind.Exclusive), ILockSetMember
    {
        public const string Message = "This member throws on purpose.";

        private int _busyLeft = busyAttempts;

        public int Releases { get; private set; }

        internal override int ExclusiveOwnerId => 0;

        internal override bool EnterForSet(int timeoutMs, CancellationToken cancellationToken)
        {
            if (_busyLeft > 0 && timeoutMs == 0)
            {
                _busyLeft--;
                return false;
            }

            throw new InvalidOperationException(Message);
        }

        internal override void ExitForSet() => Releases++;
    }
}
