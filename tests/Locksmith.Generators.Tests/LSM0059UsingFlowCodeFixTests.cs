using System.Threading.Tasks;
using Locksmith.CodeFixes;
using Locksmith.Generators.Tests.Support;

namespace Locksmith.Generators.Tests;

/// <summary>
/// LSM0059's fix: the claim kept in a <c>using</c> declaration (a dropped one under a fresh name, a local declared with
/// <c>using</c>, and its Dispose dropped where it was the block's last statement); nothing where that would move the end
/// of the claim or cannot compile.
/// </summary>
public sealed class LSM0059UsingFlowCodeFixTests
{
    private static readonly UsingFlowCodeFixProvider s_provider = new();

    private const string Helpers = """

        public static class Ledger
        {
            public static readonly AsyncExclusiveLock Lock = new();

            public static async Task<AsyncLockScope> TakeLedgerAsync()
            {
                await Task.Yield();
                return await Lock.AcquireAsync();
            }

            public static void Work() { }
        }
        """;

    [Fact]
    public Task ADroppedClaim_BecomesAUsingDeclaration() => CodeFixHarness.AssertFixAsync(
        s_provider,
        """
        using System.Threading.Tasks;
        using Locksmith;

        public class Posting
        {
            public async Task PostAsync()
            {
                // the caller's flow owns what the helper takes
                AsyncLockFlow.Begin(); // begun here
                using var scope = await Ledger.TakeLedgerAsync();
            }
        }
        """ + Helpers,
        "LSM0059",
        "Keep the claim in 'using var flow'",
        """
        using System.Threading.Tasks;
        using Locksmith;

        public class Posting
        {
            public async Task PostAsync()
            {
                // the caller's flow owns what the helper takes
                using var flow = AsyncLockFlow.Begin(); // begun here
                using var scope = await Ledger.TakeLedgerAsync();
            }
        }
        """ + Helpers);

    [Fact]
    public Task ADiscardedClaim_TakesANameTheMemberDoesNotUse() => CodeFixHarness.AssertFixAsync(
        s_provider,
        """
        using System.Threading.Tasks;
        using Locksmith;

        public class Posting
        {
            private int flow;

            public async Task PostAsync(int flow2)
            {
                _ = AsyncLockFlow.Begin();
                using var scope = await Ledger.TakeLedgerAsync();
                this.flow = flow2;
            }
        }
        """ + Helpers,
        "LSM0059",
        "Keep the claim in 'using var flow3'",
        """
        using System.Threading.Tasks;
        using Locksmith;

        public class Posting
        {
            private int flow;

            public async Task PostAsync(int flow2)
            {
                using var flow3 = AsyncLockFlow.Begin();
                using var scope = await Ledger.TakeLedgerAsync();
                this.flow = flow2;
            }
        }
        """ + Helpers);

    [Fact]
    public Task ALocalNeverDisposed_IsDeclaredWithUsing() => CodeFixHarness.AssertFixAsync(
        s_provider,
        """
        using System.Threading.Tasks;
        using Locksmith;

        public class Posting
        {
            public async Task PostAsync()
            {
                AsyncLockFlowScope begun = AsyncLockFlow.Begin();
                using var scope = await Ledger.TakeLedgerAsync();
            }
        }
        """ + Helpers,
        "LSM0059",
        "Declare 'begun' with 'using'",
        """
        using System.Threading.Tasks;
        using Locksmith;

        public class Posting
        {
            public async Task PostAsync()
            {
                using AsyncLockFlowScope begun = AsyncLockFlow.Begin();
                using var scope = await Ledger.TakeLedgerAsync();
            }
        }
        """ + Helpers);

    [Fact]
    public Task ALocalDisposedLastInItsBlock_IsDeclaredWithUsing_AndItsDisposeDropped() => CodeFixHarness.AssertFixAsync(
        s_provider,
        """
        using System.Threading.Tasks;
        using Locksmith;

        public class Posting
        {
            public async Task PostAsync()
            {
                var flow = AsyncLockFlow.Begin();
                using (await Ledger.TakeLedgerAsync())
                {
                    Ledger.Work();
                }

                flow.Dispose();
            }
        }
        """ + Helpers,
        "LSM0059",
        "Declare 'flow' with 'using' and drop its Dispose()",
        """
        using System.Threading.Tasks;
        using Locksmith;

        public class Posting
        {
            public async Task PostAsync()
            {
                using var flow = AsyncLockFlow.Begin();
                using (await Ledger.TakeLedgerAsync())
                {
                    Ledger.Work();
                }
            }
        }
        """ + Helpers);

    /// <summary>A claim made through <c>?.</c>, reported whole, is kept whole: <c>using</c> takes the nullable scope.</summary>
    [Fact]
    public Task AClaimMadeThroughAConditionalCall_IsKeptWhole() => CodeFixHarness.AssertFixAsync(
        s_provider,
        """
        using System.Threading.Tasks;
        using Locksmith;

        public class Posting
        {
            public async Task PostAsync(Starter? starter)
            {
                starter?.Next?.BeginFlow();
                using var scope = await Ledger.TakeLedgerAsync();
            }
        }

        public class Starter
        {
            public Starter? Next { get; set; }

            public AsyncLockFlowScope BeginFlow() => AsyncLockFlow.Begin();
        }
        """ + Helpers,
        "LSM0059",
        "Keep the claim in 'using var flow'",
        """
        using System.Threading.Tasks;
        using Locksmith;

        public class Posting
        {
            public async Task PostAsync(Starter? starter)
            {
                using var flow = starter?.Next?.BeginFlow();
                using var scope = await Ledger.TakeLedgerAsync();
            }
        }

        public class Starter
        {
            public Starter? Next { get; set; }

            public AsyncLockFlowScope BeginFlow() => AsyncLockFlow.Begin();
        }
        """ + Helpers);

    [Fact]
    public Task InTopLevelStatements_TheClaimIsKeptThere() => CodeFixHarness.AssertFixAsync(
        s_provider,
        """
        using System.Threading.Tasks;
        using Locksmith;

        AsyncLockFlow.Begin();
        using var scope = await Ledger.TakeLedgerAsync();
        """ + Helpers,
        "LSM0059",
        "Keep the claim in 'using var flow'",
        """
        using System.Threading.Tasks;
        using Locksmith;

        using var flow = AsyncLockFlow.Begin();
        using var scope = await Ledger.TakeLedgerAsync();
        """ + Helpers);

    [Fact]
    public Task WhereAUsingDeclarationWouldMoveTheEndOrCannotCompile_NoFix() => CodeFixHarness.AssertNoFixAsync(
        s_provider,
        """
        using System.Threading.Tasks;
        using Locksmith;

        public class Posting
        {
            // The Dispose before more work: 'using' would hold the claim over that work too.
            public async Task DisposedMidwayAsync()
            {
                var flow = AsyncLockFlow.Begin();
                using (await Ledger.TakeLedgerAsync())
                {
                }

                flow.Dispose();
                Ledger.Work();
            }

            public void ExpressionBodied() => AsyncLockFlow.Begin();

            public void Embedded(bool begin)
            {
                if (begin) AsyncLockFlow.Begin();
            }

            public void InASwitchSection(int k)
            {
                switch (k)
                {
                    case 1:
                        AsyncLockFlow.Begin();
                        Ledger.Work();
                        break;
                }
            }

            public void PastALabel(bool skip)
            {
                if (skip) goto done;
                AsyncLockFlow.Begin();
                Ledger.Work();
                done:
                Ledger.Work();
            }
        }
        """ + Helpers,
        "LSM0059",
        5);

    // A using local cannot be assigned (CS1656) nor passed as out (CS1657): the fix would not compile.
    [Fact]
    public Task ALocalWrittenAgain_NoFix() => CodeFixHarness.AssertNoFixAsync(
        s_provider,
        """
        using System.Threading.Tasks;
        using Locksmith;

        public class Posting
        {
            public void Reassigned()
            {
                var flow = AsyncLockFlow.Begin();
                Ledger.Work();
                flow = AsyncLockFlow.Begin();
            }

            public void PassedOut()
            {
                var flow = AsyncLockFlow.Begin();
                Replace(out flow);
            }

            private static void Replace(out AsyncLockFlowScope flow) => flow = default;
        }
        """ + Helpers,
        "LSM0059",
        3);

    // 'using var flow = (object)…' would not compile (CS1674): the boxing cast of a discarded claim is left out.
    [Fact]
    public Task ADroppedClaimCastToObject_IsDeclaredWithoutTheCast() => CodeFixHarness.AssertFixAsync(
        s_provider,
        """
        using System.Threading.Tasks;
        using Locksmith;

        public class Posting
        {
            public void Post()
            {
                _ = (object)AsyncLockFlow.Begin(); // begun here
                Ledger.Work();
            }
        }
        """ + Helpers,
        "LSM0059",
        "Keep the claim in 'using var flow'",
        """
        using System.Threading.Tasks;
        using Locksmith;

        public class Posting
        {
            public void Post()
            {
                using var flow = AsyncLockFlow.Begin(); // begun here
                Ledger.Work();
            }
        }
        """ + Helpers);

    // Leaving out a conversion of the user's would skip what it does: no fix.
    [Fact]
    public Task ADroppedClaimThroughAUserConversion_NoFix() => CodeFixHarness.AssertNoFixAsync(
        s_provider,
        """
        using System.Threading.Tasks;
        using Locksmith;

        public readonly struct Ticket
        {
            public static explicit operator Ticket(AsyncLockFlowScope scope)
            {
                Ledger.Work();
                return default;
            }
        }

        public class Posting
        {
            public void Post()
            {
                _ = (Ticket)AsyncLockFlow.Begin();
                Ledger.Work();
            }
        }
        """ + Helpers,
        "LSM0059",
        1);

    [Fact]
    public async Task FixAll_GivesEachDroppedClaimOfAMemberItsOwnName()
    {
        string fixedText = await CodeFixHarness.FixAllAsync(
            s_provider,
            """
            using System.Threading.Tasks;
            using Locksmith;

            public class Posting
            {
                public async Task PostAsync()
                {
                    AsyncLockFlow.Begin();
                    using var scope = await Ledger.TakeLedgerAsync();
                    AsyncLockFlow.Begin();
                }

                public void Other()
                {
                    var kept = AsyncLockFlow.Begin();
                    Ledger.Work();
                    kept.Dispose();
                }
            }
            """ + Helpers,
            "LSM0059",
            "LSM0059");
        Assert.Equal(
            CodeFixHarness.Normalize("""
            using System.Threading.Tasks;
            using Locksmith;

            public class Posting
            {
                public async Task PostAsync()
                {
                    using var flow = AsyncLockFlow.Begin();
                    using var scope = await Ledger.TakeLedgerAsync();
                    using var flow2 = AsyncLockFlow.Begin();
                }

                public void Other()
                {
                    using var kept = AsyncLockFlow.Begin();
                    Ledger.Work();
                }
            }
            """ + Helpers),
            fixedText);
    }
}
