using System.Linq;
using Locksmith.Generators.Tests.Support;
using Microsoft.CodeAnalysis;

namespace Locksmith.Generators.Tests;

/// <summary>
/// A synchronous lock held around a lambda given to work the hold does not wait for (<c>_ = Task.Run(() =&gt; _n++)</c>, a
/// <c>TaskFactory.StartNew</c> or <c>ContinueWith</c> whose task is dropped, <c>ThreadPool.QueueUserWorkItem</c>,
/// <c>new Task(…).Start()</c>, a thread the hold does not join, a timer's callback or <c>Elapsed</c> handler) does not hold
/// in it: the work runs on another thread, maybe after the release. Before, such a lambda counted as holding the lock and
/// LSM0020 was silent. Work waited for or awaited, a task kept in a local or a field, a thread joined in the hold, work
/// that takes the lock itself, and an async lock's hold (which work started in it shares) stay silent.
/// </summary>
public sealed class GuardedStateInDroppedWorkTests
{
    [Fact]
    public void LSM0020_InWorkASynchronousHoldDoesNotWaitFor() => Compiles(DiagnosticCheck.Verify("""
        using System.Collections.Generic;
        using System.Threading;
        using System.Threading.Tasks;
        using Locksmith;
        public sealed partial class Tally
        {
            private readonly ExclusiveLock _lock = new();
            private readonly ReadWriteLock _rw = new();
            private readonly AsyncExclusiveLock _async = new();
            [Guarded(Lock = nameof(_lock))] private int _n;
            [Guarded(Lock = nameof(_lock))] private readonly List<int> _items = new();
            [Guarded(Lock = nameof(_rw))] private int _seen;
            [Guarded(Lock = nameof(_async))] private int _pulled;
            private Task? _background;

            public void Count(Tally other)
            {
                using (_lock.Acquire())
                {
                    _ = Task.Run(() => {|LSM0020:_n|}++);
                    Task.Run(() => {|LSM0020:_items|}.Add(1));
                    _ = Task.Factory.StartNew(() => { {|LSM0020:_n|} += {|LSM0020:_items|}.Count; });
                    ThreadPool.QueueUserWorkItem(_ => {|LSM0020:_n|}--);
                    Task.Run(() => _n++).Wait();
                    var kept = Task.Run(() => _n++);
                    kept.Wait();
                    _background = Task.Run(() => _n++);
                    _ = Task.Run(() => { using (_lock.Acquire()) { _n++; } });
                    _items.ForEach(x => _n += x);
                }
            }

            public void Look()
            {
                using var scope = _rw.AcquireRead();
                _ = Task.Run(() => System.Console.WriteLine({|LSM0020:_seen|}));
                _ = Task.Run(() => {|LSM0020:_seen|}++);
            }

            [Guarded(Lock = nameof(_lock))]
            private void SpreadCore() => _ = Task.Run(() => {|LSM0020:_n|}++);

            public async Task PullAsync(CancellationToken ct)
            {
                using (await _async.AcquireAsync(ct))
                {
                    await Task.Run(() => _pulled++);
                }
            }
        }
        """));

    /// <summary>
    /// A lambda the work runs inline (<c>items.ForEach(x =&gt; _n += x)</c>, an immediate LINQ operator, a parallel loop's
    /// body read there) runs on the work's thread, after the release as much as the work's own code: reported the same way.
    /// A write in a parallel body there stays the parallel-body report alone (one report for one mistake); a lambda the work
    /// keeps to run elsewhere, and a scope the work or the inner lambda takes itself, stay silent.
    /// </summary>
    [Fact]
    public void LSM0020_InALambdaTheDroppedWorkRunsInline() => Compiles(DiagnosticCheck.Verify("""
        using System;
        using System.Collections.Generic;
        using System.Linq;
        using System.Threading;
        using System.Threading.Tasks;
        using Locksmith;
        public sealed partial class Tally
        {
            private readonly ExclusiveLock _lock = new();
            private readonly ReadWriteLock _rw = new();
            [Guarded(Lock = nameof(_lock))] private int _n;
            [Guarded(Lock = nameof(_lock))] private int _limit;
            [Guarded(Lock = nameof(_rw))] private int _seen;

            public void Count(List<int> items)
            {
                using (_lock.Acquire())
                {
                    _ = Task.Run(() => items.ForEach(x => {|LSM0020:_n|} += x));
                    _ = Task.Run(() => items.Where(x => x > {|LSM0020:_limit|}).ToList());
                    ThreadPool.QueueUserWorkItem(_ => items.ForEach(x => items.ForEach(y => {|LSM0020:_n|} += y)));
                    _ = Task.Run(() => Parallel.For(0, 4, i => Console.WriteLine({|LSM0020:_n|})));
                    _ = Task.Run(() => Parallel.For(0, 4, i => {|LSM0020:_n|}++));
                    _ = Task.Run(() => items.ForEach(x => { using (_lock.Acquire()) { _n += x; } }));
                    _ = Task.Run(() => { using (_lock.Acquire()) { items.ForEach(x => _n += x); } });
                    Task.Run(() => items.ForEach(x => _n += x)).Wait();
                    items.ForEach(x => _n += x);
                }
            }

            public void Look(List<int> items)
            {
                using var scope = _rw.AcquireRead();
                _ = Task.Run(() => items.ForEach(x => {|LSM0020:_seen|} += x));
            }
        }
        """));

    /// <summary>
    /// Work given by name: a local function given to it (<c>_ = Task.Run(Bump)</c>) or called from its lambda runs there as
    /// a lambda would, so its accesses are reported as a lambda's (unless it takes the lock itself). A guarded core of the
    /// type given to it or called from it on <c>this</c> (<c>_ = Task.Run(BumpCore)</c>) runs with nothing holding the lock
    /// its callers are to hold: reported at the method group or call, for the first access of its lock's state in its body,
    /// advising its wrapper. A method that is no core touches the state without the lock anyway and is reported in itself
    /// (LSM0020 does not follow calls); a wrapper takes the lock; a virtual core may be replaced by an override, so its body
    /// is not read; a core whose call the work wraps in the lock, and work awaited, stay silent.
    /// </summary>
    [Fact]
    public void LSM0020_InALocalFunctionOrCoreGivenToDroppedWork() => Compiles(DiagnosticCheck.Verify("""
        using System;
        using System.Threading;
        using System.Threading.Tasks;
        using Locksmith;
        public partial class Tally
        {
            private readonly ExclusiveLock _lock = new();
            private readonly ReadWriteLock _rw = new();
            [Guarded(Lock = nameof(_lock))] private int _n;
            [Guarded(Lock = nameof(_rw))] private int _seen;

            public void Count()
            {
                using (_lock.Acquire())
                {
                    _ = Task.Run(Step);
                    _ = Task.Run(Bump);
                    ThreadPool.QueueUserWorkItem(_ => Twice());
                    _ = Task.Run(Locked);
                    _ = Task.Run({|LSM0020:BumpCore|});
                    _ = Task.Run(() => {|LSM0020:BumpCore()|});
                    _ = Task.Run(() => { using (_lock.Acquire()) { BumpCore(); } });
                    Task.Run(BumpCore).Wait();
                    _ = Task.Run(Bump2);
                    _ = Task.Run(VirtualCore);
                    _ = Task.Run(Plain);
                    void Step() => {|LSM0020:_n|}++;
                    void Twice() { {|LSM0020:_n|} += 2; }
                    void Locked() { using (_lock.Acquire()) { _n++; } }
                }
            }

            public void Look()
            {
                using var scope = _rw.AcquireRead();
                _ = Task.Run({|LSM0020:PeekCore|});
            }

            [Guarded(Lock = nameof(_lock))]
            private void BumpCore() => _n++;

            [Guarded(Lock = nameof(_lock))]
            protected virtual void VirtualCore() => _n++;

            [Guarded(Lock = nameof(_rw), Access = LockAccess.Read)]
            private void PeekCore() => Console.WriteLine(_seen);

            private void Plain() => {|LSM0020:_n|}++;

            private void Bump2() => Bump();
        }
        """));

    /// <summary>
    /// Other work a hold does not wait for: a thread started at once and not kept (<c>new Thread(() =&gt; _n++).Start()</c>),
    /// a <c>System.Threading.Timer</c>'s callback (kept or not: nothing waits for a timer), and a continuation whose task is
    /// dropped (<c>t.ContinueWith(_ =&gt; _n++)</c>). A thread kept in a local and joined in the hold, a continuation awaited
    /// or waited for, and a callback that takes the lock itself stay silent.
    /// </summary>
    [Fact]
    public void LSM0020_InAThreadATimerOrAContinuationTheHoldDoesNotWaitFor() => Compiles(DiagnosticCheck.Verify("""
        using System;
        using System.Threading;
        using System.Threading.Tasks;
        using Locksmith;
        public sealed partial class Tally
        {
            private readonly ExclusiveLock _lock = new();
            [Guarded(Lock = nameof(_lock))] private int _n;
            private Timer? _timer;

            public async Task CountAsync(Task started, Task<int> counted)
            {
                using (_lock.Acquire())
                {
                    new Thread(() => {|LSM0020:_n|}++).Start();
                    new Thread(() => {|LSM0020:_n|}++) { IsBackground = true }.Start();
                    _timer = new Timer(_ => {|LSM0020:_n|}++, null, 0, 1000);
                    _ = new Timer(_ => Console.WriteLine({|LSM0020:_n|}));
                    _ = started.ContinueWith(_ => {|LSM0020:_n|}++);
                    counted.ContinueWith(t => {|LSM0020:_n|} += t.Result);
                    var joined = new Thread(() => _n++);
                    joined.Start();
                    joined.Join();
                    started.ContinueWith(_ => _n++).Wait();
                    _timer = new Timer(_ => { using (_lock.Acquire()) { _n++; } });
                }

                using (_lock.Acquire())
                {
                    await started.ContinueWith(_ => _n++);
                }
            }
        }
        """));

    /// <summary>
    /// A cancellation callback registered in a synchronous hold (<c>ct.Register(() =&gt; _n++)</c>, <c>UnsafeRegister</c>,
    /// a local function or a guarded core given by name) runs at cancellation, on another thread, maybe after the release:
    /// LSM0020, advising to take the lock in it or to dispose the registration in the hold (before, it was silent). A
    /// registration the hold disposes (the resource of a <c>using</c>, or kept in a local or a field of this object and
    /// given <c>Dispose</c> where the lock is still held, or disposed at once) and a callback that takes the lock itself stay
    /// silent; one disposed only after the hold is reported. (A token already cancelled runs the callback inline, in the
    /// hold: the report does not single that out.)
    /// </summary>
    [Fact]
    public void LSM0020_InACancellationCallbackRegisteredInTheHold()
    {
        var run = DiagnosticCheck.Verify("""
            using System;
            using System.Threading;
            using Locksmith;
            public sealed partial class Tally
            {
                private readonly ExclusiveLock _lock = new();
                [Guarded(Lock = nameof(_lock))] private int _n;
                private CancellationTokenRegistration _registration;

                public void Count(CancellationToken ct)
                {
                    CancellationTokenRegistration late;
                    using (_lock.Acquire())
                    {
                        ct.Register(() => {|LSM0020:_n|}++);
                        _ = ct.Register(() => Console.WriteLine({|LSM0020:_n|}));
                        var kept = ct.Register(() => {|LSM0020:_n|}--);
                        ct.UnsafeRegister(_ => {|LSM0020:_n|}++, null);
                        ct.Register(Step);
                        ct.Register({|LSM0020:BumpCore|});
                        late = ct.Register(() => {|LSM0020:_n|}++);
                        using var scoped = ct.Register(() => _n++);
                        using (ct.Register(() => _n++))
                        {
                            Console.WriteLine();
                        }

                        var disposed = ct.Register(() => _n++);
                        disposed.Dispose();
                        _registration = ct.Register(() => _n++);
                        _registration.Dispose();
                        ct.Register(() => _n++).Dispose();
                        ct.Register(() => { using (_lock.Acquire()) { _n++; } });
                        void Step() => {|LSM0020:_n|} += 2;
                    }

                    late.Dispose();
                }

                [Guarded(Lock = nameof(_lock))]
                private void BumpCore() => _n++;
            }
            """);
        Compiles(run);
        string message = run.LocksmithDiagnostics.Select(static d => d.GetMessage())
            .First(static m => m.Contains("(in work that 'CancellationToken.Register' starts and the hold does not wait for:", System.StringComparison.Ordinal));
        Assert.EndsWith("or dispose the registration before the hold ends ('using var registration = ct.Register(…);' in the scope)", message, System.StringComparison.Ordinal);
        Assert.DoesNotContain("wait for the work", message, System.StringComparison.Ordinal);
    }

    /// <summary>
    /// A registration's disposal counts for the registration its local or field holds there, no other: one assigned again
    /// between the registration and the <c>Dispose</c> (<c>var r = ct.Register(A); r = ct.Register(B); r.Dispose();</c>,
    /// through <c>out</c> too), or made in a loop the <c>Dispose</c> is not in (only the last pass's is disposed), leaves its
    /// callback registered after the hold: LSM0020 in it (before, the later <c>Dispose</c> exempted it). The registration
    /// the <c>Dispose</c> does dispose, and one made and disposed in the same pass of a loop, stay silent.
    /// </summary>
    [Fact]
    public void LSM0020_InACancellationCallback_WhosePlaceIsAssignedAgainBeforeTheDispose() => Compiles(DiagnosticCheck.Verify("""
        using System.Threading;
        using Locksmith;
        public sealed partial class Tally
        {
            private readonly ExclusiveLock _lock = new();
            [Guarded(Lock = nameof(_lock))] private int _n;
            private CancellationTokenRegistration _registration;

            public void Count(CancellationToken ct, int n)
            {
                using (_lock.Acquire())
                {
                    var first = ct.Register(() => {|LSM0020:_n|}++);
                    first = ct.Register(() => _n += 2);
                    first.Dispose();
                    _registration = ct.Register(() => {|LSM0020:_n|}--);
                    _registration = ct.Register(() => _n -= 2);
                    _registration.Dispose();
                    CancellationTokenRegistration looped = default;
                    for (int i = 0; i < n; i++)
                    {
                        looped = ct.Register(() => {|LSM0020:_n|}++);
                    }

                    looped.Dispose();
                    var replacedByOut = ct.Register(() => {|LSM0020:_n|}++);
                    Replace(ct, out replacedByOut);
                    replacedByOut.Dispose();
                    for (int i = 0; i < n; i++)
                    {
                        var each = ct.Register(() => _n++);
                        each.Dispose();
                    }
                }
            }

            private static void Replace(CancellationToken ct, out CancellationTokenRegistration registration) =>
                registration = ct.Register(() => { });
        }
        """));

    /// <summary>
    /// <c>Unregister()</c> and a <c>DisposeAsync()</c> that is not awaited return at once even while the callback runs,
    /// so it may still touch the state after the release: neither counts as the hold disposing the registration, and the
    /// callback is LSM0020 (before, both did and it was silent). <c>Dispose()</c>, which waits for a running callback,
    /// still does.
    /// </summary>
    [Fact]
    public void LSM0020_InACancellationCallback_UnregisteredOrDisposedAsyncWithoutAwait() => Compiles(DiagnosticCheck.Verify("""
        using System.Threading;
        using Locksmith;
        public sealed partial class Tally
        {
            private readonly ExclusiveLock _lock = new();
            [Guarded(Lock = nameof(_lock))] private int _n;
            private CancellationTokenRegistration _registration;

            public void Count(CancellationToken ct)
            {
                using (_lock.Acquire())
                {
                    var unregistered = ct.Register(() => {|LSM0020:_n|}++);
                    unregistered.Unregister();
                    _registration = ct.Register(() => {|LSM0020:_n|}++);
                    _registration.Unregister();
                    var dropped = ct.Register(() => {|LSM0020:_n|}++);
                    _ = dropped.DisposeAsync();
                    var statement = ct.Register(() => {|LSM0020:_n|}++);
                    statement.DisposeAsync();
                    var disposed = ct.Register(() => _n++);
                    disposed.Dispose();
                }
            }
        }
        """));

    /// <summary>
    /// A guarded core given by name to a method that dropped work runs inline is said to be given to that method, in the
    /// work (<c>a guarded core given to 'List.ForEach' in work that 'Task.Run' starts</c>); before, the message said "given
    /// to work", as for a core given to the work itself, which keeps that wording.
    /// </summary>
    [Fact]
    public void LSM0020_AtACoreGivenByNameToWhatDroppedWorkRunsInline_NamesWhatRunsIt()
    {
        var run = GeneratorHarness.Run("""
            using System.Collections.Generic;
            using System.Threading.Tasks;
            using Locksmith;
            public sealed partial class Tally
            {
                private readonly ExclusiveLock _lock = new();
                [Guarded(Lock = nameof(_lock))] private int _n;

                public void Count(List<int> items)
                {
                    using (_lock.Acquire())
                    {
                        _ = Task.Run(() => items.ForEach(BumpCore));
                        _ = Task.Run(Step);
                        _ = Task.Run(() => Parallel.For(0, 4, PeekCore));
                        _ = Task.Run(RunCore);
                        void Step() => items.ForEach(BumpCore);
                    }
                }

                [Guarded(Lock = nameof(_lock))]
                private void BumpCore(int x) => _n += x;

                [Guarded(Lock = nameof(_lock))]
                private void PeekCore(int i) => System.Console.WriteLine(_n + i);

                [Guarded(Lock = nameof(_lock))]
                private void RunCore() => _n++;
            }
            """);
        var messages = run.LocksmithDiagnostics.Where(static d => d.Id == "LSM0020").Select(static d => d.GetMessage()).ToList();
        Assert.Equal(2, messages.Count(static m => m.Contains("(in 'BumpCore', a guarded core given to 'List.ForEach' in work that 'Task.Run' starts and the hold does not wait for:", System.StringComparison.Ordinal)));
        Assert.Single(messages, static m => m.Contains("(in 'PeekCore', a guarded core given to 'Parallel.For' in work that 'Task.Run' starts and the hold does not wait for:", System.StringComparison.Ordinal));
        Assert.Single(messages, static m => m.Contains("(in 'RunCore', a guarded core given to work that 'Task.Run' starts and the hold does not wait for:", System.StringComparison.Ordinal));
        Assert.Equal(4, messages.Count);
    }

    /// <summary>
    /// A thread kept in a local is waited for only where the hold joins it: started and joined after the start while the
    /// lock is still held (in the scope, or anywhere in a guarded method) it runs in the hold, and stays silent. Kept but
    /// never joined, or joined only after the hold ends, it runs on after the release, as a thread not kept does: LSM0020.
    /// A thread the method passes on (stored, given to another method, captured by a lambda) may be joined elsewhere and
    /// stays silent.
    /// </summary>
    [Fact]
    public void LSM0020_InAThreadKeptInALocal_UnlessTheHoldJoinsIt() => Compiles(DiagnosticCheck.Verify("""
        using System.Collections.Generic;
        using System.Threading;
        using Locksmith;
        public sealed partial class Tally
        {
            private readonly ExclusiveLock _lock = new();
            [Guarded(Lock = nameof(_lock))] private int _n;
            private readonly List<Thread> _threads = new();

            public void Count()
            {
                Thread late;
                using (_lock.Acquire())
                {
                    var joined = new Thread(() => _n++);
                    joined.Start();
                    joined.Join();
                    var timed = new Thread(() => _n++) { IsBackground = true };
                    timed.Start();
                    timed.Join(1000);
                    var kept = new Thread(() => {|LSM0020:_n|}++);
                    kept.IsBackground = true;
                    kept.Start();
                    var named = new Thread(Step);
                    named.Start();
                    late = new Thread(() => {|LSM0020:_n|}--);
                    late.Start();
                    var stored = new Thread(() => _n++);
                    stored.Start();
                    _threads.Add(stored);
                    var core = new Thread(BumpCore);
                    core.Start();
                    core.Join();
                    var coreLeft = new Thread({|LSM0020:BumpCore|});
                    coreLeft.Start();
                    void Step() => {|LSM0020:_n|}++;
                }

                late.Join();
            }

            [Guarded(Lock = nameof(_lock))]
            private void BumpCore() => _n++;

            [Guarded(Lock = nameof(_lock))]
            private void SpreadCore()
            {
                var worker = new Thread(() => _n++);
                worker.Start();
                worker.Join();
                var left = new Thread(() => {|LSM0020:_n|}++);
                left.Start();
            }
        }
        """));

    /// <summary>
    /// A <c>System.Timers.Timer</c>'s <c>Elapsed</c> handler subscribed in the hold (a lambda, an anonymous method, a local
    /// function or a guarded core given by name) runs on a pool thread at each tick, after the release as much as a
    /// <c>System.Threading.Timer</c>'s callback, and nothing waits for it: LSM0020, with no advice to wait. A handler that
    /// takes the lock itself and one removed (<c>-=</c>) stay silent. A handler of another event is no work started, but a
    /// lambda stored to run later: LSM0020 too, saying so (<c>GuardedStateInAStoredLambdaTests</c>; before, it was silent).
    /// </summary>
    [Fact]
    public void LSM0020_InATimersTimersElapsedHandlerSubscribedInTheHold() => Compiles(DiagnosticCheck.Verify("""
        using System;
        using System.Timers;
        using Locksmith;
        public sealed partial class Tally
        {
            private readonly ExclusiveLock _lock = new();
            [Guarded(Lock = nameof(_lock))] private int _n;
            private readonly Timer _ticker = new(1000);

            public event EventHandler? Changed;

            public void Count()
            {
                using (_lock.Acquire())
                {
                    _ticker.Elapsed += (s, e) => {|LSM0020:_n|}++;
                    _ticker.Elapsed += delegate { Console.WriteLine({|LSM0020:_n|}); };
                    _ticker.Elapsed += OnTick;
                    _ticker.Elapsed += {|LSM0020:TickCore|};
                    _ticker.Elapsed += (s, e) => { using (_lock.Acquire()) { _n++; } };
                    _ticker.Elapsed -= (s, e) => _n++;
                    var once = new Timer(10) { AutoReset = false };
                    once.Elapsed += (s, e) => {|LSM0020:_n|}--;
                    once.Start();
                    Changed += (s, e) => {|LSM0020:_n|}++;
                    void OnTick(object? sender, ElapsedEventArgs e) => {|LSM0020:_n|} += 2;
                }
            }

            [Guarded(Lock = nameof(_lock))]
            private void TickCore(object? sender, ElapsedEventArgs e) => _n++;
        }
        """));

    /// <summary>
    /// Both checks of work a hold does not wait for know one set of starters. A task created and started at once
    /// (<c>new Task(() =&gt; _n++).Start()</c>) and <c>ThreadPool.UnsafeQueueUserWorkItem</c> are such work; a task kept and
    /// waited for, and one run inline (<c>RunSynchronously</c>), are not. A parallel loop in a thread, a timer's callback, a
    /// dropped continuation or a started task is in such work too: its racing write is one LSM0020 saying the bodies may run
    /// after the release (before, the parallel-body check knew only Task.Run, StartNew and QueueUserWorkItem, and added
    /// LSM0056 at the same write); in a thread the hold joins it stays LSM0056.
    /// </summary>
    [Fact]
    public void LSM0020_BothDroppedWorkChecksKnowTheSameStarters()
    {
        var run = DiagnosticCheck.Verify("""
            using System.Threading;
            using System.Threading.Tasks;
            using Locksmith;
            public sealed partial class Tally
            {
                private readonly ExclusiveLock _lock = new();
                [Guarded(Lock = nameof(_lock))] private int _n;

                public void Count(Task started)
                {
                    using (_lock.Acquire())
                    {
                        new Task(() => {|LSM0020:_n|}++).Start();
                        var kept = new Task(() => _n++);
                        kept.Start();
                        kept.Wait();
                        new Task(() => _n++).RunSynchronously();
                        ThreadPool.UnsafeQueueUserWorkItem(_ => {|LSM0020:_n|}--, null);
                        new Thread(() => Parallel.For(0, 4, i => {|LSM0020:_n|}++)).Start();
                        _ = new Timer(_ => Parallel.For(0, 4, i => {|LSM0020:_n|}++));
                        _ = started.ContinueWith(_ => Parallel.For(0, 4, i => {|LSM0020:_n|}++));
                        new Task(() => Parallel.For(0, 4, i => {|LSM0020:_n|}++)).Start();
                        var joined = new Thread(() => Parallel.For(0, 4, i => {|LSM0056:_n|}++));
                        joined.Start();
                        joined.Join();
                    }
                }
            }
            """);
        Compiles(run);
        var messages = run.LocksmithDiagnostics.Select(static d => d.GetMessage()).ToList();
        Assert.Contains(messages, static m => m.Contains("in work that 'Task.Start' starts and the hold does not wait for", System.StringComparison.Ordinal));
        Assert.Contains(messages, static m => m.Contains("in a body of 'Parallel.For', in work that 'Thread.Start' starts", System.StringComparison.Ordinal));
        Assert.Contains(messages, static m => m.Contains("in a body of 'Parallel.For', in work that 'new Timer' starts", System.StringComparison.Ordinal));
    }

    /// <summary>
    /// A local function given by name to a method that dropped work runs inline (<c>_ = Task.Run(() =&gt; items.ForEach(Step))</c>,
    /// a parallel loop's body there) runs on the work's thread, after the release as much as a lambda in its place
    /// (<c>items.ForEach(x =&gt; _n += x)</c>, reported since fa0f57d): LSM0020 too. Before, only a local function given to the
    /// work itself was followed, and this one counted as the hold's. One that takes the lock itself, and one run inline
    /// by the hold's own code, stay silent.
    /// </summary>
    [Fact]
    public void LSM0020_InALocalFunctionGivenByNameToWhatDroppedWorkRunsInline() => Compiles(DiagnosticCheck.Verify("""
        using System;
        using System.Collections.Generic;
        using System.Threading.Tasks;
        using Locksmith;
        public sealed partial class Tally
        {
            private readonly ExclusiveLock _lock = new();
            [Guarded(Lock = nameof(_lock))] private int _n;

            public void Count(List<int> items)
            {
                using (_lock.Acquire())
                {
                    _ = Task.Run(() => items.ForEach(Step));
                    _ = Task.Run(() => items.ForEach(Locked));
                    items.ForEach(Inline);
                    _ = Task.Run(() => Parallel.For(0, 4, Peek));
                    void Step(int x) => {|LSM0020:_n|} += x;
                    void Locked(int x) { using (_lock.Acquire()) { _n += x; } }
                    void Inline(int x) => _n += x;
                    void Peek(int i) => Console.WriteLine({|LSM0020:_n|});
                }
            }
        }
        """));

    /// <summary>
    /// A continuation of several tasks (<c>Task.Factory.ContinueWhenAll</c>, <c>ContinueWhenAny</c>) whose task is dropped
    /// runs, as a dropped <c>ContinueWith</c> does, on another thread maybe after the release: LSM0020 in its lambda (also a
    /// parallel loop's body there, and a guarded core given to it by name). Before, only <c>ContinueWith</c> was known, and
    /// these were silent. One awaited or waited for, one that takes the lock itself, stay silent; in an async hold the
    /// dropped one is LSM0026 (as it was).
    /// </summary>
    [Fact]
    public void LSM0020_InAContinuationOfSeveralTasksTheHoldDoesNotWaitFor() => Compiles(DiagnosticCheck.Verify("""
        using System.Threading.Tasks;
        using Locksmith;
        public sealed partial class Tally
        {
            private readonly ExclusiveLock _lock = new();
            private readonly AsyncExclusiveLock _gate = new();
            [Guarded(Lock = nameof(_lock))] private int _n;

            public void Count(Task[] started, Task<int>[] counted)
            {
                using (_lock.Acquire())
                {
                    _ = Task.Factory.ContinueWhenAll(started, _ => {|LSM0020:_n|}++);
                    Task.Factory.ContinueWhenAny(counted, t => {|LSM0020:_n|} += t.Result);
                    _ = Task.Factory.ContinueWhenAll(started, _ => Parallel.For(0, 4, i => {|LSM0020:_n|}++));
                    _ = Task.Factory.ContinueWhenAny(started, {|LSM0020:BumpCore|});
                    Task.Factory.ContinueWhenAll(started, _ => _n++).Wait();
                    _ = Task.Factory.ContinueWhenAll(started, _ => { using (_lock.Acquire()) { _n++; } });
                }
            }

            public async Task CountAsync(Task[] started)
            {
                using (await _gate.AcquireAsync())
                {
                    _ = {|LSM0026:Task.Factory.ContinueWhenAll(started, _ => Refresh())|};
                    {|LSM0026:Task.Factory.ContinueWhenAny(started, _ => Refresh())|};
                    await Task.Factory.ContinueWhenAll(started, _ => Refresh());
                }
            }

            [Guarded(Lock = nameof(_lock))]
            private void BumpCore(Task first) => _n++;

            private void Refresh() { }
        }
        """));

    /// <summary>
    /// A guarded core given by name to a method that dropped work runs inline (<c>_ = Task.Run(() =&gt; items.ForEach(BumpCore))</c>,
    /// <c>Array.ForEach</c>, in a <c>QueueUserWorkItem</c> callback or a local function given to the work) runs there as a
    /// lambda in its place would, on the work's thread with nothing holding its lock: LSM0020 at the method group, as for
    /// <c>x =&gt; BumpCore(x)</c> there. Before, only a core given to the work itself was followed, and this one was silent.
    /// One read in a parallel body there is reported the same way (a write there is the parallel check's report, once).
    /// The hold's own inline call, work waited for, and work that takes the lock around the call stay silent.
    /// </summary>
    [Fact]
    public void LSM0020_AtACoreGivenByNameToWhatDroppedWorkRunsInline() => Compiles(DiagnosticCheck.Verify("""
        using System;
        using System.Collections.Generic;
        using System.Threading;
        using System.Threading.Tasks;
        using Locksmith;
        public sealed partial class Tally
        {
            private readonly ExclusiveLock _lock = new();
            [Guarded(Lock = nameof(_lock))] private int _n;

            public void Count(List<int> items)
            {
                using (_lock.Acquire())
                {
                    _ = Task.Run(() => items.ForEach({|LSM0020:BumpCore|}));
                    _ = Task.Run(() => Array.ForEach(new[] { 1, 2 }, {|LSM0020:BumpCore|}));
                    ThreadPool.QueueUserWorkItem(_ => items.ForEach({|LSM0020:BumpCore|}));
                    _ = Task.Run(Step);
                    _ = Task.Run(() => Parallel.For(0, 4, {|LSM0020:PeekCore|}));
                    _ = Task.Run(() => Parallel.For(0, 4, {|LSM0020:BumpCore|}));
                    _ = Task.Run(() => items.ForEach(x => {|LSM0020:BumpCore(x)|}));
                    items.ForEach(BumpCore);
                    Task.Run(() => items.ForEach(BumpCore)).Wait();
                    _ = Task.Run(() => { using (_lock.Acquire()) { items.ForEach(BumpCore); } });
                    void Step() => items.ForEach({|LSM0020:BumpCore|});
                }
            }

            [Guarded(Lock = nameof(_lock))]
            private void BumpCore(int x) => _n += x;

            [Guarded(Lock = nameof(_lock))]
            private void PeekCore(int i) => Console.WriteLine(_n + i);
        }
        """));

    /// <summary>
    /// What <c>ParallelBodies.DroppedWorkAround</c>'s summary says it follows: local functions given to the work or called
    /// from it, through at most three of them (the fourth in a chain is not followed, and counts as the hold's, as before
    /// this series); an inline lambda that takes the lock itself, and a lambda given to a method not known to run it inline,
    /// stay silent. A guard of the documented limits (it passed when written), not a fix.
    /// </summary>
    [Fact]
    public void DroppedWork_IsFollowedThroughThreeLocalFunctions_AndStopsAtALambdaThatMayRunElsewhere() => Compiles(DiagnosticCheck.Verify("""
        using System;
        using System.Collections.Generic;
        using System.Threading.Tasks;
        using Locksmith;
        public sealed partial class Tally
        {
            private readonly ExclusiveLock _lock = new();
            [Guarded(Lock = nameof(_lock))] private int _n;

            public void Count(List<int> items)
            {
                using (_lock.Acquire())
                {
                    _ = Task.Run(First);
                    _ = Task.Run(() => items.ForEach(x => { using (_lock.Acquire()) { _n += x; } }));
                    _ = Task.Run(() => Later(() => _n++));
                    void First() { {|LSM0020:_n|}++; Second(); }
                    void Second() { {|LSM0020:_n|}++; Third(); }
                    void Third() { {|LSM0020:_n|}++; Fourth(); }
                    void Fourth() => _n++;
                }
            }

            private static void Later(Action action) => GC.KeepAlive(action);
        }
        """));

    /// <summary>
    /// A call that changes a System.Collections.Generic collection in place (<c>_items.Add(x)</c>) in such work is said to
    /// change it, as the parallel-body reports say, not "read" (before, only an assignment was "written"); a call that only
    /// reads it is still "read". A guarded core given to the work is worded the same way.
    /// </summary>
    [Fact]
    public void LSM0020_InDroppedWork_SaysACollectionIsChangedByItsCall()
    {
        var run = DiagnosticCheck.Verify("""
            using System.Collections.Generic;
            using System.Threading.Tasks;
            using Locksmith;
            public sealed partial class Tally
            {
                private readonly ExclusiveLock _lock = new();
                [Guarded(Lock = nameof(_lock))] private readonly List<int> _items = new();
                [Guarded(Lock = nameof(_lock))] private readonly Queue<int> _queue = new();

                public void Count(int x)
                {
                    using (_lock.Acquire())
                    {
                        _ = Task.Run(() => {|LSM0020:_items|}.Add(x));
                        _ = Task.Run(() => {|LSM0020:_queue|}.Enqueue({|LSM0020:_items|}.Count));
                        _ = Task.Run({|LSM0020:ClearCore|});
                    }
                }

                [Guarded(Lock = nameof(_lock))]
                private void ClearCore() => _items.Clear();
            }
            """);
        Compiles(run);
        var messages = run.LocksmithDiagnostics.Select(static d => d.GetMessage()).ToList();
        Assert.Contains(messages, static m => m.StartsWith("'_items' is guarded by '_lock' but is changed by 'Add' here without holding it", System.StringComparison.Ordinal));
        Assert.Contains(messages, static m => m.StartsWith("'_queue' is guarded by '_lock' but is changed by 'Enqueue' here", System.StringComparison.Ordinal));
        Assert.Contains(messages, static m => m.StartsWith("'_items' is guarded by '_lock' but is read here", System.StringComparison.Ordinal));
        Assert.Contains(messages, static m => m.StartsWith("'_items' is guarded by '_lock' but is changed by 'Clear' here", System.StringComparison.Ordinal) && m.Contains("'ClearCore'", System.StringComparison.Ordinal));
    }

    /// <summary>
    /// Half-typed work in a hold (a call or a creation missing its closing parts, a method group of nothing, a thread
    /// started on a missing value) never makes the analyzers throw (no AD0001), and the complete lines beside it are still
    /// reported.
    /// </summary>
    [Fact]
    public void IncompleteWork_NeverMakesTheAnalyzersThrow()
    {
        var run = GeneratorHarness.Run("""
            using System.Threading;
            using System.Threading.Tasks;
            using Locksmith;
            public sealed partial class Tally
            {
                private readonly ExclusiveLock _lock = new();
                [Guarded(Lock = nameof(_lock))] private int _n;

                public void Count(Task started, CancellationToken ct)
                {
                    using (_lock.Acquire())
                    {
                        _ = Task.Run(() => _n++;
                        _ = Task.Run(Missing);
                        new Thread(() => _n++).Start(
                        new Thread().Start();
                        _ = new Timer(_ => _n++,
                        _ = started.ContinueWith(;
                        _ = Task.Run(() => items.ForEach(x => _n += x));
                        _ = Task.Run(BumpCore
                        _ = Task.Run(() => items.ForEach(BumpCore
                        _ = Task.Run(() => Missing.ForEach(BumpCore));
                        _ = Task.Run(() => _n--);
                        ct.Register(() => _n++;
                        var registered = ct.Register(() => _n++);
                        registered.Dispose(
                        using var half = ct.Register(;
                        missing.Register(() => _n++);
                        ct.Register(Missing).Dispose();
                        ct.Register(BumpCore
                        var first = ct.Register(() => _n++);
                        first = ct.Register(;
                        first.Unregister(
                        _ = first.DisposeAsync(;
                        for (;;) { first = ct.Register(() => _n++); }
                        while ( { first = ct.Register(() => _n++);
                        Replace(ct, out first
                        _ = Task.Run(() => items.ForEach(BumpCore;
                        _ = Task.Run(() => Missing(BumpCore));
                        _ = Task.Run(() => items.Missing(BumpCore));
                    }
                }

                [Guarded(Lock = nameof(_lock))]
                private void BumpCore() => _n++;
            }
            """);
        Assert.DoesNotContain(run.AnalyzerDiagnostics, static d => d.Id == "AD0001");
        Assert.Contains(run.LocksmithDiagnostics, static d => d.Id == "LSM0020" && d.GetMessage().Contains("'Task.Run' starts", System.StringComparison.Ordinal));
    }

    private static void Compiles(GeneratorRun run)
    {
        var errors = run.CompilerDiagnostics.Where(static d => d.Severity == DiagnosticSeverity.Error).ToList();
        Assert.True(errors.Count == 0, Snapshot.Render(errors));
    }
}
