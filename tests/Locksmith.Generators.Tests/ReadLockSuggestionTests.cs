using Locksmith.Generators.Tests.Support;

namespace Locksmith.Generators.Tests;

/// <summary>
/// LSM0020 on state guarded by a read-write lock suggests the mode the code needs: a plain read is fine under the read
/// lock (<c>AcquireRead()</c>, <c>AcquireReadAsync()</c>, <c>AcquireRead(key)</c>), while a write, a change in place or
/// a method called on the state (which may change it) needs the write lock. The snapshot pins each message.
/// </summary>
public sealed class ReadLockSuggestionTests
{
    [Fact]
    public void LSM0020_OnAReadWriteLocksState_SuggestsTheReadLockForARead() => DiagnosticCheck.Verify("""
        using System.Collections.Generic;
        using System.Linq;
        using System.Threading.Tasks;
        using Locksmith;
        public sealed partial class Prices
        {
            private readonly ReadWriteLock _lock = new();
            [Guarded(Lock = nameof(_lock))] private decimal _last;
            [Guarded(Lock = nameof(_lock))] private readonly List<decimal> _history = new();
            [Guarded(Lock = nameof(_lock))] private readonly decimal[] _slots = new decimal[4];
            public decimal Last() => {|LSM0020:_last|};
            public int Count() => {|LSM0020:_history|}.Count;
            public decimal Total() => {|LSM0020:_history|}.Sum();
            public void Set(decimal p) => {|LSM0020:_last|} = p;
            public void Bump() => {|LSM0020:_last|}++;
            public void Record(decimal p) => {|LSM0020:_history|}.Add(p);
            public void Slot(decimal p) => {|LSM0020:_slots|}[0] = p;
        }
        public sealed partial class AsyncPrices
        {
            private readonly AsyncReadWriteLock _lock = new();
            [Guarded(Lock = nameof(_lock))] private decimal _last;
            public decimal Last() => {|LSM0020:_last|};
            public void Set(decimal p) => {|LSM0020:_last|} = p;
        }
        public sealed partial class Shelves
        {
            private readonly StripedReadWriteLock<string> _lock = new();
            [Guarded(Lock = nameof(_lock))] private int _stock;
            public int Stock() => {|LSM0020:_stock|};
            public void Take() => {|LSM0020:_stock|}--;
        }
        public sealed partial class Till
        {
            private readonly ExclusiveLock _lock = new();
            [Guarded(Lock = nameof(_lock))] private decimal _cash;
            public decimal Cash() => {|LSM0020:_cash|};
        }
        """);
}
