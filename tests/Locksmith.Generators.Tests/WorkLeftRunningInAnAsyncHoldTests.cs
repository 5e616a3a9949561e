using System;
using System.Linq;
using Locksmith.Generators.Tests.Support;
using Microsoft.CodeAnalysis;

namespace Locksmith.Generators.Tests;

/// <summary>
/// LSM0026 for work an async hold leaves running that is no task: a <c>System.Threading.Timer</c>'s callbacks. Nothing
/// awaits a timer, so the advice to await the work before the scope ends did not fit it.
/// </summary>
public sealed class WorkLeftRunningInAnAsyncHoldTests
{
    /// <summary>
    /// A timer created in an async hold is told to be created under <c>SuppressFlow</c> or after the scope, or disposed
    /// before the scope ends, not awaited (before, it got a task's advice, "await it before the scope ends"); a task
    /// beside it keeps its message.
    /// </summary>
    [Fact]
    public void LSM0026_AtATimer_AdvisesDisposingIt_NotAwaitingIt()
    {
        var run = DiagnosticCheck.Verify("""
            using System.Threading;
            using System.Threading.Tasks;
            using Locksmith;
            public sealed class Poller
            {
                private readonly AsyncExclusiveLock _gate = new();
                private Timer? _timer;

                public async Task StartAsync()
                {
                    using (await _gate.AcquireAsync())
                    {
                        _timer = {|LSM0026:new Timer(_ => Refresh(), null, 0, 1000)|};
                        _ = {|LSM0026:Task.Run(Refresh)|};
                    }
                }

                private void Refresh() { }
            }
            """);
        Compiles(run);
        var messages = run.LocksmithDiagnostics.Select(static d => d.GetMessage()).ToList();
        string timer = Assert.Single(messages, static m => m.StartsWith("'new Timer'", StringComparison.Ordinal));
        Assert.StartsWith("'new Timer' starts a timer that is not disposed while '_gate' is held: its callbacks run with this flow's execution context", timer, StringComparison.Ordinal);
        Assert.EndsWith("create the timer inside 'using (ExecutionContext.SuppressFlow())' or after the scope ends, or dispose it before the scope ends ('using var timer = new Timer(…);' in the scope)", timer, StringComparison.Ordinal);
        Assert.DoesNotContain("await it", timer, StringComparison.Ordinal);
        string task = Assert.Single(messages, static m => m.StartsWith("'Task.Run'", StringComparison.Ordinal));
        Assert.EndsWith("or await it before the scope ends", task, StringComparison.Ordinal);
    }

    private static void Compiles(GeneratorRun run)
    {
        var errors = run.CompilerDiagnostics.Where(static d => d.Severity == DiagnosticSeverity.Error).ToList();
        Assert.True(errors.Count == 0, Snapshot.Render(errors));
    }
}
