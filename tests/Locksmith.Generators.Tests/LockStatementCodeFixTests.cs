using System.Threading.Tasks;
using Locksmith.CodeFixes;
using Locksmith.Generators.Tests.Support;
using Microsoft.CodeAnalysis.CSharp;

namespace Locksmith.Generators.Tests;

/// <summary>LSM0024's fix for the <c>lock</c> statement: <c>using (x.Acquire())</c>, in the mode a <c>lock</c> means.</summary>
public sealed class LockStatementCodeFixTests
{
    private static readonly LockStatementCodeFixProvider s_provider = new();

    [Fact]
    public Task ExclusiveLock_Acquire_KeepingTheBodyAndComments() => CodeFixHarness.AssertFixAsync(
        s_provider,
        """
        using Locksmith;

        public class Counter
        {
            private readonly ExclusiveLock _lock = new();
            private int _n;

            public int Add()
            {
                // one at a time
                lock (_lock) // the counter's lock
                {
                    return ++_n;
                }
            }
        }
        """,
        "LSM0024",
        "Use 'using (_lock.Acquire())'",
        """
        using Locksmith;

        public class Counter
        {
            private readonly ExclusiveLock _lock = new();
            private int _n;

            public int Add()
            {
                // one at a time
                using (_lock.Acquire()) // the counter's lock
                {
                    return ++_n;
                }
            }
        }
        """);

    [Fact]
    public Task CommentsInsideTheHead_AndAfterTheBody_Stay() => CodeFixHarness.AssertFixAsync(
        s_provider,
        """
        using System.Threading.Tasks;
        using Locksmith;

        public class Store
        {
            private readonly AsyncExclusiveLock _lock = new();
            private int _n;

            public async Task SaveAsync()
            {
                await Task.Yield();
                /* one at a time */ lock /* not a Monitor */ (/* the store's */ _lock /* lock */) // held
                    _n++; // the count
                // done
            }
        }
        """,
        "LSM0024",
        "Use 'using (await _lock.AcquireAsync())'",
        """
        using System.Threading.Tasks;
        using Locksmith;

        public class Store
        {
            private readonly AsyncExclusiveLock _lock = new();
            private int _n;

            public async Task SaveAsync()
            {
                await Task.Yield();
                /* one at a time */ using /* not a Monitor */ (/* the store's */ await _lock.AcquireAsync() /* lock */) // held
                    _n++; // the count
                // done
            }
        }
        """);

    [Fact]
    public Task ReadWriteLock_AcquireWrite_OfTheLockBehindACast() => CodeFixHarness.AssertFixAsync(
        s_provider,
        """
        using Locksmith;

        public class Cache
        {
            private readonly ReadWriteLock _rw = new();
            private int _n;

            public void Bump()
            {
                lock ((object)this._rw) _n++;
            }
        }
        """,
        "LSM0024",
        "Use 'using (this._rw.AcquireWrite())'",
        """
        using Locksmith;

        public class Cache
        {
            private readonly ReadWriteLock _rw = new();
            private int _n;

            public void Bump()
            {
                using (this._rw.AcquireWrite()) _n++;
            }
        }
        """);

    [Theory]
    [InlineData("lock ((object)/* the ledger's */ _gate) // held", "using (/* the ledger's */ _gate.Acquire()) // held")]
    [InlineData("lock (((object)_gate /* shared */))", "using (_gate.Acquire() /* shared */)")]
    [InlineData("lock (/* a */ ((object)/* b */ (_gate) /* c */) /* d */)", "using (/* a */ /* b */ _gate.Acquire() /* c */ /* d */)")]
    [InlineData("lock ((object) // the ledger's\n            _gate)", "using (// the ledger's\n            _gate.Acquire())")]
    [InlineData("lock (((object)_gate // shared\n            ))", "using (_gate.Acquire() // shared\n            )")]
    public Task CommentsInACastTheFixDrops_Stay(string head, string expected) => CodeFixHarness.AssertFixAsync(
        s_provider,
        LedgerSource.Replace("HEAD", head, System.StringComparison.Ordinal),
        "LSM0024",
        "Use 'using (_gate.Acquire())'",
        LedgerSource.Replace("HEAD", expected, System.StringComparison.Ordinal));

    [Theory]
    [InlineData("lock (_gate!)", "using (_gate!.Acquire())")]
    [InlineData("lock ((object)_gate!)", "using (_gate!.Acquire())")]
    [InlineData("lock (((object)_gate)!)", "using (_gate!.Acquire())")]
    public Task ANullableLock_KeepsItsSuppression(string head, string expected) => CodeFixHarness.AssertFixAsync(
        s_provider,
        LedgerSource.Replace("ExclusiveLock _gate", "ExclusiveLock? _gate", System.StringComparison.Ordinal).Replace("HEAD", head, System.StringComparison.Ordinal),
        "LSM0024",
        "Use 'using (_gate!.Acquire())'",
        LedgerSource.Replace("ExclusiveLock _gate", "ExclusiveLock? _gate", System.StringComparison.Ordinal).Replace("HEAD", expected, System.StringComparison.Ordinal));

    // 'lock (x)' on a maybe-null x already warns CS8602 there, as 'x.Acquire()' does: the fix keeps that warning on the
    // same expression, adding none and hiding none ('x!' would hide a null bug; 'lock (null)' throws too).
    [Theory]
    [InlineData("private ExclusiveLock? _gate = new();", "", "lock (_gate)", "using (_gate.Acquire())")]
    [InlineData("private ReadWriteLock? _gate = new();", "", "lock (_gate)", "using (_gate.AcquireWrite())")]
    [InlineData("private AsyncExclusiveLock? _gate = new();", "", "lock (_gate)", "using (await _gate.AcquireAsync())")]
    [InlineData("private AsyncReadWriteLock? _gate = new();", "", "lock (_gate)", "using (await _gate.AcquireWriteAsync())")]
    [InlineData("private ExclusiveLock? Gate { get; set; }", "", "lock (Gate)", "using (Gate.Acquire())")]
    [InlineData("private ExclusiveLock? Find() => null;", "", "var gate = Find();\n        lock (gate)", "var gate = Find();\n        using (gate.Acquire())")]
    [InlineData("", "AsyncExclusiveLock? gate", "lock (gate)", "using (await gate.AcquireAsync())")]
    public Task AMaybeNullLock_KeepsItsWarning(string declaration, string parameters, string head, string expected) =>
        CodeFixHarness.AssertFixKeepsWarningsAsync(
            s_provider,
            NullableLedger(declaration, parameters, head),
            "LSM0024",
            "Use '" + expected[(expected.LastIndexOf('\n') + 1)..].Trim() + "'",
            NullableLedger(declaration, parameters, expected));

    // The cast that warned (CS8600) goes; the call on the maybe-null lock warns in its place.
    [Fact]
    public Task AMaybeNullLockBehindACast_WarnsOnTheCallInstead() => CodeFixHarness.AssertFixKeepsWarningsAsync(
        s_provider,
        NullableLedger("private ReadWriteLock? _gate;", "", "lock ((object)_gate)"),
        "LSM0024",
        "Use 'using (_gate.AcquireWrite())'",
        NullableLedger("private ReadWriteLock? _gate;", "", "using (_gate.AcquireWrite())"),
        ["CS0649 at '_gate'", "CS8602 at '_gate'"]);

    // Declared nullable but not null at the lock: no '!' is needed, and none is written.
    [Theory]
    [InlineData("private ExclusiveLock? _gate;", "", "_gate ??= new();\n        lock (_gate)", "_gate ??= new();\n        using (_gate.Acquire())")]
    [InlineData("private ReadWriteLock? _gate = new();", "", "if (_gate is null) return;\n        lock (_gate)", "if (_gate is null) return;\n        using (_gate.AcquireWrite())")]
    [InlineData("private AsyncExclusiveLock? Gate { get; set; } = new();", "", "if (Gate is not { } gate) return;\n        lock (gate)", "if (Gate is not { } gate) return;\n        using (await gate.AcquireAsync())")]
    [InlineData("", "", "ExclusiveLock? gate = new();\n        lock (gate)", "ExclusiveLock? gate = new();\n        using (gate.Acquire())")]
    [InlineData("", "AsyncReadWriteLock? gate", "System.ArgumentNullException.ThrowIfNull(gate);\n        lock (gate)", "System.ArgumentNullException.ThrowIfNull(gate);\n        using (await gate.AcquireWriteAsync())")]
    public Task ANullableLockNotNullAtTheLock_GetsNoSuppression(string declaration, string parameters, string head, string expected) =>
        CodeFixHarness.AssertFixAsync(
            s_provider,
            NullableLedger(declaration, parameters, head),
            "LSM0024",
            "Use '" + expected[(expected.LastIndexOf('\n') + 1)..].Trim() + "'",
            NullableLedger(declaration, parameters, expected));

    private static string NullableLedger(string declaration, string parameters, string head) => NullableSource
        .Replace("DECL", declaration, System.StringComparison.Ordinal)
        .Replace("PARAMS", parameters, System.StringComparison.Ordinal)
        .Replace("HEAD", head, System.StringComparison.Ordinal);

    private const string NullableSource = """
        using System.Threading.Tasks;
        using Locksmith;

        public class Ledger
        {
            DECL
            private int _n;

            public async Task PostAsync(PARAMS)
            {
                await Task.Yield();
                HEAD
                {
                    _n++;
                }
            }
        }
        """;

    [Fact]
    public Task ADirectiveInTheCastTheFixWouldDrop_NoFix() => CodeFixHarness.AssertNoFixAsync(
        s_provider,
        LedgerSource.Replace("HEAD", "lock ((object)\n#if !NEVER\n            _gate\n#endif\n            )", System.StringComparison.Ordinal),
        "LSM0024", 1);

    private const string LedgerSource = """
        using Locksmith;

        public class Ledger
        {
            private readonly ExclusiveLock _gate = new();
            private int _n;

            public void Post()
            {
                HEAD
                {
                    _n++;
                }
            }
        }
        """;

    [Fact]
    public Task AsyncLockInAnAsyncMethod_AwaitsAcquireAsync() => CodeFixHarness.AssertFixAsync(
        s_provider,
        """
        using System.Threading.Tasks;
        using Locksmith;

        public class Store
        {
            private readonly AsyncExclusiveLock _lock = new();
            private int _n;

            public async Task SaveAsync()
            {
                await Task.Yield();
                lock (_lock)
                {
                    _n++;
                }
            }
        }
        """,
        "LSM0024",
        "Use 'using (await _lock.AcquireAsync())'",
        """
        using System.Threading.Tasks;
        using Locksmith;

        public class Store
        {
            private readonly AsyncExclusiveLock _lock = new();
            private int _n;

            public async Task SaveAsync()
            {
                await Task.Yield();
                using (await _lock.AcquireAsync())
                {
                    _n++;
                }
            }
        }
        """);

    [Fact]
    public Task AsyncLockInASynchronousMethod_KeyedLock_Iterator_AndMonitorCalls_NoFix() => CodeFixHarness.AssertNoFixAsync(
        s_provider,
        """
        using System.Collections.Generic;
        using System.Threading;
        using Locksmith;

        public class Mixed
        {
            private readonly AsyncExclusiveLock _async = new();
            private readonly StripedLock<int> _stripes = new(4);
            private readonly ExclusiveLock _lock = new();
            private int _n;

            public void Sync() { lock (_async) { _n++; } }
            public void Keyed() { lock (_stripes) { _n++; } }
            // The ref struct scope would live across the yield.
            public IEnumerable<int> Items() { lock (_lock) { yield return _n; } }
            public void ByHand()
            {
                Monitor.Enter(_lock);
                try { _n++; }
                finally { Monitor.Exit(_lock); }
            }
        }
        """,
        "LSM0024", 5);

    private const string TopLevelSource = """
        using System.Threading.Tasks;
        using Locksmith;

        var gate = new ExclusiveLock();
        int n = 0;
        lock (gate)
        {
            n++;
        }

        await Task.Yield();
        System.Console.WriteLine(n);
        """;

    [Fact]
    public async Task TopLevelStatementsThatAwait_RefScope_OnlyFromCSharp13()
    {
        // Top-level statements that await compile to an async Main: before C# 13 no ref struct local goes there (CS9202).
        var csharp12 = CodeFixHarness.Document(TopLevelSource, LanguageVersion.CSharp12);
        var spans = await CodeFixHarness.DiagnosticsAsync(csharp12, "LSM0024");
        Assert.Empty(await CodeFixHarness.ActionsAsync(s_provider, csharp12, Assert.Single(spans)));

        var csharp13 = CodeFixHarness.Document(TopLevelSource, LanguageVersion.CSharp13);
        spans = await CodeFixHarness.DiagnosticsAsync(csharp13, "LSM0024");
        var action = Assert.Single(await CodeFixHarness.ActionsAsync(s_provider, csharp13, Assert.Single(spans)));
        var fixedDocument = await CodeFixHarness.ApplyAsync(action, csharp13);
        Assert.Contains("using (gate.Acquire())", (await fixedDocument.GetTextAsync()).ToString(), System.StringComparison.Ordinal);
        await CodeFixHarness.AssertCleanAsync(fixedDocument);
    }

    private const string TopLevelAsyncSource = """
        using System.Threading.Tasks;
        using Locksmith;

        var gate = new AsyncExclusiveLock();
        int n = 0;
        await Task.Yield();
        // one at a time
        lock (gate) // the gate
        {
            n++;
        }

        System.Console.WriteLine(n);
        """;

    [Theory]
    [InlineData(LanguageVersion.CSharp12)]
    [InlineData(LanguageVersion.Preview)]
    public Task TopLevelStatementsThatAwait_AsyncLock_AwaitsAcquireAsync(LanguageVersion version) => CodeFixHarness.AssertFixAsync(
        s_provider,
        TopLevelAsyncSource,
        "LSM0024",
        "Use 'using (await gate.AcquireAsync())'",
        TopLevelAsyncSource.Replace("lock (gate) // the gate", "using (await gate.AcquireAsync()) // the gate"),
        version);

    [Fact]
    public Task TopLevelStatementsThatDoNotAwait_AsyncLock_NoFix() => CodeFixHarness.AssertNoFixAsync(
        s_provider,
        TopLevelAsyncSource.Replace("await Task.Yield();\n", string.Empty),
        "LSM0024", 1);

    [Fact]
    public Task AsyncLockWhereARefStructScopeIsInScope_NoFix() => CodeFixHarness.AssertNoFixAsync(
        s_provider,
        """
        using System.Threading.Tasks;
        using Locksmith;

        public class Store
        {
            private readonly ExclusiveLock _sync = new();
            private readonly AsyncExclusiveLock _async = new();
            private int _n;

            // The await the fix adds would keep the synchronous lock's ref struct scope across it (CS4007).
            public async Task DeclaredAsync()
            {
                await Task.Yield();
                using var scope = _sync.Acquire();
                lock (_async) { _n++; }
            }

            public async Task DisposedAfterAsync()
            {
                await Task.Yield();
                var scope = _sync.Acquire();
                lock (_async) { _n++; }
                scope.Dispose();
            }

            public async Task InAUsingStatementAsync()
            {
                await Task.Yield();
                using (_sync.Acquire())
                {
                    lock (_async) { _n++; }
                }
            }
        }
        """,
        "LSM0024", 3);

    private const string DeadScopeSource = """
        using System.Threading.Tasks;
        using Locksmith;

        public class Store
        {
            private readonly ExclusiveLock _sync = new();
            private readonly AsyncExclusiveLock _async = new();
            private int _n;

            public async Task SaveAsync()
            {
                await Task.Yield();
                BEFORE
                lock (_async) { _n++; }
                AFTER
            }
        }
        """;

    [Theory]
    [InlineData("var scope = _sync.Acquire();\n        _n++;\n        scope.Dispose();", "")]
    [InlineData("var scope = _sync.Acquire();\n        scope.Dispose();\n        if (_n > 0)\n        {", "}")]
    [InlineData("for (int i = 0; i < 2; i++)\n        {\n            var scope = _sync.Acquire();\n            _n++;\n            scope.Dispose();", "}")]
    [InlineData("var scope = _sync.Acquire();\n        _n++;\n        scope.Dispose();\n        while (_n < 10)\n        {", "}")]
    public Task AsyncLockAfterARefStructScopeIsDisposed_AwaitsAcquireAsync(string before, string after) => CodeFixHarness.AssertFixAsync(
        s_provider,
        DeadScopeSource.Replace("BEFORE", before, System.StringComparison.Ordinal).Replace("AFTER", after, System.StringComparison.Ordinal),
        "LSM0024",
        "Use 'using (await _async.AcquireAsync())'",
        DeadScopeSource.Replace("BEFORE", before, System.StringComparison.Ordinal).Replace("AFTER", after, System.StringComparison.Ordinal)
            .Replace("lock (_async)", "using (await _async.AcquireAsync())", System.StringComparison.Ordinal));

    [Theory]
    // Disposed again the next time round the loop, after the await.
    [InlineData("var scope = _sync.Acquire();\n        for (int i = 0; i < 2; i++)\n        {\n            scope.Dispose();", "}")]
    [InlineData("var scope = _sync.Acquire();\n        if (_n > 0)\n        {", "}\n        scope.Dispose();")]
    [InlineData("using (var scope = _sync.Acquire())\n        {", "}")]
    [InlineData("using var scope = _sync.Acquire();\n        scope.Dispose();", "")]
    public Task AsyncLockWhereARefStructScopeIsReadOrDisposedLater_NoFix(string before, string after) => CodeFixHarness.AssertNoFixAsync(
        s_provider,
        DeadScopeSource.Replace("BEFORE", before, System.StringComparison.Ordinal).Replace("AFTER", after, System.StringComparison.Ordinal),
        "LSM0024", 1);

    [Fact]
    public async Task AsyncLockInsideAnotherLock_NoFix_ForNoAwaitGoesThere()
    {
        var document = CodeFixHarness.Document("""
            using System.Threading.Tasks;
            using Locksmith;

            public class Store
            {
                private readonly ExclusiveLock _outer = new();
                private readonly AsyncExclusiveLock _inner = new();
                private int _n;

                public async Task SaveAsync()
                {
                    await Task.Yield();
                    lock (_outer)
                    {
                        lock (_inner) { _n++; }
                    }
                }
            }
            """);
        var spans = await CodeFixHarness.DiagnosticsAsync(document, "LSM0024");
        Assert.Equal(2, spans.Count);
        Assert.Equal(["Use 'using (_outer.Acquire())'"], (await CodeFixHarness.ActionsAsync(s_provider, document, spans[0])).ConvertAll(static a => a.Title));
        Assert.Empty(await CodeFixHarness.ActionsAsync(s_provider, document, spans[1]));
    }

    [Fact]
    public async Task FixAll_RewritesNestedStatements()
    {
        string fixedText = await CodeFixHarness.FixAllAsync(
            s_provider,
            """
            using Locksmith;

            public class Transfer
            {
                private readonly ExclusiveLock _from = new();
                private readonly ReentrantLock _to = new();
                private int _n;

                public void Move()
                {
                    lock (_from)
                    {
                        lock (_to)
                        {
                            _n++;
                        }
                    }
                }
            }
            """,
            "LSM0024",
            "LSM0024.UsingAcquire");

        Assert.Equal(
            CodeFixHarness.Normalize("""
            using Locksmith;

            public class Transfer
            {
                private readonly ExclusiveLock _from = new();
                private readonly ReentrantLock _to = new();
                private int _n;

                public void Move()
                {
                    using (_from.Acquire())
                    {
                        using (_to.Acquire())
                        {
                            _n++;
                        }
                    }
                }
            }
            """),
            fixedText);
    }
}
