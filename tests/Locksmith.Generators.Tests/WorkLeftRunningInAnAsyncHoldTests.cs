using System;
using System.Linq;
using Locksmith.Generators.Tests.Support;
using Microsoft.CodeAnalysis;

namespace Locksmith.Generators.Tests;

/// <summary>
/// LSM0026 for work an async hold leaves running that is no task: a <c>System.Threading.Timer</c>'s callbacks, a
/// <c>System.Timers.Timer</c>'s <c>Elapsed</c> handlers, a cancellation callback. Nothing awaits a timer, so the advice to
/// await the work before the scope ends did not fit it; a timer the hold disposes or stops, and a registration it
/// disposes, run nothing after it.
/// </summary>
public sealed class WorkLeftRunningInAnAsyncHoldTests
{
    /// <summary>
    /// A timer created in an async hold is told to be created under <c>SuppressFlow</c> or after the scope, or disposed
    /// or stopped (<c>Change(Timeout.Infinite, Timeout.Infinite)</c>, which the analyzer also accepts; before, the message
    /// did not say so) before the scope ends, not awaited (before, it got a task's advice, "await it before the scope
    /// ends"); a task beside it keeps its message.
    /// </summary>
    [Fact]
    public void LSM0026_AtATimer_AdvisesDisposingIt_NotAwaitingIt()
    {
        var run = DiagnosticCheck.Verify("""
            using System.Threading;
            using System.Threading.Tasks;
            using Locksmith;
            public sealed class Poller
            {
                private readonly AsyncExclusiveLock _gate = new();
                private Timer? _timer;

                public async Task StartAsync()
                {
                    using (await _gate.AcquireAsync())
                    {
                        _timer = {|LSM0026:new Timer(_ => Refresh(), null, 0, 1000)|};
                        _ = {|LSM0026:Task.Run(Refresh)|};
                    }
                }

                private void Refresh() { }
            }
            """);
        Compiles(run);
        var messages = run.LocksmithDiagnostics.Select(static d => d.GetMessage()).ToList();
        string timer = Assert.Single(messages, static m => m.StartsWith("'new Timer'", StringComparison.Ordinal));
        Assert.StartsWith("'new Timer' starts a timer that is not disposed or stopped while '_gate' is held: its callbacks run with this flow's execution context", timer, StringComparison.Ordinal);
        Assert.EndsWith("create the timer inside 'using (ExecutionContext.SuppressFlow())' or after the scope ends, or dispose it before the scope ends ('using var timer = new Timer(…);' in the scope) or stop it there ('timer.Change(Timeout.Infinite, Timeout.Infinite)')", timer, StringComparison.Ordinal);
        Assert.DoesNotContain("await it", timer, StringComparison.Ordinal);
        string task = Assert.Single(messages, static m => m.StartsWith("'Task.Run'", StringComparison.Ordinal));
        Assert.EndsWith("or await it before the scope ends", task, StringComparison.Ordinal);
    }

    /// <summary>
    /// A timer the hold disposes before it ends runs no callback after it: the resource of a <c>using</c> in the hold
    /// (declaration or statement, <c>await using</c> too), or kept in a local or a field of this object that the hold's own
    /// code disposes after creating it (<c>Dispose</c>, <c>DisposeAsync</c>, <c>?.Dispose()</c>), stays silent (before,
    /// every timer created in the hold was reported). One never disposed, disposed only after the hold, disposed in a
    /// lambda (which may run later), or another timer disposed in its place, is still LSM0026.
    /// </summary>
    [Fact]
    public void LSM0026_NotForATimerDisposedBeforeTheScopeEnds() => Compiles(DiagnosticCheck.Verify("""
        using System;
        using System.Threading;
        using System.Threading.Tasks;
        using Locksmith;
        public sealed partial class Poller
        {
            private readonly AsyncExclusiveLock _gate = new();
            private Timer? _timer;
            private Timer? _other;

            public async Task PollAsync()
            {
                Timer later;
                using (await _gate.AcquireAsync())
                {
                    using var polled = new Timer(_ => Refresh(), null, 0, 10);
                    await using var polledAsync = new Timer(_ => Refresh(), null, 0, 10);
                    using (new Timer(_ => Refresh(), null, 0, 10))
                    {
                        await Task.Delay(1);
                    }

                    using (var named = new Timer(_ => Refresh(), null, 0, 10))
                    {
                        await Task.Delay(1);
                    }

                    var kept = new Timer(_ => Refresh(), null, 0, 10);
                    await Task.Delay(1);
                    kept.Dispose();
                    var keptAsync = new Timer(_ => Refresh(), null, 0, 10);
                    await keptAsync.DisposeAsync();
                    _timer = new Timer(_ => Refresh(), null, 0, 10);
                    _timer?.Dispose();
                    var leaked = {|LSM0026:new Timer(_ => Refresh(), null, 0, 10)|};
                    later = {|LSM0026:new Timer(_ => Refresh(), null, 0, 10)|};
                    var inALambda = {|LSM0026:new Timer(_ => Refresh(), null, 0, 10)|};
                    Action stop = () => inALambda.Dispose();
                    _other = {|LSM0026:new Timer(_ => Refresh(), null, 0, 10)|};
                    _timer.Dispose();
                    var again = {|LSM0026:new Timer(_ => Refresh(), null, 0, 10)|};
                    again = new Timer(_ => Refresh(), null, 0, 10);
                    again.Dispose();
                }

                later.Dispose();
                using var scope = await _gate.AcquireAsync();
                using var tick = new Timer(_ => Refresh(), null, 0, 10);
            }

            [Guarded(Lock = nameof(_gate))]
            private async Task TickCoreAsync()
            {
                var ticking = new Timer(_ => Refresh(), null, 0, 10);
                await Task.Delay(1);
                await ticking.DisposeAsync();
                _ = {|LSM0026:new Timer(_ => Refresh(), null, 0, 10)|};
            }

            private void Refresh() { }
        }
        """));

    /// <summary>
    /// A <c>System.Threading.Timer</c> the hold stops with <c>Change(Timeout.Infinite, …)</c> (an infinite due time,
    /// <c>Timeout.Infinite</c>, <c>-1</c> or <c>Timeout.InfiniteTimeSpan</c>: the timer is disabled whatever the period, as
    /// <c>Timer.Change</c> documents) after creating it starts no callback after the hold, as one disposed there: silent
    /// (before, it was LSM0026, and an infinite due time with a finite period was too). A <c>Change</c> that keeps it ticking
    /// (a finite due time), one made only in a lambda, and one on another timer are still reported.
    /// </summary>
    [Fact]
    public void LSM0026_NotForATimerStoppedByChangeToInfinite() => Compiles(DiagnosticCheck.Verify("""
        using System;
        using System.Threading;
        using System.Threading.Tasks;
        using Locksmith;
        public sealed partial class Poller
        {
            private readonly AsyncExclusiveLock _gate = new();
            private Timer? _timer;

            public async Task PollAsync()
            {
                using (await _gate.AcquireAsync())
                {
                    var paused = new Timer(_ => Refresh(), null, 0, 10);
                    await Task.Delay(1);
                    paused.Change(Timeout.Infinite, Timeout.Infinite);
                    var minusOne = new Timer(_ => Refresh(), null, 0, 10);
                    minusOne.Change(-1, -1);
                    var spans = new Timer(_ => Refresh(), null, TimeSpan.Zero, TimeSpan.FromSeconds(1));
                    spans.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
                    _timer = new Timer(_ => Refresh(), null, 0, 10);
                    _timer?.Change(Timeout.Infinite, Timeout.Infinite);
                    var disabled = new Timer(_ => Refresh(), null, 0, 10);
                    disabled.Change(Timeout.Infinite, 10);
                    var namedOutOfOrder = new Timer(_ => Refresh(), null, 0, 10);
                    namedOutOfOrder.Change(period: 10, dueTime: Timeout.Infinite);
                    var dueNamedLast = {|LSM0026:new Timer(_ => Refresh(), null, 0, 10)|};
                    dueNamedLast.Change(period: Timeout.Infinite, dueTime: 10);
                    var periodic = {|LSM0026:new Timer(_ => Refresh(), null, 0, 10)|};
                    periodic.Change(0, Timeout.Infinite);
                    var inALambda = {|LSM0026:new Timer(_ => Refresh(), null, 0, 10)|};
                    Action stop = () => inALambda.Change(Timeout.Infinite, Timeout.Infinite);
                    var other = {|LSM0026:new Timer(_ => Refresh(), null, 0, 10)|};
                    paused.Change(Timeout.Infinite, Timeout.Infinite);
                }
            }

            private void Refresh() { }
        }
        """));

    /// <summary>
    /// Every way of writing the infinite period that the <c>Change</c> overload called takes as one stops the timer, read
    /// from the compiler's constant values, not the text: <c>uint.MaxValue</c> (or a constant equal to it) for the
    /// <c>uint</c> overload, <c>-1</c>/<c>-1L</c> and named constants equal to -1 for the <c>int</c> and <c>long</c> ones,
    /// and for <c>TimeSpan</c>, <c>Timeout.InfiniteTimeSpan</c>, <c>TimeSpan.FromMilliseconds(-1)</c>, and -1 ms in ticks
    /// (<c>TimeSpan.FromTicks</c>, <c>new TimeSpan(ticks)</c>). Before, <c>uint.MaxValue</c> and the <c>TimeSpan</c> forms
    /// but <c>Timeout.InfiniteTimeSpan</c> were LSM0026. A value that is not infinite for the overload it binds to
    /// (<c>uint.MaxValue</c> beside an <c>int</c> binds to <c>long</c>, where it is out of range), a finite span, and a
    /// value that is not a constant are still reported.
    /// </summary>
    [Fact]
    public void LSM0026_NotForATimerStoppedByAnyInfiniteValue() => Compiles(DiagnosticCheck.Verify("""
        using System;
        using System.Threading;
        using System.Threading.Tasks;
        using Locksmith;
        public sealed partial class Poller
        {
            private const int Never = -1;
            private const long NeverLong = -1L;
            private const uint NeverUnsigned = uint.MaxValue;
            private readonly AsyncExclusiveLock _gate = new();
            private int _offset;

            public async Task PollAsync()
            {
                using (await _gate.AcquireAsync())
                {
                    var unsigned = new Timer(_ => Refresh(), null, 0u, 10u);
                    unsigned.Change(uint.MaxValue, uint.MaxValue);
                    var unsignedConstant = new Timer(_ => Refresh(), null, 0u, 10u);
                    unsignedConstant.Change(NeverUnsigned, unchecked((uint)Timeout.Infinite));
                    var longs = new Timer(_ => Refresh(), null, 0L, 10L);
                    longs.Change(-1L, -1L);
                    var named = new Timer(_ => Refresh(), null, 0, 10);
                    named.Change(Never, (Never));
                    var mixed = new Timer(_ => Refresh(), null, 0, 10);
                    mixed.Change(NeverLong, -1);
                    var fromMilliseconds = new Timer(_ => Refresh(), null, TimeSpan.Zero, TimeSpan.FromSeconds(1));
                    fromMilliseconds.Change(TimeSpan.FromMilliseconds(-1), TimeSpan.FromMilliseconds(Timeout.Infinite));
                    var fromDouble = new Timer(_ => Refresh(), null, TimeSpan.Zero, TimeSpan.FromSeconds(1));
                    fromDouble.Change(TimeSpan.FromMilliseconds(-1.0), Timeout.InfiniteTimeSpan);
                    var fromTicks = new Timer(_ => Refresh(), null, TimeSpan.Zero, TimeSpan.FromSeconds(1));
                    fromTicks.Change(TimeSpan.FromTicks(-TimeSpan.TicksPerMillisecond), new TimeSpan(-10_000));
                    var outOfRange = {|LSM0026:new Timer(_ => Refresh(), null, 0, 10)|};
                    outOfRange.Change(uint.MaxValue, -1);
                    var finiteSpan = {|LSM0026:new Timer(_ => Refresh(), null, TimeSpan.Zero, TimeSpan.FromSeconds(1))|};
                    finiteSpan.Change(TimeSpan.FromMilliseconds(1), Timeout.InfiniteTimeSpan);
                    var finiteTicks = {|LSM0026:new Timer(_ => Refresh(), null, TimeSpan.Zero, TimeSpan.FromSeconds(1))|};
                    finiteTicks.Change(new TimeSpan(-1), Timeout.InfiniteTimeSpan);
                    var notConstant = {|LSM0026:new Timer(_ => Refresh(), null, 0, 10)|};
                    notConstant.Change(Never + _offset, Never);
                }
            }

            private void Refresh() { }
        }
        """));

    /// <summary>
    /// A <c>System.Timers.Timer</c> started in an async hold (<c>Start()</c>, <c>Enabled = true</c>, in an object initializer
    /// too) makes its inner timer there, which captures the flow's context for every <c>Elapsed</c> handler: LSM0026 at the
    /// call or assignment, advising to stop it before the scope ends (before, it was silent). Subscribing a handler is not
    /// starting one; a timer the hold stops (<c>Stop()</c>, <c>Enabled = false</c>, <c>Close()</c>, <c>Dispose()</c>, the
    /// resource of a <c>using</c>), one started under <c>SuppressFlow</c>, and one started after the hold stay silent; one
    /// stopped only in a lambda is reported.
    /// </summary>
    [Fact]
    public void LSM0026_AtATimersTimerStartedInAnAsyncHold()
    {
        var run = DiagnosticCheck.Verify("""
            using System;
            using System.Threading;
            using System.Threading.Tasks;
            using Locksmith;
            using Ticker = System.Timers.Timer;
            public sealed class Poller
            {
                private readonly AsyncExclusiveLock _gate = new();
                private readonly Ticker _ticker = new(1000);

                public async Task StartAsync(bool on)
                {
                    using (await _gate.AcquireAsync())
                    {
                        _ticker.Elapsed += (s, e) => Refresh();
                        {|LSM0026:_ticker.Start()|};
                        {|LSM0026:_ticker.Enabled = true|};
                        {|LSM0026:_ticker.Enabled = on|};
                        var once = new Ticker(10) { AutoReset = false, {|LSM0026:Enabled = true|} };
                        var stopped = new Ticker(10);
                        stopped.Start();
                        await Task.Delay(1);
                        stopped.Stop();
                        var disabled = new Ticker(10) { Enabled = true };
                        disabled.Enabled = false;
                        var closed = new Ticker(10);
                        closed.Start();
                        closed.Close();
                        var disposed = new Ticker(10);
                        disposed.Start();
                        disposed.Dispose();
                        using var owned = new Ticker(10) { Enabled = true };
                        var inALambda = new Ticker(10);
                        {|LSM0026:inALambda.Start()|};
                        Action stop = () => inALambda.Stop();
                        using (ExecutionContext.SuppressFlow())
                        {
                            _ticker.Start();
                        }
                    }

                    _ticker.Start();
                }

                public async Task StopAsync()
                {
                    using var scope = await _gate.AcquireAsync();
                    _ticker.Enabled = false;
                    _ticker.Stop();
                }

                private void Refresh() { }
            }
            """);
        Compiles(run);
        string message = run.LocksmithDiagnostics.Select(static d => d.GetMessage()).First(static m => m.StartsWith("'Timer.Start'", StringComparison.Ordinal));
        Assert.StartsWith("'Timer.Start' starts a timer that is not stopped while '_gate' is held: its Elapsed handlers run with this flow's execution context", message, StringComparison.Ordinal);
        Assert.EndsWith("start the timer inside 'using (ExecutionContext.SuppressFlow())' or after the scope ends, or stop it before the scope ends ('Stop()' or 'Dispose()' in the scope)", message, StringComparison.Ordinal);
    }

    /// <summary>
    /// A cancellation callback registered in an async hold (<c>ct.Register(…)</c>) captures the flow's context and runs at
    /// cancellation, maybe after the hold: LSM0026 where the registration is dropped, stored in a field, or kept in a local
    /// the hold does not dispose, advising to dispose it before the scope ends (before, it was silent). A registration the
    /// hold disposes (a <c>using</c>, <c>Dispose</c>, an awaited <c>DisposeAsync</c>), <c>UnsafeRegister</c> (which
    /// captures no context), one made under <c>SuppressFlow</c>, and one made after the hold stay silent.
    /// </summary>
    [Fact]
    public void LSM0026_AtACancellationCallbackRegisteredInAnAsyncHold()
    {
        var run = DiagnosticCheck.Verify("""
            using System;
            using System.Threading;
            using System.Threading.Tasks;
            using Locksmith;
            public sealed partial class Waiter
            {
                private readonly AsyncExclusiveLock _gate = new();
                [Guarded(Lock = nameof(_gate))] private int _n;
                private CancellationTokenRegistration _registration;

                public async Task WaitAsync(CancellationToken ct, TaskCompletionSource done)
                {
                    CancellationTokenRegistration later;
                    using (await _gate.AcquireAsync(ct))
                    {
                        {|LSM0026:ct.Register(() => _n++)|};
                        _ = {|LSM0026:ct.Register(() => done.TrySetCanceled())|};
                        _registration = {|LSM0026:ct.Register(Refresh)|};
                        var kept = {|LSM0026:ct.Register(() => _n++)|};
                        later = {|LSM0026:ct.Register(() => _n++)|};
                        var withState = {|LSM0026:ct.Register(static state => ((Waiter)state!).Refresh(), this)|};
                        var inALambda = {|LSM0026:ct.Register(Refresh)|};
                        Action drop = () => inALambda.Dispose();
                        using var scoped = ct.Register(() => _n++);
                        using (ct.Register(() => _n++))
                        {
                            await Task.Delay(1, ct);
                        }

                        var disposed = ct.Register(() => _n++);
                        await Task.Delay(1, ct);
                        disposed.Dispose();
                        var disposedAsync = ct.Register(() => _n++);
                        await disposedAsync.DisposeAsync();
                        _registration = ct.Register(Refresh);
                        _registration.Dispose();
                        ct.UnsafeRegister(_ => Refresh(), null);
                        using (ExecutionContext.SuppressFlow())
                        {
                            ct.Register(Refresh);
                        }
                    }

                    later.Dispose();
                    ct.Register(Refresh);
                }

                [Guarded(Lock = nameof(_gate))]
                private async Task WaitCoreAsync(CancellationToken ct)
                {
                    using var registration = ct.Register(() => _n++);
                    await Task.Delay(1, ct);
                    _ = {|LSM0026:ct.Register(() => _n--)|};
                }

                private void Refresh() { }
            }
            """);
        Compiles(run);
        string message = run.LocksmithDiagnostics.Select(static d => d.GetMessage()).First();
        Assert.StartsWith("'CancellationToken.Register' registers a callback whose registration is not disposed while '_gate' is held: the callback runs at cancellation, maybe after the hold,", message, StringComparison.Ordinal);
        Assert.EndsWith("register it inside 'using (ExecutionContext.SuppressFlow())' or after the scope ends (or with 'UnsafeRegister', which does not capture the context), or dispose the registration before the scope ends ('using var registration = ct.Register(…);' in the scope)", message, StringComparison.Ordinal);
    }

    /// <summary>
    /// A registration is disposed in the hold only by what waits for its callback if one is running: <c>Dispose</c> and an
    /// awaited <c>DisposeAsync</c> (<c>ConfigureAwait</c> too, and <c>await using</c>) do; <c>Unregister()</c> and a
    /// <c>DisposeAsync()</c> whose task is dropped return at once while the callback may still run, with this flow's context,
    /// after the hold: LSM0026 at the registration (before, both counted as disposal and were silent), whose message names
    /// a dropped <c>DisposeAsync()</c>. The dropped task runs none of the user's code, so it is not reported again as work
    /// left running (one report for one mistake; <c>DroppedDisposeAsyncOfARegistrationTests</c>).
    /// </summary>
    [Fact]
    public void LSM0026_AtARegistrationUnregisteredOrDisposedAsyncWithoutAwait() => Compiles(DiagnosticCheck.Verify("""
        using System.Threading;
        using System.Threading.Tasks;
        using Locksmith;
        public sealed partial class Waiter
        {
            private readonly AsyncExclusiveLock _gate = new();
            private CancellationTokenRegistration _registration;

            public async Task WaitAsync(CancellationToken ct)
            {
                using (await _gate.AcquireAsync(ct))
                {
                    var unregistered = {|LSM0026:ct.Register(Refresh)|};
                    unregistered.Unregister();
                    _registration = {|LSM0026:ct.Register(Refresh)|};
                    _registration.Unregister();
                    var dropped = {|LSM0026:ct.Register(Refresh)|};
                    _ = dropped.DisposeAsync();
                    var statement = {|LSM0026:ct.Register(Refresh)|};
                    statement.DisposeAsync();
                    var awaited = ct.Register(Refresh);
                    await awaited.DisposeAsync();
                    var configured = ct.Register(Refresh);
                    await configured.DisposeAsync().ConfigureAwait(false);
                    await using var scoped = ct.Register(Refresh);
                }
            }

            private void Refresh() { }
        }
        """));

    /// <summary>
    /// A disposal counts for the registration or timer the local or field holds there: one assigned again before it
    /// (already so), or made in a loop that the disposal is not in (each pass replaces the one before, and only the last
    /// is disposed), is LSM0026 (before, a loop's was silent). One made and disposed in the same pass stays silent.
    /// </summary>
    [Fact]
    public void LSM0026_AtWhatALocalHeldBeforeTheOneItsDisposalDisposes() => Compiles(DiagnosticCheck.Verify("""
        using System.Threading;
        using System.Threading.Tasks;
        using Locksmith;
        public sealed partial class Waiter
        {
            private readonly AsyncExclusiveLock _gate = new();

            public async Task WaitAsync(CancellationToken ct, int n)
            {
                using (await _gate.AcquireAsync(ct))
                {
                    var replaced = {|LSM0026:ct.Register(Refresh)|};
                    replaced = ct.Register(Refresh);
                    replaced.Dispose();
                    CancellationTokenRegistration looped = default;
                    for (int i = 0; i < n; i++)
                    {
                        looped = {|LSM0026:ct.Register(Refresh)|};
                    }

                    looped.Dispose();
                    Timer? ticking = null;
                    while (n-- > 0)
                    {
                        ticking = {|LSM0026:new Timer(_ => Refresh(), null, 0, 10)|};
                    }

                    ticking?.Dispose();
                    for (int i = 0; i < n; i++)
                    {
                        var each = ct.Register(Refresh);
                        await Task.Yield();
                        each.Dispose();
                        using var timer = new Timer(_ => Refresh(), null, 0, 10);
                    }
                }
            }

            private void Refresh() { }
        }
        """));

    /// <summary>
    /// A registration or timer made anew each pass of a loop, the one before disposed at the top of the pass (before the
    /// place is written again) and the last after the loop: every one is disposed in the hold, so it is silent (it was
    /// LSM0026 since a loop's registration disposed only after the loop counted as only the last pass's). A loop that
    /// writes the place before its disposal (the pass before's is replaced undisposed) is still reported.
    /// </summary>
    [Fact]
    public void LSM0026_NotForALoopsRegistrationDisposedAtTheNextPassAndAfterTheLoop() => Compiles(DiagnosticCheck.Verify("""
        using System.Threading;
        using System.Threading.Tasks;
        using Locksmith;
        public sealed partial class Waiter
        {
            private readonly AsyncExclusiveLock _gate = new();

            public async Task WaitAsync(CancellationToken ct, int n)
            {
                using (await _gate.AcquireAsync(ct))
                {
                    CancellationTokenRegistration current = default;
                    for (int i = 0; i < n; i++)
                    {
                        current.Dispose();
                        current = ct.Register(Refresh);
                        await Task.Yield();
                    }

                    current.Dispose();
                    Timer? ticking = null;
                    while (n-- > 0)
                    {
                        ticking?.Dispose();
                        ticking = new Timer(_ => Refresh(), null, 0, 10);
                        await Task.Yield();
                    }

                    ticking?.Dispose();
                    CancellationTokenRegistration late = default;
                    for (int i = 0; i < n; i++)
                    {
                        late = ct.Register(Refresh);
                        late.Dispose();
                        late = {|LSM0026:ct.Register(Refresh)|};
                    }

                    late.Dispose();
                }
            }

            private void Refresh() { }
        }
        """));

    /// <summary>
    /// A registration or timer made in one branch of an <c>if</c> and another in the other, kept in one place and disposed
    /// after the <c>if</c>: only one branch runs, so the other branch's write never replaces it, and it is silent (the
    /// other branch's write, after it in text order, counted as assigning it again). A write after the <c>if</c>, before
    /// the disposal, is still a replacement.
    /// </summary>
    [Fact]
    public void LSM0026_NotForARegistrationMadeInEitherBranch_DisposedAfterThem() => Compiles(DiagnosticCheck.Verify("""
        using System.Threading;
        using System.Threading.Tasks;
        using Locksmith;
        public sealed partial class Waiter
        {
            private readonly AsyncExclusiveLock _gate = new();

            public async Task WaitAsync(CancellationToken ct, bool quick)
            {
                using (await _gate.AcquireAsync(ct))
                {
                    CancellationTokenRegistration registration;
                    if (quick)
                    {
                        registration = ct.Register(Refresh);
                    }
                    else
                    {
                        registration = ct.Register(() => Refresh());
                    }

                    await Task.Yield();
                    registration.Dispose();
                    Timer timer;
                    if (quick)
                    {
                        timer = new Timer(_ => Refresh(), null, 0, 10);
                    }
                    else
                    {
                        timer = new Timer(_ => Refresh(), null, 10, 10);
                    }

                    await Task.Yield();
                    timer.Dispose();
                    CancellationTokenRegistration replaced;
                    if (quick)
                    {
                        replaced = {|LSM0026:ct.Register(Refresh)|};
                    }
                    else
                    {
                        replaced = default;
                    }

                    replaced = ct.Register(Refresh);
                    replaced.Dispose();
                }
            }

            private void Refresh() { }
        }
        """));

    /// <summary>
    /// Half-typed timers in an async hold (a creation or a disposal missing its closing parts, a disposal of nothing, a
    /// <c>using</c> of a timer cut short, a <c>System.Timers.Timer</c>'s <c>Start</c>, <c>Stop</c> or <c>Enabled</c> cut short,
    /// a cancellation registration cut short or made on nothing, loops and <c>if</c>s around them cut short) never make the
    /// analyzers throw (no AD0001), and the complete lines beside them are still reported.
    /// </summary>
    [Fact]
    public void IncompleteTimers_NeverMakeTheAnalyzersThrow()
    {
        var run = GeneratorHarness.Run("""
            using System;
            using System.Threading;
            using System.Threading.Tasks;
            using Locksmith;
            public sealed class Poller
            {
                private readonly AsyncExclusiveLock _gate = new();
                private Timer? _timer;
                private readonly System.Timers.Timer _ticker = new(10);

                public async Task PollAsync(CancellationToken ct)
                {
                    using (await _gate.AcquireAsync())
                    {
                        ct.Register(
                        var registered = ct.Register(() => Refresh();
                        registered.Dispose(
                        using var half = ct.Register(;
                        missing.Register(Refresh);
                        ct.Register(Missing).Dispose();
                        _ticker.Start(
                        _ticker.Enabled =
                        var ticking = new System.Timers.Timer(10) { Enabled = };
                        ticking.Stop(
                        missing.Enabled = true;
                        new System.Timers.Timer(10) { Enabled = true, }.Start();
                        var cut = new Timer(_ => Refresh(),
                        cut.Dispose(
                        _timer = new Timer(;
                        _timer.
                        using var half = new Timer(
                        missing.Dispose();
                        using (new Timer(_ => Refresh(), null, 0, 10)
                        var kept = new Timer(_ => Refresh(), null, 0, 10);
                        kept.Change(Timeout.Infinite,
                        kept.Change(Timeout.Infinite, Timeout.);
                        kept.Change(-1);
                        missing.Change(-1, -1);
                        var stopped = new Timer(_ => Refresh(), null, 0, 10);
                        stopped.Change(Missing, Timeout.Infinite);
                        stopped.Change(TimeSpan.FromMilliseconds(, Timeout.InfiniteTimeSpan);
                        stopped.Change(TimeSpan.FromMilliseconds(Missing), uint.MaxValue);
                        stopped.Change(new TimeSpan(, TimeSpan.FromTicks());
                        stopped.Change(Missing.FromMilliseconds(-1), uint.);
                        stopped.Change(uint.MaxValue, Missing);
                        var unregistered = ct.Register(Refresh);
                        unregistered.Unregister(
                        _ = unregistered.DisposeAsync(;
                        await unregistered.DisposeAsync().ConfigureAwait(;
                        await missing.DisposeAsync();
                        for (;;) { registered = ct.Register(Refresh); }
                        while ( { kept = new Timer(_ => Refresh(), null, 0, 10); }
                        for (;;) { registered.Dispose(; registered = ct.Register(Refresh); }
                        do registered.Dispose(); registered = ct.Register(Refresh); while (
                        foreach (var x in ) kept?.Dispose(
                        if (registered = ct.Register(Refresh)) else registered = ct.Register(;
                        if ( { kept = new Timer(_ => Refresh(), null, 0, 10); } else kept =
                        registered = ct is { } ? ct.Register(Refresh) : registered = ;
                        registered.Dispose();
                        kept.Dispose();
                        var leaked = new Timer(_ => Refresh(), null, 0, 10);
                    }
                }

                private void Refresh() { }
            }
            """);
        Assert.DoesNotContain(run.AnalyzerDiagnostics, static d => d.Id == "AD0001");
        Assert.Contains(run.LocksmithDiagnostics, static d => d.Id == "LSM0026" && d.GetMessage().StartsWith("'new Timer' starts a timer", StringComparison.Ordinal));
    }

    private static void Compiles(GeneratorRun run)
    {
        var errors = run.CompilerDiagnostics.Where(static d => d.Severity == DiagnosticSeverity.Error).ToList();
        Assert.True(errors.Count == 0, Snapshot.Render(errors));
    }
}
