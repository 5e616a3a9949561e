using System;
using System.Globalization;
using System.Linq;
using Locksmith.Generators.Tests.Support;
using Microsoft.CodeAnalysis;

namespace Locksmith.Generators.Tests;

/// <summary>
/// LSM0023 for a held non-reentrant lock acquired again directly, not through a wrapper: inside a core guarded by it
/// (<c>using var s = await _lock.AcquireAsync();</c> in a <c>[Guarded(Lock = nameof(_lock))]</c> core, which a new
/// user's trial wrote, and the runtime refuses with LockRecursionException every time), or in a using scope of it.
/// Before, the wrapper's call was an error and the same acquisition written out was not reported at all.
/// </summary>
public sealed class HeldLockAcquiredAgainTests
{
    [Fact]
    public void AHeldLockAcquiredAgain_InACoreOrAScope_IsLSM0023()
    {
        var run = DiagnosticCheck.Verify("""
            using System;
            using System.Threading.Tasks;
            using Locksmith;
            public sealed partial class Ledger
            {
                private readonly AsyncExclusiveLock _lock = new();
                private readonly ExclusiveLock _sync = new();
                private readonly AsyncReadWriteLock _rw = new();
                [Guarded(Lock = nameof(_lock))] private int _n;
                [Guarded(Lock = nameof(_sync))] private int _m;
                [Guarded(Lock = nameof(_rw))] private int _r;

                [Guarded(Lock = nameof(_lock))]
                private async Task PostCoreAsync()
                {
                    using var scope = await {|LSM0023:_lock.AcquireAsync()|};
                    await Task.Yield();
                    _n++;
                }

                [Guarded(Lock = nameof(_sync))]
                private void AddCore() { using var scope = {|LSM0023:_sync.Acquire()|}; _m++; }

                public async Task TwiceAsync()
                {
                    using var first = await _lock.AcquireAsync();
                    await Task.Yield();
                    using var second = await {|LSM0023:this._lock.AcquireAsync(TimeSpan.FromSeconds(1))|};
                    _n++;
                }

                public async Task UpgradeAsync()
                {
                    using var read = await _rw.AcquireReadAsync();
                    using var write = await {|LSM0023:_rw.AcquireWriteAsync()|};
                    _r++;
                }
            }
            """);
        var upgrade = run.LocksmithDiagnostics.Single(static d => d.GetMessage().StartsWith("'Ledger.UpgradeAsync'", System.StringComparison.Ordinal)).GetMessage();
        Assert.Contains("already holds '_rw' for reading and calls 'AcquireWriteAsync'", upgrade, System.StringComparison.Ordinal);
        Assert.Contains("a read lock does not upgrade", upgrade, System.StringComparison.Ordinal);
    }

    /// <summary>
    /// A minimal API endpoint is a lambda in top-level statements, whose method the compiler names 'Program.&lt;Main&gt;$':
    /// the message named the holder so (a new user's service trial). It names the statements and their file instead.
    /// </summary>
    [Fact]
    public void LSM0023_InTopLevelStatements_NamesThemNotTheCompilersMethod()
    {
        var compilation = TestCompilation.Create("""
            using System;
            using System.Threading.Tasks;
            using Locksmith;
            var bin = new Bin();
            Func<Task<int>> endpoint = async () =>
            {
                using var a = await bin.Lock.AcquireAsync();
                using var b = await bin.Lock.AcquireAsync();
                return 1;
            };
            await endpoint();
            public sealed class Bin { public AsyncExclusiveLock Lock { get; } = new(); }
            """);
        var run = GeneratorHarness.Run(compilation.WithOptions(compilation.Options.WithOutputKind(OutputKind.ConsoleApplication)));

        var message = Assert.Single(run.LocksmithDiagnostics, static d => d.Id == "LSM0023").GetMessage(CultureInfo.InvariantCulture);
        Assert.StartsWith("'top-level statements in Source0.cs' already holds 'Lock' and calls 'AcquireAsync'", message, StringComparison.Ordinal);
        Assert.DoesNotContain("<Main>$", message, StringComparison.Ordinal);
    }

    /// <summary>What is not a second acquisition of a held lock: none of these is reported.</summary>
    [Fact]
    public void AcquisitionsThatAreNotASecondHold_AreNotReported() => DiagnosticCheck.Verify("""
        using System;
        using System.Threading.Tasks;
        using Locksmith;
        public sealed partial class Ledger
        {
            private readonly AsyncExclusiveLock _lock = new();
            private readonly AsyncExclusiveLock _other = new();
            private readonly ReentrantLock _reentrant = new();
            private readonly CountingSemaphore _slots = new(2, 2);
            private readonly AsyncStripedLock<string> _stripes = new();

            public async Task OnceAsync() { using var scope = await _lock.AcquireAsync(); await Task.Yield(); }

            [Guarded(Lock = nameof(_lock))]
            private async Task OtherLockCoreAsync() { using var scope = await _other.AcquireAsync(); await Task.Yield(); }

            [Guarded(Lock = nameof(_lock))]
            private async Task OtherObjectCoreAsync(Ledger other) { using var scope = await other._lock.AcquireAsync(); await Task.Yield(); }

            public async Task AfterTheFirstIsDisposedAsync()
            {
                var first = await _lock.AcquireAsync();
                first.Dispose();
                using var second = await _lock.AcquireAsync();
            }

            public async Task TryOnAHeldLockAsync()
            {
                using var first = await _lock.AcquireAsync();
                using var second = await _lock.TryAcquireAsync(TimeSpan.Zero);
            }

            public void Reentrant() { using var a = _reentrant.Acquire(); using var b = _reentrant.Acquire(); }

            public async Task TwoPermitsAsync() { using var a = await _slots.AcquireAsync(); using var b = await _slots.AcquireAsync(); }

            public async Task TwoKeysAsync() { using var a = await _stripes.AcquireAsync("a"); using var b = await _stripes.AcquireAsync("b"); }

            public async Task SequentialAsync()
            {
                using (await _lock.AcquireAsync()) { await Task.Yield(); }
                using (await _lock.AcquireAsync()) { await Task.Yield(); }
            }
        }
        """);
}
