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
}
