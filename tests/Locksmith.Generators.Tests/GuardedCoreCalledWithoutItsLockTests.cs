using System.Linq;
using Locksmith.Generators.Tests.Support;
using Microsoft.CodeAnalysis;

namespace Locksmith.Generators.Tests;

/// <summary>
/// LSM0020 at a call of a guarded core, sync or async, where its lock is not held (<c>DepositCore(1)</c>,
/// <c>await DepositCoreAsync(1)</c>): the core's body uses the state it guards as if the caller held the lock, so the
/// call is that state used without it. Held as an access of the state would be (a guarded method of the lock, a scope of
/// it on the same object); calls in a constructor, a lambda or a local function are left to the rules made for them.
/// </summary>
public sealed class GuardedCoreCalledWithoutItsLockTests
{
    [Fact]
    public void LSM0020_WhereACoreIsCalledWithoutItsLock() => Compiles(DiagnosticCheck.Verify("""
        using System.Threading.Tasks;
        using Locksmith;
        public partial class Account
        {
            private readonly ExclusiveLock _lock = new();
            private readonly AsyncExclusiveLock _async = new();
            private readonly AsyncReadWriteLock _rw = new();
            private static readonly AsyncExclusiveLock s_audit = new();
            [Guarded(Lock = nameof(_lock))] private int _balance;
            [Guarded(Lock = nameof(_async))] private int _asyncBalance;
            [Guarded(Lock = nameof(_rw))] private int _rate;
            [Guarded(Lock = nameof(s_audit))] private static int s_entries;

            [Guarded(Lock = nameof(_lock))]
            private void DepositCore(int amount) => _balance += amount;

            [Guarded(Lock = nameof(_async))]
            private async Task DepositCoreAsync(int amount) { await Task.Yield(); _asyncBalance += amount; }

            [Guarded(Lock = nameof(_async))]
            private Task<int> ReadCoreAsync() => Task.FromResult(_asyncBalance);

            [Guarded(Lock = nameof(_rw), Access = LockAccess.Read)]
            private ValueTask<int> RateCoreAsync() => new(_rate);

            [Guarded(Lock = nameof(s_audit))]
            private static Task AuditCoreAsync() { s_entries++; return Task.CompletedTask; }

            [Guarded(Lock = nameof(_lock))]
            private void ElsewhereCore() => _ = {|LSM0020:ReadCoreAsync()|};

            public void Sync() => {|LSM0020:DepositCore(1)|};

            public async Task UnheldAsync()
            {
                await {|LSM0020:DepositCoreAsync(1)|};
                int balance = await {|LSM0020:this.ReadCoreAsync()|};
                int rate = await {|LSM0020:RateCoreAsync()|};
                await {|LSM0020:AuditCoreAsync()|};
            }

            public Task Forward() => {|LSM0020:DepositCoreAsync(2)|};

            public int Blocking() => {|LSM0020:ReadCoreAsync()|}.Result;

            public static async Task OtherAsync(Account other)
            {
                using var scope = await other._rw.AcquireReadAsync();
                await {|LSM0020:other.DepositCoreAsync(1)|};
                _ = await other.RateCoreAsync();
            }
        }
        """));

    [Fact]
    public void NoLSM0020_WhereTheCoresLockIsHeldOrAnotherRuleJudgesTheCall() => Compiles(DiagnosticCheck.Verify("""
        using System.Threading.Tasks;
        using Locksmith;
        public partial class Account
        {
            private readonly ExclusiveLock _lock = new();
            private readonly AsyncExclusiveLock _async = new();
            [Guarded(Lock = nameof(_lock))] private int _balance;
            [Guarded(Lock = nameof(_async))] private int _asyncBalance;

            public Account() => DepositCore(1);

            [Guarded(Lock = nameof(_lock))]
            private void DepositCore(int amount) => _balance += amount;

            [Guarded(Lock = nameof(_lock))]
            private void TwiceCore(int amount) { DepositCore(amount); DepositCore(amount); }

            [Guarded(Lock = nameof(_async))]
            private async Task DepositCoreAsync(int amount) { await Task.Yield(); _asyncBalance += amount; }

            [Guarded(Lock = nameof(_async))]
            private async Task TwiceCoreAsync(int amount) { await DepositCoreAsync(amount); await DepositCoreAsync(amount); }

            public void HeldSync()
            {
                using var scope = _lock.Acquire();
                DepositCore(1);
            }

            public async Task HeldAsync()
            {
                using var scope = await _async.AcquireAsync();
                await DepositCoreAsync(1);
            }

            public static async Task OtherHeldAsync(Account other)
            {
                using (await other._async.AcquireAsync())
                {
                    await other.DepositCoreAsync(1);
                }
            }

            public Task Wrapper() => DepositAsync(1);

            public string Name() => nameof(DepositCoreAsync);
        }
        """));

    private static void Compiles(GeneratorRun run)
    {
        var errors = run.CompilerDiagnostics.Where(static d => d.Severity == DiagnosticSeverity.Error).ToList();
        Assert.True(errors.Count == 0, Snapshot.Render(errors));
    }
}
