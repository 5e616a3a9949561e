using Locksmith.Generators.Tests.Support;

namespace Locksmith.Generators.Tests;

/// <summary>
/// LSM0061: an async lambda or async method given to <c>Scenario.Thread</c>, whose Action runs it as async void, which
/// Scenario.Thread refuses at run time (<c>ArgumentException</c>): reported at build time with the call to write instead.
/// </summary>
public sealed class LSM0061ScenarioThreadAsyncBodyTests
{
    [Fact]
    public void LSM0061_AsyncBodiesOfThread_NotFlowsNorSyncBodies() => DiagnosticCheck.Verify("""
        using System;
        using System.Threading.Tasks;
        using Locksmith.Testing;

        public static class Checks
        {
            private static int s_count;
            private const string Name = "named";
            public static Task WorkAsync() => Task.CompletedTask;
            public static async void FireAndForget() => await Task.Yield();
            public static void Work() { }

            public static void Build(Scenario scenario)
            {
                scenario.Thread("lambda", {|LSM0061:async|} () => await WorkAsync());
                scenario.Thread("block", {|LSM0061:async|} () => { s_count++; await Task.Yield(); });
                scenario.Thread(Name, {|LSM0061:async|} delegate { await WorkAsync(); });
                scenario.Thread("method", {|LSM0061:FireAndForget|});
                scenario.Thread(body: {|LSM0061:async|} () => await WorkAsync(), name: "reordered");

                // A flow takes an async body; a sync body is a thread's.
                scenario.Flow("flow", async () => await WorkAsync());
                scenario.Thread("sync", () => Work());
                scenario.Thread("sync method", Work);
                scenario.Finally(async () => await WorkAsync());
            }
        }
        """);
}
