using Locksmith.Generators.Tests.Support;

namespace Locksmith.Generators.Tests;

/// <summary>
/// LSM0020 on another object's guarded state (<c>other._balance</c>) names that object's lock in its advice
/// (<c>using var scope = other._lock.Acquire();</c>): it said <c>_lock.Acquire()</c>, this object's lock, which the
/// reported code often already held (from a trial of the analyzers on realistic code). State of this object and a static
/// lock keep the lock's name alone; a receiver that is not a plain local, parameter, field or property chain gets no
/// code line (<see cref="LSM0020AdviceThroughTheReceiverTests"/>).
/// </summary>
public sealed class GuardedStateOfAnotherObjectAdviceTests
{
    [Fact]
    public void LSM0020_NamesTheOtherObjectsLock() => DiagnosticCheck.Verify("""
        using System.Threading.Tasks;
        using Locksmith;
        public sealed partial class Account
        {
            private readonly ExclusiveLock _lock = new();
            private readonly AsyncExclusiveLock _async = new();
            private static readonly ExclusiveLock s_lock = new();
            private readonly Account? _parent;
            [Guarded(Lock = nameof(_lock))] private decimal _balance;
            [Guarded(Lock = nameof(_async))] private int _pending;
            [Guarded(Lock = nameof(s_lock))] private static int s_count;

            public Account(Account? parent) { _parent = parent; }

            public decimal Compare(Account other)
            {
                using var scope = _lock.Acquire();
                return _balance - {|LSM0020:other._balance|};
            }

            public decimal Parent() => {|LSM0020:_parent!._balance|} + {|LSM0020:this._balance|};
            public async Task<int> PendingOf(Account other) { await Task.Yield(); return {|LSM0020:other._pending|}; }
            public static int Count(Account a) => {|LSM0020:s_count|} + (int){|LSM0020:Find(a)._balance|};
            private static Account Find(Account a) => a;
        }
        """);
}
