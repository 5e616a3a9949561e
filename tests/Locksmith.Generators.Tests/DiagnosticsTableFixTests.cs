using System;
using System.Linq;
using Locksmith.Generators.Tests.Support;
using Microsoft.CodeAnalysis;

namespace Locksmith.Generators.Tests;

/// <summary>
/// The README's diagnostics table read as a new user reads it: for each ID, the smallest code that triggers it gets
/// that ID at the table's severity with the names the message column promises, and the code edited as the "how to fix"
/// column says compiles as a strict project (nullable on, every warning an error) with no diagnostic left.
/// </summary>
public sealed class DiagnosticsTableFixTests
{
    private const string Usings = """
        using System;
        using System.Collections.Generic;
        using System.Linq;
        using System.Threading;
        using System.Threading.Tasks;
        using Locksmith;

        """;

    // (id, severity, message fragments separated by '|', code before, code after the table's fix)
    public static TheoryData<string, string, string, string, string> Rows() => new()
    {
        {
            "LSM0001", "error", "'Counter.BumpCore' cannot get a generated wrapper: 'Counter' is not partial",
            "public class Counter { private readonly ExclusiveLock _lock = new(); private int _n; [Guarded(Lock = nameof(_lock))] private int BumpCore() => ++_n; }",
            "public partial class Counter { private readonly ExclusiveLock _lock = new(); private int _n; [Guarded(Lock = nameof(_lock))] private int BumpCore() => ++_n; }"
        },
        {
            "LSM0002", "error", "'Counter.BumpCore' is guarded by lock '_gate', but 'Counter' has no field or property of that name",
            "public partial class Counter { private readonly ExclusiveLock _lock = new(); private int _n; [Guarded(Lock = \"_gate\")] private int BumpCore() => ++_n; }",
            "public partial class Counter { private readonly ExclusiveLock _lock = new(); private int _n; [Guarded(Lock = nameof(_lock))] private int BumpCore() => ++_n; }"
        },
        {
            "LSM0002", "error", "'gate' is a primary constructor parameter|_gate",
            "public partial class Counter(AsyncExclusiveLock gate) { private int _n; [Guarded(Lock = nameof(gate))] private Task<int> BumpCoreAsync() => Task.FromResult(++_n); }",
            "public partial class Counter(AsyncExclusiveLock gate) { private readonly AsyncExclusiveLock _gate = gate; private int _n; [Guarded(Lock = nameof(_gate))] private Task<int> BumpCoreAsync() => Task.FromResult(++_n); }"
        },
        {
            "LSM0003", "error", "'Counter.BumpCore' is guarded by '_lock' of type 'object', which is not a Locksmith lock|ExclusiveLock",
            "public partial class Counter { private readonly object _lock = new(); private int _n; [Guarded(Lock = nameof(_lock))] private int BumpCore() => ++_n; }",
            "public partial class Counter { private readonly ExclusiveLock _lock = new(); private int _n; [Guarded(Lock = nameof(_lock))] private int BumpCore() => ++_n; }"
        },
        {
            "LSM0004", "error", "tatic member 'Counter.BumpCore' is guarded by instance lock '_lock'",
            "public partial class Counter { private readonly ExclusiveLock _lock = new(); private static int s_n; [Guarded(Lock = nameof(_lock))] private static int BumpCore() => ++s_n; }",
            "public partial class Counter { private static readonly ExclusiveLock _lock = new(); private static int s_n; [Guarded(Lock = nameof(_lock))] private static int BumpCore() => ++s_n; }"
        },
        {
            "LSM0005", "error", "'Counter.ReadCore' asks for read access, but '_lock' (an exclusive lock) has no read mode",
            "public partial class Counter { private readonly ExclusiveLock _lock = new(); private int _n = 1; [Guarded(Lock = nameof(_lock), Access = LockAccess.Read)] private int ReadCore() => _n; }",
            "public partial class Counter { private readonly ReadWriteLock _lock = new(); private int _n = 1; [Guarded(Lock = nameof(_lock), Access = LockAccess.Read)] private int ReadCore() => _n; }"
        },
        {
            "LSM0005", "error", "'Shelf.ReadCore' asks for read access, but '_lock' (a keyed lock) has no read mode|StripedReadWriteLock<TKey>",
            "public partial class Shelf { private readonly StripedLock<int> _lock = new(); private readonly int[] _n = new int[4]; [Guarded(Lock = nameof(_lock), StripeBy = nameof(key), Access = LockAccess.Read)] private int ReadCore(int key) => _n[key]; }",
            "public partial class Shelf { private readonly StripedReadWriteLock<int> _lock = new(); private readonly int[] _n = new int[4]; [Guarded(Lock = nameof(_lock), StripeBy = nameof(key), Access = LockAccess.Read)] private int ReadCore(int key) => _n[key]; }"
        },
        {
            "LSM0006", "error", "'nope' is no parameter",
            "public partial class Shelf { private readonly StripedLock<int> _lock = new(); private readonly int[] _n = new int[4]; [Guarded(Lock = nameof(_lock), StripeBy = \"nope\")] private int BumpCore(int key) => ++_n[key]; }",
            "public partial class Shelf { private readonly StripedLock<int> _lock = new(); private readonly int[] _n = new int[4]; [Guarded(Lock = nameof(_lock), StripeBy = nameof(key))] private int BumpCore(int key) => ++_n[key]; }"
        },
        {
            "LSM0006", "error", "'key'|'string?', which may be null|'_lock'",
            "public partial class Shelf { private readonly StripedLock<string> _lock = new(); private int _n; [Guarded(Lock = nameof(_lock), StripeBy = nameof(key))] private int BumpCore(string? key) => key is null ? _n : ++_n; }",
            "public partial class Shelf { private readonly StripedLock<string> _lock = new(); private int _n; [Guarded(Lock = nameof(_lock), StripeBy = nameof(key))] private int BumpCore(string key) => _n += key.Length; }"
        },
        {
            "LSM0007", "error", "'Counter.BumpCore' sets StripeBy, but '_lock' (an exclusive lock) is not a keyed lock",
            "public partial class Counter { private readonly ExclusiveLock _lock = new(); private int _n; [Guarded(Lock = nameof(_lock), StripeBy = nameof(key))] private int BumpCore(int key) => _n += key; }",
            "public partial class Counter { private readonly ExclusiveLock _lock = new(); private int _n; [Guarded(Lock = nameof(_lock))] private int BumpCore(int key) => _n += key; }"
        },
        {
            "LSM0008", "error", "'Shelf.BumpCore' is guarded by keyed lock '_lock' but names no key",
            "public partial class Shelf { private readonly StripedLock<int> _lock = new(); private readonly int[] _n = new int[4]; [Guarded(Lock = nameof(_lock))] private int BumpCore(int key) => ++_n[key]; }",
            "public partial class Shelf { private readonly StripedLock<int> _lock = new(); private readonly int[] _n = new int[4]; [Guarded(Lock = nameof(_lock), StripeBy = nameof(key))] private int BumpCore(int key) => ++_n[key]; }"
        },
        {
            // The message says to rename a '…Core': the fix renames it and takes the async lock.
            "LSM0009", "error", "'Store.SaveCore' returns 'System.Threading.Tasks.Task' but is guarded by '_lock', a thread-affine lock|AsyncExclusiveLock|'SaveCoreAsync'",
            "public partial class Store { private readonly ExclusiveLock _lock = new(); private int _n; [Guarded(Lock = nameof(_lock))] private async Task SaveCore() { await Task.Yield(); _n++; } }",
            "public partial class Store { private readonly AsyncExclusiveLock _lock = new(); private int _n; [Guarded(Lock = nameof(_lock))] private async Task SaveCoreAsync() { await Task.Yield(); _n++; } }"
        },
        {
            "LSM0010", "error", "'Pool.FetchCoreAsync' returns 'System.Threading.Tasks.Task': its wrapper would release '_slots' before the task completes|'using var scope = await _slots.AcquireAsync(ct);'",
            "public partial class Pool { private readonly CountingSemaphore _slots = new(2, 2); private int _n; [Guarded(Lock = nameof(_slots))] private async Task FetchCoreAsync(CancellationToken ct) { await Task.Delay(1, ct); Interlocked.Increment(ref _n); } }",
            "public partial class Pool { private readonly CountingSemaphore _slots = new(2, 2); private int _n; private async Task FetchCoreAsync(CancellationToken ct) { using var scope = await _slots.AcquireAsync(ct); await Task.Delay(1, ct); Interlocked.Increment(ref _n); } public Task FetchAsync(CancellationToken ct) => FetchCoreAsync(ct); }"
        },
        {
            "LSM0011", "error", "[LockOrder] is on 'Counter._n' of type 'int', which is not a Locksmith lock",
            "public partial class Counter { private readonly ExclusiveLock _lock = new(); [LockOrder(1)] private int _n; [Guarded(Lock = nameof(_lock))] private int BumpCore() => ++_n; }",
            "public partial class Counter { [LockOrder(1)] private readonly ExclusiveLock _lock = new(); private int _n; [Guarded(Lock = nameof(_lock))] private int BumpCore() => ++_n; }"
        },
        {
            "LSM0012", "warning", "ocks '_a' and '_b' of 'Pair' share level 1, so neither can be taken while the other is held",
            "public partial class Pair { [LockOrder(1)] private readonly ExclusiveLock _a = new(); [LockOrder(1)] private readonly ExclusiveLock _b = new(); private int _x, _y; [Guarded(Lock = nameof(_a))] private int XCore() => ++_x; [Guarded(Lock = nameof(_b))] private int YCore() => ++_y; }",
            "public partial class Pair { [LockOrder(1)] private readonly ExclusiveLock _a = new(); [LockOrder(2)] private readonly ExclusiveLock _b = new(); private int _x, _y; [Guarded(Lock = nameof(_a))] private int XCore() => ++_x; [Guarded(Lock = nameof(_b))] private int YCore() => ++_y; }"
        },
        {
            "LSM0013", "error", "he wrapper 'Bump' generated for 'Counter.BumpCore' collides with an existing member of 'Counter'",
            "public partial class Counter { private readonly ExclusiveLock _lock = new(); private int _n; [Guarded(Lock = nameof(_lock))] private int BumpCore() => ++_n; public int Bump() => 0; }",
            "public partial class Counter { private readonly ExclusiveLock _lock = new(); private int _n; [Guarded(Lock = nameof(_lock), WrapperName = \"BumpLocked\")] private int BumpCore() => ++_n; public int Bump() => 0; }"
        },
        {
            "LSM0014", "error", "'Counter.Bump' needs a wrapper name: 'Bump' does not end in 'Core'",
            "public partial class Counter { private readonly ExclusiveLock _lock = new(); private int _n; [Guarded(Lock = nameof(_lock))] private int Bump() => ++_n; }",
            "public partial class Counter { private readonly ExclusiveLock _lock = new(); private int _n; [Guarded(Lock = nameof(_lock))] private int BumpCore() => ++_n; }"
        },
        {
            "LSM0014", "error", "'Cache.GetAsync' needs a wrapper name|'GetCoreAsync'",
            "public partial class Cache { private readonly AsyncExclusiveLock _lock = new(); private int _n = 1; [Guarded(Lock = nameof(_lock))] public Task<int> GetAsync() => Task.FromResult(_n); }",
            "public partial class Cache { private readonly AsyncExclusiveLock _lock = new(); private int _n = 1; [Guarded(Lock = nameof(_lock))] private Task<int> GetCoreAsync() => Task.FromResult(_n); }"
        },
        {
            "LSM0015", "error", "'Counter.BumpCore' cannot get a generated wrapper: 'Counter' is a file-local type",
            "file partial class Counter { private readonly ExclusiveLock _lock = new(); private int _n; [Guarded(Lock = nameof(_lock))] private int BumpCore() => ++_n; }",
            "internal partial class Counter { private readonly ExclusiveLock _lock = new(); private int _n; [Guarded(Lock = nameof(_lock))] private int BumpCore() => ++_n; }"
        },
        {
            "LSM0016", "error", "'Bag.ItemsCore' cannot get a generated wrapper: it is an iterator",
            "public partial class Bag { private readonly ExclusiveLock _lock = new(); private int _n = 1; [Guarded(Lock = nameof(_lock))] private IEnumerable<int> ItemsCore() { yield return _n; } }",
            "public partial class Bag { private readonly ExclusiveLock _lock = new(); private int _n = 1; [Guarded(Lock = nameof(_lock))] private List<int> ItemsCore() => [_n]; }"
        },
        {
            "LSM0016", "error", "'Counter.BumpCore' cannot get a generated wrapper: Visibility = protected means nothing in a sealed class",
            "public sealed partial class Counter { private readonly ExclusiveLock _lock = new(); private int _n; [Guarded(Lock = nameof(_lock), Visibility = WrapperVisibility.Protected)] private int BumpCore() => ++_n; }",
            "public sealed partial class Counter { private readonly ExclusiveLock _lock = new(); private int _n; [Guarded(Lock = nameof(_lock), Visibility = WrapperVisibility.Private)] private int BumpCore() => ++_n; public int Twice() => Bump() + Bump(); }"
        },
        {
            "LSM0017", "error", "TimeoutMilliseconds = -5 on 'Counter.BumpCore' is invalid",
            "public partial class Counter { private readonly ExclusiveLock _lock = new(); private int _n; [Guarded(Lock = nameof(_lock), TimeoutMilliseconds = -5)] private int BumpCore() => ++_n; }",
            "public partial class Counter { private readonly ExclusiveLock _lock = new(); private int _n; [Guarded(Lock = nameof(_lock), TimeoutMilliseconds = -1)] private int BumpCore() => ++_n; }"
        },
        {
            "LSM0018", "error", "'this' names no parameter|make 'MoveCore' static|nameof(self)",
            "public partial class Account { public readonly ExclusiveLock _lock = new(); public int Balance; [AcquiresLocksOf(\"this\", nameof(to), Lock = nameof(_lock))] private void MoveCore(Account to, int amount) { Balance -= amount; to.Balance += amount; } }",
            "public partial class Account { public readonly ExclusiveLock _lock = new(); public int Balance; [AcquiresLocksOf(nameof(self), nameof(to), Lock = nameof(_lock))] private static void MoveCore(Account self, Account to, int amount) { self.Balance -= amount; to.Balance += amount; } }"
        },
        {
            "LSM0019", "error", "'Account.MoveCore' has both [Guarded] and [AcquiresLocksOf]",
            "public partial class Account { public readonly ExclusiveLock _lock = new(); public int Balance; [Guarded(Lock = nameof(_lock))] [AcquiresLocksOf(nameof(to), Lock = nameof(_lock))] private void MoveCore(Account to, int amount) { Balance -= amount; to.Balance += amount; } }",
            "public partial class Account { public readonly ExclusiveLock _lock = new(); public int Balance; [AcquiresLocksOf(nameof(to), Lock = nameof(_lock))] private static void MoveCore(Account to, int amount) { to.Balance += amount; } }"
        },
        {
            "LSM0020", "warning", "'_n' is guarded by '_lock' but is read here without holding it",
            "public partial class Counter { private readonly ExclusiveLock _lock = new(); [Guarded(Lock = nameof(_lock))] private int _n = 1; public int Peek() => _n; }",
            "public partial class Counter { private readonly ExclusiveLock _lock = new(); [Guarded(Lock = nameof(_lock))] private int _n = 1; public int Peek() { using var scope = _lock.Acquire(); return _n; } }"
        },
        {
            "LSM0020", "warning", "'DepositCore' is guarded by '_lock' but is called here without holding it|call its wrapper 'Deposit'",
            "public partial class Account { private readonly ExclusiveLock _lock = new(); private int _balance; [Guarded(Lock = nameof(_lock))] private void DepositCore(int amount) => _balance += amount; public void Pay() => DepositCore(1); }",
            "public partial class Account { private readonly ExclusiveLock _lock = new(); private int _balance; [Guarded(Lock = nameof(_lock))] private void DepositCore(int amount) => _balance += amount; public void Pay() => Deposit(1); }"
        },
        {
            "LSM0020", "warning", "'_n' is guarded by '_lock' but is written here without holding it|may run after '_lock' is released",
            "public partial class Counter { private readonly ExclusiveLock _lock = new(); [Guarded(Lock = nameof(_lock))] private int _n; public void Start() { using var scope = _lock.Acquire(); _ = Task.Run(() => _n++); } }",
            "public partial class Counter { private readonly ExclusiveLock _lock = new(); [Guarded(Lock = nameof(_lock))] private int _n; public void Start() { using var scope = _lock.Acquire(); _ = Task.Run(() => { using var scope = _lock.Acquire(); _n++; }); } }"
        },
        {
            "LSM0020", "warning", "'_items' is guarded by '_lock' but is read here without holding it (through the deferred query kept in 'q'",
            "public partial class Bag { private readonly ExclusiveLock _lock = new(); [Guarded(Lock = nameof(_lock))] private readonly List<int> _items = new(); public int Count() { IEnumerable<int> q; using (_lock.Acquire()) { q = _items.Where(static x => x > 0); } return q.Count(); } }",
            "public partial class Bag { private readonly ExclusiveLock _lock = new(); [Guarded(Lock = nameof(_lock))] private readonly List<int> _items = new(); public int Count() { List<int> q; using (_lock.Acquire()) { q = _items.Where(static x => x > 0).ToList(); } return q.Count; } }"
        },
        {
            "LSM0021", "error", "'Counter.Bump' holds '_lock' for reading only (in the scope of 'AcquireRead') but writes '_n'|'AcquireWrite'",
            "public partial class Counter { private readonly ReadWriteLock _lock = new(); [Guarded(Lock = nameof(_lock))] private int _n; public void Bump() { using var scope = _lock.AcquireRead(); _n++; } }",
            "public partial class Counter { private readonly ReadWriteLock _lock = new(); [Guarded(Lock = nameof(_lock))] private int _n; public void Bump() { using var scope = _lock.AcquireWrite(); _n++; } }"
        },
        {
            "LSM0021", "error", "'Counter.BumpCore' holds '_lock' for reading only|writes '_n'",
            "public partial class Counter { private readonly ReadWriteLock _lock = new(); [Guarded(Lock = nameof(_lock))] private int _n; [Guarded(Lock = nameof(_lock), Access = LockAccess.Read)] private int BumpCore() => ++_n; }",
            "public partial class Counter { private readonly ReadWriteLock _lock = new(); [Guarded(Lock = nameof(_lock))] private int _n; [Guarded(Lock = nameof(_lock), Access = LockAccess.Write)] private int BumpCore() => ++_n; }"
        },
        {
            "LSM0022", "warning", "'Pair.OuterCore' holds '_high' (level 2) and calls 'Inner', which takes '_low' (level 1)",
            "public partial class Pair { [LockOrder(2)] private readonly ExclusiveLock _high = new(); [LockOrder(1)] private readonly ExclusiveLock _low = new(); private int _x; [Guarded(Lock = nameof(_high))] private void OuterCore() => Inner(); [Guarded(Lock = nameof(_low))] private void InnerCore() => _x++; }",
            "public partial class Pair { [LockOrder(2)] private readonly ExclusiveLock _high = new(); [LockOrder(3)] private readonly ExclusiveLock _low = new(); private int _x; [Guarded(Lock = nameof(_high))] private void OuterCore() => Inner(); [Guarded(Lock = nameof(_low))] private void InnerCore() => _x++; }"
        },
        {
            "LSM0023", "error", "'Counter.TwiceCore' already holds '_lock' and calls 'Bump', which takes it again|call 'BumpCore' instead",
            "public partial class Counter { private readonly ExclusiveLock _lock = new(); private int _n; [Guarded(Lock = nameof(_lock))] private void BumpCore() => _n++; [Guarded(Lock = nameof(_lock))] private void TwiceCore() { Bump(); Bump(); } }",
            "public partial class Counter { private readonly ExclusiveLock _lock = new(); private int _n; [Guarded(Lock = nameof(_lock))] private void BumpCore() => _n++; [Guarded(Lock = nameof(_lock))] private void TwiceCore() { BumpCore(); BumpCore(); } }"
        },
        {
            "LSM0024", "warning", "'lock' on '_lock' uses the object's Monitor, not the ExclusiveLock|'using var scope = _lock.Acquire();'",
            "public class Counter { private readonly ExclusiveLock _lock = new(); private int _n; public void Bump() { lock (_lock) { _n++; } } }",
            "public class Counter { private readonly ExclusiveLock _lock = new(); private int _n; public void Bump() { using var scope = _lock.Acquire(); _n++; } }"
        },
        {
            "LSM0025", "warning", "[ReadMostly] on 'Cache' has no effect: it declares no read-write lock|ReadWriteLock",
            "[ReadMostly] public partial class Cache { private readonly ExclusiveLock _lock = new(); private int _n = 1; [Guarded(Lock = nameof(_lock))] private int GetCore() => _n; }",
            "[ReadMostly] public partial class Cache { private readonly ReadWriteLock _lock = new(); private int _n = 1; [Guarded(Lock = nameof(_lock))] private int GetCore() => _n; }"
        },
        {
            "LSM0026", "warning", "'Task.Run' starts work that is not awaited while '_lock' is held",
            "public class Jobs { private readonly AsyncExclusiveLock _lock = new(); public async Task RunAsync() { using var scope = await _lock.AcquireAsync(); _ = Task.Run(static () => 1); } }",
            "public class Jobs { private readonly AsyncExclusiveLock _lock = new(); public async Task RunAsync() { using var scope = await _lock.AcquireAsync(); using (ExecutionContext.SuppressFlow()) { _ = Task.Run(static () => 1); } } }"
        },
        {
            "LSM0027", "error", "'Counter.RunCore' holds '_lock' and blocks on work ('Task.Run') that calls 'Bump', which takes '_lock' on another thread",
            "public partial class Counter { private readonly ExclusiveLock _lock = new(); private int _n; [Guarded(Lock = nameof(_lock))] private void BumpCore() => _n++; [Guarded(Lock = nameof(_lock))] private void RunCore() => Task.Run(() => Bump()).Wait(); }",
            "public partial class Counter { private readonly ExclusiveLock _lock = new(); private int _n; [Guarded(Lock = nameof(_lock))] private void BumpCore() => _n++; [Guarded(Lock = nameof(_lock))] private void RunCore() => Task.Run(() => BumpCore()).Wait(); }"
        },
        {
            "LSM0030", "error", "[Guarded] on 'Ext.extension(List<int> list).BumpCore' is not supported: 'Ext.extension(List<int> list)' is a C# 14 extension block",
            "public static partial class Ext { private static readonly ExclusiveLock s_lock = new(); extension(List<int> list) { [Guarded(Lock = nameof(s_lock))] public int BumpCore() => list.Count; } }",
            "public static partial class Ext { private static readonly ExclusiveLock s_lock = new(); [Guarded(Lock = nameof(s_lock))] private static int BumpCore(List<int> list) => list.Count; }"
        },
        {
            "LSM0031", "error", "[Guarded] on 'Counter.BumpCore' needs Lock = nameof(yourLock)",
            "public partial class Counter { private readonly ExclusiveLock _lock = new(); private int _n; [Guarded] private int BumpCore() => ++_n; }",
            "public partial class Counter { private readonly ExclusiveLock _lock = new(); private int _n; [Guarded(Lock = nameof(_lock))] private int BumpCore() => ++_n; }"
        },
        {
            "LSM0032", "error", "Access = 99 on 'Counter.BumpCore' is not a LockAccess value",
            "public partial class Counter { private readonly ReadWriteLock _lock = new(); private int _n; [Guarded(Lock = nameof(_lock), Access = (LockAccess)99)] private int BumpCore() => ++_n; }",
            "public partial class Counter { private readonly ReadWriteLock _lock = new(); [Guarded(Lock = nameof(_lock))] private int _n; [Guarded(Lock = nameof(_lock), Access = LockAccess.Write)] private int BumpCore() => ++_n; }"
        },
        {
            "LSM0040", "error", "'Shelf.PutCore' cannot get public wrappers: its signature uses 'Shelf.Item', which is less accessible|Visibility = WrapperVisibility.Private",
            "public partial class Shelf { private sealed class Item { } private readonly ExclusiveLock _lock = new(); private readonly List<Item> _items = new(); [Guarded(Lock = nameof(_lock), Visibility = WrapperVisibility.Public)] private void PutCore(Item item) => _items.Add(item); }",
            "public partial class Shelf { private sealed class Item { } private readonly ExclusiveLock _lock = new(); private readonly List<Item> _items = new(); [Guarded(Lock = nameof(_lock), Visibility = WrapperVisibility.Private)] private void PutCore(Item item) => _items.Add(item); public void Fill() => Put(new Item()); }"
        },
        {
            "LSM0041", "error", "'Counter.BumpCore' is guarded by '_lock' of type 'Locksmith.ExclusiveLock?', which may be null",
            "public partial class Counter { private readonly ExclusiveLock? _lock = new(); private int _n; [Guarded(Lock = nameof(_lock))] private int BumpCore() => ++_n; }",
            "public partial class Counter { private readonly ExclusiveLock _lock = new(); private int _n; [Guarded(Lock = nameof(_lock))] private int BumpCore() => ++_n; }"
        },
        {
            "LSM0042", "error", "'Counter.BumpCore' returns 'int' but is guarded by '_lock', an async exclusive lock, which is taken by awaiting|'BumpCoreAsync'",
            "public partial class Counter { private readonly AsyncExclusiveLock _lock = new(); private int _n; [Guarded(Lock = nameof(_lock))] private int BumpCore() => ++_n; }",
            "public partial class Counter { private readonly AsyncExclusiveLock _lock = new(); private int _n; [Guarded(Lock = nameof(_lock))] private Task<int> BumpCoreAsync() => Task.FromResult(++_n); }"
        },
        {
            "LSM0043", "error", "'Derived.BumpCore' overrides 'Base.BumpCore'|'_other', which no wrapper takes",
            "public partial class Base { protected readonly ExclusiveLock _lock = new(); protected readonly ExclusiveLock _other = new(); protected int _n; [Guarded(Lock = nameof(_lock))] protected virtual int BumpCore() => ++_n; } public partial class Derived : Base { [Guarded(Lock = nameof(_other))] protected override int BumpCore() => _n += 2; }",
            "public partial class Base { protected readonly ExclusiveLock _lock = new(); protected readonly ExclusiveLock _other = new(); protected int _n; [Guarded(Lock = nameof(_lock))] protected virtual int BumpCore() => ++_n; } public partial class Derived : Base { protected override int BumpCore() => _n += 2; }"
        },
        {
            "LSM0045", "error", "he wrapper 'Bump' generated for 'Counter.BumpCore' would change calls to the existing 'Counter.Bump(int, string)' that it also accepts",
            "public partial class Counter { private readonly ExclusiveLock _lock = new(); private long _n; [Guarded(Lock = nameof(_lock))] private long BumpCore(int by) => _n += by; public long Bump(int by, string memo = \"\") => by + memo.Length; }",
            "public partial class Counter { private readonly ExclusiveLock _lock = new(); private long _n; [Guarded(Lock = nameof(_lock), WrapperName = \"BumpLocked\")] private long BumpCore(int by) => _n += by; public long Bump(int by, string memo = \"\") => by + memo.Length; }"
        },
        {
            // The table's other fix, dropping 'error: true', leaves CS0618 at the type's own nameof(Gate): the first one is taken.
            "LSM0046", "error", "'Counter.BumpCore' is guarded by 'Gate', but its wrappers would have to use 'Counter.Gate', which is [Obsolete] as an error (\"use the new gate\")",
            "public partial class Counter { private readonly ExclusiveLock _lock = new(); [Obsolete(\"use the new gate\", error: true)] private ExclusiveLock Gate => _lock; private int _n; [Guarded(Lock = nameof(Gate))] private int BumpCore() => ++_n; }",
            "public partial class Counter { private readonly ExclusiveLock _lock = new(); [Obsolete(\"use the new gate\", error: true)] private ExclusiveLock Gate => _lock; private int _n; [Guarded(Lock = nameof(_lock))] private int BumpCore() => ++_n; }"
        },
        {
            "LSM0047", "error", "'Vault.Gate' declares [LockOrder(2)], but 'IVault.Gate', which it implements or overrides, declares [LockOrder(1)]",
            "public interface IVault { [LockOrder(1)] ExclusiveLock Gate { get; } } public partial class Vault : IVault { [LockOrder(2)] public ExclusiveLock Gate { get; } = new(); private int _n; [Guarded(Lock = nameof(Gate))] private int BumpCore() => ++_n; }",
            "public interface IVault { [LockOrder(1)] ExclusiveLock Gate { get; } } public partial class Vault : IVault { public ExclusiveLock Gate { get; } = new(); private int _n; [Guarded(Lock = nameof(Gate))] private int BumpCore() => ++_n; }"
        },
        {
            "LSM0048", "error", "'Counter.Gate' declares [LockOrder(2)], but it returns the lock 'Counter._lock', which declares [LockOrder(1)]",
            "public partial class Counter { [LockOrder(1)] private readonly ExclusiveLock _lock = new(); [LockOrder(2)] private ExclusiveLock Gate => _lock; private int _n; [Guarded(Lock = nameof(Gate))] private int BumpCore() => ++_n; }",
            "public partial class Counter { [LockOrder(1)] private readonly ExclusiveLock _lock = new(); private ExclusiveLock Gate => _lock; private int _n; [Guarded(Lock = nameof(Gate))] private int BumpCore() => ++_n; }"
        },
        {
            "LSM0049", "warning", "'Vault.Gate' declares [LockOrder(2)], but 'IVault.Gate', which it implements or overrides, declares none|put [LockOrder(2)] on 'IVault.Gate'",
            "public interface IVault { ExclusiveLock Gate { get; } } public partial class Vault : IVault { [LockOrder(2)] public ExclusiveLock Gate { get; } = new(); private int _n; [Guarded(Lock = nameof(Gate))] private int BumpCore() => ++_n; }",
            "public interface IVault { [LockOrder(2)] ExclusiveLock Gate { get; } } public partial class Vault : IVault { [LockOrder(2)] public ExclusiveLock Gate { get; } = new(); private int _n; [Guarded(Lock = nameof(Gate))] private int BumpCore() => ++_n; }"
        },
        {
            "LSM0050", "warning", "'Cache.Lock' takes [ReadMostly(Policy = ReadWritePolicy.ReaderPreferred)] from 'Cache', but wrappers that reach it through 'ICache.Lock' do not apply it",
            "public interface ICache { ReadWriteLock Lock { get; } } [ReadMostly(Policy = ReadWritePolicy.ReaderPreferred)] public partial class Cache : ICache { public ReadWriteLock Lock { get; } = new(); private int _n = 1; [Guarded(Lock = nameof(Lock), Access = LockAccess.Read)] private int GetCore() => _n; }",
            "public interface ICache { ReadWriteLock Lock { get; } } [ReadMostly(Policy = ReadWritePolicy.ReaderPreferred)] public partial class Cache : ICache { public ReadWriteLock Lock { get; } = new(ReadWritePolicy.ReaderPreferred); private int _n = 1; [Guarded(Lock = nameof(Lock), Access = LockAccess.Read)] private int GetCore() => _n; }"
        },
        {
            "LSM0051", "error", "[ReadMostly] on 'Cache' declares ReadWritePolicy.WriterPreferred|ReadWritePolicy.Fair",
            "[ReadMostly] public partial class Cache { private readonly ReadWriteLock _lock = new(ReadWritePolicy.Fair); private int _n = 1; [Guarded(Lock = nameof(_lock), Access = LockAccess.Read)] private int GetCore() => _n; }",
            "[ReadMostly(Policy = ReadWritePolicy.Fair)] public partial class Cache { private readonly ReadWriteLock _lock = new(ReadWritePolicy.Fair); private int _n = 1; [Guarded(Lock = nameof(_lock), Access = LockAccess.Read)] private int GetCore() => _n; }"
        },
        {
            "LSM0052", "warning", "'VerifyAsync()' returns 'ValueTask', but the lambda binds to the Action overload of Scenario.Finally|'async () => await …'",
            "public static class Checks { public static ValueTask VerifyAsync() => ValueTask.CompletedTask; public static void Add(Locksmith.Testing.Scenario scenario) => scenario.Finally(() => VerifyAsync()); }",
            "public static class Checks { public static ValueTask VerifyAsync() => ValueTask.CompletedTask; public static void Add(Locksmith.Testing.Scenario scenario) => scenario.Finally(async () => await VerifyAsync()); }"
        },
        {
            "LSM0053", "warning", "he scope that '_lock.Acquire()' returns is never disposed, so '_lock' stays held for good",
            "public class Counter { private readonly ExclusiveLock _lock = new(); private int _n; public void Bump() { var scope = _lock.Acquire(); _n++; } }",
            "public class Counter { private readonly ExclusiveLock _lock = new(); private int _n; public void Bump() { using var scope = _lock.Acquire(); _n++; } }"
        },
        {
            "LSM0054", "error", "[field: LockOrder] on 'Gate' goes to the backing field|without 'field:'",
            "public partial class Counter { [field: LockOrder(5)] private ExclusiveLock Gate { get; } = new(); private int _n; [Guarded(Lock = nameof(Gate))] private int BumpCore() => ++_n; }",
            "public partial class Counter { [LockOrder(5)] private ExclusiveLock Gate { get; } = new(); private int _n; [Guarded(Lock = nameof(Gate))] private int BumpCore() => ++_n; }"
        },
        {
            "LSM0056", "warning", "'_n' is written|'Parallel.For'|while '_lock' is held around the loop",
            "public class Counter { private readonly ExclusiveLock _lock = new(); [Guarded(Lock = nameof(_lock))] private int _n; public void Fill() { using var scope = _lock.Acquire(); Parallel.For(0, 4, i => _n += i); } }",
            "public class Counter { private readonly ExclusiveLock _lock = new(); [Guarded(Lock = nameof(_lock))] private int _n; public void Fill() { Parallel.For(0, 4, i => { using var scope = _lock.Acquire(); _n += i; }); } }"
        },
        {
            // The table's fix, "guard the member with a lock that is not keyed", also needs that lock taken where the
            // member is written, or LSM0020 follows: the core takes it around the write.
            "LSM0057", "warning", "'_total' is guarded by the keyed lock '_lock' and is written here, where '_lock' is held for some keys only",
            "public partial class Shelf { private readonly StripedLock<int> _lock = new(); [Guarded(Lock = nameof(_lock))] private int _total; [Guarded(Lock = nameof(_lock), StripeBy = nameof(key))] private void AddCore(int key) => _total += key; }",
            "public partial class Shelf { private readonly StripedLock<int> _lock = new(); private readonly ExclusiveLock _totalLock = new(); [Guarded(Lock = nameof(_totalLock))] private int _total; [Guarded(Lock = nameof(_lock), StripeBy = nameof(key))] private void AddCore(int key) { using var scope = _totalLock.Acquire(); _total += key; } }"
        },
        {
            "LSM0058", "warning", "'TakeAsync' is an async method that returns the scope of a lock taken in its own frame|'using var flow = AsyncLockFlow.Begin();'",
            "public class Jobs { private readonly AsyncExclusiveLock _lock = new(); private async Task<AsyncLockScope> TakeAsync() => await _lock.AcquireAsync(); public async Task RunAsync() { using var scope = await TakeAsync(); } }",
            "public class Jobs { private readonly AsyncExclusiveLock _lock = new(); private async Task<AsyncLockScope> TakeAsync() => await _lock.AcquireAsync(); public async Task RunAsync() { using var flow = AsyncLockFlow.Begin(); using var scope = await TakeAsync(); } }"
        },
        {
            "LSM0059", "warning", "he claim 'AsyncLockFlow.Begin()' makes is dropped",
            "public class Jobs { public async Task RunAsync() { AsyncLockFlow.Begin(); await Task.Yield(); } }",
            "public class Jobs { public async Task RunAsync() { using var flow = AsyncLockFlow.Begin(); await Task.Yield(); } }"
        },
        {
            "LSM0060", "warning", "'RowsAsync' is an async iterator that holds '_lock' across 'yield return'|'using var flow = AsyncLockFlow.Begin();'",
            "public class Jobs { private readonly AsyncExclusiveLock _lock = new(); private async IAsyncEnumerable<int> RowsAsync() { using var scope = await _lock.AcquireAsync(); yield return 1; } public async Task RunAsync() { await foreach (var r in RowsAsync()) { _ = r; } } }",
            "public class Jobs { private readonly AsyncExclusiveLock _lock = new(); private async IAsyncEnumerable<int> RowsAsync() { using var scope = await _lock.AcquireAsync(); yield return 1; } public async Task RunAsync() { using var flow = AsyncLockFlow.Begin(); await foreach (var r in RowsAsync()) { _ = r; } } }"
        },
        {
            "LSM0061", "error", "he body of Scenario.Thread(\"a\") is async, which an Action runs as async void|call Scenario.Flow(\"a\", async () => …)",
            "public static class Runs { public static void Add(Locksmith.Testing.Scenario scenario) => scenario.Thread(\"a\", async () => await Task.Yield()); }",
            "public static class Runs { public static void Add(Locksmith.Testing.Scenario scenario) => scenario.Flow(\"a\", async () => await Task.Yield()); }"
        },
        {
            "LSM0062", "warning", "'BeginAsync' is async, so the claim 'AsyncLockFlow.Begin()' makes lives in its own frame",
            "public class Jobs { public async Task<AsyncLockFlowScope> BeginAsync() { await Task.Yield(); return AsyncLockFlow.Begin(); } }",
            "public class Jobs { public AsyncLockFlowScope Begin() => AsyncLockFlow.Begin(); public async Task RunAsync() { using var flow = Begin(); await Task.Yield(); } }"
        },
        {
            "LSM0063", "warning", "'Result' on the ValueTask of '_lock.AcquireAsync()' reads it without awaiting it|throws InvalidOperationException",
            "public class Counter { private readonly AsyncExclusiveLock _lock = new(); private int _n; public async Task BumpAsync() { await Task.Yield(); using var scope = _lock.AcquireAsync().Result; _n++; } }",
            "public class Counter { private readonly AsyncExclusiveLock _lock = new(); private int _n; public async Task BumpAsync() { await Task.Yield(); using var scope = await _lock.AcquireAsync(); _n++; } }"
        },
    };

    [Theory]
    [MemberData(nameof(Rows))]
    public void TheRowsTrigger_GetsItsIdSeverityAndMessage_AndTheRowsFix_LeavesCleanStrictCode(string id, string severity, string message, string before, string after)
    {
        var broken = GeneratorHarness.RunStrict(Usings + before);
        var hits = broken.LocksmithDiagnostics.Where(d => d.Id == id).ToList();
        var all = Snapshot.Render(broken.LocksmithDiagnostics);
        Assert.True(hits.Count >= 1, $"no {id} for:\n{before}\ngot:\n{all}");
        Assert.All(hits, d => Assert.Equal(severity == "error" ? DiagnosticSeverity.Error : DiagnosticSeverity.Warning, d.Descriptor.DefaultSeverity));
        foreach (var part in message.Split('|'))
        {
            Assert.True(hits.Any(d => d.GetMessage(System.Globalization.CultureInfo.InvariantCulture).Contains(part, StringComparison.Ordinal)),
                $"{id}: no message contains \"{part}\":\n{all}");
        }

        Clean.Assert(GeneratorHarness.RunStrict(Usings + after));
    }
}
