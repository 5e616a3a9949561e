using System.Threading.Tasks;
using Locksmith.CodeFixes;
using Locksmith.Generators.Tests.Support;

namespace Locksmith.Generators.Tests;

/// <summary>LSM0001's fix: <c>partial</c> on the type of the guarded method and on every type around it that lacks it.</summary>
public sealed class MakePartialCodeFixTests
{
    private static readonly MakePartialCodeFixProvider s_provider = new();

    [Fact]
    public Task NestedTypes_BothMadePartial_KeepingTheirModifiers() => CodeFixHarness.AssertFixAsync(
        s_provider,
        """
        using Locksmith;

        public class Outer
        {
            internal sealed class Account
            {
                private readonly ExclusiveLock _lock = new();
                private int _n;

                [Guarded(Lock = nameof(_lock))]
                private void AddCore() => _n++;
            }
        }
        """,
        "LSM0001",
        "Make 'Account' and 'Outer' partial",
        """
        using Locksmith;

        public partial class Outer
        {
            internal sealed partial class Account
            {
                private readonly ExclusiveLock _lock = new();
                private int _n;

                [Guarded(Lock = nameof(_lock))]
                private void AddCore() => _n++;
            }
        }
        """);

    [Fact]
    public Task TypeWithoutModifiers_PartialGoesAfterItsDocCommentAndAttributes() => CodeFixHarness.AssertFixAsync(
        s_provider,
        """
        using Locksmith;

        partial class Outer
        {
            /// <summary>A counter.</summary>
            [System.Obsolete("old")]
            struct Counter
            {
                private readonly ExclusiveLock _lock;
                private int _n;

                public Counter(ExclusiveLock gate) { _lock = gate; _n = 0; }

                [Guarded(Lock = nameof(_lock))]
                private int NextCore() => ++_n;
            }
        }
        """,
        "LSM0001",
        "Make 'Counter' partial",
        """
        using Locksmith;

        partial class Outer
        {
            /// <summary>A counter.</summary>
            [System.Obsolete("old")]
            partial struct Counter
            {
                private readonly ExclusiveLock _lock;
                private int _n;

                public Counter(ExclusiveLock gate) { _lock = gate; _n = 0; }

                [Guarded(Lock = nameof(_lock))]
                private int NextCore() => ++_n;
            }
        }
        """);

    [Fact]
    public Task CommentsAroundTheDeclarations_Stay() => CodeFixHarness.AssertFixAsync(
        s_provider,
        """
        using Locksmith;

        // the outer type
        public /* shared */ class Outer // holds the counter
        {
            /* the counter */ class Counter // counts
            {
                private readonly ExclusiveLock _lock = new();
                private int _n;

                [Guarded(Lock = nameof(_lock))]
                private void AddCore() => _n++;
            }
        }
        """,
        "LSM0001",
        "Make 'Counter' and 'Outer' partial",
        """
        using Locksmith;

        // the outer type
        public /* shared */ partial class Outer // holds the counter
        {
            /* the counter */ partial class Counter // counts
            {
                private readonly ExclusiveLock _lock = new();
                private int _n;

                [Guarded(Lock = nameof(_lock))]
                private void AddCore() => _n++;
            }
        }
        """);

    [Fact]
    public async Task FixAll_MakesEachTypePartialOnce_ThoughEveryGuardedMethodReportsIt()
    {
        string fixedText = await CodeFixHarness.FixAllAsync(
            s_provider,
            """
            using Locksmith;

            public class Outer
            {
                public class Account
                {
                    private readonly ExclusiveLock _lock = new();
                    private int _n;

                    [Guarded(Lock = nameof(_lock))]
                    private void AddCore() => _n++;

                    [Guarded(Lock = nameof(_lock))]
                    private int ReadCore() => _n;
                }
            }

            public record Ledger
            {
                private readonly ExclusiveLock _lock = new();
                private int _n;

                [Guarded(Lock = nameof(_lock))]
                private void PostCore() => _n++;
            }
            """,
            "LSM0001",
            "LSM0001");

        Assert.Equal(
            CodeFixHarness.Normalize("""
            using Locksmith;

            public partial class Outer
            {
                public partial class Account
                {
                    private readonly ExclusiveLock _lock = new();
                    private int _n;

                    [Guarded(Lock = nameof(_lock))]
                    private void AddCore() => _n++;

                    [Guarded(Lock = nameof(_lock))]
                    private int ReadCore() => _n;
                }
            }

            public partial record Ledger
            {
                private readonly ExclusiveLock _lock = new();
                private int _n;

                [Guarded(Lock = nameof(_lock))]
                private void PostCore() => _n++;
            }
            """),
            fixedText);
    }
}
