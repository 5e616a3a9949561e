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
        Assert.EndsWith("use 'using var scope = _sync.Acquire();' instead", Message("Plain()"), StringComparison.Ordinal);

        static string Line(Diagnostic d) => d.Location.SourceTree!.GetText().Lines.GetLineFromPosition(d.Location.SourceSpan.Start).ToString();
    }
}
