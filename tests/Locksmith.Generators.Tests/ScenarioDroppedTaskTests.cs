using Locksmith.Generators.Tests.Support;

namespace Locksmith.Generators.Tests;

/// <summary>
/// LSM0052: a lambda that is not async, whose body returns an awaitable, given to a Scenario method's Action parameter,
/// where the task is dropped and the run passes whatever the awaited work does.
/// </summary>
public sealed class ScenarioDroppedTaskTests
{
    [Fact]
    public void LSM0052_AwaitableBodyConvertedToAction_NotAsyncLambdasNorFuncTask() => DiagnosticCheck.Verify("""
        using System;
        using System.Runtime.CompilerServices;
        using System.Threading.Tasks;
        using Locksmith.Testing;

        public readonly struct Later
        {
            public TaskAwaiter GetAwaiter() => Task.CompletedTask.GetAwaiter();
        }

        public static class Checks
        {
            private static int s_count;
            public static Task WorkAsync() => Task.CompletedTask;
            public static ValueTask VerifyAsync() => default;
            public static Task<int> CountAsync() => Task.FromResult(1);
            public static ValueTask<int> ValueCountAsync() => new(1);
            public static Later Soon() => default;
            public static void Work() { }

            public static void Build(Scenario scenario)
            {
                scenario.Thread("task", () => {|LSM0052:WorkAsync()|});
                scenario.Thread("value task", () => {|LSM0052:VerifyAsync()|});
                scenario.Thread("task of int", () => {|LSM0052:CountAsync()|});
                scenario.Thread("yield", static () => {|LSM0052:Task.Yield()|});
                scenario.Thread("custom", () => {|LSM0052:Soon()|});
                scenario.Finally(() => {|LSM0052:VerifyAsync()|});
                scenario.Finally(() => {|LSM0052:ValueCountAsync()|});
                scenario.Finally(() => {|LSM0052:WorkAsync().ConfigureAwait(false)|});

                // A block body that calls and moves on drops the task too, wherever the statement stands in it.
                scenario.Thread("block", () => { Work(); {|LSM0052:WorkAsync()|}; });
                scenario.Finally(() => { {|LSM0052:VerifyAsync()|}; });
                scenario.Thread("branch", () => { if (s_count > 0) { {|LSM0052:CountAsync()|}; } else {|LSM0052:Soon()|}; });
                scenario.Thread("loop", () => { for (int i = 0; i < 2; i++) {|LSM0052:Task.Delay(1)|}; });

                // Bound to an overload that awaits, or no task in the body: silent.
                scenario.Finally(() => WorkAsync());
                scenario.Finally(() => CountAsync());
                scenario.Finally(async () => await VerifyAsync());
                scenario.Flow("flow", () => WorkAsync());
                scenario.Flow("async flow", async () => await VerifyAsync());
                scenario.Thread("sync", () => Work());
                scenario.Thread("count", () => s_count++);
                scenario.Thread("discarded on purpose", () => { _ = WorkAsync(); });
                scenario.Thread("awaited by blocking", () => { WorkAsync().GetAwaiter().GetResult(); VerifyAsync().AsTask().Wait(); });
                scenario.Thread("kept", () => { var task = WorkAsync(); task.Wait(); });
                scenario.Thread("nested lambda", () => { Func<Task> later = () => WorkAsync(); later().Wait(); });
                scenario.Thread("local function", () => { void Fire() => WorkAsync(); Fire(); });
                scenario.Finally(() => { Work(); });
                scenario.Finally(() => { });
                Action kept = () => WorkAsync();
                kept();
            }
        }
        """);
}
