using System.Threading.Tasks;
using Locksmith.CodeFixes;
using Locksmith.Generators.Tests.Support;

namespace Locksmith.Generators.Tests;

/// <summary>LSM0053's fix for a scope kept in a local: <c>using var</c> (and, where it fits, <c>await using var</c>).</summary>
public sealed class UsingScopeCodeFixTests
{
    private static readonly UsingScopeCodeFixProvider s_provider = new();

    [Fact]
    public Task SynchronousScope_UsingVar() => CodeFixHarness.AssertFixAsync(
        s_provider,
        """
        using Locksmith;

        public class Counter
        {
            private readonly ExclusiveLock _lock = new();
            private int _n;

            public void Add()
            {
                var scope = _lock.Acquire();
                _n++;
            }
        }
        """,
        "LSM0053",
        "Declare 'scope' with 'using'",
        """
        using Locksmith;

        public class Counter
        {
            private readonly ExclusiveLock _lock = new();
            private int _n;

            public void Add()
            {
                using var scope = _lock.Acquire();
                _n++;
            }
        }
        """);

    private const string AsyncSource = """
        using System;
        using System.Threading.Tasks;
        using Locksmith;

        public class Store
        {
            private readonly AsyncExclusiveLock _lock = new();
            private int _n;

            public async Task SaveAsync()
            {
                // held until the method returns
                AsyncLockScope scope = await _lock.AcquireAsync().ConfigureAwait(false);
                _n++;
            }

            public async Task<bool> TryAsync()
            {
                var tried = await _lock.TryAcquireAsync(TimeSpan.Zero);
                if (!tried.IsAcquired) return false;
                _n++;
                return true;
            }
        }
        """;

    [Fact]
    public async Task AsyncScope_UsingVarFirst_AwaitUsingBesideIt()
    {
        var document = CodeFixHarness.Document(AsyncSource);
        var spans = await CodeFixHarness.DiagnosticsAsync(document, "LSM0053");
        Assert.Equal(2, spans.Count);
        var actions = await CodeFixHarness.ActionsAsync(s_provider, document, spans[0]);
        Assert.Equal(["Declare 'scope' with 'using'", "Declare 'scope' with 'await using'"], actions.ConvertAll(static a => a.Title));
    }

    [Fact]
    public async Task AsyncScope_UsingVar_AndAwaitUsingVar_BothClean()
    {
        var document = CodeFixHarness.Document(AsyncSource);
        var spans = await CodeFixHarness.DiagnosticsAsync(document, "LSM0053");
        var first = await CodeFixHarness.ActionsAsync(s_provider, document, spans[0]);
        var second = await CodeFixHarness.ActionsAsync(s_provider, document, spans[1]);

        var awaited = await CodeFixHarness.ApplyAsync(first[1], document);
        Assert.Equal(
            CodeFixHarness.Normalize(AsyncSource.Replace("        AsyncLockScope scope", "        await using AsyncLockScope scope")),
            (await awaited.GetTextAsync()).ToString());

        var tried = await CodeFixHarness.ApplyAsync(second[0], document);
        Assert.Equal(
            CodeFixHarness.Normalize(AsyncSource.Replace("var tried", "using var tried")),
            (await tried.GetTextAsync()).ToString());

        // Both at once: the project is clean.
        var both = await CodeFixHarness.ApplyAsync(first[0], document);
        both = await CodeFixHarness.ApplyAsync(
            (await CodeFixHarness.ActionsAsync(s_provider, both, (await CodeFixHarness.DiagnosticsAsync(both, "LSM0053"))[0]))[0], both);
        Assert.Equal(
            CodeFixHarness.Normalize(AsyncSource.Replace("        AsyncLockScope scope", "        using AsyncLockScope scope").Replace("var tried", "using var tried")),
            (await both.GetTextAsync()).ToString());
        await CodeFixHarness.AssertCleanAsync(both);
    }

    /// <summary>
    /// A scope kept as the interface it implements (<c>IDisposable s = await _lock.AcquireAsync();</c>) gets the fix too:
    /// before, only a type that implements the interface counted, not the interface itself, and no fix was offered.
    /// </summary>
    [Fact]
    public async Task ScopeKeptAsItsInterface_UsingOrAwaitUsing()
    {
        const string source = """
            using System;
            using System.Threading.Tasks;
            using Locksmith;

            public class Store
            {
                private readonly AsyncExclusiveLock _lock = new();
                private int _n;

                public async Task SaveAsync()
                {
                    IDisposable scope = await _lock.AcquireAsync();
                    _n++;
                }

                public async Task FlushAsync()
                {
                    IAsyncDisposable scope = await _lock.AcquireAsync();
                    _n--;
                }
            }
            """;
        var document = CodeFixHarness.Document(source);
        var spans = await CodeFixHarness.DiagnosticsAsync(document, "LSM0053");
        Assert.Equal(2, spans.Count);
        var disposable = await CodeFixHarness.ActionsAsync(s_provider, document, spans[0]);
        var asyncDisposable = await CodeFixHarness.ActionsAsync(s_provider, document, spans[1]);
        // Each only as what its declared type lets a using dispose.
        Assert.Equal(["Declare 'scope' with 'using'"], disposable.ConvertAll(static a => a.Title));
        Assert.Equal(["Declare 'scope' with 'await using'"], asyncDisposable.ConvertAll(static a => a.Title));

        var fixedDocument = await CodeFixHarness.ApplyAsync(disposable[0], document);
        fixedDocument = await CodeFixHarness.ApplyAsync(
            (await CodeFixHarness.ActionsAsync(s_provider, fixedDocument, (await CodeFixHarness.DiagnosticsAsync(fixedDocument, "LSM0053"))[0]))[0], fixedDocument);
        Assert.Equal(
            CodeFixHarness.Normalize(source.Replace("IDisposable scope", "using IDisposable scope").Replace("IAsyncDisposable scope", "await using IAsyncDisposable scope")),
            (await fixedDocument.GetTextAsync()).ToString());
        await CodeFixHarness.AssertCleanAsync(fixedDocument);
    }

    [Fact]
    public Task CommentsBeforeAndAfterTheDeclaration_Stay() => CodeFixHarness.AssertFixAsync(
        s_provider,
        """
        using Locksmith;

        public class Counter
        {
            private readonly ExclusiveLock _lock = new();
            private int _n;

            public void Add()
            {
                // held to the end of the method
                /* the scope */ var /* type */ scope = _lock.Acquire(); // the counter's lock
                _n++;
            }
        }
        """,
        "LSM0053",
        "Declare 'scope' with 'using'",
        """
        using Locksmith;

        public class Counter
        {
            private readonly ExclusiveLock _lock = new();
            private int _n;

            public void Add()
            {
                // held to the end of the method
                /* the scope */ using var /* type */ scope = _lock.Acquire(); // the counter's lock
                _n++;
            }
        }
        """);

    [Fact]
    public Task DiscardedScopes_OutScopes_SwitchSections_AndTwoLocalsInOneDeclaration_NoFix() => CodeFixHarness.AssertNoFixAsync(
        s_provider,
        """
        using Locksmith;

        public class Leaks
        {
            private readonly ExclusiveLock _a = new();
            private readonly ExclusiveLock _b = new();
            private int _n;

            public void Statement() { _a.Acquire(); _n++; }
            public void Discard() { _ = _a.Acquire(); _n++; }
            public void Out() { _a.TryAcquire(out var scope); _n++; }
            public void Switch(int k)
            {
                switch (k)
                {
                    case 1:
                        var scope = _a.Acquire();
                        _n++;
                        break;
                }
            }
            public void Two() { ExclusiveLock.Scope x = _a.Acquire(), y = _b.Acquire(); _n++; }
        }
        """,
        "LSM0053", 6);

    // LSM0053 counts a scope written over as never released, but a using local cannot be assigned (CS1656).
    [Fact]
    public Task AScopeWrittenOver_NoFix() => CodeFixHarness.AssertNoFixAsync(
        s_provider,
        """
        using System.Threading.Tasks;
        using Locksmith;

        public class Counter
        {
            private readonly ExclusiveLock _lock = new();
            private readonly AsyncExclusiveLock _async = new();
            private int _n;

            public void Add(bool reset)
            {
                var scope = _lock.Acquire();
                _n++;
                if (reset) scope = default;
            }

            public async Task AddAsync()
            {
                var held = await _async.AcquireAsync();
                _n++;
                held = default;
            }

            public int Peek() => _n;
        }
        """,
        "LSM0053", 2);

    [Fact]
    public Task AGotoPastTheDeclaration_NoFix() => CodeFixHarness.AssertNoFixAsync(
        s_provider,
        """
        using Locksmith;

        public class Counter
        {
            private readonly ExclusiveLock _lock = new();
            private int _n;

            // 'using var' here would not compile: a goto cannot jump to a location after a using declaration (CS8648).
            public void Add(bool skip)
            {
                if (skip) goto done;
                var scope = _lock.Acquire();
                _n++;
                done:
                _n--;
            }
        }
        """,
        "LSM0053", 1);

    [Fact]
    public Task RefScopeThatAnAwaitOrYieldFollows_NoFix() => CodeFixHarness.AssertNoFixAsync(
        s_provider,
        """
        using System.Collections.Generic;
        using System.Threading.Tasks;
        using Locksmith;

        public class Counter
        {
            private readonly ExclusiveLock _lock = new();
            private int _n;

            // With 'using' the ref struct scope would live across the await (the yield), CS4007; undisposed it is dead by then.
            public async Task AddAsync()
            {
                var scope = _lock.Acquire();
                _n++;
                await Task.Yield();
            }

            public IEnumerable<int> Items()
            {
                var scope = _lock.Acquire();
                _n++;
                yield return _n;
            }
        }
        """,
        "LSM0053", 2);

    [Fact]
    public Task RefScopeAfterTheAwait_UsingVar() => CodeFixHarness.AssertFixAsync(
        s_provider,
        """
        using System.Threading.Tasks;
        using Locksmith;

        public class Counter
        {
            private readonly ExclusiveLock _lock = new();
            private int _n;

            public async Task AddAsync()
            {
                await Task.Yield();
                var scope = _lock.Acquire();
                _n++;
            }
        }
        """,
        "LSM0053",
        "Declare 'scope' with 'using'",
        """
        using System.Threading.Tasks;
        using Locksmith;

        public class Counter
        {
            private readonly ExclusiveLock _lock = new();
            private int _n;

            public async Task AddAsync()
            {
                await Task.Yield();
                using var scope = _lock.Acquire();
                _n++;
            }
        }
        """);

    [Fact]
    public Task TopLevelStatements_UsingVar_KeepingComments() => CodeFixHarness.AssertFixAsync(
        s_provider,
        """
        using Locksmith;

        var gate = new ExclusiveLock();
        int n = 0;
        // held to the end of the program
        var scope = gate.Acquire(); // the gate
        n++;
        System.Console.WriteLine(n);
        """,
        "LSM0053",
        "Declare 'scope' with 'using'",
        """
        using Locksmith;

        var gate = new ExclusiveLock();
        int n = 0;
        // held to the end of the program
        using var scope = gate.Acquire(); // the gate
        n++;
        System.Console.WriteLine(n);
        """);

    private const string TopLevelAsyncSource = """
        using System.Threading.Tasks;
        using Locksmith;

        var gate = new AsyncExclusiveLock();
        int n = 0;
        /* held to the end */ var scope = await gate.AcquireAsync(); // the gate
        n++;
        System.Console.WriteLine(n);
        """;

    [Fact]
    public async Task TopLevelStatementsThatAwait_AwaitUsingBesideUsing()
    {
        Assert.Equal(
            ["Declare 'scope' with 'using'", "Declare 'scope' with 'await using'"],
            await CodeFixHarness.TitlesAsync(s_provider, TopLevelAsyncSource, "LSM0053"));
        await CodeFixHarness.AssertFixAsync(
            s_provider, TopLevelAsyncSource, "LSM0053", "Declare 'scope' with 'await using'",
            TopLevelAsyncSource.Replace("/* held to the end */ var scope", "/* held to the end */ await using var scope"));
    }

    [Fact]
    public Task TopLevelStatementsWithALabel_NoFix() => CodeFixHarness.AssertNoFixAsync(
        s_provider,
        """
        using Locksmith;

        var gate = new ExclusiveLock();
        int n = 0;
        // 'using var' here would not compile: a goto cannot jump to a location after a using declaration (CS8648).
        if (args.Length > 0) goto done;
        var scope = gate.Acquire();
        n++;
        done:
        System.Console.WriteLine(n);
        """,
        "LSM0053", 1);

    [Fact]
    public Task TopLevelRefScopeThatAnAwaitFollows_NoFix() => CodeFixHarness.AssertNoFixAsync(
        s_provider,
        """
        using System.Threading.Tasks;
        using Locksmith;

        var gate = new ExclusiveLock();
        int n = 0;
        var scope = gate.Acquire();
        n++;
        await Task.Yield();
        System.Console.WriteLine(n);
        """,
        "LSM0053", 1);

    [Fact]
    public async Task FixAll_TopLevelStatements_AndABlockInThem()
    {
        string fixedText = await CodeFixHarness.FixAllAsync(
            s_provider,
            """
            using Locksmith;

            var gate = new ExclusiveLock();
            var rw = new ReadWriteLock();
            int n = 0;
            var scope = gate.Acquire();
            if (args.Length > 0)
            {
                var read = rw.AcquireRead();
                n++;
            }

            System.Console.WriteLine(n);
            """,
            "LSM0053",
            "LSM0053.Using");

        Assert.Equal(
            CodeFixHarness.Normalize("""
            using Locksmith;

            var gate = new ExclusiveLock();
            var rw = new ReadWriteLock();
            int n = 0;
            using var scope = gate.Acquire();
            if (args.Length > 0)
            {
                using var read = rw.AcquireRead();
                n++;
            }

            System.Console.WriteLine(n);
            """),
            fixedText);
    }

    [Fact]
    public async Task FixAll_DeclaresEveryScopeWithUsing()
    {
        string fixedText = await CodeFixHarness.FixAllAsync(
            s_provider,
            """
            using Locksmith;

            public class Counter
            {
                private readonly ExclusiveLock _lock = new();
                private readonly ReadWriteLock _rw = new();
                private int _n;

                public void Add()
                {
                    var scope = _lock.Acquire();
                    _n++;
                }

                public int Read()
                {
                    var read = _rw.AcquireRead();
                    return _n;
                }
            }
            """,
            "LSM0053",
            "LSM0053.Using");

        Assert.Equal(
            CodeFixHarness.Normalize("""
            using Locksmith;

            public class Counter
            {
                private readonly ExclusiveLock _lock = new();
                private readonly ReadWriteLock _rw = new();
                private int _n;

                public void Add()
                {
                    using var scope = _lock.Acquire();
                    _n++;
                }

                public int Read()
                {
                    using var read = _rw.AcquireRead();
                    return _n;
                }
            }
            """),
            fixedText);
    }
}
