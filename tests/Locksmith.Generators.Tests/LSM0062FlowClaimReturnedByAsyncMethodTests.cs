using System.Globalization;
using Locksmith.Generators.Tests.Support;

namespace Locksmith.Generators.Tests;

/// <summary>
/// LSM0062: an async method (or local function, or lambda) that returns the claim <c>AsyncLockFlow.Begin()</c> makes in
/// its own frame, which never reaches its caller (<c>AsyncLockFlowNeverEndedTests</c> shows it at run time). A
/// synchronous method returning it claims in its caller's frame, and is not reported.
/// </summary>
public sealed class LSM0062FlowClaimReturnedByAsyncMethodTests
{
    [Fact]
    public void LSM0062_ForAnAsyncFunctionReturningItsClaim_NotASynchronousOne() => DiagnosticCheck.Verify("""
        using System;
        using System.Threading.Tasks;
        using Locksmith;

        public sealed class Posting
        {
            public async Task<AsyncLockFlowScope> BeginAfterSetUpAsync()
            {
                await Task.Yield();
                return {|LSM0062:AsyncLockFlow.Begin()|};
            }

            public async ValueTask<AsyncLockFlowScope> KeptThenReturnedAsync()
            {
                var flow = {|LSM0062:AsyncLockFlow.Begin()|};
                await Task.Yield();
                return flow;
            }

            public async Task<AsyncLockFlowScope> ThroughALocalFunctionAsync()
            {
                return await BeginAsync();

                static async Task<AsyncLockFlowScope> BeginAsync()
                {
                    await Task.Yield();
                    return {|LSM0062:AsyncLockFlow.Begin()|};
                }
            }

            public Func<Task<AsyncLockFlowScope>> AsALambda() => async () => {|LSM0062:AsyncLockFlow.Begin()|};

            // Synchronous: the claim is made in the caller's frame, which is what the caller needs.
            public AsyncLockFlowScope Begin() => AsyncLockFlow.Begin();

            public AsyncLockFlowScope BeginKept()
            {
                var flow = AsyncLockFlow.Begin();
                return flow;
            }

            // Ended where it was made.
            public async Task UsedHereAsync()
            {
                using var flow = AsyncLockFlow.Begin();
                await Task.Yield();
            }

            // Ended here too, by the using, before the caller gets the scope: no claim is handed over to be carried.
            public async Task<AsyncLockFlowScope> EndedThenReturnedAsync()
            {
                using var flow = AsyncLockFlow.Begin();
                await Task.Yield();
                return flow;
            }

            public async Task<AsyncLockFlowScope> EndedByAUsingStatementAsync()
            {
                using (var flow = AsyncLockFlow.Begin())
                {
                    await Task.Yield();
                    return flow;
                }
            }
        }
        """);

    // An async method handing back a scope it was given made no claim in its own frame: there is none to lose.
    [Fact]
    public void NoLSM0062_ForAnAsyncFunctionPassingAScopeThrough() => Markup.AssertDiagnostics("""
        using System.Collections.Generic;
        using System.Linq;
        using System.Threading.Tasks;
        using Locksmith;

        public sealed class Posting
        {
            public async Task<AsyncLockFlowScope> ReturnedAsGivenAsync(AsyncLockFlowScope given)
            {
                await Task.Yield();
                return given;
            }

            public async Task<AsyncLockFlowScope> ThroughAMethodAsync(AsyncLockFlowScope given)
            {
                await Task.Yield();
                return Same(given);
            }

            public async Task<AsyncLockFlowScope> KeptThenReturnedAsync(AsyncLockFlowScope given)
            {
                var flow = Same(given);
                await Task.Yield();
                return flow;
            }

            public async Task<AsyncLockFlowScope> FromWhatHoldsThemAsync(List<AsyncLockFlowScope> held, AsyncLockFlowScope? maybe)
            {
                await Task.Yield();
                if (maybe is null)
                {
                    return held.First();
                }

                return maybe.GetValueOrDefault();
            }

            // A claim of its own is still reported beside them.
            public async Task<AsyncLockFlowScope> BeginsAsync(AsyncLockFlowScope given)
            {
                await Task.Yield();
                if (given.FlowId == 0)
                {
                    return {|LSM0062:AsyncLockFlow.Begin()|};
                }

                return given;
            }

            private static AsyncLockFlowScope Same(AsyncLockFlowScope given) => given;
        }
        """);

    [Fact]
    public void TheMessage_OfHalfTypedCode_NamesTheClaimItCannotEcho()
    {
        var run = GeneratorHarness.Run("""
            using System.Threading.Tasks;
            using Locksmith;

            public sealed class Posting
            {
                public async Task<AsyncLockFlowScope> BeginAsync()
                {
                    await Task.Yield();
                    return AsyncLockFlow.Begin(;
                }
            }
            """);
        Assert.DoesNotContain(run.AnalyzerDiagnostics, static d => d.Id == "AD0001");
        var message = Assert.Single(run.LocksmithDiagnostics, static d => d.Id == "LSM0062").GetMessage(CultureInfo.InvariantCulture);
        Assert.StartsWith("'BeginAsync' is async, so the claim 'AsyncLockFlow.Begin()' makes lives in its own frame", message, System.StringComparison.Ordinal);

        // Top-level statements returning a claim (which cannot compile yet) run in a method the compiler names.
        run = GeneratorHarness.Run("""
            using System.Threading.Tasks;
            using Locksmith;

            await Task.Yield();
            return AsyncLockFlow.Begin();
            """);
        Assert.DoesNotContain(run.AnalyzerDiagnostics, static d => d.Id == "AD0001");
        message = Assert.Single(run.LocksmithDiagnostics, static d => d.Id == "LSM0062").GetMessage(CultureInfo.InvariantCulture);
        Assert.StartsWith("'the method' is async, so the claim 'AsyncLockFlow.Begin()' makes lives in its own frame", message, System.StringComparison.Ordinal);
        Assert.Contains("; make 'the method' synchronous", message, System.StringComparison.Ordinal);
    }
}
