using System.Threading.Tasks;
using Locksmith.CodeFixes;
using Locksmith.Generators.Tests.Support;
using Microsoft.CodeAnalysis.CSharp;

namespace Locksmith.Generators.Tests;

/// <summary>LSM0008's fixes: one <c>StripeBy = nameof(…)</c> per parameter that can be the keyed lock's key.</summary>
public sealed class StripeByCodeFixTests
{
    private static readonly StripeByCodeFixProvider s_provider = new();

    private const string Source = """
        using Locksmith;

        public partial class Ledger
        {
            private readonly StripedLock<long> _stripes = new(8);
            private long _total;

            [Guarded(Lock = nameof(_stripes))]
            private void PostCore(int id, long account, string memo, out long total) => total = _total += id + account + memo.Length;
        }
        """;

    [Fact]
    public async Task OneFixPerParameterConvertingToTheKey_NotOthersNorOutParameters()
    {
        Assert.Equal(["Stripe by 'id'", "Stripe by 'account'"], await CodeFixHarness.TitlesAsync(s_provider, Source, "LSM0008"));
    }

    [Fact]
    public Task StripeByIsAddedAfterLock() => CodeFixHarness.AssertFixAsync(
        s_provider,
        Source,
        "LSM0008",
        "Stripe by 'account'",
        Source.Replace("[Guarded(Lock = nameof(_stripes))]", "[Guarded(Lock = nameof(_stripes), StripeBy = nameof(account))]"));

    [Fact]
    public Task BeforeCSharp11_TheParameterIsNamedByAString() => CodeFixHarness.AssertFixAsync(
        s_provider,
        Source,
        "LSM0008",
        "Stripe by 'id'",
        Source.Replace("[Guarded(Lock = nameof(_stripes))]", "[Guarded(Lock = nameof(_stripes), StripeBy = \"id\")]"),
        LanguageVersion.CSharp10);

    [Fact]
    public Task EmptyStripeBy_IsReplaced() => CodeFixHarness.AssertFixAsync(
        s_provider,
        Source.Replace("[Guarded(Lock = nameof(_stripes))]", "[Guarded(StripeBy = \"\", Lock = nameof(_stripes))]"),
        "LSM0008",
        "Stripe by 'id'",
        Source.Replace("[Guarded(Lock = nameof(_stripes))]", "[Guarded(StripeBy = nameof(id), Lock = nameof(_stripes))]"));

    [Theory]
    [InlineData(
        """
        [Guarded(
                Lock = nameof(_stripes))]
        """,
        """
        [Guarded(
                Lock = nameof(_stripes),
                StripeBy = nameof(account))]
        """)]
    [InlineData(
        """
        [Guarded(
                Lock = nameof(_stripes),
                TimeoutMilliseconds = 100)]
        """,
        """
        [Guarded(
                Lock = nameof(_stripes),
                TimeoutMilliseconds = 100,
                StripeBy = nameof(account))]
        """)]
    [InlineData(
        // The closing parenthesis on a line of its own, after a comment: the comment stays with its argument.
        """
        [Guarded(
                Lock = nameof(_stripes) // one stripe per account
            )]
        """,
        """
        [Guarded(
                Lock = nameof(_stripes), // one stripe per account
                StripeBy = nameof(account)
            )]
        """)]
    [InlineData(
        // On the line of the parenthesis, a comment after it: the comment ends the line still.
        """
        [Guarded(Lock = nameof(_stripes) // one stripe per account
            )]
        """,
        """
        [Guarded(Lock = nameof(_stripes), StripeBy = nameof(account) // one stripe per account
            )]
        """)]
    [InlineData(
        """
        [Guarded(Lock = nameof(_stripes),
                     TimeoutMilliseconds = 100)] // bounded
        """,
        """
        [Guarded(Lock = nameof(_stripes),
                     TimeoutMilliseconds = 100,
                     StripeBy = nameof(account))] // bounded
        """)]
    public Task MultiLineAttributes_StripeByIsLaidOutAsTheOthers(string attribute, string expected) => CodeFixHarness.AssertFixAsync(
        s_provider,
        Source.Replace("[Guarded(Lock = nameof(_stripes))]", attribute),
        "LSM0008",
        "Stripe by 'account'",
        Source.Replace("[Guarded(Lock = nameof(_stripes))]", expected));

    [Fact]
    public Task CommentsAroundTheAttribute_Stay() => CodeFixHarness.AssertFixAsync(
        s_provider,
        Source.Replace("    [Guarded(Lock = nameof(_stripes))]", "    // one stripe per account\n    [Guarded(Lock = nameof(_stripes) /* the stripes */)] // posts"),
        "LSM0008",
        "Stripe by 'account'",
        Source.Replace("    [Guarded(Lock = nameof(_stripes))]", "    // one stripe per account\n    [Guarded(Lock = nameof(_stripes) /* the stripes */, StripeBy = nameof(account))] // posts"));

    [Fact]
    public async Task FixAll_StripesEveryMethodByItsParameter_EachAttributeInItsOwnLayout()
    {
        string fixedText = await CodeFixHarness.FixAllAsync(
            s_provider,
            """
            using Locksmith;

            public partial class Ledger
            {
                private readonly StripedLock<long> _stripes = new(8);
                private long _total;

                [Guarded(Lock = nameof(_stripes))]
                private void PostCore(long id) => _total += id;

                [Guarded(
                    Lock = nameof(_stripes),
                    TimeoutMilliseconds = 100)]
                private void UndoCore(long id) => _total -= id;
            }
            """,
            "LSM0008",
            "LSM0008.StripeBy.id");

        Assert.Equal(
            CodeFixHarness.Normalize("""
            using Locksmith;

            public partial class Ledger
            {
                private readonly StripedLock<long> _stripes = new(8);
                private long _total;

                [Guarded(Lock = nameof(_stripes), StripeBy = nameof(id))]
                private void PostCore(long id) => _total += id;

                [Guarded(
                    Lock = nameof(_stripes),
                    TimeoutMilliseconds = 100,
                    StripeBy = nameof(id))]
                private void UndoCore(long id) => _total -= id;
            }
            """),
            fixedText);
    }

    [Fact]
    public Task NoParameterConvertsToTheKey_NoFix() => CodeFixHarness.AssertNoFixAsync(
        s_provider,
        """
        using Locksmith;

        public partial class Sessions
        {
            private readonly StripedLock<string> _stripes = new(8);
            private int _n;

            [Guarded(Lock = nameof(_stripes))]
            private void TouchCore(int count) => _n += count;
        }
        """,
        "LSM0008", 1);
}
