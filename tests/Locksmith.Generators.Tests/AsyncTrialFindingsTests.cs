using System.Linq;
using Locksmith.Generators.Tests.Support;

namespace Locksmith.Generators.Tests;

/// <summary>
/// What a new user's trial of the async wrappers, from the packed package, found: each source is what a user wrote, and
/// each diagnostic must name the actual problem and a fix that changes something.
/// </summary>
public sealed class AsyncTrialFindingsTests
{
    /// <summary>
    /// A synchronous core of an async lock whose name already is an async core's ('PeekCoreAsync', 'SyncOverAsyncCore')
    /// is told to change its return type only: before, LSM0042 told it to "name it 'PeekCoreAsync'", its own name, and
    /// 'SyncOverAsyncCore' to become 'SyncOverCoreAsync', which gives the same wrapper.
    /// </summary>
    [Fact]
    public void LSM0042_ACoreAlreadyNamedAsAnAsyncCore_IsNotToldToRenameIt()
    {
        var run = DiagnosticCheck.Verify("""
            using Locksmith;
            public partial class Shelf
            {
                private readonly AsyncExclusiveLock _lock = new();
                [Guarded(Lock = nameof(_lock))] private int {|LSM0042:PeekCoreAsync|}() => 1;
                [AcquiresLocksOf(nameof(a), nameof(b), Lock = nameof(_lock))] private static int {|LSM0042:SyncOverAsyncCore|}(Shelf a, Shelf b) => 1;
                [Guarded(Lock = nameof(_lock))] private int {|LSM0042:Load|}() => 1;
            }
            """);
        var messages = run.LocksmithDiagnostics.Select(static d => d.GetMessage()).ToList();
        Assert.Contains(messages, static m => m.StartsWith("'Shelf.PeekCoreAsync'") && !m.Contains("name it") && m.Contains("its wrapper is then 'PeekAsync'"));
        Assert.Contains(messages, static m => m.StartsWith("'Shelf.SyncOverAsyncCore'") && !m.Contains("name it") && m.Contains("its wrapper is then 'SyncOverAsync'"));
        Assert.Contains(messages, static m => m.StartsWith("'Shelf.Load'") && m.Contains("name it 'LoadCoreAsync' (its wrapper is then 'LoadAsync')"));
    }

    /// <summary>
    /// A core returning a nullable ValueTask ('ValueTask&lt;int&gt;?', a Nullable of the task) is awaitable work, not a
    /// synchronous result. Before, under a synchronous lock it got a wrapper that released the lock as soon as the task
    /// was returned, before its work completed, with no diagnostic; under an async lock LSM0042 called it synchronous.
    /// Now it is LSM0009 (the thread-affine lock cannot be held across its awaits) and LSM0016 (the async wrapper cannot
    /// await a nullable ValueTask), as 'IAsyncEnumerable' is.
    /// </summary>
    [Fact]
    public void ANullableValueTaskCore_IsAwaitableWork_NotASynchronousBody()
    {
        var run = DiagnosticCheck.Verify("""
            using System.Threading.Tasks;
            using Locksmith;
            public partial class Pump
            {
                private readonly ExclusiveLock _sync = new();
                private readonly AsyncExclusiveLock _async = new();
                [Guarded(Lock = nameof(_sync))] private ValueTask<int>? {|LSM0009:FillCore|}() => null;
                [Guarded(Lock = nameof(_sync))] private ValueTask? {|LSM0009:DrainCore|}() => null;
                [Guarded(Lock = nameof(_async))] private ValueTask<int>? {|LSM0016:PourCoreAsync|}() => null;
            }
            """);
        Assert.DoesNotContain(" Fill(", run.GeneratedText, System.StringComparison.Ordinal);
        Assert.Contains(run.LocksmithDiagnostics, static d => d.Id == "LSM0016" && d.GetMessage().Contains("'System.Threading.Tasks.ValueTask<int>?'"));
    }
}
