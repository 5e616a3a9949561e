using System;
using System.Linq;
using Locksmith.Generators.Tests.Support;
using Microsoft.CodeAnalysis;

namespace Locksmith.Generators.Tests;

/// <summary>
/// A lock reached through a property that returns a lock field (<c>Gate =&gt; _lock</c>) is that field's lock: every
/// wrapper declares it by the field's name and one level, the <c>[LockOrder]</c> on the field or on the property,
/// whichever wrapper runs first (for a partial property, its implementing declaration's body). A property that computes its lock otherwise (<c>=&gt; _till.Lock</c>) without a level
/// leaves the declaration to the lock's own members. Two levels for one lock are LSM0048.
/// </summary>
public sealed class ForwardingPropertyLockLevelTests
{
    private const string Shapes = """
        using Locksmith;
        namespace N;
        /// <summary>The level is on the field.</summary>
        public sealed partial class Account
        {
            [LockOrder(10)] private readonly ExclusiveLock _lock = new();
            private ExclusiveLock Gate => _lock;
            /// <summary>The lock.</summary>
            public ExclusiveLock Lock => _lock;
            [Guarded(Lock = nameof(Gate))] private void DepositCore() { }
            [Guarded(Lock = nameof(_lock))] private void WithdrawCore() { }
        }
        /// <summary>The level is on the property.</summary>
        public sealed partial class Vault
        {
            private readonly ExclusiveLock _lock = new();
            [LockOrder(20)] private ExclusiveLock Gate { get { return this._lock; } }
            /// <summary>The lock.</summary>
            public ExclusiveLock Lock => _lock;
            [Guarded(Lock = nameof(Gate))] private void OpenCore() { }
            [Guarded(Lock = nameof(_lock))] private void CloseCore() { }
        }
        /// <summary>A property returning a property returning the field.</summary>
        public sealed partial class Chain
        {
            [LockOrder(30)] private readonly ExclusiveLock _lock = new();
            private ExclusiveLock Inner { get => _lock; }
            private ExclusiveLock Gate => Inner;
            /// <summary>The lock.</summary>
            public ExclusiveLock Lock => _lock;
            [Guarded(Lock = nameof(Gate))] private void PullCore() { }
            [Guarded(Lock = nameof(_lock))] private void PushCore() { }
        }
        /// <summary>The level is on a partial property, whose implementing declaration returns the field.</summary>
        public sealed partial class Ledger
        {
            private readonly ExclusiveLock _lock = new();
            [LockOrder(50)] private partial ExclusiveLock Gate { get; }
            private partial ExclusiveLock Gate => _lock;
            /// <summary>The lock.</summary>
            public ExclusiveLock Lock => _lock;
            [Guarded(Lock = nameof(Gate))] private void PostCore() { }
            [Guarded(Lock = nameof(_lock))] private void VoidCore() { }
        }
        /// <summary>Owns a lock with a level.</summary>
        public sealed partial class Till
        {
            /// <summary>The lock.</summary>
            [LockOrder(40)] public ExclusiveLock Lock { get; } = new();
            [Guarded(Lock = nameof(Lock))] private void RingCore() { }
        }
        /// <summary>Reaches another object's lock through a computed property.</summary>
        public sealed partial class Shop
        {
            /// <summary>The till.</summary>
            public Till Till { get; } = new();
            private ExclusiveLock Gate => Till.Lock;
            [Guarded(Lock = nameof(Gate))] private void SellCore() { }
        }
        /// <summary>Calls the wrappers in either order.</summary>
        public static class Probe
        {
            /// <summary>The names and levels the locks end with.</summary>
            /// <param name="throughPropertyFirst">Whether the wrapper reaching the lock through the property runs first.</param>
            /// <returns>Them.</returns>
            public static string Run(bool throughPropertyFirst)
            {
                var a = new Account();
                var v = new Vault();
                var c = new Chain();
                var s = new Shop();
                var l = new Ledger();
                if (throughPropertyFirst)
                {
                    a.Deposit(); a.Withdraw(); v.Open(); v.Close(); c.Pull(); c.Push(); s.Sell(); s.Till.Ring(); l.Post(); l.Void();
                }
                else
                {
                    a.Withdraw(); a.Deposit(); v.Close(); v.Open(); c.Push(); c.Pull(); s.Till.Ring(); s.Sell(); l.Void(); l.Post();
                }

                return $"{a.Lock.Name}:{a.Lock.Level}|{v.Lock.Name}:{v.Lock.Level}|{c.Lock.Name}:{c.Lock.Level}|{s.Till.Lock.Name}:{s.Till.Lock.Level}|{l.Lock.Name}:{l.Lock.Level}";
            }
        }
        """;

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void ALockReachedThroughAPropertyReturningIt_HasOneNameAndLevel_WhicheverWrapperRunsFirst(bool throughPropertyFirst)
    {
        var compilation = TestCompilation.Create(Shapes);
        compilation = compilation.WithOptions(compilation.Options.WithGeneralDiagnosticOption(ReportDiagnostic.Error));
        var run = GeneratorHarness.Run(compilation);
        Assert.Empty(run.LocksmithDiagnostics);
        using var loaded = LoadedAssembly.Load(run, "forwarding-levels");
        Assert.Equal(
            "N.Account._lock:10|N.Vault._lock:20|N.Chain._lock:30|N.Till.Lock:40|N.Ledger._lock:50",
            loaded.Type("N.Probe").GetMethod("Run")!.Invoke(null, [throughPropertyFirst]));
    }

    /// <summary>Two levels for one lock, on a property returning it and on the lock (or another such property), are LSM0048.</summary>
    [Fact]
    public void LSM0048_APropertyReturningALockDeclaresAnotherLevel() => DiagnosticCheck.Verify("""
        using Locksmith;
        public sealed class Account
        {
            [LockOrder(10)] private readonly ExclusiveLock _lock = new();
            [LockOrder(20)] private ExclusiveLock {|LSM0048:Gate|} => _lock;
            [LockOrder(10)] private ExclusiveLock Same => _lock;
        }
        public sealed class Vault
        {
            private readonly ExclusiveLock _lock = new();
            [LockOrder(20)] private ExclusiveLock {|LSM0048:Gate|} => _lock;
            [LockOrder(30)] private ExclusiveLock {|LSM0048:Door|} => this._lock;
        }
        public class Base { [LockOrder(1)] protected readonly ExclusiveLock Own = new(); protected readonly ExclusiveLock Bare = new(); }
        public sealed class Derived : Base
        {
            [LockOrder(1)] private ExclusiveLock Same => Own;
            [LockOrder(2)] private ExclusiveLock {|LSM0048:Other|} => Bare;
        }
        """);

    /// <summary>The analyzer orders a lock reached through a property returning it by the lock's one level.</summary>
    [Fact]
    public void LSM0022_ThroughAPropertyReturningALock_UsesItsLevel() => DiagnosticCheck.Verify("""
        using Locksmith;
        public sealed partial class Account
        {
            [LockOrder(10)] private readonly ExclusiveLock _lock = new();
            private ExclusiveLock Gate => _lock;
            private readonly ExclusiveLock _journal = new();
            [LockOrder(5)] private ExclusiveLock Journal => _journal;
            [Guarded(Lock = nameof(_journal))] private void RecordCore() { }
            [Guarded(Lock = nameof(Gate))] private void DepositCore() => {|LSM0022:Record()|};
        }
        """);

    /// <summary>A wrapper of the lock field called while its property holds it (or the other way round) takes it again: LSM0023, not LSM0022.</summary>
    [Fact]
    public void LSM0023_ThroughAPropertyReturningTheHeldLock() => DiagnosticCheck.Verify("""
        using Locksmith;
        public sealed partial class Account
        {
            [LockOrder(10)] private readonly ExclusiveLock _lock = new();
            private ExclusiveLock Gate => _lock;
            [Guarded(Lock = nameof(_lock))] private void WithdrawCore() { }
            [Guarded(Lock = nameof(Gate))] private void DepositCore() => {|LSM0023:Withdraw()|};
            [Guarded(Lock = nameof(_lock))] private void RefundCore() => {|LSM0023:Deposit()|};
        }
        """);

    /// <summary>
    /// A wrapper of the lock field called in a using scope of a property returning it (or the other way round) takes it
    /// again: LSM0023, not LSM0022; and state guarded by either is held there (no LSM0020). Another object's is not held.
    /// </summary>
    [Fact]
    public void LSM0023_InAUsingScopeThroughAPropertyReturningTheLock() => DiagnosticCheck.Verify("""
        using System.Threading;
        using System.Threading.Tasks;
        using Locksmith;
        public sealed partial class Account
        {
            [LockOrder(10)] private readonly ExclusiveLock _lock = new();
            private ExclusiveLock Gate => _lock;
            private ExclusiveLock Door { get { return this.Gate; } }
            [Guarded(Lock = nameof(_lock))] private void WithdrawCore() { }
            [Guarded(Lock = nameof(Gate))] private void DepositCore() { }
            [Guarded(Lock = nameof(_lock))] private int _balance;
            [Guarded(Lock = nameof(Gate))] private int _count;
            public void Pay()
            {
                using var s = Gate.Acquire();
                _balance++;
                {|LSM0023:Withdraw()|};
            }
            public void Refund()
            {
                using (_lock.Acquire()) { _count++; {|LSM0023:Deposit()|}; }
            }
            public void Close()
            {
                using var s = Door.Acquire();
                {|LSM0023:Withdraw()|};
                {|LSM0023:Deposit()|};
            }
            public void Other(Account other)
            {
                using var s = other.Gate.Acquire();
                other._balance++;
                {|LSM0020:_balance|}++;
                {|LSM0022:Withdraw()|};
                {|LSM0023:other.Withdraw()|};
            }
        }
        public sealed partial class Vault
        {
            private readonly AsyncExclusiveLock _lock = new();
            private AsyncExclusiveLock Gate => _lock;
            [Guarded(Lock = nameof(_lock))] private Task OpenCoreAsync() => Task.CompletedTask;
            public async Task SweepAsync(CancellationToken ct)
            {
                using var s = await Gate.AcquireAsync(ct);
                await {|LSM0023:OpenAsync()|};
            }
        }
        """);

    /// <summary>State guarded by the lock field is held in a core guarded by a property returning it, and the other way round: no LSM0020.</summary>
    [Fact]
    public void LSM0020_NotInACoreGuardedByAPropertyReturningTheLock() => DiagnosticCheck.Verify("""
        using Locksmith;
        public sealed partial class Account
        {
            private readonly ExclusiveLock _lock = new();
            private readonly ExclusiveLock _other = new();
            private ExclusiveLock Gate => _lock;
            [Guarded(Lock = nameof(_lock))] private int _balance;
            [Guarded(Lock = nameof(Gate))] private int _count;
            [Guarded(Lock = nameof(Gate))] private void DepositCore() => _balance++;
            [Guarded(Lock = nameof(_lock))] private void CountCore() => _count++;
            [Guarded(Lock = nameof(_other))] private void WrongCore() => {|LSM0020:_balance|}++;
        }
        """);
}
