using System;
using System.Globalization;
using System.Linq;
using Locksmith.Generators.Tests.Support;
using Microsoft.CodeAnalysis;

namespace Locksmith.Generators.Tests;

/// <summary>
/// Advice that takes an async lock quotes an <c>await</c> (<c>using var scope = await _lock.AcquireAsync();</c>), which
/// only async code can write. As for LSM0020 (<see cref="LSM0020AdviceWhereNoAwaitCanBeWrittenTests"/>), where the
/// advice would go into synchronous code it says so and how to get there, rather than quote an await that does not
/// compile there.
/// </summary>
public sealed class AsyncLockAdviceWhereNoAwaitCanBeWrittenTests
{
    /// <summary>
    /// LSM0024 for <c>lock (x)</c> (and <c>Monitor.Enter</c>, <c>TryEnter</c>) on an async lock in synchronous code, where
    /// the code fix offers nothing: the replacement it names is to be written in async code, and the message says why and how.
    /// </summary>
    [Fact]
    public void LSM0024_ForAnAsyncLock_InSynchronousCode_SaysToMakeItAsync()
    {
        var run = DiagnosticCheck.Verify("""
            using System.Collections.Generic;
            using System.Threading;
            using System.Threading.Tasks;
            using Locksmith;
            public sealed class Gates
            {
                private readonly AsyncExclusiveLock _async = new();
                private readonly ExclusiveLock _sync = new();

                public void Bump() { lock ({|LSM0024:_async|}) { } }
                public int Peek() { Monitor.Enter({|LSM0024:_async|}); return 0; }
                public void Try() { _ = Monitor.TryEnter({|LSM0024:_async|}); }
                public int Total { get { lock ({|LSM0024:_async|}) { return 0; } } }
                public async Task Each(List<int> items) { await Task.Yield(); items.ForEach(x => { lock ({|LSM0024:_async|}) { } }); }

                public async Task BumpAsync() { await Task.Yield(); lock ({|LSM0024:_async|}) { } }
                public void Plain() { lock ({|LSM0024:_sync|}) { } }
            }
            """);

        string Message(string code) => run.LocksmithDiagnostics
            .Single(d => d.Id == "LSM0024" && Line(d).Contains(code, StringComparison.Ordinal))
            .GetMessage(CultureInfo.InvariantCulture);

        Assert.EndsWith(
            "use 'using var scope = await _async.AcquireAsync();' in async code instead ('_async' is an async lock, taken by awaiting, and 'Gates.Bump' is synchronous: make it async ('async Task' in place of 'void'))",
            Message("Bump()"),
            StringComparison.Ordinal);
        Assert.Contains("'Gates.Peek' is synchronous: make it async ('async Task<int>' in place of 'int')", Message("Peek()"), StringComparison.Ordinal);
        Assert.Contains("in async code instead, or its TryAcquire form", Message("Try()"), StringComparison.Ordinal);
        Assert.Contains("'Gates.Try' is synchronous", Message("Try()"), StringComparison.Ordinal);
        Assert.Contains("the property accessor 'Gates.Total' cannot be async: use it in an async method instead", Message("Total"), StringComparison.Ordinal);
        // The lock statement is replaced where it is: a lambda ForEach runs inline is still synchronous code, even in an async method.
        Assert.Contains("the lambda in 'Gates.Each' is synchronous: make it an async lambda", Message("Each("), StringComparison.Ordinal);

        Assert.EndsWith("use 'using var scope = await _async.AcquireAsync();' instead", Message("BumpAsync()"), StringComparison.Ordinal);
        Assert.EndsWith("use 'using var scope = _sync.Acquire();' instead", Message("Plain()"), StringComparison.Ordinal);    }

    /// <summary>
    /// LSM0056 for an async lock held around <c>Parallel.For</c> or <c>ForEach</c>: their bodies are synchronous lambdas,
    /// which cannot await the lock, and an async lambda there would be <c>async void</c>, run unwaited. The advice names
    /// the loop whose bodies can await (<c>Parallel.ForAsync</c>, <c>ForEachAsync</c>); an async body keeps the plain advice.
    /// </summary>
    [Fact]
    public void LSM0056_ForAnAsyncLock_AroundASynchronousLoop_SaysToUseTheAsyncLoop()
    {
        var run = DiagnosticCheck.Verify("""
            using System.Threading.Tasks;
            using Locksmith;
            public sealed partial class Tally
            {
                private readonly AsyncExclusiveLock _lock = new();
                [Guarded(Lock = nameof(_lock))] private int _n;

                public async Task Count(int n, int[] xs)
                {
                    using (await _lock.AcquireAsync())
                    {
                        Parallel.For(0, n, i => {|LSM0056:_n|}++);
                        Parallel.ForEach(xs, x => {|LSM0056:_n|} += x);
                        await Parallel.ForAsync(0, n, async (i, ct) => { await Task.Yield(); {|LSM0056:_n|}--; });
                    }
                }
            }
            """);

        string Message(string code) => run.LocksmithDiagnostics
            .Single(d => d.Id == "LSM0056" && Line(d).Contains(code, StringComparison.Ordinal))
            .GetMessage(CultureInfo.InvariantCulture);

        foreach (var (loop, asyncLoop) in new[] { ("Parallel.For(", "Parallel.ForAsync"), ("Parallel.ForEach(", "Parallel.ForEachAsync") })
        {
            string message = Message(loop);
            Assert.DoesNotContain("take it in the body ('using var scope = await", message, StringComparison.Ordinal);
            Assert.Contains(
                $"a body of '{loop.TrimEnd('(')}' is synchronous and cannot await: use '{asyncLoop}' with an async body, 'using var scope = await _lock.AcquireAsync();' in it",
                message,
                StringComparison.Ordinal);
        }

        Assert.Contains("take it in the body ('using var scope = await _lock.AcquireAsync();'; not a wrapper", Message("ForAsync("), StringComparison.Ordinal);
    }

    /// <summary>
    /// LSM0020 at a guarded core of an async lock that a constructor runs in <c>Parallel.For</c>: neither the constructor
    /// nor the loop's synchronous body can await the lock (nor its async wrapper). The advice says so, and to run the loop
    /// from an async method as <c>Parallel.ForAsync</c>, whose async body can take the lock or await the wrapper.
    /// </summary>
    [Fact]
    public void LSM0020_ForAnAsyncLocksCoreInAConstructorsParallelLoop_SaysNoAwaitCanBeWrittenThere()
    {
        var run = DiagnosticCheck.Verify("""
            using System.Threading.Tasks;
            using Locksmith;
            public sealed partial class Board
            {
                private readonly AsyncExclusiveLock _lock = new();
                [Guarded(Lock = nameof(_lock))] private int _n;

                public Board(int n)
                {
                    Parallel.For(0, n, i => {|LSM0020:BumpCoreAsync(i)|});
                    Parallel.For(0, n, i => { {|LSM0020:BumpCoreAsync(i)|}.Wait(); });
                }

                [Guarded(Lock = nameof(_lock))] private Task BumpCoreAsync(int i) { _n += i; return Task.CompletedTask; }
            }
            """);

        Assert.Equal(2, run.LocksmithDiagnostics.Count(static d => d.Id == "LSM0020"));
        foreach (var diagnostic in run.LocksmithDiagnostics.Where(static d => d.Id == "LSM0020"))
        {
            string message = diagnostic.GetMessage(CultureInfo.InvariantCulture);
            Assert.DoesNotContain("in the body, before it", message, StringComparison.Ordinal);
            Assert.Contains(
                "'_lock' is an async lock, taken by awaiting, which neither the constructor nor a body of 'Parallel.For' can do: " +
                "run the loop from an async method as 'Parallel.ForAsync' with an async body that takes '_lock' around the call " +
                "('using var scope = await _lock.AcquireAsync();' before it) or awaits its wrapper 'BumpAsync'",
                message,
                StringComparison.Ordinal);
        }
    }

    /// <summary>
    /// LSM0020 for a write in a synchronous parallel body (<c>Parallel.For</c>, <c>ForEach</c>) of work an async lock's
    /// hold does not wait for (<c>_ = Task.Run(() =&gt; Parallel.For(…))</c>): the body cannot await the lock, so the
    /// advice names the loop whose body can, as LSM0056 does, rather than quote an await in the body.
    /// </summary>
    [Fact]
    public void LSM0020_ForAnAsyncLock_InASynchronousLoopOfWorkTheHoldDoesNotWaitFor_SaysToUseTheAsyncLoop()
    {
        var run = DiagnosticCheck.Verify("""
            using System.Threading.Tasks;
            using Locksmith;
            public sealed partial class Tally
            {
                private readonly AsyncExclusiveLock _lock = new();
                [Guarded(Lock = nameof(_lock))] private int _n;

                public async Task Count(int n, int[] xs)
                {
                    using (await _lock.AcquireAsync())
                    {
                        _ = {|LSM0026:Task.Run(() => Parallel.For(0, n, i => {|LSM0020:_n|}++))|};
                        _ = {|LSM0026:Task.Run(() => Parallel.ForEach(xs, x => {|LSM0020:_n|} += x))|};
                    }
                }
            }
            """);

        foreach (var (loop, asyncLoop) in new[] { ("Parallel.For(", "Parallel.ForAsync"), ("Parallel.ForEach(", "Parallel.ForEachAsync") })
        {
            string message = run.LocksmithDiagnostics
                .Single(d => d.Id == "LSM0020" && Line(d).Contains(loop, StringComparison.Ordinal))
                .GetMessage(CultureInfo.InvariantCulture);
            Assert.DoesNotContain("in the body ('using var scope = await", message, StringComparison.Ordinal);
            Assert.Contains(
                $"take '_lock' in the body (a body of '{loop.TrimEnd('(')}' is synchronous and cannot await: use '{asyncLoop}' with an async body, 'using var scope = await _lock.AcquireAsync();' in it)",
                message,
                StringComparison.Ordinal);
        }
    }

    private static string Line(Diagnostic d) => d.Location.SourceTree!.GetText().Lines.GetLineFromPosition(d.Location.SourceSpan.Start).ToString();
}
