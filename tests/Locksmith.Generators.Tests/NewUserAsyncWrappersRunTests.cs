using System;
using System.Globalization;
using System.Linq;
using System.Reflection;
using System.Threading;
using System.Threading.Tasks;
using Locksmith.Generators.Tests.Support;
using Locksmith.Testing.Support;

namespace Locksmith.Generators.Tests;

/// <summary>
/// A new user's trial of the README's async wrappers ("Source generator", **Async locks**): classes written as the README
/// shows, compiled with the real generator as a strict project, loaded, and their wrappers called as a user would, from
/// the user's own code in the same compilation (<see cref="Drive"/>), which returns what happened for the test to check.
/// </summary>
public sealed class NewUserAsyncWrappersRunTests(NewUserAsyncWrappersRunTests.Compiled compiled) : IClassFixture<NewUserAsyncWrappersRunTests.Compiled>
{
    private const string Usings = """
        using System;
        using System.Collections.Concurrent;
        using System.Collections.Generic;
        using System.Linq;
        using System.Threading;
        using System.Threading.Tasks;
        using Locksmith;

        """;

    // The user's classes: one per lock kind the section names, each core reading, yielding, then writing, so a wrapper
    // that let go of the lock early would lose updates.
    private const string Classes = """
        namespace Trial.Async;

        public static class Limits
        {
            public static readonly TimeSpan Hang = TimeSpan.FromMinutes(2);
        }

        public sealed partial class Queue
        {
            [LockOrder(30)] private readonly AsyncExclusiveLock _lock = new();
            [Guarded(Lock = nameof(_lock))] private int _count;
            private int _runs;

            public AsyncExclusiveLock Lock => _lock;
            public int Runs => Volatile.Read(ref _runs);

            [Guarded(Lock = nameof(_lock))]
            private async Task<int> AddCoreAsync(int amount) { Interlocked.Increment(ref _runs); int seen = _count; await Task.Yield(); _count = seen + amount; return _count; }

            [Guarded(Lock = nameof(_lock))]
            private async Task BumpCoreAsync() { Interlocked.Increment(ref _runs); int seen = _count; await Task.Yield(); _count = seen + 1; }

            [Guarded(Lock = nameof(_lock))]
            private async ValueTask<int> PushAsyncCore(int amount) { Interlocked.Increment(ref _runs); int seen = _count; await Task.Yield(); _count = seen + amount; return _count; }

            [Guarded(Lock = nameof(_lock))]
            private async ValueTask TickCoreAsync() { Interlocked.Increment(ref _runs); int seen = _count; await Task.Yield(); _count = seen + 1; }

            [Guarded(Lock = nameof(_lock))]
            private Task<int> CountCoreAsync() => Task.FromResult(_count);

            [Guarded(Lock = nameof(_lock))]
            private async Task HoldCoreAsync(TaskCompletionSource entered, Task release) { entered.SetResult(); await release.WaitAsync(Limits.Hang); }

            [Guarded(Lock = nameof(_lock))]
            private async Task<int> DrainCoreAsync(TaskCompletionSource? entered, CancellationToken ct)
            {
                Interlocked.Increment(ref _runs);
                entered?.SetResult();
                await Task.Delay(Timeout.Infinite, ct);
                return _count;
            }

            [Guarded(Lock = nameof(_lock))]
            private Task<bool> PairCoreAsync(CancellationToken first, CancellationToken second) { Interlocked.Increment(ref _runs); return Task.FromResult(second.IsCancellationRequested); }

            [Guarded(Lock = nameof(_lock))]
            private Task<int> SumCoreAsync(params int[] values) => Task.FromResult(values.Sum());

            [Guarded(Lock = nameof(_lock))]
            private Task<string> EchoCoreAsync(string cancellationToken) => Task.FromResult(cancellationToken);

            [Guarded(Lock = nameof(_lock), TimeoutMilliseconds = 50)]
            private Task<int> QuickCoreAsync() { Interlocked.Increment(ref _runs); return Task.FromResult(_count); }

            [Guarded(Lock = nameof(_lock))]
            private async Task<(bool Before, bool AfterYield, bool AfterConfigureAwaitFalse)> SpanCoreAsync()
            {
                bool before = _lock.IsHeldByCurrentFlow;
                await Task.Yield();
                bool afterYield = _lock.IsHeldByCurrentFlow;
                await Task.Run(static () => { }).ConfigureAwait(false);
                return (before, afterYield, _lock.IsHeldByCurrentFlow);
            }

            // Re-entry through a helper: the analyzers do not follow calls (calling NestAsync here directly is LSM0023).
            [Guarded(Lock = nameof(_lock))]
            private async Task<int> NestCoreAsync(int depth) { Interlocked.Increment(ref _runs); return depth == 0 ? 0 : await Nest(depth - 1); }
            private Task<int> Nest(int depth) => NestAsync(depth);

            [Guarded(Lock = nameof(_lock))]
            private async Task<int> NestTimedCoreAsync(int depth) { Interlocked.Increment(ref _runs); return depth == 0 ? 0 : (await NestTimed(depth - 1)).Result; }
            private async Task<(bool Acquired, int Result)> NestTimed(int depth) => await TryNestTimedAsync(TimeSpan.Zero, depth);

            // A task started inside the hold, with the flow or under SuppressFlow, tries the timed form.
            [Guarded(Lock = nameof(_lock))]
            private async Task<string> StartedInsideCoreAsync(bool suppressFlow)
            {
                Task<string> other;
                if (suppressFlow)
                {
                    using (ExecutionContext.SuppressFlow()) { other = Task.Run(TryAddOnce); }
                }
                else
                {
                    other = Task.Run(TryAddOnce);
                }

                return await other.WaitAsync(Limits.Hang);
            }

            private async Task<string> TryAddOnce()
            {
                try { return (await TryAddAsync(TimeSpan.Zero, 1)).ToString(); }
                catch (LockRecursionException e) { return e.GetType().Name; }
            }
        }

        public sealed partial class Catalog
        {
            private readonly AsyncExclusiveLock _lock = new();
            [Guarded(Lock = nameof(_lock))] private readonly Dictionary<string, string> _names = new() { ["k"] = "kettle" };
            private sealed class Secret { }

            [Guarded(Lock = nameof(_lock))]
            private Task<string> TryFindCoreAsync(string key) => Task.FromResult(_names.TryGetValue(key, out var name) ? name : "");

            [Guarded(Lock = nameof(_lock), Visibility = WrapperVisibility.Internal)]
            private Task<int> InnerCoreAsync() => Task.FromResult(1);

            [Guarded(Lock = nameof(_lock))]
            private Task<int> HiddenCoreAsync(Secret secret) => Task.FromResult(3);

            [Guarded(Lock = nameof(_lock), WrapperName = "FetchAsync")]
            private Task<int> LoadBody() => Task.FromResult(_names.Count);
        }

        public static partial class Ids
        {
            [LockOrder(50)] private static readonly AsyncExclusiveLock s_lock = new();
            [Guarded(Lock = nameof(s_lock))] private static int s_next;
            public static AsyncExclusiveLock Lock => s_lock;

            [Guarded(Lock = nameof(s_lock))]
            private static async Task<int> NextCoreAsync() { int seen = s_next; await Task.Yield(); s_next = seen + 1; return s_next; }
        }

        public sealed partial class Box<T>
        {
            [LockOrder(40)] private readonly AsyncExclusiveLock _lock = new();
            [Guarded(Lock = nameof(_lock))] private T? _value;
            public AsyncExclusiveLock Lock => _lock;

            [Guarded(Lock = nameof(_lock))]
            private Task<T?> GetCoreAsync() => Task.FromResult(_value);

            [Guarded(Lock = nameof(_lock))]
            private Task SetCoreAsync(T value) { _value = value; return Task.CompletedTask; }

            [Guarded(Lock = nameof(_lock))]
            private async Task HoldCoreAsync(TaskCompletionSource entered, Task release) { entered.SetResult(); await release.WaitAsync(Limits.Hang); }
        }

        [ReadMostly(Policy = ReadWritePolicy.ReaderPreferred)]
        public sealed partial class Prices
        {
            [LockOrder(60)] private readonly AsyncReadWriteLock _lock = new();
            [Guarded(Lock = nameof(_lock))] private int _version;
            private int _writes;

            public AsyncReadWriteLock Lock => _lock;
            public int Writes => Volatile.Read(ref _writes);

            [Guarded(Lock = nameof(_lock), Access = LockAccess.Read)]
            private async Task<int> PeekCoreAsync(TaskCompletionSource entered, Task release) { entered.SetResult(); await release.WaitAsync(Limits.Hang); return _version; }

            [Guarded(Lock = nameof(_lock), Access = LockAccess.Read)]
            private Task<int> VersionCoreAsync() => Task.FromResult(_version);

            [Guarded(Lock = nameof(_lock))]
            private async Task<int> BumpCoreAsync() { Interlocked.Increment(ref _writes); int seen = _version; await Task.Yield(); _version = seen + 1; return _version; }

            [Guarded(Lock = nameof(_lock))]
            private async Task HoldCoreAsync(TaskCompletionSource entered, Task release) { entered.SetResult(); await release.WaitAsync(Limits.Hang); }
        }

        [ReadMostly(Policy = ReadWritePolicy.ReaderPreferred)]
        public sealed partial class Clash
        {
            private readonly AsyncReadWriteLock _lock;
            public Clash(ReadWritePolicy built) { _lock = new AsyncReadWriteLock(built); }
            public AsyncReadWriteLock Lock => _lock;

            [Guarded(Lock = nameof(_lock), Access = LockAccess.Read)]
            private Task<int> ReadCoreAsync() => Task.FromResult(1);
        }

        public sealed partial class Stock
        {
            [LockOrder(70)] private readonly AsyncStripedLock<string> _stripes = new(64);
            private readonly ConcurrentDictionary<string, int> _counts = new();
            public AsyncStripedLock<string> Lock => _stripes;

            [Guarded(Lock = nameof(_stripes), StripeBy = nameof(sku))]
            private async Task<int> AddCoreAsync(string sku, int amount) { int seen = _counts.GetValueOrDefault(sku); await Task.Yield(); _counts[sku] = seen + amount; return seen + amount; }

            [Guarded(Lock = nameof(_stripes), StripeBy = nameof(sku))]
            private async Task HoldCoreAsync(string sku, TaskCompletionSource entered, Task release) { entered.SetResult(); await release.WaitAsync(Limits.Hang); }

            [AcquiresLocksOf(nameof(from), nameof(to), Lock = nameof(_stripes))]
            private async Task MoveCoreAsync(string from, string to, int amount)
            {
                int f = _counts.GetValueOrDefault(from);
                await Task.Yield();
                _counts[from] = f - amount;
                int t = _counts.GetValueOrDefault(to);
                await Task.Yield();
                _counts[to] = t + amount;
            }
        }

        public sealed partial class Wallet(long opening)
        {
            [LockOrder(80)] private readonly AsyncExclusiveLock _lock = new();
            [Guarded(Lock = nameof(_lock))] private long _balance = opening;
            public AsyncExclusiveLock Lock => _lock;

            [AcquiresLocksOf(nameof(from), nameof(to), Lock = nameof(_lock))]
            private static async Task TransferCoreAsync(Wallet from, Wallet to, long amount)
            {
                long f = from._balance;
                await Task.Yield();
                from._balance = f - amount;
                long t = to._balance;
                await Task.Yield();
                to._balance = t + amount;
            }

            [Guarded(Lock = nameof(_lock))]
            private Task<long> BalanceCoreAsync() => Task.FromResult(_balance);

            [Guarded(Lock = nameof(_lock))]
            private async Task HoldCoreAsync(TaskCompletionSource entered, Task release) { entered.SetResult(); await release.WaitAsync(Limits.Hang); }
        }

        public sealed partial class Ledger
        {
            [LockOrder(10)] private readonly AsyncExclusiveLock _lock = new();
            private int _notes;
            public AsyncExclusiveLock Lock => _lock;
            public int Notes => Volatile.Read(ref _notes);

            [Guarded(Lock = nameof(_lock))]
            private Task<int> NoteCoreAsync(int amount) { Interlocked.Increment(ref _notes); return Task.FromResult(amount); }

            [Guarded(Lock = nameof(_lock))]
            private Task<int> NoteThenSendCoreAsync(Outbox outbox, int amount) => outbox.SendAsync(amount);

            [Guarded(Lock = nameof(_lock))]
            private async Task HoldCoreAsync(TaskCompletionSource entered, Task release) { entered.SetResult(); await release.WaitAsync(Limits.Hang); }
        }

        public sealed partial class Outbox
        {
            [LockOrder(20)] private readonly AsyncExclusiveLock _lock = new();
            private int _sent;
            public AsyncExclusiveLock Lock => _lock;
            public int Sent => Volatile.Read(ref _sent);

            [Guarded(Lock = nameof(_lock))]
            private Task<int> SendCoreAsync(int amount) { Interlocked.Increment(ref _sent); return Task.FromResult(amount); }

            [Guarded(Lock = nameof(_lock))]
            private Task<int> SendThenNoteCoreAsync(Ledger ledger, int amount) => ledger.NoteAsync(amount);
        }
        """;

    // The user's own code calling the wrappers: every scenario the tests run, returning what it saw.
    private const string Driver = """
        namespace Trial.Async;

        /// <summary>A flow of its own that holds a lock through a wrapper until released.</summary>
        public sealed class Holder
        {
            private readonly TaskCompletionSource _entered = new(TaskCreationOptions.RunContinuationsAsynchronously);
            private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
            private Task _flow = Task.CompletedTask;

            public static async Task<Holder> Start(Func<TaskCompletionSource, Task, Task> hold)
            {
                var holder = new Holder();
                holder._flow = Task.Run(() => hold(holder._entered, holder._release.Task));
                await holder._entered.Task.WaitAsync(Limits.Hang);
                return holder;
            }

            public async Task Release()
            {
                _release.SetResult();
                await _flow.WaitAsync(Limits.Hang);
            }
        }

        public static class Drive
        {
            private static async Task Until(Func<bool> condition)
            {
                var deadline = DateTime.UtcNow + Limits.Hang;
                while (!condition())
                {
                    if (DateTime.UtcNow > deadline) { throw new TimeoutException("condition not met"); }
                    await Task.Yield();
                }
            }

            private static async Task<Exception?> Catch(Task task)
            {
                try { await task.WaitAsync(Limits.Hang); return null; }
                catch (Exception e) when (e.GetType() != typeof(TimeoutException)) { return e; }
            }

            public static async Task<(int Count, int Runs, bool HeldAfter)> Concurrent(string shape, int calls)
            {
                var q = new Queue();
                Func<Task> call = shape switch
                {
                    "Task<T>" => () => q.AddAsync(1),
                    "Task" => () => q.BumpAsync(),
                    "ValueTask<T>" => () => q.PushAsync(1).AsTask(),
                    "ValueTask" => () => q.TickAsync().AsTask(),
                    _ => throw new ArgumentException(shape),
                };
                await Task.WhenAll(Enumerable.Range(0, calls).Select(_ => Task.Run(call))).WaitAsync(Limits.Hang);
                return (await q.CountAsync(), q.Runs, q.Lock.IsHeld);
            }

            public static async Task<(string WhileHeld, int RunsWhileHeld, string AfterRelease, int RunsAfter)> Timed(string shape)
            {
                var q = new Queue();
                Func<Task<string>> tryOnce = shape switch
                {
                    "Task<T>" => async () => (await q.TryAddAsync(TimeSpan.Zero, 5)).ToString(),
                    "Task" => async () => (await q.TryBumpAsync(TimeSpan.Zero)).ToString(),
                    "ValueTask<T>" => async () => (await q.TryPushAsync(TimeSpan.Zero, 5)).ToString(),
                    "ValueTask" => async () => (await q.TryTickAsync(TimeSpan.Zero)).ToString(),
                    _ => throw new ArgumentException(shape),
                };
                var holder = await Holder.Start((entered, release) => q.HoldAsync(entered, release));
                string whileHeld = await tryOnce();
                int runsWhileHeld = q.Runs;
                await holder.Release();
                string after = await tryOnce();
                return (whileHeld, runsWhileHeld, after, q.Runs);
            }

            public static async Task<(Exception? Caught, int Runs, int WaitingAfterCancel, bool HeldAfterRelease, int CountAfter)> CancelQueuedWait(bool coreToken)
            {
                var q = new Queue();
                var holder = await Holder.Start((entered, release) => q.HoldAsync(entered, release));
                using var cts = new CancellationTokenSource();
                Task waiting = coreToken ? q.DrainAsync(null, cts.Token) : q.AddAsync(1, cts.Token);
                await Until(() => q.Lock.WaitingCount == 1);
                cts.Cancel();
                var caught = await Catch(waiting);
                int waitingAfter = q.Lock.WaitingCount;
                int runs = q.Runs;
                await holder.Release();
                bool held = q.Lock.IsHeld;
                return (caught, runs, waitingAfter, held, await q.AddAsync(1));
            }

            public static async Task<(Exception? Caught, int Runs, bool HeldAfter)> CancelInsideCore()
            {
                var q = new Queue();
                using var cts = new CancellationTokenSource();
                var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                Task running = q.DrainAsync(entered, cts.Token);
                await entered.Task.WaitAsync(Limits.Hang);
                cts.Cancel();
                var caught = await Catch(running);
                return (caught, q.Runs, q.Lock.IsHeld);
            }

            public static async Task<(Exception? FirstCancelled, bool SecondSeenCancelled, int Runs)> TwoTokens()
            {
                var q = new Queue();
                var holder = await Holder.Start((entered, release) => q.HoldAsync(entered, release));
                using var first = new CancellationTokenSource();
                using var second = new CancellationTokenSource();
                Task<bool> keepsWaiting = q.PairAsync(first.Token, second.Token);
                await Until(() => q.Lock.WaitingCount == 1);
                second.Cancel();
                using var other = new CancellationTokenSource();
                Task<bool> cancelled = q.PairAsync(other.Token, CancellationToken.None);
                await Until(() => q.Lock.WaitingCount == 2);
                other.Cancel();
                var caught = await Catch(cancelled);
                await holder.Release();
                bool seen = await keepsWaiting.WaitAsync(Limits.Hang);
                return (caught, seen, q.Runs);
            }

            public static async Task<(int Sum, string Echo)> ParamsAndRenamedToken()
            {
                var q = new Queue();
                return (await q.SumAsync(1, 2, 3), await q.EchoAsync("kept", CancellationToken.None));
            }

            public static async Task<(Exception? Caught, int RunsWhileHeld, int RunsAfter)> ThrowingFormTimesOut()
            {
                var q = new Queue();
                var holder = await Holder.Start((entered, release) => q.HoldAsync(entered, release));
                var caught = await Catch(q.QuickAsync());
                int runs = q.Runs;
                await holder.Release();
                await q.QuickAsync();
                return (caught, runs, q.Runs);
            }

            public static async Task<(bool Before, bool AfterYield, bool AfterConfigureAwaitFalse, bool HeldAfter, string Name, int? Level)> HeldAcrossAwaits()
            {
                var q = new Queue();
                var seen = await q.SpanAsync();
                return (seen.Before, seen.AfterYield, seen.AfterConfigureAwaitFalse, q.Lock.IsHeld, q.Lock.Name, q.Lock.Level);
            }

            public static async Task<(Exception? Throwing, Exception? Timed, int Runs, bool HeldAfter)> Reenter()
            {
                var q = new Queue();
                var throwing = await Catch(q.NestAsync(1));
                var timed = await Catch(q.NestTimedAsync(1));
                return (throwing, timed, q.Runs, q.Lock.IsHeld);
            }

            public static async Task<(string SameFlow, string SuppressedFlow)> TaskStartedInside()
            {
                var q = new Queue();
                return (await q.StartedInsideAsync(false), await q.StartedInsideAsync(true));
            }

            public static async Task<(string Found, int Length, string Missing, string Fetched)> CatalogLookups()
            {
                var c = new Catalog();
                int length = await c.TryFindWithinAsync(TimeSpan.Zero, "k") is (true, { } found) ? found.Length : -1;
                return (await c.TryFindAsync("k"), length, await c.TryFindAsync("x"), (await c.TryFetchAsync(TimeSpan.Zero)).ToString());
            }

            public static async Task<(int Distinct, int Max, bool HeldAfter, string Name, int? Level)> StaticIds(int calls)
            {
                int[] ids = await Task.WhenAll(Enumerable.Range(0, calls).Select(_ => Task.Run(() => Ids.NextAsync()))).WaitAsync(Limits.Hang);
                return (ids.Distinct().Count(), ids.Max(), Ids.Lock.IsHeld, Ids.Lock.Name, Ids.Lock.Level);
            }

            public static async Task<(string? Text, int Number, string TextWhileHeld, string NumberWhileHeld, bool TwoLocks, int? Level)> GenericBoxes()
            {
                var text = new Box<string>();
                var number = new Box<int>();
                await text.SetAsync("lid");
                await number.SetAsync(7);
                var holdText = await Holder.Start((entered, release) => text.HoldAsync(entered, release));
                var holdNumber = await Holder.Start((entered, release) => number.HoldAsync(entered, release));
                string textWhileHeld = (await text.TryGetAsync(TimeSpan.Zero)).ToString();
                string numberWhileHeld = (await number.TryGetAsync(TimeSpan.Zero)).ToString();
                await holdText.Release();
                await holdNumber.Release();
                return (await text.GetAsync(), await number.GetAsync(), textWhileHeld, numberWhileHeld, !ReferenceEquals(text.Lock, number.Lock), number.Lock.Level);
            }

            public static async Task<(int BothInside, string WriteTried, int WritesWhileRead, int WritesWhileQueued, int[] ReadsSaw, int WriteAfter, ReadWritePolicy Policy)> ReadersShareWritersWait()
            {
                var p = new Prices();
                await p.BumpAsync();
                var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                var first = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                var second = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                Task<int> reader1 = Task.Run(() => p.PeekAsync(first, release.Task));
                await first.Task.WaitAsync(Limits.Hang);
                // The second read enters while the first is still inside: read wrappers share the lock.
                Task<int> reader2 = Task.Run(() => p.PeekAsync(second, release.Task));
                await second.Task.WaitAsync(Limits.Hang);
                int bothInside = p.Lock.CurrentReaderCount;
                string tried = (await p.TryBumpAsync(TimeSpan.Zero)).ToString();
                int writesWhileRead = p.Writes;
                Task<int> writer = Task.Run(() => p.BumpAsync());
                await Until(() => p.Lock.WaitingCount == 1);
                int writesWhileQueued = p.Writes;
                release.SetResult();
                int[] saw = await Task.WhenAll(reader1, reader2).WaitAsync(Limits.Hang);
                int after = await writer.WaitAsync(Limits.Hang);
                return (bothInside, tried, writesWhileRead, writesWhileQueued, saw, after, p.Lock.Policy);
            }

            public static async Task<(string ReadWhileWritten, string ReadAfter, bool WriteHeldAfter)> WriterExcludesReaders()
            {
                var p = new Prices();
                var holder = await Holder.Start((entered, release) => p.HoldAsync(entered, release));
                string whileWritten = (await p.TryVersionAsync(TimeSpan.Zero)).ToString();
                await holder.Release();
                string after = (await p.TryVersionAsync(TimeSpan.Zero)).ToString();
                return (whileWritten, after, p.Lock.IsWriteHeld);
            }

            public static async Task<(Exception? Caught, ReadWritePolicy PolicyAfter)> PolicyGivenTwice(ReadWritePolicy built)
            {
                var c = new Clash(built);
                var caught = await Catch(c.ReadAsync());
                return (caught, c.Lock.Policy);
            }

            public static async Task<(int[] PerKey, bool AnyHeld)> StripedExact(int calls, int keys)
            {
                var s = new Stock();
                await Task.WhenAll(Enumerable.Range(0, calls).Select(i => Task.Run(() => s.AddAsync("sku-" + (i % keys), 1)))).WaitAsync(Limits.Hang);
                var perKey = new int[keys];
                for (int k = 0; k < keys; k++) { perKey[k] = await s.AddAsync("sku-" + k, 0); }
                return (perKey, Enumerable.Range(0, keys).Any(k => s.Lock.IsHeldByCurrentFlow("sku-" + k)));
            }

            private static string OtherStripe(Stock s, string key) =>
                Enumerable.Range(0, 1000).Select(i => "key-" + i).First(k => s.Lock.StripeOf(k) != s.Lock.StripeOf(key));

            public static async Task<(int OtherKeyRan, string SameKeyWhileHeld, string SameKeyAfter)> StripesApart()
            {
                var s = new Stock();
                string other = OtherStripe(s, "a");
                var holder = await Holder.Start((entered, release) => s.HoldAsync("a", entered, release));
                int ran = await s.AddAsync(other, 1).WaitAsync(Limits.Hang);
                string whileHeld = (await s.TryAddAsync(TimeSpan.Zero, "a", 1)).ToString();
                await holder.Release();
                string after = (await s.TryAddAsync(TimeSpan.Zero, "a", 1)).ToString();
                return (ran, whileHeld, after);
            }

            public static async Task<(int A, int B, bool TriedWhileHeld, string BFreeMeanwhile, int AAfterTry)> KeysMoved(int movesEachWay)
            {
                var s = new Stock();
                string a = "a", b = OtherStripe(s, "a");
                await s.AddAsync(a, 10_000);
                await s.AddAsync(b, 10_000);
                var there = Task.Run(async () => { for (int i = 0; i < movesEachWay; i++) { await s.MoveAsync(a, b, 1); } });
                var back = Task.Run(async () => { for (int i = 0; i < movesEachWay; i++) { await s.MoveAsync(b, a, 2); } });
                await Task.WhenAll(there, back).WaitAsync(Limits.Hang);
                var holder = await Holder.Start((entered, release) => s.HoldAsync(a, entered, release));
                bool tried = await s.TryMoveAsync(TimeSpan.Zero, a, b, 5);
                string bFree = (await s.TryAddAsync(TimeSpan.Zero, b, 0)).ToString();
                await holder.Release();
                return (await s.AddAsync(a, 0), await s.AddAsync(b, 0), tried, bFree, await s.AddAsync(a, 0));
            }

            public static async Task<(long A, long B, bool AHeld, bool BHeld)> OpposingTransfers(int eachWay)
            {
                var a = new Wallet(100_000);
                var b = new Wallet(100_000);
                var there = Task.Run(async () => { for (int i = 0; i < eachWay; i++) { await Wallet.TransferAsync(a, b, 1); } });
                var back = Task.Run(async () => { for (int i = 0; i < eachWay; i++) { await Wallet.TransferAsync(b, a, 3); } });
                await Task.WhenAll(there, back).WaitAsync(Limits.Hang);
                return (await a.BalanceAsync(), await b.BalanceAsync(), a.Lock.IsHeld, b.Lock.IsHeld);
            }

            public static async Task<(long Balance, bool Held)> TransferToItself()
            {
                var a = new Wallet(10);
                await Wallet.TransferAsync(a, a, 5);
                return (await a.BalanceAsync(), a.Lock.IsHeld);
            }

            public static async Task<(Exception? NullFrom, Exception? NullTo, bool Held)> NullWallets()
            {
                var a = new Wallet(10);
                var nullFrom = await Catch(Wallet.TransferAsync(null!, a, 5));
                var nullTo = await Catch(Wallet.TransferAsync(a, null!, 5));
                return (nullFrom, nullTo, a.Lock.IsHeld);
            }

            public static async Task<(bool TriedWhileBHeld, bool AHeldMeanwhile, long A, long B, bool TriedAfter)> TimedTransfer()
            {
                var a = new Wallet(10);
                var b = new Wallet(10);
                var holder = await Holder.Start((entered, release) => b.HoldAsync(entered, release));
                bool tried = await Wallet.TryTransferAsync(TimeSpan.Zero, a, b, 5);
                bool aHeld = a.Lock.IsHeld;
                await holder.Release();
                long balanceA = await a.BalanceAsync(), balanceB = await b.BalanceAsync();
                return (tried, aHeld, balanceA, balanceB, await Wallet.TryTransferAsync(TimeSpan.Zero, a, b, 5));
            }

            public static async Task<(int InOrder, int Sent, Exception? Refused, int Notes, bool OutboxHeld, string LedgerName, int? LedgerLevel)> OrderAcrossClasses()
            {
                var ledger = new Ledger();
                var outbox = new Outbox();
                int inOrder = await ledger.NoteThenSendAsync(outbox, 7);
                // The ledger's lock is busy: a wrapper that waited before checking the order would hang here.
                var holder = await Holder.Start((entered, release) => ledger.HoldAsync(entered, release));
                var refused = await Catch(outbox.SendThenNoteAsync(ledger, 3));
                await holder.Release();
                return (inOrder, outbox.Sent, refused, ledger.Notes, outbox.Lock.IsHeld, ledger.Lock.Name, ledger.Lock.Level);
            }
        }
        """;

    private static readonly TimeSpan s_hang = Guard.HangLimit;

    /// <summary>The classes and the driver, generated, compiled strictly and loaded once for the class.</summary>
    public sealed class Compiled : IDisposable
    {
        public Compiled()
        {
            Run = GeneratorHarness.RunStrict(Usings + Classes, Usings + Driver);
            var problems = GeneratorHarness.CompileProblems(Run);
            Assert.True(problems.Count == 0, Snapshot.Render(problems) + "\n" + Run.GeneratedText);
            Loaded = LoadedAssembly.Load(Lenient(Run), "new-user-async-wrappers-run");
        }

        internal GeneratorRun Run { get; }

        internal LoadedAssembly Loaded { get; }

        public void Dispose() => Loaded.Dispose();
    }

    private Type Type(string name) => compiled.Loaded.Type("Trial.Async." + name);

    private MethodInfo Wrapper(string type, string name) =>
        Type(type).GetMethods(BindingFlags.Instance | BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly)
            .Single(m => m.Name == name);

    private string[] ParameterNames(string type, string name) => [.. Wrapper(type, name).GetParameters().Select(static p => p.Name!)];

    /// <summary>Runs one of the driver's scenarios, bounded by the hang guard.</summary>
    private Task<T> Drive<T>(string scenario, params object[] args) =>
        ((Task<T>)Type("Drive").GetMethod(scenario)!.Invoke(null, args)!).WaitAsync(s_hang);

    public static TheoryData<string> Shapes() => new() { "Task<T>", "Task", "ValueTask<T>", "ValueTask" };

    [Fact]
    public void TheUsersClasses_GetOnlyTheOneLockOrderWarning_TheRefusedCallAgainstTheOrder()
    {
        var ours = compiled.Run.LocksmithDiagnostics;
        Assert.True(ours.Length == 1, string.Join("\n", ours.Select(static d => d.ToString())));
        Assert.Equal("LSM0022", ours[0].Id);
        string message = ours[0].GetMessage(CultureInfo.InvariantCulture);
        Assert.True(message.Contains("'Outbox.SendThenNoteCoreAsync' holds 'Outbox._lock' (level 20) and calls 'Ledger.NoteAsync', which takes 'Ledger._lock' (level 10)", StringComparison.Ordinal), message);
    }

    [Fact]
    public void Naming_CoreAsyncOrAsyncCoreOrWrapperName_GivesTheAsyncWrapperAndItsTimedFormWithTheTimeoutFirst()
    {
        (string Type, string Wrapper, string Timed)[] pairs =
        [
            ("Queue", "AddAsync", "TryAddAsync"),            // AddCoreAsync
            ("Queue", "PushAsync", "TryPushAsync"),          // PushAsyncCore
            ("Catalog", "TryFindAsync", "TryFindWithinAsync"), // TryFindCoreAsync: the timed form by suffix, Async kept last
            ("Catalog", "FetchAsync", "TryFetchAsync"),      // WrapperName = "FetchAsync"
        ];
        foreach (var (type, wrapper, timed) in pairs)
        {
            Assert.Equal(typeof(CancellationToken), Wrapper(type, wrapper).GetParameters()[^1].ParameterType);
            var first = Wrapper(type, timed).GetParameters()[0];
            Assert.Equal(("timeout", typeof(TimeSpan)), (first.Name, first.ParameterType));
        }
    }

    [Fact]
    public void TimedForm_ReturnsValueTaskOfBool_OrOfAcquiredAndResult_AndTheThrowingFormTheCoresTaskType()
    {
        (string Wrapper, Type Returns, Type TimedReturns)[] shapes =
        [
            ("AddAsync", typeof(Task<int>), typeof(ValueTask<(bool, int)>)),
            ("BumpAsync", typeof(Task), typeof(ValueTask<bool>)),
            ("PushAsync", typeof(ValueTask<int>), typeof(ValueTask<(bool, int)>)),
            ("TickAsync", typeof(ValueTask), typeof(ValueTask<bool>)),
        ];
        foreach (var (wrapper, returns, timedReturns) in shapes)
        {
            Assert.Equal(returns, Wrapper("Queue", wrapper).ReturnType);
            var timed = Wrapper("Queue", "Try" + wrapper);
            Assert.Equal(timedReturns, timed.ReturnType);
            var names = timed.ReturnParameter.GetCustomAttribute<System.Runtime.CompilerServices.TupleElementNamesAttribute>()?.TransformNames;
            Assert.Equal(timedReturns == typeof(ValueTask<bool>) ? null : ["Acquired", "Result"], names);
        }
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public async Task ConcurrentCalls_ThroughEachAsyncWrapperShape_KeepTheCounterExact(string shape)
    {
        const int Calls = 2_000;
        var (count, runs, heldAfter) = await Drive<(int, int, bool)>("Concurrent", shape, Calls);
        Assert.Equal(Calls, count);
        Assert.Equal(Calls, runs);
        Assert.False(heldAfter);
    }

    [Theory]
    [InlineData("Task<T>", "(False, 0)", "(True, 5)")]
    [InlineData("Task", "False", "True")]
    [InlineData("ValueTask<T>", "(False, 0)", "(True, 5)")]
    [InlineData("ValueTask", "False", "True")]
    public async Task TimedForm_WhileAnotherFlowHoldsTheLock_ReturnsNotAcquired_AndTheCoreDoesNotRun(string shape, string whileHeld, string afterRelease)
    {
        var result = await Drive<(string, int, string, int)>("Timed", shape);
        Assert.Equal((whileHeld, 0, afterRelease, 1), result);
    }

    [Fact]
    public async Task Cancellation_TheWrapperAddsATokenLast_UnlessTheCoreTakesOne_OrEndsInParams_AndRenamesAClashingName()
    {
        Assert.Equal(["amount", "cancellationToken"], ParameterNames("Queue", "AddAsync"));
        Assert.True(Wrapper("Queue", "AddAsync").GetParameters()[^1].HasDefaultValue);
        Assert.Equal(["entered", "ct"], ParameterNames("Queue", "DrainAsync"));
        Assert.Equal(["first", "second"], ParameterNames("Queue", "PairAsync"));
        Assert.Equal(["values"], ParameterNames("Queue", "SumAsync"));
        Assert.NotNull(Wrapper("Queue", "SumAsync").GetParameters()[0].GetCustomAttribute<ParamArrayAttribute>());
        var echo = Wrapper("Queue", "EchoAsync").GetParameters();
        Assert.Equal(2, echo.Length);
        Assert.Equal("cancellationToken", echo[0].Name);
        Assert.Equal(typeof(string), echo[0].ParameterType);
        Assert.Equal(typeof(CancellationToken), echo[1].ParameterType);
        Assert.NotEqual("cancellationToken", echo[1].Name);
        Assert.Equal((6, "kept"), await Drive<(int, string)>("ParamsAndRenamedToken"));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Cancellation_OfAQueuedWait_ThrowsOperationCanceled_RunsNothing_AndLeavesTheLockFree(bool coreToken)
    {
        var (caught, runs, waitingAfterCancel, heldAfterRelease, countAfter) = await Drive<(Exception?, int, int, bool, int)>("CancelQueuedWait", coreToken);
        Assert.IsType<OperationCanceledException>(caught);
        Assert.Equal(0, runs);
        Assert.Equal(0, waitingAfterCancel);
        Assert.False(heldAfterRelease);
        Assert.Equal(1, countAfter);
    }

    [Fact]
    public async Task Cancellation_TheCoresOwnToken_IsPassedToTheCoreToo_AndTheLockIsReleasedWhenItThrows()
    {
        var (caught, runs, heldAfter) = await Drive<(Exception?, int, bool)>("CancelInsideCore");
        Assert.IsType<TaskCanceledException>(caught);
        Assert.Equal(1, runs);
        Assert.False(heldAfter);
    }

    [Fact]
    public async Task Cancellation_OfTwoTokenParameters_OnlyTheFirstCancelsTheWait()
    {
        var (firstCancelled, secondSeenCancelled, runs) = await Drive<(Exception?, bool, int)>("TwoTokens");
        Assert.IsType<OperationCanceledException>(firstCancelled);
        Assert.True(secondSeenCancelled);
        Assert.Equal(1, runs);
    }

    [Fact]
    public async Task TimeoutMilliseconds_TheThrowingFormThrowsLockTimeoutException_NamingTheLock_AndRunsNothing()
    {
        var (caught, runsWhileHeld, runsAfter) = await Drive<(Exception?, int, int)>("ThrowingFormTimesOut");
        var timeout = Assert.IsType<LockTimeoutException>(caught);
        Assert.Equal("Trial.Async.Queue._lock", timeout.LockName);
        Assert.Equal(0, runsWhileHeld);
        Assert.Equal(1, runsAfter);
    }

    [Fact]
    public async Task TheLock_IsHeldAcrossTheBodysAwaits_ConfigureAwaitFalseToo_AndTakesItsMembersNameAndLevel()
    {
        var result = await Drive<(bool, bool, bool, bool, string, int?)>("HeldAcrossAwaits");
        Assert.Equal((true, true, true, false, "Trial.Async.Queue._lock", (int?)30), result);
    }

    [Fact]
    public async Task AWrapperCalledAgainFromItsOwnCore_ThrowsLockRecursionNamingTheLock_InTheTimedFormToo()
    {
        var (throwing, timed, runs, heldAfter) = await Drive<(Exception?, Exception?, int, bool)>("Reenter");
        Assert.Contains("Trial.Async.Queue._lock", Assert.IsType<LockRecursionException>(throwing).Message, StringComparison.Ordinal);
        Assert.Contains("Trial.Async.Queue._lock", Assert.IsType<LockRecursionException>(timed).Message, StringComparison.Ordinal);
        Assert.Equal(2, runs);
        Assert.False(heldAfter);
    }

    [Fact]
    public async Task ATaskStartedInsideTheHold_IsTheSameFlow_UnlessStartedUnderSuppressFlow()
    {
        Assert.Equal(("LockRecursionException", "(False, 0)"), await Drive<(string, string)>("TaskStartedInside"));
    }

    [Fact]
    public async Task TimedForm_OfATaskOfStringCore_DeclaresTheResultNullable_AndTheReadmesPatternRuns()
    {
        var timed = Wrapper("Catalog", "TryFindWithinAsync");
        Assert.Equal(typeof(ValueTask<(bool, string)>), timed.ReturnType);
        var element = new NullabilityInfoContext().Create(timed.ReturnParameter).GenericTypeArguments[0].GenericTypeArguments[1];
        Assert.Equal(NullabilityState.Nullable, element.ReadState);
        Assert.Equal(("kettle", 6, "", "(True, 1)"), await Drive<(string, int, string, string)>("CatalogLookups"));
    }

    [Fact]
    public void Visibility_InternalIsKept_DefaultIsPublic_AndAPrivateTypeInTheSignatureClampsToPrivate()
    {
        Assert.True(Wrapper("Catalog", "InnerAsync").IsAssembly);
        Assert.True(Wrapper("Catalog", "TryInnerAsync").IsAssembly);
        Assert.True(Wrapper("Catalog", "FetchAsync").IsPublic);
        Assert.True(Wrapper("Catalog", "HiddenAsync").IsPrivate);
        Assert.True(Wrapper("Catalog", "TryHiddenAsync").IsPrivate);
    }

    [Fact]
    public async Task StaticCore_GetsAStaticWrapper_OverTheStaticLock_AndConcurrentCallsGetDistinctIds()
    {
        const int Calls = 1_000;
        Assert.True(Wrapper("Ids", "NextAsync").IsStatic);
        var result = await Drive<(int, int, bool, string, int?)>("StaticIds", Calls);
        Assert.Equal((Calls, Calls, false, "Trial.Async.Ids.s_lock", (int?)50), result);
    }

    [Fact]
    public async Task GenericType_EachClosedTypeHasItsLock_AndTheTimedFormsDefaultIsNullOrZero()
    {
        var result = await Drive<(string?, int, string, string, bool, int?)>("GenericBoxes");
        Assert.Equal(("lid", 7, "(False, )", "(False, 0)", true, (int?)40), result);
    }

    [Fact]
    public async Task ReadMostly_TwoReadWrappersAreInsideAtOnce_WhileTheWriteWrapperWaitsForThem()
    {
        var (bothInside, writeTried, writesWhileRead, writesWhileQueued, readsSaw, writeAfter, policy) =
            await Drive<(int, string, int, int, int[], int, ReadWritePolicy)>("ReadersShareWritersWait");
        Assert.Equal(2, bothInside);
        Assert.Equal("(False, 0)", writeTried);
        Assert.Equal(1, writesWhileRead);
        Assert.Equal(1, writesWhileQueued);
        Assert.Equal([1, 1], readsSaw);
        Assert.Equal(2, writeAfter);
        Assert.Equal(ReadWritePolicy.ReaderPreferred, policy);
    }

    [Fact]
    public async Task ReadMostly_AWriteWrappersHold_ShutsOutTheReadWrapper()
    {
        Assert.Equal(("(False, 0)", "(True, 0)", false), await Drive<(string, string, bool)>("WriterExcludesReaders"));
    }

    [Fact]
    public async Task ReadMostly_ALockBuiltWithAnotherPolicy_MakesTheFirstCallThrow_GiveThePolicyInOnePlaceOnly()
    {
        var (clashed, policyKept) = await Drive<(Exception?, ReadWritePolicy)>("PolicyGivenTwice", ReadWritePolicy.Fair);
        var clash = Assert.IsType<InvalidOperationException>(clashed);
        Assert.Contains("Give the policy in one place only", clash.Message, StringComparison.Ordinal);
        Assert.Contains("Fair", clash.Message, StringComparison.Ordinal);
        Assert.Contains("ReaderPreferred", clash.Message, StringComparison.Ordinal);
        Assert.Equal(ReadWritePolicy.Fair, policyKept);

        // Built with the default WriterPreferred, it takes the declared policy.
        Assert.Equal((null, ReadWritePolicy.ReaderPreferred), await Drive<(Exception?, ReadWritePolicy)>("PolicyGivenTwice", ReadWritePolicy.WriterPreferred));
    }

    [Fact]
    public async Task StripeBy_ConcurrentCallsOverSixteenKeys_KeepEveryKeysCountExact()
    {
        const int Calls = 3_200;
        const int Keys = 16;
        var (perKey, anyHeld) = await Drive<(int[], bool)>("StripedExact", Calls, Keys);
        Assert.Equal(Enumerable.Repeat(Calls / Keys, Keys), perKey);
        Assert.False(anyHeld);
    }

    [Fact]
    public async Task StripeBy_AKeyOnAnotherStripeRunsWhileOneIsHeld_TheHeldKeysTimedFormReturnsFalse()
    {
        Assert.Equal((1, "(False, 0)", "(True, 1)"), await Drive<(int, string, string)>("StripesApart"));
    }

    [Fact]
    public async Task AcquiresLocksOf_KeysOfOneAsyncStripedLock_MoveExactly_AndTheTimedFormTakesNoKeyWhenOneIsHeld()
    {
        const int Moves = 500;
        var (a, b, triedWhileHeld, bFreeMeanwhile, aAfterTry) = await Drive<(int, int, bool, string, int)>("KeysMoved", Moves);
        Assert.Equal(10_000 - Moves + (2 * Moves), a);
        Assert.Equal(10_000 + Moves - (2 * Moves), b);
        Assert.False(triedWhileHeld);
        Assert.Equal("(True, " + b.ToString(CultureInfo.InvariantCulture) + ")", bFreeMeanwhile);
        Assert.Equal(a, aAfterTry);
    }

    [Fact]
    public async Task AcquiresLocksOf_OpposingAsyncTransfers_DoNotDeadlock_KeepBothBalancesExact_AndOneObjectTwiceIsTakenOnce()
    {
        const int EachWay = 1_000;
        var result = await Drive<(long, long, bool, bool)>("OpposingTransfers", EachWay);
        Assert.Equal((100_000L - EachWay + (3 * EachWay), 100_000L + EachWay - (3 * EachWay), false, false), result);

        // One object named twice: its lock is taken once, so the call does not wait for itself.
        Assert.Equal((10L, false), await Drive<(long, bool)>("TransferToItself"));
    }

    [Fact]
    public async Task AcquiresLocksOf_ANullObject_ThrowsArgumentNullNamingTheParameter_AndHoldsNothing()
    {
        var (nullFrom, nullTo, held) = await Drive<(Exception?, Exception?, bool)>("NullWallets");
        Assert.Equal("from", Assert.IsType<ArgumentNullException>(nullFrom).ParamName);
        Assert.Equal("to", Assert.IsType<ArgumentNullException>(nullTo).ParamName);
        Assert.False(held);
    }

    [Fact]
    public async Task AcquiresLocksOf_TimedForm_ReturnsFalseWhileOneLockIsHeld_MovesNothing_AndHoldsNeither()
    {
        Assert.Equal((false, false, 10L, 10L, true), await Drive<(bool, bool, long, long, bool)>("TimedTransfer"));
    }

    [Fact]
    public async Task LockOrder_AcrossTwoGeneratedClasses_ThrowsLockOrderViolationBeforeWaiting_NamingBothLocks()
    {
        var (inOrder, sent, refused, notes, outboxHeld, ledgerName, ledgerLevel) =
            await Drive<(int, int, Exception?, int, bool, string, int?)>("OrderAcrossClasses");
        Assert.Equal(7, inOrder);
        Assert.Equal(1, sent);
        var violation = Assert.IsType<LockOrderViolationException>(refused);
        Assert.Contains("Trial.Async.Ledger._lock", violation.Message, StringComparison.Ordinal);
        Assert.Contains("Trial.Async.Outbox._lock", violation.Message, StringComparison.Ordinal);
        Assert.Equal(0, notes);
        Assert.False(outboxHeld);
        Assert.Equal(("Trial.Async.Ledger._lock", (int?)10), (ledgerName, ledgerLevel));
    }

    public static TheoryData<string, string, string> RefusedAsyncShapes() => new()
    {
        {
            "LSM0042", "make it return Task, Task<T>, ValueTask or ValueTask<T>",
            """
            public partial class A
            {
                private readonly AsyncExclusiveLock _lock = new();
                [Guarded(Lock = nameof(_lock))] private int CountCore() => 1;
            }
            """
        },
        {
            "LSM0009", "AsyncExclusiveLock",
            """
            public partial class A
            {
                private readonly ExclusiveLock _lock = new();
                [Guarded(Lock = nameof(_lock))] private Task<int> CountCoreAsync() => Task.FromResult(1);
            }
            """
        },
        {
            "LSM0009", "AsyncReadWriteLock",
            """
            [ReadMostly]
            public partial class A
            {
                private readonly ReadWriteLock _lock = new();
                [Guarded(Lock = nameof(_lock), Access = LockAccess.Read)] private Task<int> CountCoreAsync() => Task.FromResult(1);
            }
            """
        },
        {
            "LSM0010", "one holder at a time, where '_slots' may let several in at once), or drop [Guarded] and hold '_slots' across the awaits in code with 'using var scope = await _slots.AcquireAsync(ct);'",
            """
            public partial class A
            {
                private readonly CountingSemaphore _slots = new(2, 2);
                [Guarded(Lock = nameof(_slots))] private Task UseCoreAsync(CancellationToken ct) => Task.CompletedTask;
            }
            """
        },
        {
            "LSM0014", "rename it to 'CountCoreAsync' or 'CountAsyncCore' (the wrapper is then 'CountAsync'), or set WrapperName = \"CountAsync\"|does not end in 'Async'; set WrapperName = \"FetchAsync\"",
            """
            public partial class A
            {
                private readonly AsyncExclusiveLock _lock = new();
                [Guarded(Lock = nameof(_lock))] private Task<int> CountCore() => Task.FromResult(1);
                [Guarded(Lock = nameof(_lock), WrapperName = "Fetch")] private Task<int> LoadBody() => Task.FromResult(1);
            }
            """
        },
        {
            "LSM0045", "take a CancellationToken in one of the cores",
            """
            public partial class A
            {
                private readonly AsyncExclusiveLock _lock = new();
                [Guarded(Lock = nameof(_lock))] private Task<int> RunCoreAsync(int x) => Task.FromResult(x);
                [Guarded(Lock = nameof(_lock))] private Task<int> RunCoreAsync(int x, int y = 0) => Task.FromResult(x + y);
            }
            """
        },
        {
            "LSM0016", "cannot get a generated wrapper: ",
            """
            public partial class A
            {
                private readonly AsyncExclusiveLock _lock = new();
                [Guarded(Lock = nameof(_lock))] private Task<int> BumpCoreAsync(ref int x) => Task.FromResult(x);
                [Guarded(Lock = nameof(_lock))] private async IAsyncEnumerable<int> ListCoreAsync() { await Task.Yield(); yield return 1; }
                [Guarded(Lock = nameof(_lock))] private ValueTask<int>? MaybeCoreAsync() => null;
            }
            public partial struct S
            {
                private readonly AsyncExclusiveLock _lock;
                public S() { _lock = new(); }
                [Guarded(Lock = nameof(_lock))] private Task<int> CountCoreAsync() => Task.FromResult(1);
            }
            """
        },
        {
            "LSM0023", "is not reentrant, so the call fails at run time (LockRecursionException",
            """
            public partial class A
            {
                private readonly AsyncExclusiveLock _lock = new();
                [Guarded(Lock = nameof(_lock))] private async Task<int> AddCoreAsync(int depth) => depth == 0 ? 0 : await AddAsync(depth - 1);
                [Guarded(Lock = nameof(_lock))] private async Task BumpCoreAsync() { using var again = await _lock.AcquireAsync(); }
            }
            """
        },
        {
            "LSM0020", "'_count' is guarded by '_lock'",
            """
            public partial class A
            {
                private readonly AsyncExclusiveLock _lock = new();
                [Guarded(Lock = nameof(_lock))] private int _count;
                public int Peek() => _count;
                public async Task<int> HeldAsync() { using var scope = await _lock.AcquireAsync(); return ++_count; }
                public async Task<int> HeldTooAsync() { using (await _lock.AcquireAsync().ConfigureAwait(false)) { return _count; } }
            }
            """
        },
        {
            "LSM0018", "async; LockSet takes async locks together or synchronous locks together",
            """
            public partial class A
            {
                private readonly AsyncExclusiveLock _lock = new();
                [AcquiresLocksOf(nameof(a), nameof(b), Lock = nameof(_lock))] private static Task MoveCoreAsync(A a, B b) => Task.CompletedTask;
            }
            public partial class B { public readonly ExclusiveLock _lock = new(); }
            """
        },
    };

    [Theory]
    [MemberData(nameof(RefusedAsyncShapes))]
    public void RefusedAsyncShape_IsReportedWithTheAdviceTheReadmeQuotes(string id, string advice, string source)
    {
        var run = GeneratorHarness.RunStrict(Usings + source);

        Assert.Null(run.Result.Results.Single().Exception);
        var ours = run.LocksmithDiagnostics.Where(static d => d.Severity >= Microsoft.CodeAnalysis.DiagnosticSeverity.Warning).ToList();
        string all = string.Join("\n", ours.Select(static d => d.Id + " " + d.GetMessage(CultureInfo.InvariantCulture)));
        Assert.True(ours.Count > 0 && ours.All(d => d.Id == id), all);
        // Each message carries one of the advices ('|' between them), and each advice is in some message.
        string[] advices = advice.Split('|');
        Assert.True(ours.All(d => advices.Any(a => d.GetMessage(CultureInfo.InvariantCulture).Contains(a, StringComparison.Ordinal))), all);
        Assert.True(advices.All(a => ours.Any(d => d.GetMessage(CultureInfo.InvariantCulture).Contains(a, StringComparison.Ordinal))), all);
        var problems = GeneratorHarness.CompileProblems(run);
        Assert.True(problems.Count == 0, Snapshot.Render(problems) + "\n" + run.GeneratedText);
    }

    [Fact]
    public void TimedForm_UsingTheResultAfterTestingOnlyAcquired_WarnsCS8602()
    {
        var run = GeneratorHarness.RunStrict(Usings + """
            public partial class Catalog
            {
                private readonly AsyncExclusiveLock _lock = new();
                [Guarded(Lock = nameof(_lock))] private Task<string> NameCoreAsync(int id) => Task.FromResult("n" + id);
                public async Task<int> UnsafeAsync() { var r = await TryNameAsync(TimeSpan.Zero, 1); return r.Acquired ? r.Result.Length : 0; }
                public async Task<int> SafeAsync() => await TryNameAsync(TimeSpan.Zero, 1) is (true, { } name) ? name.Length : 0;
            }
            """);

        var problems = GeneratorHarness.CompileProblems(run);
        Assert.Equal(["CS8602"], problems.Select(static d => d.Id));
        Assert.Contains("r.Result", problems[0].Location.SourceTree!.GetText().ToString(problems[0].Location.SourceSpan), StringComparison.Ordinal);
        Assert.Empty(run.LocksmithDiagnostics);
    }

    // The sources are not documented: emitted with CS1591 a warning again, once the strict run found none of ours.
    private static GeneratorRun Lenient(GeneratorRun run) =>
        run with { Output = run.Output.WithOptions(run.Output.Options.WithGeneralDiagnosticOption(Microsoft.CodeAnalysis.ReportDiagnostic.Default)) };
}
