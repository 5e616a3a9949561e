using System.Threading.Tasks;
using Locksmith.CodeFixes;
using Locksmith.Generators.Tests.Support;

namespace Locksmith.Generators.Tests;

/// <summary>LSM0031's fixes: one <c>Lock = nameof(…)</c> per lock member the generator would accept for the target.</summary>
public sealed class GuardWithLockCodeFixTests
{
    private static readonly GuardWithLockCodeFixProvider s_provider = new();

    [Fact]
    public async Task GuardedField_OneFixPerLockOfTheType_NotOtherMembers()
    {
        var titles = await CodeFixHarness.TitlesAsync(s_provider, """
            using Locksmith;

            public class Account
            {
                private readonly ExclusiveLock _lock = new();
                private readonly object _monitor = new();
                private static readonly ReentrantLock s_gate = new();
                public ReadWriteLock Rw { get; } = new();

                [Guarded] public int Balance;
            }
            """, "LSM0031");

        Assert.Equal(["Guard with '_lock'", "Guard with 's_gate'", "Guard with 'Rw'"], titles);
    }

    [Fact]
    public Task GuardedField_GetsLockNameof() => CodeFixHarness.AssertFixAsync(
        s_provider,
        """
        using Locksmith;

        public class Account
        {
            private readonly ExclusiveLock _lock = new();
            private readonly ReentrantLock _other = new();

            [Guarded] public int Balance;
        }
        """,
        "LSM0031",
        "Guard with '_other'",
        """
        using Locksmith;

        public class Account
        {
            private readonly ExclusiveLock _lock = new();
            private readonly ReentrantLock _other = new();

            [Guarded(Lock = nameof(_other))] public int Balance;
        }
        """);

    [Fact]
    public Task RecordPositionalProperty_GetsLockNameof() => CodeFixHarness.AssertFixAsync(
        s_provider,
        """
        using Locksmith;

        namespace Bank;

        public sealed record Ledger<T>([property: Guarded] int Total, T Memo)
        {
            private readonly ExclusiveLock _lock = new();
        }
        """,
        "LSM0031",
        "Guard with '_lock'",
        """
        using Locksmith;

        namespace Bank;

        public sealed record Ledger<T>([property: Guarded(Lock = nameof(Ledger<T>._lock))] int Total, T Memo)
        {
            private readonly ExclusiveLock _lock = new();
        }
        """);

    [Theory]
    [InlineData("[Guarded] /* under the lock */ public int Balance; // in cents", "[Guarded(Lock = nameof(_lock))] /* under the lock */ public int Balance; // in cents")]
    [InlineData("[Guarded /* which? */] public int Balance;", "[Guarded(Lock = nameof(_lock)) /* which? */] public int Balance;")]
    [InlineData("[Guarded(Lock = /* none yet */ \"\" /* empty */)] public int Balance;", "[Guarded(Lock = /* none yet */ nameof(_lock) /* empty */)] public int Balance;")]
    public Task CommentsAroundTheAttribute_Stay(string field, string expected)
    {
        const string Source = """
            using Locksmith;

            public class Account
            {
                private readonly ExclusiveLock _lock = new();

                // the balance
                FIELD
            }
            """;
        return CodeFixHarness.AssertFixAsync(s_provider, Source.Replace("FIELD", field), "LSM0031", "Guard with '_lock'", Source.Replace("FIELD", expected));
    }

    [Fact]
    public Task ReadAccessMethod_OnlyTheReadWriteLock_InsertedBeforeTheOtherArguments() => CodeFixHarness.AssertFixAsync(
        s_provider,
        """
        using Locksmith;

        public partial class Cache
        {
            private readonly ExclusiveLock _exclusive = new();
            private readonly ReadWriteLock _rw = new();
            public int Value;

            [Guarded(Access = LockAccess.Read, TimeoutMilliseconds = 100)]
            private int ReadCore() => Value;
        }
        """,
        "LSM0031",
        "Guard with '_rw'",
        """
        using Locksmith;

        public partial class Cache
        {
            private readonly ExclusiveLock _exclusive = new();
            private readonly ReadWriteLock _rw = new();
            public int Value;

            [Guarded(Lock = nameof(_rw), Access = LockAccess.Read, TimeoutMilliseconds = 100)]
            private int ReadCore() => Value;
        }
        """);

    private const string ReadCache = """
        using Locksmith;

        public partial class Cache
        {
            private readonly ExclusiveLock _exclusive = new();
            private readonly ReadWriteLock _rw = new();
            public int Value;

            ATTRIBUTE
            private int ReadCore() => Value;
        }
        """;

    [Theory]
    [InlineData(
        // One argument a line: the new one gets a line of its own, indented as the others.
        """
        [Guarded(
                Access = LockAccess.Read,
                TimeoutMilliseconds = 100)]
        """,
        """
        [Guarded(
                Lock = nameof(_rw),
                Access = LockAccess.Read,
                TimeoutMilliseconds = 100)]
        """)]
    [InlineData(
        // Aligned under the first: the new one takes the first's place, which goes to a line of its own.
        """
        [Guarded(Access = LockAccess.Read,
                     TimeoutMilliseconds = 100)]
        """,
        """
        [Guarded(Lock = nameof(_rw),
                     Access = LockAccess.Read,
                     TimeoutMilliseconds = 100)]
        """)]
    [InlineData(
        // A comment above an argument stays above it.
        """
        [Guarded(
                // readers share it
                Access = LockAccess.Read)]
        """,
        """
        [Guarded(
                Lock = nameof(_rw),
                // readers share it
                Access = LockAccess.Read)]
        """)]
    [InlineData(
        // On one line, a comment before an argument stays before it.
        "[Guarded(/* readers */ Access = LockAccess.Read)]",
        "[Guarded(Lock = nameof(_rw), /* readers */ Access = LockAccess.Read)]")]
    [InlineData(
        // A list of attributes over several lines.
        """
        [
                System.ComponentModel.Description("the value"),
                Guarded(Access = LockAccess.Read),
            ]
        """,
        """
        [
                System.ComponentModel.Description("the value"),
                Guarded(Lock = nameof(_rw), Access = LockAccess.Read),
            ]
        """)]
    public Task MultiLineAttributes_TheNewArgumentIsLaidOutAsTheOthers(string attribute, string expected) => CodeFixHarness.AssertFixAsync(
        s_provider,
        ReadCache.Replace("ATTRIBUTE", attribute),
        "LSM0031",
        "Guard with '_rw'",
        ReadCache.Replace("ATTRIBUTE", expected));

    [Fact]
    public Task KeyedLock_MultiLineAttribute_LockFirst_StripeByLast_EachOnItsLine() => CodeFixHarness.AssertFixAsync(
        s_provider,
        """
        using Locksmith;

        public partial class Sessions
        {
            private readonly StripedLock<string> _stripes = new(8);
            private int _n;

            [Guarded(
                TimeoutMilliseconds = 100)] // bounded
            private void TouchCore(string user, int count) => _n += count;
        }
        """,
        "LSM0031",
        "Guard with '_stripes', striped by 'user'",
        """
        using Locksmith;

        public partial class Sessions
        {
            private readonly StripedLock<string> _stripes = new(8);
            private int _n;

            [Guarded(
                Lock = nameof(_stripes),
                TimeoutMilliseconds = 100,
                StripeBy = nameof(user))] // bounded
            private void TouchCore(string user, int count) => _n += count;
        }
        """);

    [Fact]
    public async Task ReadAccessMethod_OffersNoExclusiveLock()
    {
        var titles = await CodeFixHarness.TitlesAsync(s_provider, """
            using Locksmith;

            public partial class Cache
            {
                private readonly ExclusiveLock _exclusive = new();
                private readonly ReadWriteLock _rw = new();
                public int Value;

                [Guarded(Access = LockAccess.Read)]
                private int ReadCore() => Value;
            }
            """, "LSM0031");

        Assert.Equal(["Guard with '_rw'"], titles);
    }

    [Fact]
    public Task EmptyLock_IsReplaced() => CodeFixHarness.AssertFixAsync(
        s_provider,
        """
        using Locksmith;

        public partial class Account
        {
            private readonly ExclusiveLock _lock = new();
            private int _n;

            [Guarded(Lock = "")]
            private void AddCore() => _n++;
        }
        """,
        "LSM0031",
        "Guard with '_lock'",
        """
        using Locksmith;

        public partial class Account
        {
            private readonly ExclusiveLock _lock = new();
            private int _n;

            [Guarded(Lock = nameof(_lock))]
            private void AddCore() => _n++;
        }
        """);

    [Fact]
    public async Task DerivedType_OffersTheBasesAccessibleLocks_NotItsPrivateOnes()
    {
        const string Source = """
            using Locksmith;

            public class Base
            {
                protected readonly ExclusiveLock Shared = new();
                private readonly ExclusiveLock _own = new();
            }

            public partial class Derived : Base
            {
                private int _n;

                [Guarded]
                private void AddCore() => _n++;
            }
            """;
        Assert.Equal(["Guard with 'Shared'"], await CodeFixHarness.TitlesAsync(s_provider, Source, "LSM0031"));
        await CodeFixHarness.AssertFixAsync(s_provider, Source, "LSM0031", "Guard with 'Shared'", Source.Replace("[Guarded]", "[Guarded(Lock = nameof(Shared))]"));
    }

    [Fact]
    public async Task AsyncMethod_OffersTheAsyncLocks_StaticMethodTheStaticOnes()
    {
        const string Source = """
            using System.Threading.Tasks;
            using Locksmith;

            public partial class Store
            {
                private readonly ExclusiveLock _sync = new();
                private readonly AsyncExclusiveLock _async = new();
                private static readonly AsyncExclusiveLock s_async = new();
                private int _n;

                [Guarded]
                private async Task SaveCoreAsync() { await Task.Yield(); _n++; }
            }
            """;
        Assert.Equal(["Guard with '_async'", "Guard with 's_async'"], await CodeFixHarness.TitlesAsync(s_provider, Source, "LSM0031"));
        await CodeFixHarness.AssertFixAsync(s_provider, Source, "LSM0031", "Guard with '_async'", Source.Replace("[Guarded]", "[Guarded(Lock = nameof(_async))]"));

        string staticMethod = Source.Replace("private async Task SaveCoreAsync() { await Task.Yield(); _n++; }", "private static async Task FlushCoreAsync() => await Task.Yield();");
        Assert.Equal(["Guard with 's_async'"], await CodeFixHarness.TitlesAsync(s_provider, staticMethod, "LSM0031"));
    }

    [Fact]
    public async Task KeyedLock_OneFixPerKeyParameter_SettingStripeByToo()
    {
        const string Source = """
            using Locksmith;

            public partial class Sessions
            {
                private readonly StripedLock<string> _stripes = new(8);
                private int _n;

                [Guarded]
                private void TouchCore(string user, int count, string? note) => _n += count;
            }
            """;
        // count is no string; note may be null where the key may not.
        Assert.Equal(["Guard with '_stripes', striped by 'user'"], await CodeFixHarness.TitlesAsync(s_provider, Source, "LSM0031"));
        await CodeFixHarness.AssertFixAsync(
            s_provider, Source, "LSM0031", "Guard with '_stripes', striped by 'user'",
            Source.Replace("[Guarded]", "[Guarded(Lock = nameof(_stripes), StripeBy = nameof(user))]"));
    }

    [Fact]
    public Task NoLockInTheType_NoFix() => CodeFixHarness.AssertNoFixAsync(
        s_provider,
        """
        using Locksmith;

        public class Account
        {
            private readonly object _gate = new();

            [Guarded] public int Balance;
        }
        """,
        "LSM0031", 1);

    [Fact]
    public Task SynchronousMethod_OnlyAsyncLocks_NoFix() => CodeFixHarness.AssertNoFixAsync(
        s_provider,
        """
        using Locksmith;

        public partial class Store
        {
            private readonly AsyncExclusiveLock _async = new();
            private int _n;

            [Guarded]
            private void SaveCore() => _n++;
        }
        """,
        "LSM0031", 1);

    [Fact]
    public async Task FixAll_GuardsEveryMemberWithTheChosenLock()
    {
        string fixedText = await CodeFixHarness.FixAllAsync(
            s_provider,
            """
            using Locksmith;

            public partial class Account
            {
                private readonly ExclusiveLock _lock = new();
                [Guarded] public int A, B;

                [Guarded]
                private int SumCore() => A + B;
            }
            """,
            "LSM0031",
            "LSM0031.Lock._lock");

        Assert.Equal(
            CodeFixHarness.Normalize("""
            using Locksmith;

            public partial class Account
            {
                private readonly ExclusiveLock _lock = new();
                [Guarded(Lock = nameof(_lock))] public int A, B;

                [Guarded(Lock = nameof(_lock))]
                private int SumCore() => A + B;
            }
            """),
            fixedText);
    }

    // A CRLF file keeps its line ends around the argument put on a line of its own (LF is the formatter's default).
    [Fact]
    public async Task ANewArgumentOnALineOfItsOwn_KeepsTheFilesCrLfLineEnds()
    {
        const string Source = """
            using Locksmith;

            public partial class Account
            {
                private readonly ExclusiveLock _lock = new();
                private int _n;

                [Guarded(
                    // the name
                    WrapperName = "Bump")]
                private void AddCore() => _n++;
            }
            """;
        const string Expected = """
            using Locksmith;

            public partial class Account
            {
                private readonly ExclusiveLock _lock = new();
                private int _n;

                [Guarded(
                    Lock = nameof(_lock),
                    // the name
                    WrapperName = "Bump")]
                private void AddCore() => _n++;
            }
            """;
        var document = CodeFixHarness.Document(CrLf(Source));
        var diagnostics = Assert.Single(await CodeFixHarness.DiagnosticsAsync(document, "LSM0031"));
        var action = Assert.Single(await CodeFixHarness.ActionsAsync(s_provider, document, diagnostics));
        var fixedDocument = await CodeFixHarness.ApplyAsync(action, document);
        Assert.Equal(CrLf(Expected), (await fixedDocument.GetTextAsync()).ToString());
        await CodeFixHarness.AssertCleanAsync(fixedDocument);
    }

    private static string CrLf(string text) => CodeFixHarness.Normalize(text).Replace("\n", "\r\n", System.StringComparison.Ordinal);
}
