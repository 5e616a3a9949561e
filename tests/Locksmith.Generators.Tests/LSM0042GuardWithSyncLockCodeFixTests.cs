using System.Threading.Tasks;
using Locksmith.CodeFixes;
using Locksmith.Generators.Tests.Support;

namespace Locksmith.Generators.Tests;

/// <summary>
/// LSM0042's fixes (a synchronous core guarded by an async lock): one <c>Lock = nameof(…)</c> per synchronous lock the
/// generator would accept for the core, after which it gets its synchronous wrapper; none where there is no such lock.
/// </summary>
public sealed class LSM0042GuardWithSyncLockCodeFixTests
{
    private static readonly GuardWithLockCodeFixProvider s_provider = new();

    [Fact]
    public async Task OneFixPerSynchronousLock_NotTheAsyncOnes_NorANullableOne()
    {
        var titles = await CodeFixHarness.TitlesAsync(s_provider, """
            using Locksmith;

            public partial class Store
            {
                private readonly AsyncExclusiveLock _async = new();
                private readonly AsyncReadWriteLock _asyncRw = new();
                private readonly ExclusiveLock _sync = new();
                private readonly ExclusiveLock? _maybe = null;
                private static readonly ReentrantLock s_gate = new();
                public ReadWriteLock Rw { get; } = new();
                private int _n;

                [Guarded(Lock = nameof(_async))]
                private int PeekCore() => _n;
            }
            """, "LSM0042");

        Assert.Equal(["Guard with '_sync'", "Guard with 's_gate'", "Guard with 'Rw'"], titles);
    }

    [Fact]
    public Task TheAsyncLockIsReplaced_AndTheSynchronousWrapperIsGenerated() => CodeFixHarness.AssertFixAsync(
        s_provider,
        // Twice calls the wrapper, which exists only once the fix is applied: the fixed code compiles clean.
        """
        using Locksmith;

        public partial class Store
        {
            private readonly AsyncExclusiveLock _async = new();
            private readonly ExclusiveLock _sync = new();
            private int _n = 1;

            [Guarded(Lock = nameof(_async), TimeoutMilliseconds = 100)]
            private int PeekCore() => _n;

            public int Twice() => Peek() + (TryPeek(System.TimeSpan.Zero, out int value) ? value : 0);
        }
        """,
        "LSM0042",
        "Guard with '_sync'",
        """
        using Locksmith;

        public partial class Store
        {
            private readonly AsyncExclusiveLock _async = new();
            private readonly ExclusiveLock _sync = new();
            private int _n = 1;

            [Guarded(Lock = nameof(_sync), TimeoutMilliseconds = 100)]
            private int PeekCore() => _n;

            public int Twice() => Peek() + (TryPeek(System.TimeSpan.Zero, out int value) ? value : 0);
        }
        """);

    [Fact]
    public Task LockNamedByAString_CommentsKept() => CodeFixHarness.AssertFixAsync(
        s_provider,
        """
        using Locksmith;

        public partial class Store
        {
            private readonly AsyncExclusiveLock _async = new();
            private readonly ExclusiveLock _sync = new();

            // the queue
            [Guarded(Lock = /* for now */ "_async" /* async */)] private void PushCore(int item) { }

            public void Use() => Push(1);
        }
        """,
        "LSM0042",
        "Guard with '_sync'",
        """
        using Locksmith;

        public partial class Store
        {
            private readonly AsyncExclusiveLock _async = new();
            private readonly ExclusiveLock _sync = new();

            // the queue
            [Guarded(Lock = /* for now */ nameof(_sync) /* async */)] private void PushCore(int item) { }

            public void Use() => Push(1);
        }
        """);

    [Fact]
    public async Task ReadAccess_OnlyTheSynchronousReadWriteLock()
    {
        const string Source = """
            using Locksmith;

            public partial class Cache
            {
                private readonly AsyncReadWriteLock _asyncRw = new();
                private readonly ExclusiveLock _exclusive = new();
                private readonly ReadWriteLock _rw = new();
                private int _value = 1;

                [Guarded(Lock = nameof(_asyncRw), Access = LockAccess.Read)]
                private int ReadCore() => _value;

                public int Twice() => Read() * 2;
            }
            """;
        Assert.Equal(["Guard with '_rw'"], await CodeFixHarness.TitlesAsync(s_provider, Source, "LSM0042"));
        await CodeFixHarness.AssertFixAsync(
            s_provider, Source, "LSM0042", "Guard with '_rw'",
            Source.Replace("Lock = nameof(_asyncRw)", "Lock = nameof(_rw)"));
    }

    [Fact]
    public async Task AsyncKeyedLock_StripeByKept_OnlyTheSynchronousKeyedLockWhoseKeyItFits()
    {
        const string Source = """
            using Locksmith;

            public partial class Sessions
            {
                private readonly AsyncStripedLock<string> _asyncStripes = new();
                private readonly StripedLock<string> _stripes = new(8);
                private readonly StripedLock<int> _numbered = new(8);
                private readonly ExclusiveLock _all = new();
                private int _n;

                [Guarded(Lock = nameof(_asyncStripes), StripeBy = nameof(user))]
                private void TouchCore(string user, int count) => _n += count;

                public void Use() => Touch("ann", 1);
            }
            """;
        // StripeBy stays: an unkeyed lock would not take it, a lock keyed by int not a string.
        Assert.Equal(["Guard with '_stripes'"], await CodeFixHarness.TitlesAsync(s_provider, Source, "LSM0042"));
        await CodeFixHarness.AssertFixAsync(
            s_provider, Source, "LSM0042", "Guard with '_stripes'",
            Source.Replace("Lock = nameof(_asyncStripes)", "Lock = nameof(_stripes)"));
    }

    [Fact]
    public async Task UnkeyedAsyncLock_KeyedSynchronousLock_OneFixPerKeyParameter_SettingStripeBy()
    {
        const string Source = """
            using Locksmith;

            public partial class Sessions
            {
                private readonly AsyncExclusiveLock _async = new();
                private readonly StripedLock<string> _stripes = new(8);
                private int _n;

                [Guarded(Lock = nameof(_async))]
                private void TouchCore(string user, int count, string tag) => _n += count;

                public void Use() => Touch("ann", 1, "x");
            }
            """;
        Assert.Equal(
            ["Guard with '_stripes', striped by 'user'", "Guard with '_stripes', striped by 'tag'"],
            await CodeFixHarness.TitlesAsync(s_provider, Source, "LSM0042"));
        await CodeFixHarness.AssertFixAsync(
            s_provider, Source, "LSM0042", "Guard with '_stripes', striped by 'user'",
            Source.Replace("[Guarded(Lock = nameof(_async))]", "[Guarded(Lock = nameof(_stripes), StripeBy = nameof(user))]"));
    }

    [Fact]
    public async Task StaticCore_OnlyTheStaticSynchronousLocks()
    {
        const string Source = """
            using Locksmith;

            public partial class Registry
            {
                private static readonly AsyncExclusiveLock s_async = new();
                private static readonly ExclusiveLock s_sync = new();
                private readonly ExclusiveLock _instance = new();
                private static int s_count = 1;

                [Guarded(Lock = nameof(s_async))]
                private static int CountCore() => s_count;

                public static int Twice() => Count() * 2;
            }
            """;
        Assert.Equal(["Guard with 's_sync'"], await CodeFixHarness.TitlesAsync(s_provider, Source, "LSM0042"));
        await CodeFixHarness.AssertFixAsync(
            s_provider, Source, "LSM0042", "Guard with 's_sync'", Source.Replace("Lock = nameof(s_async)", "Lock = nameof(s_sync)"));
    }

    [Fact]
    public async Task DerivedType_TheBasesAccessibleSynchronousLock_NotItsPrivateOne()
    {
        const string Source = """
            using Locksmith;

            public class Base
            {
                protected readonly AsyncExclusiveLock Gate = new();
                protected readonly ExclusiveLock Shared = new();
                private readonly ExclusiveLock _own = new();
            }

            public partial class Derived : Base
            {
                private int _n;

                [Guarded(Lock = nameof(Gate))]
                private void AddCore() => _n++;

                public void Use() => Add();
            }
            """;
        Assert.Equal(["Guard with 'Shared'"], await CodeFixHarness.TitlesAsync(s_provider, Source, "LSM0042"));
        await CodeFixHarness.AssertFixAsync(
            s_provider, Source, "LSM0042", "Guard with 'Shared'", Source.Replace("Lock = nameof(Gate)", "Lock = nameof(Shared)"));
    }

    [Fact]
    public Task ExplicitWrapperName_NameNeedNotEndInCore() => CodeFixHarness.AssertFixAsync(
        s_provider,
        """
        using Locksmith;

        public partial class Store
        {
            private readonly AsyncExclusiveLock _async = new();
            private readonly ExclusiveLock _sync = new();
            private int _n = 1;

            [Guarded(Lock = nameof(_async), WrapperName = "Peek")]
            private int Look() => _n;

            public int Twice() => Peek() * 2;
        }
        """,
        "LSM0042",
        "Guard with '_sync'",
        """
        using Locksmith;

        public partial class Store
        {
            private readonly AsyncExclusiveLock _async = new();
            private readonly ExclusiveLock _sync = new();
            private int _n = 1;

            [Guarded(Lock = nameof(_sync), WrapperName = "Peek")]
            private int Look() => _n;

            public int Twice() => Peek() * 2;
        }
        """);

    [Fact]
    public Task NoSynchronousLock_NoFix() => CodeFixHarness.AssertNoFixAsync(
        s_provider,
        """
        using Locksmith;

        public partial class Store
        {
            private readonly AsyncExclusiveLock _async = new();
            private readonly AsyncReadWriteLock _rw = new();
            private readonly object _monitor = new();
            private int _n;

            [Guarded(Lock = nameof(_async))]
            private int PeekCore() => _n;
        }
        """,
        "LSM0042", 1);

    /// <summary>
    /// A name the synchronous rule gives no wrapper ('Load', 'PeekCoreAsync': no Core suffix, no WrapperName) would
    /// trade LSM0042 for LSM0014, so nothing is offered: the rename is the user's choice.
    /// </summary>
    [Fact]
    public Task NameWithoutASynchronousWrapper_NoFix() => CodeFixHarness.AssertNoFixAsync(
        s_provider,
        """
        using Locksmith;

        public partial class Store
        {
            private readonly AsyncExclusiveLock _async = new();
            private readonly ExclusiveLock _sync = new();
            private int _n;

            [Guarded(Lock = nameof(_async))]
            private int Load() => _n;

            [Guarded(Lock = nameof(_async))]
            private int PeekCoreAsync() => _n;
        }
        """,
        "LSM0042", 2);

    /// <summary>[AcquiresLocksOf] names a lock of its parameters' type (or keys of the type's own): not this fix's edit.</summary>
    [Fact]
    public Task AcquiresLocksOf_NoFix() => CodeFixHarness.AssertNoFixAsync(
        s_provider,
        """
        using Locksmith;

        public partial class Shelf
        {
            private readonly AsyncExclusiveLock _lock = new();
            private readonly ExclusiveLock _sync = new();
            private readonly AsyncStripedLock<string> _keys = new();
            private readonly StripedLock<string> _syncKeys = new(8);

            [AcquiresLocksOf(nameof(a), nameof(b), Lock = nameof(_lock))]
            private static int MoveCore(Shelf a, Shelf b) => 1;

            [AcquiresLocksOf(nameof(a), nameof(b), Lock = nameof(_keys))]
            private int ShiftCore(string a, string b) => 1;
        }
        """,
        "LSM0042", 2);

    [Fact]
    public async Task FixAll_GuardsEverySynchronousCoreWithTheChosenLock()
    {
        string fixedText = await CodeFixHarness.FixAllAsync(
            s_provider,
            """
            using Locksmith;

            public partial class Store
            {
                private readonly AsyncExclusiveLock _async = new();
                private readonly ExclusiveLock _sync = new();
                private int _n;

                [Guarded(Lock = nameof(_async))]
                private int PeekCore() => _n;

                [Guarded(Lock = nameof(_async))]
                private void BumpCore() => _n++;
            }
            """,
            "LSM0042",
            "LSM0042.Lock._sync");

        Assert.Equal(
            CodeFixHarness.Normalize("""
            using Locksmith;

            public partial class Store
            {
                private readonly AsyncExclusiveLock _async = new();
                private readonly ExclusiveLock _sync = new();
                private int _n;

                [Guarded(Lock = nameof(_sync))]
                private int PeekCore() => _n;

                [Guarded(Lock = nameof(_sync))]
                private void BumpCore() => _n++;
            }
            """),
            fixedText);
    }
}
