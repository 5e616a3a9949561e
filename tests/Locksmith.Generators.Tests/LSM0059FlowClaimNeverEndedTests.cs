using System.Globalization;
using System.Linq;
using Locksmith.Generators.Tests.Support;
using Microsoft.CodeAnalysis;

namespace Locksmith.Generators.Tests;

/// <summary>
/// LSM0059 at <c>AsyncLockFlow.Begin()</c> (or a method of the user's returning its <c>AsyncLockFlowScope</c>) whose claim
/// is never ended: the scope dropped, kept in a local never disposed, or disposed only outside a <c>finally</c>. Such a
/// claim keeps its hold on the flow's record, so the frame stays claimed and what it starts later is one flow
/// (<c>AsyncLockFlowNeverEndedTests</c> shows it at run time). Not reported where the scope is disposed by a
/// <c>using</c>, in a <c>finally</c> or a <c>catch</c>, or handed on (returned, stored, passed, captured).
/// </summary>
public sealed class LSM0059FlowClaimNeverEndedTests
{
    private const string Helpers = """
        public static class Ledger
        {
            public static readonly AsyncExclusiveLock Lock = new();

            public static async Task<AsyncLockScope> TakeLedgerAsync()
            {
                await Task.Yield();
                return await Lock.AcquireAsync();
            }

            // Begins the flow in its caller's frame, as Begin does (a synchronous method's context is its caller's).
            public static AsyncLockFlowScope BeginLedger() => AsyncLockFlow.Begin();

            public static void Work() { }

            public static void Keep(AsyncLockFlowScope flow) => flow.Dispose();
        }
        """;

    [Fact]
    public void LSM0059_WhereTheClaimIsDropped() => Compiles(DiagnosticCheck.Verify("""
        using System;
        using System.Threading.Tasks;
        using Locksmith;
        public sealed class Posting
        {
            public async Task StatementAsync()
            {
                {|LSM0059:AsyncLockFlow.Begin()|};
                using var scope = await Ledger.TakeLedgerAsync();
            }

            public void Discarded()
            {
                _ = {|LSM0059:Locksmith.AsyncLockFlow.Begin()|};
            }

            public int OnlyItsIdRead() => ({|LSM0059:AsyncLockFlow.Begin()|}).FlowId;

            public void ExpressionBodied() => {|LSM0059:AsyncLockFlow.Begin()|};

            public Action InALambda() => () => {|LSM0059:AsyncLockFlow.Begin()|};

            public async void OnClick()
            {
                {|LSM0059:AsyncLockFlow.Begin()|};
                using var scope = await Ledger.TakeLedgerAsync();
            }

            // A method of the user's returning the claim begins the flow as Begin does.
            public async Task ThroughAMethodOfTheUsersAsync()
            {
                {|LSM0059:Ledger.BeginLedger()|};
                using var scope = await Ledger.TakeLedgerAsync();
            }
        }
        """ + Helpers));

    [Fact]
    public void LSM0059_WhereTheLocalIsNeverDisposed() => Compiles(Markup.AssertDiagnostics("""
        using System;
        using System.Threading.Tasks;
        using Locksmith;
        public sealed class Posting
        {
            public async Task KeptAsync()
            {
                var flow = {|LSM0059:AsyncLockFlow.Begin()|};
                using var scope = await Ledger.TakeLedgerAsync();
            }

            public void AssignedToALocalDeclaredBefore()
            {
                AsyncLockFlowScope flow;
                flow = {|LSM0059:AsyncLockFlow.Begin()|};
                Ledger.Work();
            }

            public int OnlyItsIdReadAndItsNameTaken()
            {
                var flow = {|LSM0059:AsyncLockFlow.Begin()|};
                Console.WriteLine(nameof(flow));
                return flow.FlowId;
            }

            public void WrittenOver()
            {
                var flow = {|LSM0059:AsyncLockFlow.Begin()|};
                flow = default;
                flow.Dispose();
            }

            public void KeptAsIDisposable()
            {
                IDisposable flow = {|LSM0059:AsyncLockFlow.Begin()|};
                Ledger.Work();
            }
        }
        """ + Helpers));

    [Fact]
    public void LSM0059_WhereTheLocalIsDisposedOnlyOutsideAFinally() => Compiles(Markup.AssertDiagnostics("""
        using System;
        using System.Threading.Tasks;
        using Locksmith;
        public sealed class Posting
        {
            public async Task DisposedAfterTheWorkAsync()
            {
                var flow = {|LSM0059:AsyncLockFlow.Begin()|};
                using (await Ledger.TakeLedgerAsync())
                {
                }

                flow.Dispose();
            }

            public void DisposedOnOnePath(bool done)
            {
                var flow = {|LSM0059:AsyncLockFlow.Begin()|};
                Ledger.Work();
                if (done)
                {
                    flow.Dispose();
                }
            }

            // A finally of a try that is over before the Begin protects nothing of it.
            public void AfterATry()
            {
                try
                {
                    Ledger.Work();
                }
                finally
                {
                    Ledger.Work();
                }

                var flow = {|LSM0059:AsyncLockFlow.Begin()|};
                Ledger.Work();
                flow.Dispose();
            }
        }
        """ + Helpers));

    // The path that throws nothing never reaches a catch: the claim outlives the method whenever the work succeeds.
    [Fact]
    public void LSM0059_WhereTheLocalIsDisposedOnlyInACatch() => Compiles(Markup.AssertDiagnostics("""
        using System;
        using System.Threading.Tasks;
        using Locksmith;
        public sealed class Posting
        {
            public void DisposedOnlyWhenItThrows()
            {
                var flow = {|LSM0059:AsyncLockFlow.Begin()|};
                try
                {
                    Ledger.Work();
                }
                catch
                {
                    flow.Dispose();
                    throw;
                }
            }

            public async Task InEachCatchAsync()
            {
                var flow = {|LSM0059:AsyncLockFlow.Begin()|};
                try
                {
                    using var scope = await Ledger.TakeLedgerAsync();
                }
                catch (InvalidOperationException)
                {
                    flow.Dispose();
                    throw;
                }
                catch (TimeoutException)
                {
                    flow.Dispose();
                }
            }

            public void ClaimedInTheTry()
            {
                AsyncLockFlowScope flow = default;
                try
                {
                    flow = {|LSM0059:AsyncLockFlow.Begin()|};
                    Ledger.Work();
                }
                catch
                {
                    flow.Dispose();
                    throw;
                }
            }

            // Made in the catch (or finally) itself: an exception there before the Dispose skips it, as anywhere else.
            public void MadeInACatch()
            {
                try
                {
                    Ledger.Work();
                }
                catch
                {
                    var flow = {|LSM0059:AsyncLockFlow.Begin()|};
                    Ledger.Work();
                    flow.Dispose();
                }
            }

            public void MadeInAFinally()
            {
                try
                {
                    Ledger.Work();
                }
                finally
                {
                    var flow = {|LSM0059:AsyncLockFlow.Begin()|};
                    Ledger.Work();
                    flow.Dispose();
                }
            }
        }
        """ + Helpers));

    // A catch that ends the claim beside an end on the path that throws nothing: ended either way.
    [Fact]
    public void NoLSM0059_WhereACatchAndThePathWithoutAnExceptionBothEndIt() => Compiles(Markup.AssertDiagnostics("""
        using System;
        using System.Threading.Tasks;
        using Locksmith;
        public sealed class Posting
        {
            public void InTheTryToo()
            {
                var flow = AsyncLockFlow.Begin();
                try
                {
                    Ledger.Work();
                    flow.Dispose();
                }
                catch
                {
                    flow.Dispose();
                    throw;
                }
            }

            public void AndInAFinally(bool failed)
            {
                var flow = AsyncLockFlow.Begin();
                try
                {
                    Ledger.Work();
                }
                catch
                {
                    flow.Dispose();
                    failed = true;
                }
                finally
                {
                    if (!failed)
                    {
                        flow.Dispose();
                    }
                }
            }

            // Claimed in the try: its finally still ends the claim on every path.
            public void ClaimedInTheTry()
            {
                AsyncLockFlowScope flow = default;
                try
                {
                    flow = AsyncLockFlow.Begin();
                    Ledger.Work();
                }
                finally
                {
                    flow.Dispose();
                }
            }

            // Handed to the caller when the work succeeds, ended here when it throws.
            public static AsyncLockFlowScope BeginChecked()
            {
                var flow = AsyncLockFlow.Begin();
                try
                {
                    Ledger.Work();
                    return flow;
                }
                catch
                {
                    flow.Dispose();
                    throw;
                }
            }
        }
        """ + Helpers));

    [Fact]
    public void TheMessage_ForADisposeOnlyInACatch_SaysThePathWithoutAnExceptionMissesIt_AndTheFix()
    {
        var run = Markup.AssertDiagnostics("""
            using System.Threading.Tasks;
            using Locksmith;
            public sealed class Posting
            {
                public void Synchronous()
                {
                    var flow = {|LSM0059:AsyncLockFlow.Begin()|};
                    try
                    {
                        Ledger.Work();
                    }
                    catch
                    {
                        flow.Dispose();
                        throw;
                    }
                }

                public async Task InAnAsyncMethodAsync()
                {
                    var flow = {|LSM0059:AsyncLockFlow.Begin()|};
                    try
                    {
                        using var scope = await Ledger.TakeLedgerAsync();
                    }
                    catch
                    {
                        flow.Dispose();
                        throw;
                    }
                }
            }
            """ + Helpers);
        Compiles(run);
        var messages = run.LocksmithDiagnostics.Where(static d => d.Id == "LSM0059").OrderBy(static d => d.Location.SourceSpan.Start)
            .Select(static d => d.GetMessage(CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(2, messages.Count);
        const string How = "The claim 'AsyncLockFlow.Begin()' makes is ended only by 'flow.Dispose()' in a 'catch', which the path that throws nothing never reaches, so ";
        const string Fix = "; dispose it in a 'finally' in place of the 'catch' (try { … } finally { flow.Dispose(); }), or declare it 'using var flow = AsyncLockFlow.Begin();' and drop the Dispose";
        Assert.StartsWith(How + "the flow stays claimed in the caller's frame", messages[0], System.StringComparison.Ordinal);
        Assert.EndsWith(Fix + ", or return the scope to a caller that does", messages[0], System.StringComparison.Ordinal);
        Assert.StartsWith(How + "the flow stays claimed while anything this method started lives", messages[1], System.StringComparison.Ordinal);
        Assert.EndsWith("allocates a new one" + Fix, messages[1], System.StringComparison.Ordinal);
    }

    /// <summary>
    /// Half-typed code (a call or a Dispose missing its parenthesis, a declarator missing its name) is named in the message,
    /// never echoed with its missing tokens, and never makes the analyzer throw.
    /// </summary>
    [Fact]
    public void TheMessage_OfHalfTypedCode_NamesWhatItCannotEcho()
    {
        var run = GeneratorHarness.Run("""
            using System.Threading.Tasks;
            using Locksmith;
            public sealed class Posting
            {
                public void CallNotClosed() { var flow = AsyncLockFlow.Begin(; Ledger.Work(); }

                public void DroppedNotClosed() { AsyncLockFlow.Begin( }

                public void SplitNotClosed()
                {
                    var flow = AsyncLockFlow.Begin(
                        ;
                    Ledger.Work();
                }

                public void OwnCallNotClosed() { var flow = Ledger.BeginFor(1, 2; Ledger.Work(); }

                public void DisposeNotClosed() { var flow = AsyncLockFlow.Begin(); Ledger.Work(); flow.Dispose( }

                public void SecondNameMissing() { AsyncLockFlowScope flow, = AsyncLockFlow.Begin(); Ledger.Work(); }

                public void SemicolonMissing() { var flow = AsyncLockFlow.Begin() Ledger.Work(); }
            }

            public static class Ledger
            {
                public static void Work() { }

                public static AsyncLockFlowScope BeginFor(int a, int b) => AsyncLockFlow.Begin();
            }
            """);
        Assert.DoesNotContain(run.AnalyzerDiagnostics, static d => d.Id == "AD0001");
        var messages = run.LocksmithDiagnostics.Where(static d => d.Id == "LSM0059").OrderBy(static d => d.Location.SourceSpan.Start)
            .Select(static d => d.GetMessage(CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(
            [
                "The claim 'AsyncLockFlow.Begin()' makes is kept in 'flow', which is never disposed, so ",
                "The claim 'AsyncLockFlow.Begin()' makes is dropped, so ",
                "The claim 'AsyncLockFlow.Begin()' makes is kept in 'flow', which is never disposed, so ",
                "The claim 'Ledger.BeginFor(…)' makes is kept in 'flow', which is never disposed, so ",
                "The claim 'AsyncLockFlow.Begin()' makes is ended only by 'flow.Dispose()' outside a 'finally', which an exception before it skips, so ",
                "The claim 'AsyncLockFlow.Begin()' makes is kept in a local with no name yet, which is never disposed, so ",
                "The claim 'AsyncLockFlow.Begin()' makes is kept in 'flow', which is never disposed, so ",
            ],
            messages.Select(static m => m.Substring(0, m.IndexOf(", so ", System.StringComparison.Ordinal) + 5)));
        Assert.Contains("; write 'using var flow = AsyncLockFlow.Begin();' (or 'using (AsyncLockFlow.Begin()) { … }')", messages[1], System.StringComparison.Ordinal);
        Assert.Contains("; declare it 'using var flow = Ledger.BeginFor(…);'", messages[3], System.StringComparison.Ordinal);
        Assert.Contains("; declare it 'using var … = AsyncLockFlow.Begin();'", messages[5], System.StringComparison.Ordinal);
        Assert.All(messages, static m => Assert.DoesNotContain('\n', m));
        Assert.All(messages, static m => Assert.DoesNotContain("''", m, System.StringComparison.Ordinal));
    }

    /// <summary>
    /// Valid code spread over lines or carrying comments is echoed on one line without its comments, and a call made
    /// through <c>?.</c> is echoed whole (<c>maker?.BeginFlow()</c>, not <c>.BeginFlow()</c>), in the claim and the fix.
    /// </summary>
    [Fact]
    public void TheMessage_EchoesSpreadOrCommentedCodeOnOneLine_AndAConditionalCallWhole()
    {
        var run = Markup.AssertDiagnostics("""
            using System.Threading.Tasks;
            using Locksmith;
            public sealed class Posting
            {
                public void Spread()
                {
                    {|LSM0059:AsyncLockFlow
                        .Begin()|};
                }

                public void Commented() => {|LSM0059:AsyncLockFlow.Begin(/* for the ledger */)|};

                public void LineComment()
                {
                    var flow = {|LSM0059:AsyncLockFlow // the ledger's
                        .Begin()|};
                    Ledger.Work();
                }

                public void Arguments()
                {
                    var flow = {|LSM0059:Maker.BeginFor(
                        1,   // first
                        2)|};
                    flow.Dispose();
                }

                public void Conditional(Maker? maker)
                {
                    {|LSM0059:maker?.BeginFlow()|};
                }

                public void ConditionalChain(Maker? maker)
                {
                    {|LSM0059:maker?.Next?.Next.BeginFlow()|};
                }

                public void ConditionalKept(Maker? maker)
                {
                    var flow = {|LSM0059:maker?.BeginFlow()|};
                    Ledger.Work();
                }

                public void ConditionalIdOnly(Maker? maker) => _ = {|LSM0059:maker?.BeginFlow()|}.FlowId;

                // Ended by a using, or handed on: nothing to report.
                public void ConditionalEnded(Maker? maker)
                {
                    using var flow = maker?.BeginFlow();
                    using (maker?.Next?.BeginFlow())
                    {
                    }

                    Ledger.Keep(maker?.BeginFlow() ?? default);
                }
            }

            public sealed class Maker
            {
                public Maker? Next { get; set; }

                public AsyncLockFlowScope BeginFlow() => AsyncLockFlow.Begin();

                public static AsyncLockFlowScope BeginFor(int a, int b) => AsyncLockFlow.Begin();
            }
            """ + Helpers);
        var messages = run.LocksmithDiagnostics.Where(static d => d.Id == "LSM0059").OrderBy(static d => d.Location.SourceSpan.Start)
            .Select(static d => d.GetMessage(CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(
            [
                "The claim 'AsyncLockFlow.Begin()' makes is dropped, so ",
                "The claim 'AsyncLockFlow.Begin()' makes is dropped, so ",
                "The claim 'AsyncLockFlow.Begin()' makes is kept in 'flow', which is never disposed, so ",
                "The claim 'Maker.BeginFor(1, 2)' makes is ended only by 'flow.Dispose()' outside a 'finally', which an exception before it skips, so ",
                "The claim 'maker?.BeginFlow()' makes is dropped, so ",
                "The claim 'maker?.Next?.Next.BeginFlow()' makes is dropped, so ",
                "The claim 'maker?.BeginFlow()' makes is kept in 'flow', which is never disposed, so ",
                "The claim 'maker?.BeginFlow()' makes is dropped, so ",
            ],
            messages.Select(static m => m.Substring(0, m.IndexOf(", so ", System.StringComparison.Ordinal) + 5)));
        Assert.Contains("; write 'using var flow = AsyncLockFlow.Begin();' (or 'using (AsyncLockFlow.Begin()) { … }')", messages[0], System.StringComparison.Ordinal);
        Assert.Contains("; declare it 'using var flow = Maker.BeginFor(1, 2);' and drop the Dispose", messages[3], System.StringComparison.Ordinal);
        Assert.Contains("; write 'using var flow = maker?.BeginFlow();'", messages[4], System.StringComparison.Ordinal);
        Assert.Contains("; declare it 'using var flow = maker?.BeginFlow();'", messages[6], System.StringComparison.Ordinal);
        Assert.All(messages, static m => Assert.DoesNotContain('\n', m));
        Assert.All(messages, static m => Assert.DoesNotContain("//", m, System.StringComparison.Ordinal));
        Assert.All(messages, static m => Assert.DoesNotContain("/*", m, System.StringComparison.Ordinal));
    }

    // A method given a scope (or returning a type parameter) hands back what it was given: it makes no claim of its own.
    [Fact]
    public void NoLSM0059_ForACallThatPassesAScopeThrough() => Compiles(Markup.AssertDiagnostics("""
        using System;
        using System.Collections.Generic;
        using System.Linq;
        using System.Threading.Tasks;
        using Locksmith;
        public sealed class Posting
        {
            public void Through(List<AsyncLockFlowScope> held, AsyncLockFlowScope? maybe)
            {
                var flow = AsyncLockFlow.Begin();
                try
                {
                    Same(flow);
                    _ = Same(flow).FlowId;
                    var alias = Same(flow);
                    var first = held.First();
                    var last = Pick(held.ToArray());
                    var value = maybe.GetValueOrDefault();
                    Ledger.Work();
                }
                finally
                {
                    flow.Dispose();
                }
            }

            private static AsyncLockFlowScope Same(AsyncLockFlowScope given) => given;

            private static AsyncLockFlowScope Pick(AsyncLockFlowScope[] given) => given[^1];
        }
        """ + Helpers));

    [Fact]
    public void NoLSM0059_WhereTheClaimIsEnded() => Compiles(Markup.AssertDiagnostics("""
        using System;
        using System.Threading.Tasks;
        using Locksmith;
        public sealed class Posting
        {
            public async Task DeclaredAsync()
            {
                using var flow = AsyncLockFlow.Begin();
                using var scope = await Ledger.TakeLedgerAsync();
            }

            public async Task StatementAsync()
            {
                using (AsyncLockFlow.Begin())
                {
                    using var scope = await Ledger.TakeLedgerAsync();
                }

                using (var flow = Ledger.BeginLedger())
                {
                    using var scope = await Ledger.TakeLedgerAsync();
                }
            }

            public async Task InAFinallyAsync()
            {
                var flow = AsyncLockFlow.Begin();
                try
                {
                    using var scope = await Ledger.TakeLedgerAsync();
                }
                finally
                {
                    flow.Dispose();
                }
            }

            public void InACatchAndAfter()
            {
                var flow = AsyncLockFlow.Begin();
                try
                {
                    Ledger.Work();
                }
                catch
                {
                    flow.Dispose();
                    throw;
                }

                flow.Dispose();
            }

            public void LaterInAUsing()
            {
                var flow = AsyncLockFlow.Begin();
                using (flow)
                {
                    Ledger.Work();
                }
            }

            public void AtOnce() => AsyncLockFlow.Begin().Dispose();

            public void TheDefaultScope() => default(AsyncLockFlowScope).Dispose();

            // Synchronous code, an async void method and a lambda that end their claim: no mistake, though a synchronous
            // method's claim ends before an awaiting caller could use it.
            public void Synchronous()
            {
                using var flow = AsyncLockFlow.Begin();
                Ledger.Work();
            }

            public async void OnClick()
            {
                using var flow = AsyncLockFlow.Begin();
                using var scope = await Ledger.TakeLedgerAsync();
            }

            public Func<Task> Later() => async () =>
            {
                using var flow = AsyncLockFlow.Begin();
                using var scope = await Ledger.TakeLedgerAsync();
            };
        }
        """ + Helpers));

    [Fact]
    public void NoLSM0059_WhereTheClaimIsHandedOn() => Compiles(Markup.AssertDiagnostics("""
        using System;
        using System.Threading.Tasks;
        using Locksmith;

        // Returned onward: the caller's frame gets the claim (this method is synchronous) and its using ends it.
        public static class Flows
        {
            public static AsyncLockFlowScope BeginLedger() => AsyncLockFlow.Begin();

            public static AsyncLockFlowScope BeginLogged()
            {
                var flow = AsyncLockFlow.Begin();
                Console.WriteLine(flow.FlowId);
                return flow;
            }

            public static Func<AsyncLockFlowScope> Beginner() => () => AsyncLockFlow.Begin();

            public static void Passed()
            {
                Ledger.Keep(AsyncLockFlow.Begin());
                var flow = AsyncLockFlow.Begin();
                Ledger.Keep(flow);
            }

            public static Action Captured()
            {
                var flow = AsyncLockFlow.Begin();
                return () => flow.Dispose();
            }
        }

        // Stored in a field of a disposable type that ends it: 'using var session = new Session();' begins the flow in
        // the caller's frame (the constructor runs synchronously in it) and ends it there.
        public sealed class Session : IDisposable
        {
            private readonly AsyncLockFlowScope _flow = AsyncLockFlow.Begin();

            public void Dispose() => _flow.Dispose();
        }

        public sealed class LateSession : IDisposable
        {
            private AsyncLockFlowScope _flow;

            public AsyncLockFlowScope Current { get; private set; }

            public void Start()
            {
                _flow = AsyncLockFlow.Begin();
                Current = AsyncLockFlow.Begin();
            }

            public void Dispose()
            {
                Current.Dispose();
                _flow.Dispose();
            }
        }
        """ + Helpers));

    [Fact]
    public void TheMessage_SaysWhatLeavesTheClaimUnended_WhatThatDoesHere_AndTheFix()
    {
        var run = Markup.AssertDiagnostics("""
            using System.Threading.Tasks;
            using Locksmith;
            public sealed class Posting
            {
                public async Task DroppedAsync()
                {
                    {|LSM0059:AsyncLockFlow.Begin()|};
                    using var scope = await Ledger.TakeLedgerAsync();
                }

                public void Dropped() => {|LSM0059:Ledger.BeginLedger()|};

                public void Kept()
                {
                    var flow = {|LSM0059:AsyncLockFlow.Begin()|};
                    Ledger.Work();
                }

                public async Task DisposedByHandAsync()
                {
                    var flow = {|LSM0059:AsyncLockFlow.Begin()|};
                    using (await Ledger.TakeLedgerAsync())
                    {
                    }

                    flow.Dispose();
                }
            }
            """ + Helpers);
        var diagnostics = run.LocksmithDiagnostics.Where(static d => d.Id == "LSM0059").OrderBy(static d => d.Location.SourceSpan.Start).ToList();
        Assert.Equal(4, diagnostics.Count);
        Assert.All(diagnostics, static d => Assert.Equal(DiagnosticSeverity.Warning, d.Severity));
        Assert.All(diagnostics, static d => Assert.Equal("Locksmith.Concurrency", d.Descriptor.Category));

        const string Async =
            "the flow stays claimed while anything this method started lives: tasks it started stay one flow after it returns " +
            "(a lock one takes is held by all, and another asking for it throws LockRecursionException), and the flow's record is " +
            "never reused, so each call allocates a new one";
        const string Sync =
            "the flow stays claimed in the caller's frame after this method returns (a synchronous method's context is its " +
            "caller's): everything that frame starts later is one flow (a lock one task takes is held by all, and another " +
            "asking for it throws LockRecursionException)";
        Assert.Equal(
            [
                "The claim 'AsyncLockFlow.Begin()' makes is dropped, so " + Async +
                    "; write 'using var flow = AsyncLockFlow.Begin();' (or 'using (AsyncLockFlow.Begin()) { … }') where the flow's work begins",
                "The claim 'Ledger.BeginLedger()' makes is dropped, so " + Sync +
                    "; write 'using var flow = Ledger.BeginLedger();' (or 'using (Ledger.BeginLedger()) { … }') where the flow's work begins, " +
                    "or return the scope to a caller that does",
                "The claim 'AsyncLockFlow.Begin()' makes is kept in 'flow', which is never disposed, so " + Sync +
                    "; declare it 'using var flow = AsyncLockFlow.Begin();', or return the scope to a caller that does",
                "The claim 'AsyncLockFlow.Begin()' makes is ended only by 'flow.Dispose()' outside a 'finally', which an exception " +
                    "before it skips, so " + Async +
                    "; declare it 'using var flow = AsyncLockFlow.Begin();' and drop the Dispose (or dispose it in a 'finally')",
            ],
            diagnostics.Select(static d => d.GetMessage(CultureInfo.InvariantCulture)));
    }

    // A using local cannot be assigned again (CS1656) or passed as out (CS1657): the advice is a finally.
    [Fact]
    public void AClaimInALocalWrittenAgain_IsToldToDisposeItInAFinally()
    {
        var run = Markup.AssertDiagnostics("""
            using System.Threading.Tasks;
            using Locksmith;
            public sealed class Posting
            {
                public void Reassigned()
                {
                    var flow = {|LSM0059:AsyncLockFlow.Begin()|};
                    Ledger.Work();
                    flow = {|LSM0059:AsyncLockFlow.Begin()|};
                }

                public void PassedOut()
                {
                    var flow = {|LSM0059:AsyncLockFlow.Begin()|};
                    Ledger.Work();
                    Replace(out flow);
                    flow.Dispose();
                }

                private static void Replace(out AsyncLockFlowScope flow) => flow = default;
            }
            """ + Helpers);
        Compiles(run);
        Assert.All(
            run.LocksmithDiagnostics.Where(static d => d.Id == "LSM0059"),
            static d => Assert.EndsWith(
                "; dispose it in a 'finally' (try { … } finally { flow.Dispose(); }): a 'using' local cannot be assigned again, or return the scope to a caller that does",
                d.GetMessage(CultureInfo.InvariantCulture),
                System.StringComparison.Ordinal));
    }

    private static void Compiles(GeneratorRun run)
    {
        var errors = run.CompilerDiagnostics.Where(static d => d.Severity == DiagnosticSeverity.Error).ToList();
        Assert.True(errors.Count == 0, Snapshot.Render(errors));
    }
}
