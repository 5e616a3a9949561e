using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;

namespace Locksmith.Tests.Async;

/// <summary>
/// Randomized storms on the shared wait kernel's async side: sync and async waiters in one queue, timeouts of zero, a
/// few milliseconds or none, tokens cancelled from another thread at random moments, all racing hand-offs. Each test
/// is bounded by its attempt counts, checks exact invariants (permits conserved, mutual exclusion, every attempt ended
/// once with an outcome that fits how it was asked), and names its seed so a failure can be replayed.
/// </summary>
public sealed class KernelStressTests
{
    private const int Seed = 20_261_202;

    /// <summary>How one attempt waits.</summary>
    private enum WaitForm
    {
        TryOnce,
        OneMillisecond,
        FewMilliseconds,
        InfiniteCancelledByOtherThread,
        TimedCancelledByOtherThread,
        InfiniteCancelledByTimer,

        /// <summary>Infinite and no token: only a grant ends it, so a lost wake-up hangs it (and the hang guard fails the test).</summary>
        Unbounded,
    }

    private static readonly WaitForm[] s_forms = Enum.GetValues<WaitForm>()[..^1];

    private sealed class Tally
    {
        public long Attempts;
        public long Acquired;
        public long TimedOut;
        public long Canceled;
        public long Interrupted;

        public long Ended => Acquired + TimedOut + Canceled + Interrupted;

        public string Describe() =>
            $"attempts {Attempts}, acquired {Acquired}, timed out {TimedOut}, canceled {Canceled}, interrupted {Interrupted}";
    }

    /// <summary>
    /// One wait's timeout and token. A token the canceller gets is cancelled from its thread after a random pause, so an
    /// infinite wait always ends; a timer-cancelled one is disposed with the attempt.
    /// </summary>
    private readonly struct Drawn
    {
        public Drawn(WaitForm form, TimeSpan timeout, CancellationTokenSource? source)
        {
            Form = form;
            Timeout = timeout;
            Source = source;
        }

        public WaitForm Form { get; }

        public TimeSpan Timeout { get; }

        public CancellationTokenSource? Source { get; }

        public CancellationToken Token => Source?.Token ?? default;

        public bool Infinite => Timeout == System.Threading.Timeout.InfiniteTimeSpan;

        public void End()
        {
            if (Form == WaitForm.InfiniteCancelledByTimer)
            {
                Source!.Dispose();
            }
        }
    }

    /// <summary>A thread that cancels the sources it is given in turn, each after a short random pause (a spin or a yield).</summary>
    private sealed class Canceller : IDisposable
    {
        private readonly BlockingCollection<CancellationTokenSource> _pending = new();
        private readonly Worker _worker;

        public Canceller(int seed)
        {
            _worker = Worker.Start($"canceller-{seed}", () =>
            {
                var random = new Random(seed);
                foreach (var source in _pending.GetConsumingEnumerable())
                {
                    switch (random.Next(4))
                    {
                        case 0:
                            Thread.SpinWait(random.Next(1, 2_000));
                            break;
                        case 1:
                            Thread.Yield();
                            break;
                        case 2:
                            Thread.Sleep(0);
                            break;
                    }

                    source.Cancel();
                }
            });
        }

        public CancellationTokenSource Enlist()
        {
            var source = new CancellationTokenSource();
            _pending.Add(source);
            return source;
        }

        public void Dispose()
        {
            _pending.CompleteAdding();
            _worker.JoinGuarded();
            _pending.Dispose();
        }
    }

    private static Drawn Draw(Random random, Canceller canceller, bool unboundedToo = false)
    {
        var form = unboundedToo && random.Next(4) == 0 ? WaitForm.Unbounded : s_forms[random.Next(s_forms.Length)];
        return form switch
        {
            WaitForm.TryOnce => new Drawn(form, TimeSpan.Zero, null),
            WaitForm.OneMillisecond => new Drawn(form, TimeSpan.FromMilliseconds(1), null),
            WaitForm.FewMilliseconds => new Drawn(form, TimeSpan.FromMilliseconds(random.Next(2, 6)), null),
            WaitForm.InfiniteCancelledByOtherThread => new Drawn(form, Timeout.InfiniteTimeSpan, canceller.Enlist()),
            WaitForm.TimedCancelledByOtherThread => new Drawn(form, TimeSpan.FromMilliseconds(random.Next(1, 4)), canceller.Enlist()),
            WaitForm.Unbounded => new Drawn(form, Timeout.InfiniteTimeSpan, null),
            _ => new Drawn(form, Timeout.InfiniteTimeSpan, CancelledAfter(random.Next(0, 3))),
        };
    }

    private static CancellationTokenSource CancelledAfter(int milliseconds)
    {
        var source = new CancellationTokenSource();
        source.CancelAfter(milliseconds);
        return source;
    }

    /// <summary>A failed attempt must fit how it waited: only a cancelled token cancels, and an infinite wait never times out.</summary>
    private static void CountFailure(Tally tally, Drawn drawn, Exception? canceled, ConcurrentQueue<string> problems, string context)
    {
        if (canceled is not null)
        {
            Interlocked.Increment(ref tally.Canceled);
            if (drawn.Source is not { IsCancellationRequested: true })
            {
                problems.Enqueue($"{context}: cancelled ({canceled.GetType().Name}) with a token that was not ({drawn.Form})");
            }

            return;
        }

        Interlocked.Increment(ref tally.TimedOut);
        if (drawn.Infinite)
        {
            problems.Enqueue($"{context}: an infinite wait ({drawn.Form}) returned without permits and without a cancellation");
        }
    }

    /// <summary>
    /// The holds the current flow's ownership record counts (none without a live record) must be what the flow holds: a
    /// wait that failed, a refusal or a release that left one counted would keep the flow's claim alive for good.
    /// </summary>
    private static void Holds(int expected, ConcurrentQueue<string> problems, string context)
    {
        int holds = FlowOwnership.CurrentOrNull?.FlowHoldCount ?? 0;
        if (holds != expected)
        {
            problems.Enqueue($"{context}: the flow's record counts {holds} holds where it holds {expected}");
        }
    }

    private static void Raise(ref int inUse, int count, int max, ConcurrentQueue<string> problems, string context)
    {
        int now = Interlocked.Add(ref inUse, count);
        if (now > max)
        {
            problems.Enqueue($"{context}: {now} permits in use, more than the {max} the semaphore has");
        }
    }

    /// <summary>
    /// Threads and flows wait for 1 to 4 permits in one queue with every wait form; whoever gets them passes them to a
    /// pool, and releaser threads and flows give back random batches of them (sync permits by <c>Release(n)</c> of the
    /// batch's sum, async scopes by disposing them on another thread). Only 3 of the 4 permits exist, so a flow asking for
    /// 4 (always with a timeout or a token) blocks the async waiters behind it until it gives up, and its leaving must
    /// pass the free permits on: waiters with no timeout and no token would otherwise never end. Every permit must come
    /// back, the queue must end empty, and no more permits than exist may ever be out.
    /// </summary>
    [Fact]
    public async Task Semaphore_SyncAndAsyncWaitersInOneQueue_PermitsHandedOnByOthers_EveryPermitComesBack()
    {
        const int Max = 4;
        const int Exist = 3;
        const int SyncThreads = 3;
        const int SyncAttempts = 300;
        const int Flows = 16;
        const int FlowAttempts = 80;

        for (int round = 0; round < 2; round++)
        {
            int seed = Seed + round;
            string context = $"seed {seed}";
            var semaphore = new CountingSemaphore(Exist, Max, $"stress-semaphore-{seed}");
            var tally = new Tally();
            var problems = new ConcurrentQueue<string>();
            int inUse = 0;
            var pool = new ConcurrentQueue<(int Count, AsyncLockScope Scope)>();
            using var pending = new SemaphoreSlim(0);
            int consumersLeft = SyncThreads + Flows;
            using var canceller = new Canceller(seed);

            void Pooled(int count, AsyncLockScope scope)
            {
                pool.Enqueue((count, scope));
                pending.Release();
            }

            void ConsumerDone()
            {
                if (Interlocked.Decrement(ref consumersLeft) == 0)
                {
                    // Wakes the releasers: each stops at the first wake that finds the pool empty.
                    pending.Release(64);
                }
            }

            // After a wake: gives back one to three pooled holds, the sync ones in one Release of their sum.
            bool GiveBackBatch(Random random)
            {
                int batch = random.Next(1, 4);
                int syncPermits = 0;
                int taken = 0;
                while (taken < batch && pool.TryDequeue(out var held))
                {
                    taken++;
                    Interlocked.Add(ref inUse, -held.Count);
                    if (held.Scope.IsAcquired)
                    {
                        held.Scope.Dispose();
                    }
                    else
                    {
                        syncPermits += held.Count;
                    }

                    if (taken < batch && !pending.Wait(0))
                    {
                        break;
                    }
                }

                if (syncPermits != 0)
                {
                    semaphore.Release(syncPermits);
                }

                return taken != 0 || Volatile.Read(ref consumersLeft) != 0;
            }

            var syncConsumers = Enumerable.Range(0, SyncThreads).Select(t => Worker.Start($"sync-{seed}-{t}", () =>
            {
                var random = new Random(seed * 31 + t);
                try
                {
                    for (int i = 0; i < SyncAttempts; i++)
                    {
                        Interlocked.Increment(ref tally.Attempts);
                        int count = random.Next(1, Max + 1);
                        var drawn = Draw(random, canceller, unboundedToo: count <= Exist);
                        Exception? canceled = null;
                        bool acquired = false;
                        try
                        {
                            acquired = semaphore.TryAcquire(count, drawn.Timeout, drawn.Token, out var scope);
                            if (acquired)
                            {
                                Raise(ref inUse, count, Exist, problems, context);
                                if (random.Next(3) == 0)
                                {
                                    // Given back here, by its own scope.
                                    Thread.SpinWait(random.Next(50));
                                    Interlocked.Add(ref inUse, -count);
                                    scope.Dispose();
                                }
                                else
                                {
                                    Pooled(count, default);
                                }
                            }
                        }
                        catch (OperationCanceledException ex)
                        {
                            canceled = ex;
                        }
                        finally
                        {
                            drawn.End();
                        }

                        if (acquired)
                        {
                            Interlocked.Increment(ref tally.Acquired);
                        }
                        else
                        {
                            CountFailure(tally, drawn, canceled, problems, $"{context}, thread {t}, attempt {i}");
                        }
                    }
                }
                finally
                {
                    ConsumerDone();
                }
            })).ToList();

            var flows = Enumerable.Range(0, Flows).Select(f => Task.Run(async () =>
            {
                var random = new Random(seed * 977 + f);
                try
                {
                    for (int i = 0; i < FlowAttempts; i++)
                    {
                        Interlocked.Increment(ref tally.Attempts);
                        int count = random.Next(1, Max + 1);
                        var drawn = Draw(random, canceller, unboundedToo: count <= Exist);
                        Exception? canceled = null;
                        AsyncLockScope scope = default;
                        try
                        {
                            // The throwing form for half of the timed waits: a LockTimeoutException is a timeout too.
                            scope = random.Next(2) == 0 || drawn.Timeout == TimeSpan.Zero
                                ? await semaphore.TryAcquireAsync(count, drawn.Timeout, drawn.Token)
                                : await semaphore.AcquireAsync(count, drawn.Timeout, drawn.Token);
                        }
                        catch (OperationCanceledException ex)
                        {
                            canceled = ex;
                        }
                        catch (LockTimeoutException)
                        {
                        }
                        finally
                        {
                            drawn.End();
                        }

                        if (scope.IsAcquired)
                        {
                            Interlocked.Increment(ref tally.Acquired);
                            Raise(ref inUse, count, Exist, problems, context);
                            if (random.Next(3) == 0)
                            {
                                await Task.Yield();
                                Interlocked.Add(ref inUse, -count);
                                scope.Dispose();
                            }
                            else
                            {
                                Pooled(count, scope);
                            }
                        }
                        else
                        {
                            CountFailure(tally, drawn, canceled, problems, $"{context}, flow {f}, attempt {i}");
                        }
                    }
                }
                finally
                {
                    ConsumerDone();
                }
            })).ToList();

            var releaserThread = Worker.Start($"releaser-{seed}", () =>
            {
                var random = new Random(seed * 7);
                do
                {
                    pending.Wait();
                }
                while (GiveBackBatch(random));
            });
            var releaserFlow = Task.Run(async () =>
            {
                var random = new Random(seed * 11);
                do
                {
                    await pending.WaitAsync();
                }
                while (GiveBackBatch(random));
            });

            await Task.WhenAll(flows).WaitAsync(Guard.HangLimit);
            syncConsumers.ForEach(w => w.JoinGuarded());
            releaserThread.JoinGuarded();
            await releaserFlow.WaitAsync(Guard.HangLimit);

            // Holds a releaser left behind when it saw the consumers finish.
            while (pool.TryDequeue(out var held))
            {
                Interlocked.Add(ref inUse, -held.Count);
                if (held.Scope.IsAcquired)
                {
                    held.Scope.Dispose();
                }
                else
                {
                    semaphore.Release(held.Count);
                }
            }

        Assert.True(problems.Count == 0, $"{context}: {string.Join("; ", problems.Take(5))}");
            Assert.True(tally.Attempts == SyncThreads * SyncAttempts + Flows * FlowAttempts && tally.Ended == tally.Attempts, $"{context}: {tally.Describe()}");
            Assert.True(tally.Acquired > 0, $"{context}: nothing was ever acquired ({tally.Describe()})");
            Assert.True(inUse == 0, $"{context}: {inUse} permits still counted out");
            Assert.True(semaphore.CurrentCount == Exist, $"{context}: {semaphore.CurrentCount} of {Exist} permits free at the end ({tally.Describe()})");
            Assert.True(semaphore.QueuedWaiterCount == 0, $"{context}: {semaphore.QueuedWaiterCount} waiters still queued");
        }
    }

    /// <summary>
    /// Round after round, a flow asking for more permits than are free (4 of a semaphore with 3 of 4 in it) heads the
    /// queue, and threads and flows queue behind it for 1 to 3, some with no timeout and no token. Then the head is
    /// cancelled from another thread while the test's own permit goes back, in a random order or at once. The head's
    /// leaving must pass the free permits on: the waiters that only a grant can end must all get theirs, and the
    /// semaphore ends with its 3 permits and an empty queue.
    /// </summary>
    [Fact]
    public async Task Semaphore_CancelledHeadAskingForTooMany_RacingARelease_PassesPermitsToSyncAndAsyncWaitersBehind()
    {
        const int Rounds = 40;
        const int Exist = 3;
        const int Threads = 2;
        const int Flows = 6;

        var tally = new Tally();
        var problems = new ConcurrentQueue<string>();
        using var canceller = new Canceller(Seed + 3_001);
        for (int round = 0; round < Rounds; round++)
        {
            int seed = Seed + 3_001 + round;
            string context = $"seed {seed}";
            var random = new Random(seed);
            // 3 permits exist (of 4); the test holds 2 of them and gives them back below.
            var semaphore = new CountingSemaphore(Exist - 2, Exist + 1, $"stress-head-{seed}");
            int inUse = 2;

            // The head: 4 permits never free while the test holds 2, so only its token ends it.
            using var headSource = new CancellationTokenSource();
            var head = Task.Run(async () =>
            {
                try
                {
                    (await semaphore.AcquireAsync(Exist + 1, Timeout.InfiniteTimeSpan, headSource.Token)).Dispose();
                    problems.Enqueue($"{context}: the head was given 4 permits");
                }
                catch (OperationCanceledException)
                {
                }
            });
            Guard.SpinUntil(() => semaphore.QueuedAsyncWaiterCount == 1);

            int unbounded = 0;
            var plans = Enumerable.Range(0, Threads + Flows).Select(_ =>
            {
                bool mustEnd = random.Next(2) == 0;
                unbounded += mustEnd ? 1 : 0;
                return (Count: random.Next(1, Exist + 1), Drawn: mustEnd ? new Drawn(WaitForm.Unbounded, Timeout.InfiniteTimeSpan, null) : Draw(random, canceller), Spin: random.Next(2_000));
            }).ToArray();

            void Held(int count, int spin)
            {
                Interlocked.Increment(ref tally.Acquired);
                Raise(ref inUse, count, Exist, problems, context);
                Thread.SpinWait(spin);
                Interlocked.Add(ref inUse, -count);
            }

            var threads = Enumerable.Range(0, Threads).Select(t => Worker.Start($"behind-{seed}-{t}", () =>
            {
                var (count, drawn, spin) = plans[t];
                Interlocked.Increment(ref tally.Attempts);
                Exception? canceled = null;
                try
                {
                    if (semaphore.TryAcquire(count, drawn.Timeout, drawn.Token, out var scope))
                    {
                        Held(count, spin);
                        scope.Dispose();
                        return;
                    }
                }
                catch (OperationCanceledException ex)
                {
                    canceled = ex;
                }
                finally
                {
                    drawn.End();
                }

                CountFailure(tally, drawn, canceled, problems, $"{context}, thread {t}");
            })).ToList();

            var flows = Enumerable.Range(Threads, Flows).Select(f => Task.Run(async () =>
            {
                var (count, drawn, spin) = plans[f];
                Interlocked.Increment(ref tally.Attempts);
                Exception? canceled = null;
                AsyncLockScope scope = default;
                try
                {
                    scope = await semaphore.TryAcquireAsync(count, drawn.Timeout, drawn.Token);
                }
                catch (OperationCanceledException ex)
                {
                    canceled = ex;
                }
                finally
                {
                    drawn.End();
                }

                if (scope.IsAcquired)
                {
                    Held(count, spin);
                    scope.Dispose();
                }
                else
                {
                    CountFailure(tally, drawn, canceled, problems, $"{context}, flow {f}");
                }
            })).ToList();

            void GiveBackMine()
            {
                Interlocked.Add(ref inUse, -2);
                semaphore.Release(2);
            }

            // Everyone that only a grant can end is queued behind the head (nothing reaches past it while it waits).
            Guard.SpinUntil(() => semaphore.QueuedWaiterCount >= 1 + unbounded);
            switch (random.Next(3))
            {
                case 0:
                    // The permits come back first and the head still blocks them; only its leaving can pass them on.
                    GiveBackMine();
                    headSource.Cancel();
                    break;
                case 1:
                    headSource.Cancel();
                    GiveBackMine();
                    break;
                default:
                    // At once: the cancellation on another thread, the release here.
                    var cancel = Task.Run(headSource.Cancel);
                    Thread.SpinWait(random.Next(3_000));
                    GiveBackMine();
                    await cancel;
                    break;
            }

            await head.WaitAsync(Guard.HangLimit);
            await Task.WhenAll(flows).WaitAsync(Guard.HangLimit);
            threads.ForEach(w => w.JoinGuarded());
            Assert.True(problems.IsEmpty, $"{context}: {string.Join("; ", problems.Take(5))}");
            Assert.True(semaphore.CurrentCount == Exist && semaphore.QueuedWaiterCount == 0,
                $"{context}: {semaphore.CurrentCount} of {Exist} permits free, {semaphore.QueuedWaiterCount} still queued at the end");
        }

        Assert.True(tally.Ended == tally.Attempts && tally.Attempts == Rounds * (Threads + Flows), $"{Seed + 3_001}..: {tally.Describe()}");
    }

    /// <summary>
    /// Sync waiters in the same queue as async ones are interrupted at random moments, most often while parked (a wake
    /// they received is then passed on, not used). An interrupted acquisition holds nothing, a scope's release is never
    /// interrupted half-way, and every permit comes back. The threads wait with timeouts only (no token): a token's
    /// registration could take a contended lock in test code, where an interrupt would land instead.
    /// </summary>
    [Fact]
    public async Task Semaphore_SyncWaitersInterruptedAtRandom_BesideAsyncWaiters_KeepEveryPermit()
    {
        const int Max = 3;
        const int SyncThreads = 3;
        const int SyncAttempts = 400;
        const int Flows = 8;
        const int FlowAttempts = 120;
        const int Interrupts = 3_000;

        int seed = Seed + 5_001;
        string context = $"seed {seed}";
        var semaphore = new CountingSemaphore(Max, Max, $"stress-interrupted-{seed}");
        var tally = new Tally();
        var problems = new ConcurrentQueue<string>();
        int inUse = 0;
        int syncLeft = SyncThreads;
        TimeSpan[] timeouts = [TimeSpan.Zero, TimeSpan.FromMilliseconds(1), TimeSpan.FromMilliseconds(3), Timeout.InfiniteTimeSpan];

        var threads = Enumerable.Range(0, SyncThreads).Select(t => Worker.Start($"interrupted-{seed}-{t}", () =>
        {
            var random = new Random(seed * 31 + t);
            try
            {
                for (int i = 0; i < SyncAttempts; i++)
                {
                    Interlocked.Increment(ref tally.Attempts);
                    int count = random.Next(1, Max + 1);
                    var timeout = timeouts[random.Next(timeouts.Length)];
                    bool acquired;
                    CountingSemaphore.Scope scope;
                    try
                    {
                        acquired = semaphore.TryAcquire(count, timeout, out scope);
                    }
                    catch (ThreadInterruptedException)
                    {
                        Interlocked.Increment(ref tally.Interrupted);
                        continue;
                    }

                    if (!acquired)
                    {
                        Interlocked.Increment(ref tally.TimedOut);
                        if (timeout == Timeout.InfiniteTimeSpan)
                        {
                            problems.Enqueue($"{context}, thread {t}, attempt {i}: an infinite wait returned false");
                        }

                        continue;
                    }

                    Interlocked.Increment(ref tally.Acquired);
                    Raise(ref inUse, count, Max, problems, context);
                    // A spin, not a sleep: an interrupt owed to the thread would end a sleep in test code.
                    Thread.SpinWait(random.Next(20_000));
                    Interlocked.Add(ref inUse, -count);
                    try
                    {
                        scope.Dispose();
                    }
                    catch (ThreadInterruptedException)
                    {
                        problems.Enqueue($"{context}, thread {t}, attempt {i}: releasing permits was interrupted");
                    }
                }
            }
            finally
            {
                Interlocked.Decrement(ref syncLeft);
            }
        })).ToList();

        var interrupter = Worker.Start($"interrupter-{seed}", () =>
        {
            var random = new Random(seed);
            for (int n = 0; n < Interrupts && Volatile.Read(ref syncLeft) != 0; n++)
            {
                var target = threads[random.Next(threads.Count)];

                // Mostly a parked waiter; now and then wherever the thread happens to be (the interrupt then waits for
                // its next blocking wait).
                bool parkedOnly = random.Next(4) != 0;
                for (int spin = 0; parkedOnly && spin < 1_000 && !target.IsBlocked; spin++)
                {
                    Thread.Yield();
                }

                if (!parkedOnly || target.IsBlocked)
                {
                    target.Interrupt();
                }

                Thread.SpinWait(random.Next(1, 3_000));
            }
        });

        using (var canceller = new Canceller(seed))
        {
            var flows = Enumerable.Range(0, Flows).Select(f => Task.Run(async () =>
            {
                var random = new Random(seed * 977 + f);
                for (int i = 0; i < FlowAttempts; i++)
                {
                    Interlocked.Increment(ref tally.Attempts);
                    int count = random.Next(1, Max + 1);
                    var drawn = Draw(random, canceller);
                    Exception? canceled = null;
                    AsyncLockScope scope = default;
                    try
                    {
                        scope = await semaphore.TryAcquireAsync(count, drawn.Timeout, drawn.Token);
                    }
                    catch (OperationCanceledException ex)
                    {
                        canceled = ex;
                    }
                    finally
                    {
                        drawn.End();
                    }

                    if (!scope.IsAcquired)
                    {
                        CountFailure(tally, drawn, canceled, problems, $"{context}, flow {f}, attempt {i}");
                        Holds(0, problems, $"{context}, flow {f}, attempt {i}");
                        continue;
                    }

                    Interlocked.Increment(ref tally.Acquired);
                    Holds(1, problems, $"{context}, flow {f}, attempt {i}");
                    Raise(ref inUse, count, Max, problems, context);
                    await (random.Next(3) == 0 ? Task.Delay(1) : Task.Run(() => Thread.SpinWait(random.Next(5_000))));
                    Interlocked.Add(ref inUse, -count);
                    scope.Dispose();
                    Holds(0, problems, $"{context}, flow {f}, attempt {i}");
                }
            })).ToList();

            await Task.WhenAll(flows).WaitAsync(Guard.HangLimit);
        }

        threads.ForEach(w => w.JoinGuarded());
        interrupter.JoinGuarded();

        Assert.True(problems.IsEmpty, $"{context}: {string.Join("; ", problems.Take(5))}");
        Assert.True(tally.Ended == tally.Attempts && tally.Attempts == SyncThreads * SyncAttempts + Flows * FlowAttempts, $"{context}: {tally.Describe()}");
        Assert.True(inUse == 0, $"{context}: {inUse} permits still counted out");
        Assert.True(semaphore.CurrentCount == Max, $"{context}: {semaphore.CurrentCount} of {Max} permits free at the end ({tally.Describe()})");
        Assert.True(semaphore.QueuedWaiterCount == 0, $"{context}: {semaphore.QueuedWaiterCount} waiters still queued");
    }

    public static TheoryData<ReadWritePolicy> Policies => new(ReadWritePolicy.WriterPreferred, ReadWritePolicy.Fair, ReadWritePolicy.ReaderPreferred);

    /// <summary>
    /// Flows read and write with every wait form; some give up a read and ask for the write right after (the upgrade the
    /// lock refuses, done the legal way), and some ask for the write while reading (refused at once). Writers are alone,
    /// readers never meet a writer, and at the end the lock is free with nobody queued. After the storm the policy still
    /// holds: with a reader in and a writer queued, a new reader waits behind it unless readers are preferred.
    /// </summary>
    [Theory]
    [MemberData(nameof(Policies))]
    public async Task AsyncReadWriteLock_ReadersWritersAndUpgrades_RacingTimeoutsAndCancellations_StayExclusive_AndEndIdle(ReadWritePolicy policy)
    {
        const int Flows = 24;
        const int FlowAttempts = 200;

        int seed = Seed + (int)policy * 101;
        string context = $"seed {seed}, {policy}";
        var rw = new AsyncReadWriteLock($"stress-rw-{seed}", policy: policy);
        var tally = new Tally();
        var problems = new ConcurrentQueue<string>();
        int readers = 0;
        int writers = 0;
        int refusedUpgrades = 0;
        using (var canceller = new Canceller(seed))
        {
            var flows = Enumerable.Range(0, Flows).Select(f => Task.Run(async () =>
            {
                var random = new Random(seed * 977 + f);
                for (int i = 0; i < FlowAttempts; i++)
                {
                    Interlocked.Increment(ref tally.Attempts);
                    bool write = random.Next(3) == 0;
                    var drawn = Draw(random, canceller);
                    Exception? canceled = null;
                    AsyncLockScope scope = default;
                    try
                    {
                        scope = write
                            ? await rw.TryAcquireWriteAsync(drawn.Timeout, drawn.Token)
                            : await rw.TryAcquireReadAsync(drawn.Timeout, drawn.Token);
                    }
                    catch (OperationCanceledException ex)
                    {
                        canceled = ex;
                    }
                    finally
                    {
                        drawn.End();
                    }

                    if (!scope.IsAcquired)
                    {
                        CountFailure(tally, drawn, canceled, problems, $"{context}, flow {f}, attempt {i}");
                        Holds(0, problems, $"{context}, flow {f}, attempt {i}");
                        continue;
                    }

                    Interlocked.Increment(ref tally.Acquired);
                    Holds(1, problems, $"{context}, flow {f}, attempt {i}");
                    if (write)
                    {
                        await Write(scope, random);
                        continue;
                    }

                    int nowReading = Interlocked.Increment(ref readers);
                    if (Volatile.Read(ref writers) != 0)
                    {
                        Note($"a reader ({nowReading} in) met a writer");
                    }

                    if (random.Next(6) == 0)
                    {
                        try
                        {
                            (await rw.TryAcquireWriteAsync(TimeSpan.Zero)).Dispose();
                            Note("a flow reading the lock was given the write lock too");
                        }
                        catch (LockRecursionException)
                        {
                            Interlocked.Increment(ref refusedUpgrades);
                            Holds(1, problems, $"{context}, flow {f}, attempt {i}");
                        }
                    }

                    Thread.SpinWait(random.Next(300));
                    await Task.Yield();
                    Interlocked.Decrement(ref readers);
                    scope.Dispose();
                    Holds(0, problems, $"{context}, flow {f}, attempt {i}");

                    if (random.Next(4) == 0)
                    {
                        // The legal upgrade: read, let go, then write (waiting forever, but cancelled from the other thread).
                        var source = canceller.Enlist();
                        AsyncLockScope upgraded = default;
                        try
                        {
                            upgraded = await rw.AcquireWriteAsync(Timeout.InfiniteTimeSpan, source.Token);
                        }
                        catch (OperationCanceledException)
                        {
                        }

                        if (upgraded.IsAcquired)
                        {
                            await Write(upgraded, random);
                        }
                    }
                }
            })).ToList();

            await Task.WhenAll(flows).WaitAsync(Guard.HangLimit);
        }

        Assert.True(problems.Count == 0, $"{context}: {string.Join("; ", problems.Take(5))}");
        Assert.True(tally.Ended == tally.Attempts && tally.Attempts == Flows * FlowAttempts, $"{context}: {tally.Describe()}");
        Assert.True(refusedUpgrades > 0, $"{context}: no upgrade was tried");
        Assert.True(!rw.IsWriteHeld && rw.CurrentReaderCount == 0 && rw.WaitingCount == 0,
            $"{context}: write held {rw.IsWriteHeld}, {rw.CurrentReaderCount} readers, {rw.WaitingCount} queued at the end");

        await AssertPolicyStillHolds(rw, policy, context);

        void Note(string problem)
        {
            problems.Enqueue(problem);
        }

        async Task Write(AsyncLockScope held, Random random)
        {
            int nowWriting = Interlocked.Increment(ref writers);
            int nowReading = Volatile.Read(ref readers);
            if (nowWriting != 1 || nowReading != 0)
            {
                Note($"a writer met {nowWriting - 1} writers and {nowReading} readers");
            }

            if (random.Next(2) == 0)
            {
                try
                {
                    (await rw.TryAcquireReadAsync(TimeSpan.Zero)).Dispose();
                    Note("a flow writing the lock was given a read too");
                }
                catch (LockRecursionException)
                {
                }
            }

            Thread.SpinWait(random.Next(300));
            await Task.Yield();
            Interlocked.Decrement(ref writers);
            held.Dispose();
            Holds(0, problems, context);
        }
    }

    private static async Task AssertPolicyStillHolds(AsyncReadWriteLock rw, ReadWritePolicy policy, string context)
    {
        var readHeld = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var letGo = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var reader = Task.Run(async () =>
        {
            using var scope = await rw.AcquireReadAsync();
            readHeld.SetResult();
            await letGo.Task;
        });
        await readHeld.Task.WaitAsync(Guard.HangLimit);
        var writer = Task.Run(async () =>
        {
            using var scope = await rw.AcquireWriteAsync();
        });
        Guard.SpinUntil(() => rw.WaitingCount == 1);

        bool newReaderGotIn = await Task.Run(async () =>
        {
            using var scope = await rw.TryAcquireReadAsync(TimeSpan.Zero);
            return scope.IsAcquired;
        });

        letGo.SetResult();
        await Task.WhenAll(reader, writer).WaitAsync(Guard.HangLimit);
        Assert.True(newReaderGotIn == (policy == ReadWritePolicy.ReaderPreferred),
            $"{context}: a new reader {(newReaderGotIn ? "got in" : "was held back")} while a writer waited");
        Assert.True(!rw.IsWriteHeld && rw.CurrentReaderCount == 0 && rw.WaitingCount == 0, $"{context}: not idle after the policy check");
    }

    /// <summary>
    /// Flows take sets of two or three of an exclusive lock, a read-write lock (write mode in a set) and a two-permit
    /// semaphore, listed in random (often opposite) orders, with every wait form, while other flows take single members
    /// (the read-write lock for reading). Each member's holders are counted: exclusive members alone, the semaphore at
    /// most two, no reader beside the set's writer. A set that fails leaves nothing held by its flow, and at the end
    /// every member is free with nobody queued.
    /// </summary>
    [Fact]
    public async Task AsyncLockSet_MixedMembersInOppositeOrders_AllOrNothing_AndEveryMemberEndsFree()
    {
        const int SetFlows = 12;
        const int SingleFlows = 6;
        const int SyncThreads = 2;
        const int Attempts = 150;

        int seed = Seed + 7_001;
        string context = $"seed {seed}";
        var exclusive = new AsyncExclusiveLock($"stress-set-exclusive-{seed}");
        var rw = new AsyncReadWriteLock($"stress-set-rw-{seed}");
        var semaphore = new CountingSemaphore(2, 2, $"stress-set-semaphore-{seed}");
        IAsyncLockSetMember[] members = [exclusive, rw, semaphore];
        var tally = new Tally();
        var problems = new ConcurrentQueue<string>();
        int inExclusive = 0;
        int writers = 0;
        int readers = 0;
        int permits = 0;

        void Note(string problem)
        {
            problems.Enqueue(problem);
        }

        void Enter(IAsyncLockSetMember member)
        {
            if (ReferenceEquals(member, exclusive) && Interlocked.Increment(ref inExclusive) != 1)
            {
                Note("two holders of the exclusive lock");
            }
            else if (ReferenceEquals(member, rw) && (Interlocked.Increment(ref writers) != 1 || Volatile.Read(ref readers) != 0))
            {
                Note("the set's writer met another writer or a reader");
            }
            else if (ReferenceEquals(member, semaphore) && Interlocked.Increment(ref permits) > 2)
            {
                Note("more than two permits out");
            }
        }

        void Leave(IAsyncLockSetMember member)
        {
            if (ReferenceEquals(member, exclusive))
            {
                Interlocked.Decrement(ref inExclusive);
            }
            else if (ReferenceEquals(member, rw))
            {
                Interlocked.Decrement(ref writers);
            }
            else
            {
                Interlocked.Decrement(ref permits);
            }
        }

        using (var canceller = new Canceller(seed))
        {
            var setFlows = Enumerable.Range(0, SetFlows).Select(f => Task.Run(async () =>
            {
                var random = new Random(seed * 977 + f);
                for (int i = 0; i < Attempts; i++)
                {
                    Interlocked.Increment(ref tally.Attempts);
                    var chosen = members.OrderBy(_ => random.Next()).Take(random.Next(2, 4)).ToArray();
                    if (f % 2 == 1)
                    {
                        Array.Reverse(chosen);
                    }

                    var drawn = Draw(random, canceller);
                    Exception? canceled = null;
                    AsyncLockSetScope set = default;
                    try
                    {
                        set = random.Next(2) == 0 || drawn.Timeout == TimeSpan.Zero
                            ? await LockSet.TryAcquireAsync(drawn.Timeout, chosen, drawn.Token)
                            : await LockSet.AcquireAsync(drawn.Timeout, chosen, drawn.Token);
                    }
                    catch (OperationCanceledException ex)
                    {
                        canceled = ex;
                    }
                    catch (LockTimeoutException)
                    {
                    }
                    finally
                    {
                        drawn.End();
                    }

                    if (!set.IsAcquired)
                    {
                        CountFailure(tally, drawn, canceled, problems, $"{context}, set flow {f}, attempt {i}");
                        Holds(0, problems, $"{context}, set flow {f}, attempt {i}");
                        if (exclusive.IsHeldByCurrentFlow || rw.IsWriteHeldByCurrentFlow)
                        {
                            Note($"set flow {f}, attempt {i}: a failed set left a member held by its flow");
                        }

                        continue;
                    }

                    Interlocked.Increment(ref tally.Acquired);
                    Holds(chosen.Length, problems, $"{context}, set flow {f}, attempt {i}");
                    if (set.Count != chosen.Length)
                    {
                        Note($"a set of {chosen.Length} held {set.Count}");
                    }

                    foreach (var member in chosen)
                    {
                        Enter(member);
                    }

                    await Task.Yield();
                    foreach (var member in chosen)
                    {
                        Leave(member);
                    }

                    set.Dispose();
                    Holds(0, problems, $"{context}, set flow {f}, attempt {i}");
                }
            })).ToList();

            var singleFlows = Enumerable.Range(0, SingleFlows).Select(f => Task.Run(async () =>
            {
                var random = new Random(seed * 31 + f);
                for (int i = 0; i < Attempts; i++)
                {
                    Interlocked.Increment(ref tally.Attempts);
                    int which = random.Next(3);
                    var drawn = Draw(random, canceller);
                    Exception? canceled = null;
                    AsyncLockScope scope = default;
                    try
                    {
                        scope = which switch
                        {
                            0 => await exclusive.TryAcquireAsync(drawn.Timeout, drawn.Token),
                            1 => await rw.TryAcquireReadAsync(drawn.Timeout, drawn.Token),
                            _ => await semaphore.TryAcquireAsync(drawn.Timeout, drawn.Token),
                        };
                    }
                    catch (OperationCanceledException ex)
                    {
                        canceled = ex;
                    }
                    finally
                    {
                        drawn.End();
                    }

                    if (!scope.IsAcquired)
                    {
                        CountFailure(tally, drawn, canceled, problems, $"{context}, single flow {f}, attempt {i}");
                        Holds(0, problems, $"{context}, single flow {f}, attempt {i}");
                        continue;
                    }

                    Interlocked.Increment(ref tally.Acquired);
                    Holds(1, problems, $"{context}, single flow {f}, attempt {i}");
                    if (which == 1)
                    {
                        Interlocked.Increment(ref readers);
                        if (Volatile.Read(ref writers) != 0)
                        {
                            Note("a reader met the set's writer");
                        }
                    }
                    else
                    {
                        Enter(which == 0 ? exclusive : semaphore);
                    }

                    await Task.Yield();
                    if (which == 1)
                    {
                        Interlocked.Decrement(ref readers);
                    }
                    else
                    {
                        Leave(which == 0 ? exclusive : semaphore);
                    }

                    scope.Dispose();
                    Holds(0, problems, $"{context}, single flow {f}, attempt {i}");
                }
            })).ToList();

            // Threads take the semaphore too, alone or in a sync set with a sync lock: their waits queue beside the flows'.
            var syncLock = new ExclusiveLock($"stress-set-sync-{seed}");
            var threads = Enumerable.Range(0, SyncThreads).Select(t => Worker.Start($"set-sync-{seed}-{t}", () =>
            {
                var random = new Random(seed * 61 + t);
                for (int i = 0; i < Attempts; i++)
                {
                    Interlocked.Increment(ref tally.Attempts);
                    var drawn = Draw(random, canceller);
                    Exception? canceled = null;
                    bool acquired = false;
                    try
                    {
                        if (random.Next(2) == 0)
                        {
                            acquired = semaphore.TryAcquire(drawn.Timeout, drawn.Token, out var permit);
                            if (acquired)
                            {
                                Enter(semaphore);
                                Thread.SpinWait(random.Next(2_000));
                                Leave(semaphore);
                                permit.Dispose();
                            }
                        }
                        else
                        {
                            acquired = LockSet.TryAcquire(drawn.Timeout, drawn.Token, out var both, syncLock, semaphore);
                            if (acquired)
                            {
                                Enter(semaphore);
                                Thread.SpinWait(random.Next(2_000));
                                Leave(semaphore);
                                both.Dispose();
                            }
                        }
                    }
                    catch (OperationCanceledException ex)
                    {
                        canceled = ex;
                    }
                    finally
                    {
                        drawn.End();
                    }

                    if (acquired)
                    {
                        Interlocked.Increment(ref tally.Acquired);
                    }
                    else
                    {
                        CountFailure(tally, drawn, canceled, problems, $"{context}, thread {t}, attempt {i}");
                    }
                }
            })).ToList();

            await Task.WhenAll(setFlows.Concat(singleFlows)).WaitAsync(Guard.HangLimit);
            threads.ForEach(w => w.JoinGuarded());
            Assert.False(syncLock.IsHeld, $"{context}: the sync set's lock is still held");
        }

        Assert.True(problems.Count == 0, $"{context}: {string.Join("; ", problems.Take(5))}");
        Assert.True(tally.Ended == tally.Attempts && tally.Attempts == (SetFlows + SingleFlows + SyncThreads) * Attempts, $"{context}: {tally.Describe()}");
        Assert.True(!exclusive.IsHeld && exclusive.WaitingCount == 0, $"{context}: exclusive held {exclusive.IsHeld}, {exclusive.WaitingCount} queued");
        Assert.True(!rw.IsWriteHeld && rw.CurrentReaderCount == 0 && rw.WaitingCount == 0, $"{context}: read-write lock not idle");
        Assert.True(semaphore.CurrentCount == 2 && semaphore.QueuedWaiterCount == 0,
            $"{context}: {semaphore.CurrentCount} of 2 permits free, {semaphore.QueuedWaiterCount} queued");
    }

    /// <summary>
    /// Sixty-four keys on four stripes: flows lock one key or several at once (all or nothing, stripes shared by several
    /// keys taken once) with every wait form. A stripe is never held twice at once, and at the end every stripe is free
    /// with nobody queued.
    /// </summary>
    [Fact]
    public async Task AsyncStripedLock_ManyKeysOnFewStripes_OneAndManyKeys_RacingTimeouts_StripesStayExclusive()
    {
        const int Flows = 16;
        const int Attempts = 200;

        int seed = Seed + 9_001;
        string context = $"seed {seed}";
        var striped = new AsyncStripedLock<int>(4, $"stress-striped-{seed}");
        var inStripe = new int[striped.StripeCount];
        var tally = new Tally();
        var problems = new ConcurrentQueue<string>();

        void Note(string problem)
        {
            problems.Enqueue(problem);
        }

        using (var canceller = new Canceller(seed))
        {
            var flows = Enumerable.Range(0, Flows).Select(f => Task.Run(async () =>
            {
                var random = new Random(seed * 977 + f);
                for (int i = 0; i < Attempts; i++)
                {
                    Interlocked.Increment(ref tally.Attempts);
                    var keys = Enumerable.Range(0, random.Next(1, 5)).Select(_ => random.Next(64)).ToArray();
                    var stripes = keys.Select(striped.StripeOf).Distinct().ToArray();
                    var drawn = Draw(random, canceller);
                    Exception? canceled = null;
                    bool acquired = false;
                    AsyncLockScope one = default;
                    AsyncLockSetScope many = default;
                    try
                    {
                        if (keys.Length == 1)
                        {
                            one = await striped.TryAcquireAsync(keys[0], drawn.Timeout, drawn.Token);
                            acquired = one.IsAcquired;
                        }
                        else
                        {
                            many = await striped.TryAcquireManyAsync(keys, drawn.Timeout, drawn.Token);
                            acquired = many.IsAcquired;
                            if (acquired && many.Count != stripes.Length)
                            {
                                Note($"keys on {stripes.Length} stripes held {many.Count}");
                            }
                        }
                    }
                    catch (OperationCanceledException ex)
                    {
                        canceled = ex;
                    }
                    finally
                    {
                        drawn.End();
                    }

                    if (!acquired)
                    {
                        CountFailure(tally, drawn, canceled, problems, $"{context}, flow {f}, attempt {i}");
                        Holds(0, problems, $"{context}, flow {f}, attempt {i}");
                        if (keys.Any(striped.IsHeldByCurrentFlow))
                        {
                            Note($"flow {f}, attempt {i}: a failed attempt left a stripe held by its flow");
                        }

                        continue;
                    }

                    Interlocked.Increment(ref tally.Acquired);
                    Holds(stripes.Length, problems, $"{context}, flow {f}, attempt {i}");
                    foreach (int stripe in stripes)
                    {
                        if (Interlocked.Increment(ref inStripe[stripe]) != 1)
                        {
                            Note($"stripe {stripe} held twice at once");
                        }
                    }

                    await Task.Yield();
                    foreach (int stripe in stripes)
                    {
                        Interlocked.Decrement(ref inStripe[stripe]);
                    }

                    if (keys.Length == 1)
                    {
                        one.Dispose();
                    }
                    else
                    {
                        many.Dispose();
                    }

                    Holds(0, problems, $"{context}, flow {f}, attempt {i}");
                }
            })).ToList();

            await Task.WhenAll(flows).WaitAsync(Guard.HangLimit);
        }

        Assert.True(problems.Count == 0, $"{context}: {string.Join("; ", problems.Take(5))}");
        Assert.True(tally.Ended == tally.Attempts && tally.Attempts == Flows * Attempts, $"{context}: {tally.Describe()}");
        for (int i = 0; i < striped.StripeCount; i++)
        {
            var stripe = striped.StripeAt(i);
            Assert.True(!stripe.IsHeld && stripe.WaitingCount == 0, $"{context}: stripe {i} held {stripe.IsHeld}, {stripe.WaitingCount} queued");
        }
    }
}
