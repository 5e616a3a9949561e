using System;
using System.Threading;
using System.Threading.Tasks;

namespace Locksmith.Tests.Async;

/// <summary>
/// A single async lock's waiter whose token is cancelled at the moment the holder releases: in half the rounds while its
/// <c>AcquireAsync</c> call is still queuing the wait (the window README names, where the release may win), in the other
/// half once it is queued, with a second waiter queued behind it. Every round ends one way or the other, never half: the
/// waiter has the lock (and gives it back) or is cancelled holding nothing, the waiter behind always gets its turn, and
/// afterwards the lock is free with nobody queued (a semaphore has its permit back).
/// </summary>
public sealed class CancelRacingReleaseStormTests
{
    private const int Rounds = 2_000;
    private static readonly TimeSpan s_hangLimit = TimeSpan.FromSeconds(60);

    public static TheoryData<string> Kinds => new() { "exclusive", "write", "read", "semaphore" };

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task ACancellationRacingTheRelease_EndsEachWaitOneWay_AndStrandsNoWaiterOrPermit(string kind)
    {
        var target = Target.Of(kind);
        var random = new Random(20_261_206);
        int acquired = 0, cancelled = 0, behindServed = 0, notClean = 0, sharedExclusive = 0;
        int inside = 0;

        for (int round = 0; round < Rounds; round++)
        {
            bool whileQueuing = round % 2 == 0;
            using var cancel = new CancellationTokenSource();
            var held = await RunInOwnFlow(() => target.AcquireHolderAsync()).WaitAsync(s_hangLimit);

            Task<bool>? waiter = null;
            Task<bool>? behind = null;
            if (!whileQueuing)
            {
                waiter = RunInOwnFlow(() => Attempt(cancel.Token));
                Guard.SpinUntil(() => target.WaitingCount == 1);
                behind = RunInOwnFlow(() => Attempt(CancellationToken.None));
                Guard.SpinUntil(() => target.WaitingCount == 2);
            }

            // The release, the cancellation and (while queuing) the waiter's call at about one moment, each after a drawn
            // spin, so each order comes up.
            var meeting = new Meeting(whileQueuing ? 3 : 2);
            int cancelLater = random.Next(0, 3_000);
            int releaseLater = random.Next(0, 3_000);
            int callLater = random.Next(0, 3_000);
            var cancelling = Racer(() =>
            {
                meeting.Arrive();
                Thread.SpinWait(cancelLater);
                cancel.Cancel();
            });
            var releasing = Racer(() =>
            {
                meeting.Arrive();
                Thread.SpinWait(releaseLater);
                held.Dispose();
            });
            if (whileQueuing)
            {
                meeting.Arrive();
                Thread.SpinWait(callLater);
                using (ExecutionContext.SuppressFlow())
                {
                    waiter = Attempt(cancel.Token);
                }
            }

            cancelling.JoinGuarded();
            releasing.JoinGuarded();
            if (await waiter!.WaitAsync(s_hangLimit))
            {
                acquired++;
            }
            else
            {
                cancelled++;
            }

            if (behind is not null && await behind.WaitAsync(s_hangLimit))
            {
                behindServed++;
            }

            if (!target.IsClean)
            {
                notClean++;
            }
        }

        Assert.Equal(0, sharedExclusive);
        Assert.Equal(0, notClean);
        Assert.Equal(Rounds, acquired + cancelled);
        Assert.Equal(Rounds / 2, behindServed);

        // Nothing was left behind: the lock is taken at once.
        var last = await RunInOwnFlow(() => target.AcquireHolderAsync(TimeSpan.Zero)).WaitAsync(s_hangLimit);
        last.Dispose();
        Assert.True(target.IsClean);

        // A waiter in a flow of its own: true when it got the lock (held alone, for an exclusive kind) and gave it back.
        async Task<bool> Attempt(CancellationToken token)
        {
            AsyncLockScope scope;
            try
            {
                scope = await target.AcquireAsync(token);
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                return false;
            }

            if (target.IsExclusive && Interlocked.Increment(ref inside) != 1)
            {
                Interlocked.Increment(ref sharedExclusive);
            }

            if (target.IsExclusive)
            {
                Interlocked.Decrement(ref inside);
            }

            scope.Dispose();
            return true;
        }
    }

    // A thread of its own (not the pool's, which may have fewer threads than racers), its failure carried back on join.
    private static Worker Racer(Action body) => Worker.Start("cancel-release-racer", body);

    private static Task<T> RunInOwnFlow<T>(Func<Task<T>> body)
    {
        using (ExecutionContext.SuppressFlow())
        {
            return Task.Run(body);
        }
    }

    /// <summary>The lock of one kind: the holder's mode, the waiters' mode, and whether it ended free with nobody queued.</summary>
    private sealed class Target
    {
        private readonly Func<TimeSpan, CancellationToken, ValueTask<AsyncLockScope>> _hold;
        private readonly Func<CancellationToken, ValueTask<AsyncLockScope>> _wait;
        private readonly Func<int> _waiting;
        private readonly Func<bool> _clean;

        private Target(
            bool isExclusive, Func<TimeSpan, CancellationToken, ValueTask<AsyncLockScope>> hold, Func<CancellationToken, ValueTask<AsyncLockScope>> wait,
            Func<int> waiting, Func<bool> clean)
        {
            IsExclusive = isExclusive;
            _hold = hold;
            _wait = wait;
            _waiting = waiting;
            _clean = clean;
        }

        public bool IsExclusive { get; }

        public int WaitingCount => _waiting();

        public bool IsClean => _clean();

        public static Target Of(string kind)
        {
            switch (kind)
            {
                case "exclusive":
                    var exclusive = new AsyncExclusiveLock("cancel-release-exclusive");
                    return new Target(true, exclusive.AcquireAsync, exclusive.AcquireAsync, () => exclusive.WaitingCount,
                        () => !exclusive.IsHeld && exclusive.WaitingCount == 0);
                case "semaphore":
                    var semaphore = new CountingSemaphore(1, 1, "cancel-release-semaphore");
                    return new Target(true, semaphore.AcquireAsync, semaphore.AcquireAsync, () => semaphore.WaitingCount,
                        () => semaphore.CurrentCount == 1 && semaphore.WaitingCount == 0);
                default:
                    // The holder writes; the waiters write, or read (two readers share it: no exclusion to check).
                    var rw = new AsyncReadWriteLock($"cancel-release-{kind}");
                    return new Target(kind == "write", rw.AcquireWriteAsync, kind == "write" ? rw.AcquireWriteAsync : rw.AcquireReadAsync,
                        () => rw.WaitingCount, () => !rw.IsWriteHeld && rw.CurrentReaderCount == 0 && rw.WaitingCount == 0);
            }
        }

        public async Task<AsyncLockScope> AcquireHolderAsync(TimeSpan? timeout = null) =>
            await _hold(timeout ?? s_hangLimit, CancellationToken.None);

        public ValueTask<AsyncLockScope> AcquireAsync(CancellationToken cancellationToken) => _wait(cancellationToken);
    }

    /// <summary>Threads spin until all arrived, so what each does next happens at about one moment.</summary>
    private sealed class Meeting(int parties)
    {
        private int _arrived;

        public void Arrive()
        {
            Interlocked.Increment(ref _arrived);

            // Bounded by a count, not a clock: far beyond the time the others take to start, even on a busy machine.
            for (long spins = 0; Volatile.Read(ref _arrived) < parties; spins++)
            {
                if (spins > 200_000_000)
                {
                    throw new TimeoutException("Hang guard: a racer never arrived.");
                }

                if ((spins & 1023) == 1023)
                {
                    Thread.Yield();
                }
            }
        }
    }
}
