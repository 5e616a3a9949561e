using System.Runtime.CompilerServices;

namespace Locksmith.Generators.Tests.Support;

/// <summary>Asserts the marked diagnostics of a source, and snapshots their messages (so a message change is reviewed too).</summary>
internal static class DiagnosticCheck
{
    public static GeneratorRun Verify(string markup, [CallerMemberName] string testMethod = "")
    {
        var run = Markup.AssertDiagnostics(markup);
        Snapshot.VerifyText("diagnostics", Snapshot.Render(run.LocksmithDiagnostics), testMethod);
        return run;
    }
}
