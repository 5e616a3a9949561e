namespace Locksmith.Generators.Tests.Support;

/// <summary>
/// The valid inputs of the snapshot tests, one per shape of guarded code. The robustness test mutates them, the
/// incrementality test edits around them, and each must compile without a warning.
/// </summary>
internal static class Samples
{
    public const string AsyncExclusiveLockMethods =
        """
        using System;
        using System.Collections.Generic;
        using System.Threading;
        using System.Threading.Tasks;
        using Locksmith;

        namespace Pipelines;

        /// <summary>A queue whose state is guarded across awaits.</summary>
        public sealed partial class Queue
        {
            [LockOrder(30)]
            private readonly AsyncExclusiveLock _lock = new();

            private static readonly AsyncExclusiveLock s_lock = new();

            [Guarded(Lock = nameof(_lock))]
            private int _count;

            [Guarded(Lock = nameof(s_lock))]
            private static int s_total;

            /// <summary>Adds one after a yield.</summary>
            [Guarded(Lock = nameof(_lock))]
            private async Task IncrementCoreAsync()
            {
                await Task.Yield();
                _count++;
            }

            /// <summary>Adds <paramref name="amount"/>.</summary>
            /// <param name="amount">How much to add.</param>
            /// <returns>The new count.</returns>
            [Guarded(Lock = nameof(_lock), TimeoutMilliseconds = 500)]
            private async Task<int> AddAsyncCore(int amount)
            {
                await Task.Yield();
                _count += amount;
                return _count;
            }

            /// <summary>Resets the count; the token cancels the wait and the work.</summary>
            [Guarded(Lock = nameof(_lock))]
            private ValueTask ResetCoreAsync(CancellationToken token)
            {
                token.ThrowIfCancellationRequested();
                _count = 0;
                return default;
            }

            [Guarded(Lock = nameof(_lock))]
            private ValueTask<int> PeekCoreAsync() => new(_count);

            [Guarded(Lock = nameof(s_lock), TimeoutMilliseconds = -1)]
            private static async Task<int> AddTotalCoreAsync(int amount, string reason = "")
            {
                await Task.Yield();
                s_total += amount + reason.Length;
                return s_total;
            }

            [Guarded(Lock = nameof(_lock))]
            private async Task<List<T>> FillCoreAsync<T>(T item, params T[] more)
                where T : notnull
            {
                await Task.Yield();
                var list = new List<T> { item };
                list.AddRange(more);
                _count += list.Count;
                return list;
            }

            [Guarded(Lock = nameof(_lock), WrapperName = "DrainAsync")]
            private Task DrainEverything(CancellationToken cancellationToken)
            {
                _count = cancellationToken.IsCancellationRequested ? _count : 0;
                return Task.CompletedTask;
            }

            /// <summary>Reads the count in a scope of its own.</summary>
            /// <returns>The count.</returns>
            public async Task<int> CountAsync()
            {
                using var scope = await _lock.AcquireAsync().ConfigureAwait(false);
                return _count;
            }
        }
        """;

    public const string ExclusiveLockMethods =
        """
        using System;
        using Locksmith;

        namespace Bank;

        /// <summary>An account.</summary>
        public sealed partial class Account
        {
            [LockOrder(10)]
            private readonly ExclusiveLock _lock = new();

            [Guarded(Lock = nameof(_lock))]
            private decimal _balance;

            /// <summary>Adds <paramref name="amount"/> to the balance.</summary>
            /// <param name="amount">The amount.</param>
            [Guarded(Lock = nameof(_lock))]
            private void DepositCore(decimal amount) => _balance += amount;

            /// <summary>The balance.</summary>
            /// <returns>The balance now.</returns>
            [Guarded(Lock = nameof(_lock), TimeoutMilliseconds = 250)]
            private decimal BalanceCore() => _balance;

            [Guarded(Lock = nameof(_lock), TimeoutMilliseconds = -1, WrapperName = "Audit", Visibility = WrapperVisibility.Internal)]
            private string CheckBalance() => _balance.ToString();
        }
        """;

    public const string StaticMethodsAndStaticLocks =
        """
        using System.Collections.Generic;
        using Locksmith;

        namespace Registry;

        /// <summary>A registry shared by every instance.</summary>
        public partial class Names
        {
            private static readonly ExclusiveLock s_lock = new();

            [Guarded(Lock = nameof(s_lock))]
            private static readonly List<string> s_names = new();

            [Guarded(Lock = nameof(s_lock))]
            private static int CountCore() => s_names.Count;

            [Guarded(Lock = nameof(s_lock))]
            private void AddCore(string name) => s_names.Add(name);
        }

        /// <summary>Extension wrappers.</summary>
        public static partial class NameExtensions
        {
            private static readonly ReentrantLock s_gate = new();

            [Guarded(Lock = nameof(s_gate))]
            private static string ShoutCore(this string name) => name.ToUpperInvariant();
        }
        """;

    public const string ParameterShapes =
        """
        using System;
        using System.Diagnostics.CodeAnalysis;
        using System.Runtime.CompilerServices;
        using Locksmith;

        namespace Shapes;

        /// <summary>A color.</summary>
        public enum Color
        {
            /// <summary>Red.</summary>
            Red = 1,

            /// <summary>Blue.</summary>
            Blue = 2,
        }

        /// <summary>Every kind of parameter.</summary>
        public partial class Parameters
        {
            private readonly ExclusiveLock _lock = new();

            [Guarded(Lock = nameof(_lock))]
            private void RefsCore(ref int counter, out string text, in DateTime when, ref readonly long big)
            {
                counter++;
                text = when.ToString() + big;
            }

            [Guarded(Lock = nameof(_lock))]
            private int SumCore(params int[] values) => values.Length;

            [Guarded(Lock = nameof(_lock))]
            private string DefaultsCore(string name = "a \"quoted\" name", Color color = Color.Blue, int? count = null, decimal rate = 1.5m,
                double ratio = 0.25, char mark = '\n', string? note = null, long big = 5_000_000_000, DateTime when = default) => name;

            [Guarded(Lock = nameof(_lock))]
            [return: NotNullIfNotNull(nameof(value))]
            private string? NullablesCore(string? value, [NotNullWhen(true)] object? other, int?[]? items) => value;

            [Guarded(Lock = nameof(_lock))]
            private string CallerCore([CallerMemberName] string caller = "") => caller;

            [Guarded(Lock = nameof(_lock))]
            private int SpanCore(scoped ReadOnlySpan<char> text, Span<byte> buffer) => text.Length + buffer.Length;

            [Guarded(Lock = nameof(_lock))]
            private (int Count, string? Name) TupleCore(int @class) => (@class, null);
        }
        """;

    public const string GenericMethods =
        """
        using System;
        using System.Collections.Generic;
        using Locksmith;

        namespace Generics;

        /// <summary>Generic guarded methods.</summary>
        public partial class Store
        {
            private readonly ExclusiveLock _lock = new();
            private readonly Dictionary<Type, object> _items = new();

            [Guarded(Lock = nameof(_lock))]
            private T? FindCore<T>(T? fallback) where T : class => _items.TryGetValue(typeof(T), out var item) ? (T)item : fallback;

            [Guarded(Lock = nameof(_lock))]
            private void PutCore<TKey, TValue>(TKey key, TValue value)
                where TKey : notnull, IComparable<TKey>
                where TValue : struct
            {
            }

            [Guarded(Lock = nameof(_lock))]
            private TItem CreateCore<TItem>() where TItem : class?, new() => new TItem();

            [Guarded(Lock = nameof(_lock))]
            private int SizeCore<TValue>(TValue value) where TValue : unmanaged => 0;

            [Guarded(Lock = nameof(_lock))]
            private T EchoCore<T>(T value) where T : allows ref struct => value;
        }
        """;

    public const string NestedAndGenericTypes1 =
        """
        using Locksmith;

        namespace Nesting;

        /// <summary>An outer type.</summary>
        public static partial class Outer
        {
            /// <summary>A generic inner cache.</summary>
            public partial class Cache<TValue>
            {
                private readonly ExclusiveLock _lock = new();
                private TValue? _value;

                [Guarded(Lock = nameof(_lock))]
                private TValue? GetCore() => _value;

                [Guarded(Lock = nameof(_lock))]
                private void SetCore(TValue? value) => _value = value;
            }

            /// <summary>A record struct.</summary>
            public partial record struct Point(int X, int Y)
            {
                private static readonly ExclusiveLock s_lock = new();

                [Guarded(Lock = nameof(s_lock))]
                private readonly int LengthCore() => X + Y;
            }

            /// <summary>A record.</summary>
            public partial record Entry(string Key)
            {
                private readonly ExclusiveLock _lock = new();

                [Guarded(Lock = nameof(_lock))]
                private int KeyLengthCore() => Key.Length;
            }
        }
        """;

    public const string NestedAndGenericTypes2 =
        """
        using Locksmith;

        /// <summary>In the global namespace.</summary>
        public partial class GlobalCounter
        {
            private readonly ExclusiveLock _lock = new();
            private int _count;

            [Guarded(Lock = nameof(_lock))]
            private int NextCore() => ++_count;
        }
        """;

    public const string ReadMostlyReadWriteLock =
        """
        using System.Collections.Generic;
        using Locksmith;

        namespace Pricing;

        /// <summary>The issue's price cache.</summary>
        [ReadMostly(Policy = ReadWritePolicy.Fair)]
        public partial class PriceCache
        {
            [LockOrder(20)] private readonly ReadWriteLock _lock = new();
            [Guarded(Lock = nameof(_lock))] private readonly Dictionary<string, decimal> _prices = new();

            /// <summary>Finds a price.</summary>
            /// <param name="sku">The stock-keeping unit.</param>
            /// <returns>The price, or null.</returns>
            [Guarded(Lock = nameof(_lock), Access = LockAccess.Read)]
            private decimal? FindCore(string sku) => _prices.TryGetValue(sku, out var p) ? p : null;

            /// <summary>Sets a price.</summary>
            /// <param name="sku">The stock-keeping unit.</param>
            /// <param name="price">The price.</param>
            [Guarded(Lock = nameof(_lock))]
            private void SetCore(string sku, decimal price) => _prices[sku] = price;
        }
        """;

    public const string ReentrantLockAndCountingSemaphore =
        """
        using Locksmith;

        namespace Pool;

        /// <summary>A pool of connections.</summary>
        public partial class Connections
        {
            private readonly ReentrantLock _lock = new();
            private readonly CountingSemaphore _slots = new(4, 4);
            private int _open;

            [Guarded(Lock = nameof(_lock))]
            private int OpenCore() => ++_open;

            [Guarded(Lock = nameof(_slots), TimeoutMilliseconds = 1000)]
            private string UseCore(string query) => query;
        }
        """;

    public const string StripedLocks =
        """
        using System.Collections.Generic;
        using Locksmith;

        namespace Stock;

        /// <summary>Stock levels, locked one stripe per item.</summary>
        public partial class Inventory
        {
            [LockOrder(30)] private readonly StripedLock<string> _stripes = new();
            private readonly StripedReadWriteLock<int> _shelves = new();
            private readonly Dictionary<string, int> _counts = new();

            [Guarded(Lock = nameof(_stripes), StripeBy = nameof(sku))]
            private int TakeCore(string sku, int quantity) => _counts[sku] -= quantity;

            [Guarded(Lock = nameof(_shelves), StripeBy = nameof(shelf), Access = LockAccess.Read)]
            private int PeekCore(int shelf) => shelf;

            [Guarded(Lock = nameof(_shelves), StripeBy = nameof(shelf), TimeoutMilliseconds = 100)]
            private void FillCore(int shelf) { }
        }
        """;

    public const string AcquiresLocksOfParameters =
        """
        using Locksmith;

        namespace Bank;

        /// <summary>The seed's account, with a transfer that takes both locks in the global order.</summary>
        public partial class Account
        {
            [LockOrder(10)] private readonly ExclusiveLock _lock = new();
            [Guarded(Lock = nameof(_lock))] private decimal _balance;

            /// <summary>Moves <paramref name="amount"/> from one account to another.</summary>
            /// <param name="from">The account debited.</param>
            /// <param name="to">The account credited.</param>
            /// <param name="amount">The amount.</param>
            [AcquiresLocksOf(nameof(from), nameof(to), Lock = nameof(_lock))]
            private static void TransferCore(Account from, Account to, decimal amount)
            {
                from._balance -= amount;
                to._balance += amount;
            }

            [AcquiresLocksOf(nameof(other), Lock = nameof(_lock), TimeoutMilliseconds = 500, WrapperName = "Compare")]
            private bool IsRicherThan(Account other) => other._balance < 0;
        }
        """;

    public const string AcquiresLocksOfGenericParameters =
        """
        using Locksmith;

        namespace Bank;

        /// <summary>An account whose lock generic code reaches through a constraint.</summary>
        public partial class Account
        {
            [LockOrder(10)] internal readonly ExclusiveLock _lock = new();
            [Guarded(Lock = nameof(_lock))] internal decimal _balance;
        }

        /// <summary>Anything with a gate.</summary>
        public interface IGated
        {
            /// <summary>The gate.</summary>
            [LockOrder(20)] ExclusiveLock Gate { get; }
        }

        /// <summary>Takes the locks of parameters typed by a type parameter: its constraint has the lock member.</summary>
        public static partial class Transfers
        {
            [AcquiresLocksOf(nameof(from), nameof(to), Lock = nameof(Account._lock))]
            private static void MoveCore<TAccount>(TAccount from, TAccount to, decimal amount) where TAccount : Account
            {
                from._balance -= amount;
                to._balance += amount;
            }

            [AcquiresLocksOf(nameof(gated), Lock = nameof(IGated.Gate))]
            private static int PassCore<T>(T gated) where T : IGated => 1;
        }
        """;

    public const string NullableFlowAttributes =
        """
        using System.Collections.Generic;
        using System.Diagnostics.CodeAnalysis;
        using Locksmith;

        namespace Flow;

        /// <summary>Nullable-flow attributes whose meaning the timed form changes.</summary>
        public partial class Registry
        {
            private readonly ExclusiveLock _lock = new();
            private readonly Dictionary<string, string> _entries = new();
            private string? _last;

            [Guarded(Lock = nameof(_lock))]
            private bool FindCore(string key, [NotNullWhen(true)] out string? value) => _entries.TryGetValue(key, out value);

            [Guarded(Lock = nameof(_lock))]
            private bool LookupCore<T>(string key, [MaybeNullWhen(false)] out T value)
            {
                value = default!;
                return key.Length == 0;
            }

            [Guarded(Lock = nameof(_lock))]
            private int CountCore(string prefix, out int matched, out string first)
            {
                matched = prefix.Length;
                first = prefix;
                return matched;
            }

            [Guarded(Lock = nameof(_lock))]
            [MemberNotNull(nameof(_last))]
            private void RememberCore(string value) => _last = value;

            [Guarded(Lock = nameof(_lock))]
            [MemberNotNullWhen(true, nameof(_last))]
            private bool HasLastCore() => _last is not null;

            [Guarded(Lock = nameof(_lock))]
            private void EnsureCore([NotNull] ref string? text, [AllowNull] ref string label)
            {
                text ??= string.Empty;
                label ??= string.Empty;
            }

            [Guarded(Lock = nameof(_lock))]
            private void CheckCore([DoesNotReturnIf(false)] bool condition, [NotNull] object? value)
            {
                if (!condition || value is null)
                {
                    throw new System.InvalidOperationException();
                }
            }

            [Guarded(Lock = nameof(_lock))]
            [return: NotNullIfNotNull(nameof(fallback))]
            private string? GetOrCore(string key, string? fallback) => _entries.TryGetValue(key, out var found) ? found : fallback;

            [Guarded(Lock = nameof(_lock))]
            [return: MaybeNull]
            private T FirstCore<T>(IEnumerable<T> items)
            {
                foreach (var item in items)
                {
                    return item;
                }

                return default!;
            }

            [Guarded(Lock = nameof(_lock))]
            [return: NotNull]
            private string? NameCore() => _last ?? string.Empty;

            [Guarded(Lock = nameof(_lock))]
            private bool ParseCore(string text, [NotNullWhen(true)] out int? number)
            {
                number = text.Length;
                return true;
            }
        }
        """;

    public const string TryNamedCores =
        """
        using System.Collections.Generic;
        using System.Diagnostics.CodeAnalysis;
        using Locksmith;

        namespace Caching;

        /// <summary>Cores whose names already start with Try.</summary>
        public partial class Cache
        {
            private readonly ReadWriteLock _lock = new();
            private readonly Dictionary<string, string> _items = new();

            /// <summary>Finds an item.</summary>
            /// <param name="key">The key.</param>
            /// <param name="value">The item, when found.</param>
            /// <returns>Whether the item was found.</returns>
            [Guarded(Lock = nameof(_lock), Access = LockAccess.Read)]
            private bool TryFindCore(string key, [NotNullWhen(true)] out string? value) => _items.TryGetValue(key, out value);

            [Guarded(Lock = nameof(_lock))]
            private bool TryAddCore(string key, string value) => _items.TryAdd(key, value);

            [Guarded(Lock = nameof(_lock), Access = LockAccess.Read)]
            private int TryingCore() => _items.Count;
        }
        """;

    public const string ClampedAccessibility =
        """
        using System.Collections.Generic;
        using Locksmith;

        namespace Access;

        internal class Secret
        {
        }

        /// <summary>Wrappers clamped to the accessibility of their signatures.</summary>
        public partial class Vault
        {
            private readonly ExclusiveLock _lock = new();

            /// <summary>A mode.</summary>
            public enum Mode
            {
                /// <summary>Open.</summary>
                Open,
            }

            /// <summary>A hook for derived vaults.</summary>
            protected class Hook
            {
            }

            private sealed class Token
            {
            }

            [Guarded(Lock = nameof(_lock))]
            private Secret OpenCore() => new();

            [Guarded(Lock = nameof(_lock))]
            private void UseCore(Token token)
            {
            }

            [Guarded(Lock = nameof(_lock))]
            private (int Count, List<Secret[]> Items) ListCore() => (0, new());

            [Guarded(Lock = nameof(_lock))]
            private void PickCore<T>(T value) where T : Secret
            {
            }

            [Guarded(Lock = nameof(_lock))]
            private void AttachCore(Hook hook)
            {
            }

            [Guarded(Lock = nameof(_lock))]
            private Dictionary<Hook, Token>? MapCore() => null;

            [Guarded(Lock = nameof(_lock))]
            private Mode CurrentModeCore() => Mode.Open;
        }

        internal sealed partial class Hidden
        {
            private readonly ExclusiveLock _lock = new();

            [Guarded(Lock = nameof(_lock))]
            private Secret PeekCore() => new();
        }
        """;

    public const string OverrideAndAbstractCores =
        """
        using Locksmith;

        namespace Jobs;

        /// <summary>A template-method base: the wrapper takes the lock and calls the abstract core.</summary>
        public abstract partial class Job
        {
            /// <summary>The lock.</summary>
            protected ExclusiveLock Gate { get; } = new();

            /// <summary>Runs one step.</summary>
            /// <param name="step">The step.</param>
            /// <returns>The total so far.</returns>
            [Guarded(Lock = nameof(Gate))]
            protected abstract int StepCore(int step);

            /// <summary>Describes the job.</summary>
            /// <returns>A description.</returns>
            [Guarded(Lock = nameof(Gate))]
            protected virtual string DescribeCore() => "job";
        }

        /// <summary>Overrides get no wrapper of their own (and need not be partial): the base's wrappers call them.</summary>
        public sealed class CopyJob : Job
        {
            private int _copied;

            /// <inheritdoc/>
            [Guarded(Lock = nameof(Gate))]
            protected override int StepCore(int step) => _copied += step;

            /// <inheritdoc/>
            [Guarded(Lock = nameof(Gate))]
            protected override string DescribeCore() => "copy";
        }

        /// <summary>A second level: still no wrapper.</summary>
        public partial class MoveJob : Job
        {
            /// <inheritdoc/>
            [Guarded(Lock = nameof(Gate))]
            protected override int StepCore(int step) => step;

            /// <inheritdoc/>
            protected override string DescribeCore() => "move";
        }
        """;

    public const string KeywordNames =
        """
        using Locksmith;

        namespace Words;

        /// <summary>C# keywords as names.</summary>
        public partial class Calendar
        {
            private readonly ExclusiveLock _lock = new();
            private int _count;

            [Guarded(Lock = nameof(_lock))]
            private void @eventCore(int @class, string @params) => _count += @class + @params.Length;

            [Guarded(Lock = nameof(_lock), WrapperName = "checked")]
            private int Check(int @in) => _count + @in;

            [Guarded(Lock = nameof(_lock), WrapperName = "@return")]
            private int Back(out int @out)
            {
                @out = _count;
                return _count;
            }
        }
        """;

    public const string EchoedWarnings =
        """
        using System;
        using Locksmith;

        namespace Legacy;

        /// <summary>An old type.</summary>
        [Obsolete("Use something else.")]
        public sealed class Old
        {
        }

        /// <summary>Bodies whose declarations carry warnings the user suppressed; their wrappers must not repeat them.</summary>
        /// <typeparam name="T">The item type.</typeparam>
        public partial class Shelf<T>
        {
            private readonly ExclusiveLock _lock = new();

        #pragma warning disable CS0618, CS0693
            [Guarded(Lock = nameof(_lock))]
            private int KeepCore(Old old) => old.GetHashCode();

            [Guarded(Lock = nameof(_lock))]
            private T EchoCore<T>(T value) => value;
        #pragma warning restore CS0618, CS0693
        }
        """;

    /// <summary>The inputs of every test of <c>GeneratorSnapshotTests</c>, by test name (each test runs them together).</summary>
    /// <summary>Declared levels of several kinds in two types, for the lock-order manifest.</summary>
    public const string LockOrderManifest =
        """
        using System.Threading.Tasks;
        using Locksmith;

        namespace Ordering;

        /// <summary>A ledger with two ordered locks.</summary>
        public sealed partial class Ledger
        {
            [LockOrder(20)]
            private readonly ReadWriteLock _entries = new();

            [LockOrder(10)]
            private static readonly ExclusiveLock s_books = new();

            [Guarded(Lock = nameof(_entries))]
            private int _count;

            /// <summary>Counts one.</summary>
            [Guarded(Lock = nameof(_entries))]
            private void AddCore() => _count++;
        }

        /// <summary>An async store with a striped lock.</summary>
        public sealed partial class Store
        {
            [LockOrder(30)]
            private readonly AsyncExclusiveLock _gate = new();

            [LockOrder(40)]
            internal readonly StripedLock<string> Rows = new(8);
        }
        """;

    /// <summary>Levels on the properties of records' positional parameters (<c>[property: LockOrder(n)]</c>).</summary>
    public const string RecordParameterLockOrder =
        """
        using Locksmith;

        namespace Records;

        /// <summary>An account whose lock is a positional parameter.</summary>
        /// <param name="Gate">The lock.</param>
        /// <param name="Owner">Not a lock.</param>
        public sealed partial record Account([property: LockOrder(10)] ExclusiveLock Gate, string Owner)
        {
            [Guarded(Lock = nameof(Gate))]
            private int _balance;

            /// <summary>Adds money.</summary>
            [Guarded(Lock = nameof(Gate))]
            private void DepositCore(int amount) => _balance += amount;
        }

        /// <summary>A record struct with a read-write lock.</summary>
        /// <param name="Latch">The lock.</param>
        public readonly partial record struct Slot([property: LockOrder(20)] ReadWriteLock Latch);
        """;

    /// <summary>A [Guarded] class that receives its lock through its primary constructor (as from a DI container).</summary>
    public const string GuardedPrimaryConstructor =
        """
        using System.Threading.Tasks;
        using Locksmith;

        namespace Ledgers;

        /// <summary>A ledger whose lock the container gives it.</summary>
        public sealed partial class Ledger(AsyncExclusiveLock ledgerLock)
        {
            [LockOrder(10)]
            private readonly AsyncExclusiveLock _lock = ledgerLock;

            [Guarded(Lock = nameof(_lock))]
            private decimal _balance;

            /// <summary>Adds an amount after a yield.</summary>
            [Guarded(Lock = nameof(_lock))]
            private async ValueTask<decimal> DepositCoreAsync(decimal amount)
            {
                await Task.Yield();
                _balance += amount;
                return _balance;
            }
        }
        """;

    /// <summary>Tasks started inside async holds the way LSM0026 accepts: awaited, kept and awaited, or with the flow suppressed.</summary>
    public const string TasksInAsyncHolds =
        """
        using System.Threading;
        using System.Threading.Tasks;
        using Locksmith;

        namespace Refresh;

        /// <summary>A cache that refreshes in the background.</summary>
        public sealed partial class Cache
        {
            private readonly AsyncExclusiveLock _gate = new();

            [Guarded(Lock = nameof(_gate))]
            private int _version;

            private Task? _refresh;

            /// <summary>The last refresh started.</summary>
            public Task? Pending => _refresh;

            /// <summary>Bumps the version, refreshes, and starts a refresh that runs on as a flow of its own.</summary>
            public async Task BumpAsync()
            {
                using (await _gate.AcquireAsync())
                {
                    _version++;
                    await Task.Run(Work);
                    using (ExecutionContext.SuppressFlow())
                    {
                        _refresh = Task.Run(Work);
                    }
                }
            }

            /// <summary>Bumps the version in the wrapper's hold.</summary>
            [Guarded(Lock = nameof(_gate))]
            private async Task NudgeCoreAsync()
            {
                _version++;
                var pending = Task.Run(Work);
                await pending;
            }

            private static void Work()
            {
            }
        }
        """;

    // Flow ownership done right in the shapes LSM0058-LSM0062 follow (forwarders that pick a helper, tasks kept and
    // observed, locals assigned after their declaration, claims made through ?.), so the sweep mutates them too.
    public const string FlowOwnership =
        """
        using System.Collections.Generic;
        using System.Threading.Tasks;
        using Locksmith;

        namespace Ledgers;

        /// <summary>Helpers that take the ledger's lock for their caller's flow.</summary>
        public static class Ledger
        {
            private static readonly AsyncExclusiveLock s_lock = new();
            private static readonly AsyncExclusiveLock s_other = new();

            /// <summary>Takes the ledger.</summary>
            public static async Task<AsyncLockScope> TakeLedgerAsync() => await s_lock.AcquireAsync();

            /// <summary>Takes the other lock.</summary>
            public static async Task<AsyncLockScope> TakeOtherAsync() => await s_other.AcquireAsync();

            /// <summary>Takes one of them.</summary>
            public static Task<AsyncLockScope> TakeAsync(bool ledger) => ledger ? TakeLedgerAsync() : TakeOtherAsync();

            /// <summary>Takes one of them, by number.</summary>
            public static Task<AsyncLockScope> TakeByAsync(int which) => which switch
            {
                0 => TakeLedgerAsync(),
                _ => TakeAsync(which > 1),
            };

            /// <summary>Rows read under the ledger's lock.</summary>
            public static async IAsyncEnumerable<int> RowsAsync()
            {
                using (await s_lock.AcquireAsync())
                {
                    yield return 1;
                }
            }
        }

        /// <summary>Begins a flow for its caller.</summary>
        public sealed class Starter
        {
            /// <summary>The next starter.</summary>
            public Starter? Next { get; set; }

            /// <summary>Begins the caller's flow.</summary>
            public AsyncLockFlowScope BeginFlow() => AsyncLockFlow.Begin();
        }

        /// <summary>Posts under the ledger's lock, owning it in its flow.</summary>
        public sealed class Posting
        {
            /// <summary>Posts through a forwarder.</summary>
            public async Task PostAsync(bool ledger)
            {
                using var flow = AsyncLockFlow.Begin();
                using var scope = await Ledger.TakeAsync(ledger);
                using var again = await Ledger.TakeByAsync(ledger ? 0 : 2);
            }

            /// <summary>Posts once both are done.</summary>
            public async Task PostWhenReadyAsync(Task other)
            {
                using var flow = AsyncLockFlow.Begin();
                Task<AsyncLockScope> pending;
                pending = Ledger.TakeLedgerAsync();
                await Task.WhenAll(pending, other);
                if (pending.IsCompletedSuccessfully)
                {
                    using var scope = pending.Result;
                }
            }

            /// <summary>Sums the rows.</summary>
            public async Task<int> SumAsync(Starter? starter)
            {
                int sum = 0;
                using var flow = starter?.Next?.BeginFlow();
                IAsyncEnumerator<int> cursor;
                cursor = Ledger.RowsAsync().GetAsyncEnumerator();
                await using (cursor)
                {
                    while (await cursor.MoveNextAsync())
                    {
                        sum += cursor.Current;
                    }
                }

                return sum;
            }
        }
        """;

    public static readonly System.Collections.Generic.IReadOnlyDictionary<string, string[]> SnapshotInputs =
        new System.Collections.Generic.Dictionary<string, string[]>
        {
            ["ExclusiveLockMethods"] = [ExclusiveLockMethods],
            ["StaticMethodsAndStaticLocks"] = [StaticMethodsAndStaticLocks],
            ["ParameterShapes"] = [ParameterShapes],
            ["GenericMethods"] = [GenericMethods],
            ["NestedAndGenericTypes"] = [NestedAndGenericTypes1, NestedAndGenericTypes2],
            ["ReadMostlyReadWriteLock"] = [ReadMostlyReadWriteLock],
            ["ReentrantLockAndCountingSemaphore"] = [ReentrantLockAndCountingSemaphore],
            ["StripedLocks"] = [StripedLocks],
            ["AcquiresLocksOfParameters"] = [AcquiresLocksOfParameters],
            ["AcquiresLocksOfGenericParameters"] = [AcquiresLocksOfGenericParameters],
            ["NullableFlowAttributes"] = [NullableFlowAttributes],
            ["TryNamedCores"] = [TryNamedCores],
            ["ClampedAccessibility"] = [ClampedAccessibility],
            ["OverrideAndAbstractCores"] = [OverrideAndAbstractCores],
            ["KeywordNames"] = [KeywordNames],
            ["EchoedWarnings"] = [EchoedWarnings],
            ["AsyncExclusiveLockMethods"] = [AsyncExclusiveLockMethods],
            ["LockOrderManifest"] = [LockOrderManifest],
            ["GuardedPrimaryConstructor"] = [GuardedPrimaryConstructor],
            ["RecordParameterLockOrder"] = [RecordParameterLockOrder],
        };

    public static readonly string[] All =
    [
        ExclusiveLockMethods,
        AsyncExclusiveLockMethods,
        StaticMethodsAndStaticLocks,
        ParameterShapes,
        GenericMethods,
        NestedAndGenericTypes1,
        NestedAndGenericTypes2,
        ReadMostlyReadWriteLock,
        ReentrantLockAndCountingSemaphore,
        StripedLocks,
        AcquiresLocksOfParameters,
        AcquiresLocksOfGenericParameters,
        NullableFlowAttributes,
        TryNamedCores,
        ClampedAccessibility,
        OverrideAndAbstractCores,
        KeywordNames,
        EchoedWarnings,
        TasksInAsyncHolds,
        FlowOwnership,
    ];
}

