using System.Threading.Tasks;
using Locksmith.CodeFixes;
using Locksmith.Generators.Tests.Support;

namespace Locksmith.Generators.Tests;

/// <summary>LSM0054's fix: the attribute goes from the backing field (<c>field:</c>) to the property.</summary>
public sealed class BackingFieldAttributeCodeFixTests
{
    private static readonly BackingFieldAttributeCodeFixProvider s_provider = new();

    [Fact]
    public Task AloneInItsList_TheTargetGoes() => CodeFixHarness.AssertFixAsync(
        s_provider,
        """
        using Locksmith;

        public partial class Vault
        {
            [field: LockOrder(5)]
            public ExclusiveLock Gate { get; } = new();

            private int _n;

            [Guarded(Lock = nameof(Gate))]
            private void AddCore() => _n++;
        }
        """,
        "LSM0054",
        "Move [LockOrder] to the property",
        """
        using Locksmith;

        public partial class Vault
        {
            [LockOrder(5)]
            public ExclusiveLock Gate { get; } = new();

            private int _n;

            [Guarded(Lock = nameof(Gate))]
            private void AddCore() => _n++;
        }
        """);

    [Fact]
    public Task BesideAnotherAttribute_ItGetsAListOfItsOwn_TheOtherStaysOnTheField() => CodeFixHarness.AssertFixAsync(
        s_provider,
        """
        using System;
        using Locksmith;

        public class Account
        {
            private readonly ExclusiveLock _lock = new();

            [field: NonSerialized, Guarded(Lock = nameof(_lock))]
            public int Balance { get; set; }
        }
        """,
        "LSM0054",
        "Move [Guarded] to the property",
        """
        using System;
        using Locksmith;

        public class Account
        {
            private readonly ExclusiveLock _lock = new();

            [Guarded(Lock = nameof(_lock))]
            [field: NonSerialized]
            public int Balance { get; set; }
        }
        """);

    [Fact]
    public Task AloneInItsList_CommentsStay() => CodeFixHarness.AssertFixAsync(
        s_provider,
        """
        using Locksmith;

        public partial class Vault
        {
            // the vault's gate
            [/* level */ field: LockOrder(5)] // after the ledger
            public ExclusiveLock Gate { get; } = new();
        }
        """,
        "LSM0054",
        "Move [LockOrder] to the property",
        """
        using Locksmith;

        public partial class Vault
        {
            // the vault's gate
            [/* level */ LockOrder(5)] // after the ledger
            public ExclusiveLock Gate { get; } = new();
        }
        """);

    [Fact]
    public Task BesideAnotherAttribute_CommentsStay_NoneTwice() => CodeFixHarness.AssertFixAsync(
        s_provider,
        """
        using System;
        using Locksmith;

        public class Account
        {
            private readonly ExclusiveLock _lock = new();

            // the balance
            [field: NonSerialized, /* ours */ Guarded(Lock = nameof(_lock))] // serialized apart
            public int Balance { get; set; }
        }
        """,
        "LSM0054",
        "Move [Guarded] to the property",
        """
        using System;
        using Locksmith;

        public class Account
        {
            private readonly ExclusiveLock _lock = new();

            // the balance
            [/* ours */ Guarded(Lock = nameof(_lock))]
            [field: NonSerialized] // serialized apart
            public int Balance { get; set; }
        }
        """);

    [Fact]
    public Task FirstOfTwo_ItsCommentGoesWithIt_NotLeftTwice() => CodeFixHarness.AssertFixAsync(
        s_provider,
        """
        using System;
        using Locksmith;

        public class Account
        {
            private readonly ExclusiveLock _lock = new();

            [field: /* ours */ Guarded(Lock = nameof(_lock)), NonSerialized]
            public int Balance { get; set; }
        }
        """,
        "LSM0054",
        "Move [Guarded] to the property",
        """
        using System;
        using Locksmith;

        public class Account
        {
            private readonly ExclusiveLock _lock = new();

            [/* ours */ Guarded(Lock = nameof(_lock))]
            [field: NonSerialized]
            public int Balance { get; set; }
        }
        """);

    // The comment after the comma that follows it is the next attribute's (as the comment before it is its own): it stays.
    [Fact]
    public Task FirstOfTwo_TheCommentBeforeTheNext_StaysWithThatOne() => CodeFixHarness.AssertFixAsync(
        s_provider,
        """
        using System;
        using Locksmith;

        public class Account
        {
            private readonly ExclusiveLock _lock = new();

            [field: Guarded(Lock = nameof(_lock)), /* theirs */ NonSerialized]
            public int Balance { get; set; }
        }
        """,
        "LSM0054",
        "Move [Guarded] to the property",
        """
        using System;
        using Locksmith;

        public class Account
        {
            private readonly ExclusiveLock _lock = new();

            [Guarded(Lock = nameof(_lock))]
            [field: /* theirs */ NonSerialized]
            public int Balance { get; set; }
        }
        """);

    [Fact]
    public Task InTheMiddle_ALineCommentBeforeIt_GoesWithIt_TheOthersKeepTheirLines() => CodeFixHarness.AssertFixAsync(
        s_provider,
        """
        using System;
        using Locksmith;

        public class Account
        {
            private readonly ExclusiveLock _lock = new();

            [field: NonSerialized, // ours
                Guarded(Lock = nameof(_lock)),
                CLSCompliant(false)]
            public int Balance { get; set; }
        }
        """,
        "LSM0054",
        "Move [Guarded] to the property",
        """
        using System;
        using Locksmith;

        public class Account
        {
            private readonly ExclusiveLock _lock = new();

            // ours
            [Guarded(Lock = nameof(_lock))]
            [field: NonSerialized,
                CLSCompliant(false)]
            public int Balance { get; set; }
        }
        """);

    [Fact]
    public Task AloneInItsList_ALineCommentAfterTheTarget_GoesAboveTheList() => CodeFixHarness.AssertFixAsync(
        s_provider,
        """
        using Locksmith;

        public partial class Vault
        {
            // the vault's gate
            [field: // after the ledger
                /* level */ LockOrder(5)]
            public ExclusiveLock Gate { get; } = new();
        }
        """,
        "LSM0054",
        "Move [LockOrder] to the property",
        """
        using Locksmith;

        public partial class Vault
        {
            // the vault's gate
            // after the ledger
            [/* level */ LockOrder(5)]
            public ExclusiveLock Gate { get; } = new();
        }
        """);

    [Fact]
    public Task AloneInItsList_ACommentAfterTheTarget_Stays() => CodeFixHarness.AssertFixAsync(
        s_provider,
        """
        using Locksmith;

        public partial class Vault
        {
            [field: /* after the ledger */ LockOrder(5)]
            public ExclusiveLock Gate { get; } = new();
        }
        """,
        "LSM0054",
        "Move [LockOrder] to the property",
        """
        using Locksmith;

        public partial class Vault
        {
            [/* after the ledger */ LockOrder(5)]
            public ExclusiveLock Gate { get; } = new();
        }
        """);

    [Fact]
    public Task BesideOthers_LineCommentsBeforeIt_GoAboveTheList_ACommentAfterItStays() => CodeFixHarness.AssertFixAsync(
        s_provider,
        """
        using System;
        using Locksmith;

        public class Account
        {
            private readonly ExclusiveLock _lock = new();

            [field: NonSerialized, /* ours */ // one
                // two
                /* three */ Guarded(Lock = nameof(_lock)) /* guarded */]
            public int Balance { get; set; }
        }
        """,
        "LSM0054",
        "Move [Guarded] to the property",
        """
        using System;
        using Locksmith;

        public class Account
        {
            private readonly ExclusiveLock _lock = new();

            /* ours */ // one
            // two
            [/* three */ Guarded(Lock = nameof(_lock)) /* guarded */]
            [field: NonSerialized]
            public int Balance { get; set; }
        }
        """);

    [Fact]
    public Task BesideOthers_ALineCommentAfterIt_EndsItsNewList() => CodeFixHarness.AssertFixAsync(
        s_provider,
        """
        using System;
        using Locksmith;

        public class Account
        {
            private readonly ExclusiveLock _lock = new();

            [field: Guarded(Lock = nameof(_lock)) // ours
                , NonSerialized]
            public int Balance { get; set; }
        }
        """,
        "LSM0054",
        "Move [Guarded] to the property",
        """
        using System;
        using Locksmith;

        public class Account
        {
            private readonly ExclusiveLock _lock = new();

            [Guarded(Lock = nameof(_lock))] // ours
            [field: NonSerialized]
            public int Balance { get; set; }
        }
        """);

    [Fact]
    public Task ADirectiveInsideTheList_NoFix() => CodeFixHarness.AssertNoFixAsync(
        s_provider,
        """
        using System;
        using Locksmith;

        public class Account
        {
            private readonly ExclusiveLock _lock = new();

            [field: NonSerialized,
        #if !NEVER
                Guarded(Lock = nameof(_lock))
        #endif
            ]
            public int Balance { get; set; }
        }
        """,
        "LSM0054",
        1);

    [Fact]
    public Task ThePropertyHasTheAttributeAlready_NoFix() => CodeFixHarness.AssertNoFixAsync(
        s_provider,
        """
        using Locksmith;

        public class Vault
        {
            [LockOrder(5)]
            [field: LockOrder(6)]
            public ExclusiveLock Gate { get; } = new();
        }
        """,
        "LSM0054",
        1);

    [Fact]
    public Task OnARecordsPositionalParameter_AloneInItsList_TheTargetBecomesProperty() => CodeFixHarness.AssertFixAsync(
        s_provider,
        """
        using Locksmith;

        public sealed partial record Vault([field: LockOrder(5)] ExclusiveLock Gate)
        {
            private int _n;

            [Guarded(Lock = nameof(Gate))]
            private void AddCore() => _n++;
        }
        """,
        "LSM0054",
        "Move [LockOrder] to the property",
        """
        using Locksmith;

        public sealed partial record Vault([property: LockOrder(5)] ExclusiveLock Gate)
        {
            private int _n;

            [Guarded(Lock = nameof(Gate))]
            private void AddCore() => _n++;
        }
        """);

    [Fact]
    public Task OnARecordsPositionalParameter_BesideAnotherAttribute_ItGetsAPropertyListOfItsOwn() => CodeFixHarness.AssertFixAsync(
        s_provider,
        """
        using System;
        using Locksmith;

        public sealed record Pair([property: LockOrder(5)] ExclusiveLock First, [field: NonSerialized, LockOrder(6)] ExclusiveLock Second);
        """,
        "LSM0054",
        "Move [LockOrder] to the property",
        """
        using System;
        using Locksmith;

        public sealed record Pair([property: LockOrder(5)] ExclusiveLock First, [property: LockOrder(6)] [field: NonSerialized] ExclusiveLock Second);
        """);

    // Its comment goes into its own list with it, not dropped.
    [Fact]
    public Task OnARecordsPositionalParameter_BesideAnotherAttribute_ItsCommentGoesWithIt() => CodeFixHarness.AssertFixAsync(
        s_provider,
        """
        using System;
        using Locksmith;

        public sealed record Pair([field: NonSerialized, /* ours */ LockOrder(6)] ExclusiveLock Second);
        """,
        "LSM0054",
        "Move [LockOrder] to the property",
        """
        using System;
        using Locksmith;

        public sealed record Pair([property: /* ours */ LockOrder(6)] [field: NonSerialized] ExclusiveLock Second);
        """);

    // The comment after the comma that follows it is the next attribute's: it stays.
    [Fact]
    public Task OnARecordsPositionalParameter_FirstOfTwo_TheCommentBeforeTheNext_StaysWithThatOne() => CodeFixHarness.AssertFixAsync(
        s_provider,
        """
        using System;
        using Locksmith;

        public sealed record Pair([field: LockOrder(6), /* theirs */ NonSerialized] ExclusiveLock Second);
        """,
        "LSM0054",
        "Move [LockOrder] to the property",
        """
        using System;
        using Locksmith;

        public sealed record Pair([property: LockOrder(6)] [field: /* theirs */ NonSerialized] ExclusiveLock Second);
        """);

    [Fact]
    public Task OnARecordsPositionalParameter_ThePropertyHasTheAttributeAlready_NoFix() => CodeFixHarness.AssertNoFixAsync(
        s_provider,
        """
        using Locksmith;

        public sealed record Vault([property: LockOrder(5)][field: LockOrder(6)] ExclusiveLock Gate);
        """,
        "LSM0054",
        1);
}
