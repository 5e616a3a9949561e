using System.IO;
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

    /// <summary>
    /// A method of another assembly is async when it carries <c>[AsyncStateMachine]</c>, which is what Scenario.Thread
    /// checks at run time (the compiler's <c>IsAsync</c> is false for a method read from metadata): its async void method
    /// is reported too, and its plain one is not.
    /// </summary>
    [Fact]
    public void LSM0061_AnAsyncMethodFromAReference_NotAPlainOne()
    {
        var library = TestCompilation.Create("""
            using System.Threading.Tasks;
            public static class Library
            {
                public static async void FireAndForget() => await Task.Yield();
                public static void Work() { }
            }
            """).WithAssemblyName("Locksmith.Generators.TestHelpers");
        using var image = new MemoryStream();
        var emitted = library.Emit(image);
        Assert.True(emitted.Success, Snapshot.Render(emitted.Diagnostics));

        Markup.AssertDiagnostics(
            """
            using Locksmith.Testing;
            public static class Checks
            {
                public static void Build(Scenario scenario)
                {
                    scenario.Thread("library", {|LSM0061:Library.FireAndForget|});
                    scenario.Thread("plain", Library.Work);
                }
            }
            """,
            Microsoft.CodeAnalysis.MetadataReference.CreateFromImage(image.ToArray()));
    }
}
