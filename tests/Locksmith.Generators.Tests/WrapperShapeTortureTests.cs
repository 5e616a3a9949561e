using System;
using System.Linq;
using Locksmith.Generators.Tests.Support;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Locksmith.Generators.Tests;

/// <summary>
/// Method shapes real code has, run through the real generator and compiled with their wrappers under the project's
/// settings (nullable enabled, every warning an error, C# 14): the generator never throws, and what it emits compiles
/// without a warning; a shape it cannot wrap gets exactly the diagnostics that say why, and the rest still compiles.
/// </summary>
public sealed class WrapperShapeTortureTests
{
    private const string Usings = """
        using System;
        using System.Collections.Generic;
        using System.Threading;
        using System.Threading.Tasks;
        using Locksmith;

        """;

    public static TheoryData<string, string> AcceptedShapes() => new()
    {
        {
            "generic methods with class?, notnull, unmanaged, struct, new() and unconstrained type parameters",
            Usings + """
            public partial class G
            {
                private readonly ExclusiveLock _lock = new();
                [Guarded(Lock = nameof(_lock))] private T? ACore<T>(T? x) where T : class? => x;
                [Guarded(Lock = nameof(_lock))] private T BCore<T>(T x) where T : notnull => x;
                [Guarded(Lock = nameof(_lock))] private T CCore<T>(T x) where T : unmanaged => x;
                [Guarded(Lock = nameof(_lock))] private T? DCore<T>(T? x) where T : struct => x;
                [Guarded(Lock = nameof(_lock))] private T ECore<T>() where T : new() => new T();
                [Guarded(Lock = nameof(_lock))] private T? FCore<T>() => default;
                [Guarded(Lock = nameof(_lock))] private TOut HCore<TIn, TOut>(TIn x) where TIn : IEnumerable<TOut> where TOut : class, IComparable<TOut>, new() => new();
                [Guarded(Lock = nameof(_lock))] private void ICore<T>(out T x) where T : struct, Enum => x = default;
                [Guarded(Lock = nameof(_lock))] private int JCore<T>(T x) where T : allows ref struct => 1;
                public sealed class Item : IComparable<Item> { public int CompareTo(Item? other) => 0; }
                private void Callers()
                {
                    _ = A<string>(null); _ = B(1); _ = C(2); _ = D<int>(null); _ = E<object>(); _ = F<string>();
                    _ = H<List<Item>, Item>(new()); I(out DayOfWeek d); _ = d; _ = J(1);
                    _ = TryA<string>("x", TimeSpan.Zero, out string? a) && TryF(TimeSpan.Zero, out string? f) && TryI(out DayOfWeek e, TimeSpan.Zero);
                }
            }
            """
        },
        {
            "async generic methods with constraints over every async lock kind",
            Usings + """
            [ReadMostly]
            public partial class G
            {
                private readonly AsyncExclusiveLock _lock = new();
                private readonly AsyncReadWriteLock _rw = new();
                private readonly AsyncStripedLock<string> _stripes = new();
                [Guarded(Lock = nameof(_lock))] private Task<T?> ACoreAsync<T>(T? x) where T : class? => Task.FromResult(x);
                [Guarded(Lock = nameof(_lock))] private ValueTask<T> BCoreAsync<T>(T x) where T : notnull => new(x);
                [Guarded(Lock = nameof(_rw), Access = LockAccess.Read)] private ValueTask<T?> CCoreAsync<T>() where T : struct => default;
                [Guarded(Lock = nameof(_rw))] private Task DCoreAsync<T>(T x) where T : unmanaged => Task.CompletedTask;
                [Guarded(Lock = nameof(_stripes), StripeBy = nameof(key))] private async Task<T> ECoreAsync<T>(string key) where T : new() { await Task.Yield(); return new T(); }
                [Guarded(Lock = nameof(_lock))] private Task<T?> FCoreAsync<T>() => Task.FromResult<T?>(default);
                private async Task Callers()
                {
                    _ = await AAsync<string>(null); _ = await BAsync(1); _ = await CAsync<int>(); await DAsync(1); _ = await EAsync<object>("k"); _ = await FAsync<string>();
                    var (ok, value) = await TryFAsync<string>(TimeSpan.Zero); _ = ok; _ = value;
                }
            }
            """
        },
        {
            "generic containing types, nested generic partial types and a generic method using both",
            Usings + """
            namespace N;
            public partial class Outer<TOuter> where TOuter : notnull
            {
                public partial class Inner<TInner> where TInner : class
                {
                    private readonly ExclusiveLock _lock = new();
                    private readonly AsyncExclusiveLock _async = new();
                    private static readonly ExclusiveLock s_lock = new();
                    [Guarded(Lock = nameof(_lock))] private Dictionary<TOuter, TInner?> MapCore<TM>(TM m, TOuter o, TInner? i) where TM : IList<TInner> => new();
                    [Guarded(Lock = nameof(_async))] private Task<(TOuter, TInner)> PairCoreAsync(TOuter o, TInner i) => Task.FromResult((o, i));
                    [Guarded(Lock = nameof(s_lock))] private static TInner? StaticCore(TOuter o) => null;
                }
                public partial struct InStruct
                {
                    private readonly ExclusiveLock _lock;
                    public InStruct() { _lock = new(); }
                    [Guarded(Lock = nameof(_lock))] private readonly TOuter EchoCore(TOuter o) => o;
                }
            }
            """
        },
        {
            "records, record structs, readonly structs and a ref struct",
            Usings + """
            namespace N
            {
                public partial record R(int X)
                {
                    private readonly ExclusiveLock _lock = new();
                    private readonly AsyncExclusiveLock _async = new();
                    [Guarded(Lock = nameof(_lock))] private int GetCore() => X;
                    [Guarded(Lock = nameof(_async))] private Task<int> GetCoreAsync() => Task.FromResult(X);
                }
                public sealed partial record SealedRecord
                {
                    private readonly ExclusiveLock _lock = new();
                    [Guarded(Lock = nameof(_lock))] private SealedRecord SelfCore() => this;
                }
                public partial record struct RS(int X)
                {
                    private readonly ExclusiveLock _lock = new();
                    [Guarded(Lock = nameof(_lock))] private int GetCore() => X;
                }
                public readonly partial record struct RRS(int X)
                {
                    private readonly ExclusiveLock _lock = new();
                    [Guarded(Lock = nameof(_lock))] private int GetCore() => X;
                }
                public readonly partial struct RO
                {
                    private readonly ExclusiveLock _lock;
                    private static readonly AsyncExclusiveLock s_async = new();
                    public RO(int x) { _lock = new(); X = x; }
                    public int X { get; }
                    [Guarded(Lock = nameof(_lock))] private int GetCore() => X;
                    [Guarded(Lock = nameof(s_async))] private static Task<int> StaticCoreAsync() => Task.FromResult(1);
                }
                public ref partial struct RefS
                {
                    private readonly ExclusiveLock _lock;
                    private Span<int> _span;
                    public RefS(Span<int> s) { _lock = new(); _span = s; }
                    [Guarded(Lock = nameof(_lock))] private int FirstCore() => _span[0];
                }
            }
            """
        },
        {
            "static classes with static locks, extension methods (this, this ref, this in) sync and async",
            Usings + """
            public static partial class S
            {
                private static readonly ExclusiveLock s_lock = new();
                private static readonly AsyncExclusiveLock s_async = new();
                private static readonly ReadWriteLock s_rw = new();
                [Guarded(Lock = nameof(s_lock))] private static int CountCore() => 1;
                [Guarded(Lock = nameof(s_lock))] private static int AppendCore(this List<int> list, int x) { list.Add(x); return list.Count; }
                [Guarded(Lock = nameof(s_lock))] private static void IncCore(this ref int x) => x++;
                [Guarded(Lock = nameof(s_lock))] private static int PeekCore(this in int x) => x;
                [Guarded(Lock = nameof(s_rw), Access = LockAccess.Read)] private static int ReadCore(this string s) => s.Length;
                [Guarded(Lock = nameof(s_async))] private static Task<int> AddCoreAsync(this List<int> list, int x, params int[] more) => Task.FromResult(list.Count + x + more.Length);
                private static async Task Callers()
                {
                    var l = new List<int>();
                    _ = Count(); _ = l.Append(1); int i = 0; i.Inc(); _ = i.Peek(); _ = "s".Read();
                    _ = await l.AddAsync(1, 2, 3);
                    _ = await l.TryAddAsync(TimeSpan.Zero, 1);
                }
            }
            """
        },
        {
            "ref, out, in, ref readonly and scoped parameters, and ref-struct parameters and results",
            Usings + """
            public partial class P
            {
                private readonly ExclusiveLock _lock = new();
                [Guarded(Lock = nameof(_lock))] private void ACore(ref int a, out int b, in int c, ref readonly int d) { b = a + c + d; a++; }
                [Guarded(Lock = nameof(_lock))] private int BCore(scoped ref int a, scoped Span<int> s, scoped ReadOnlySpan<char> r) => a + s.Length + r.Length;
                [Guarded(Lock = nameof(_lock))] private ReadOnlySpan<char> TrimCore(ReadOnlySpan<char> s) => s.Trim();
                [Guarded(Lock = nameof(_lock))] private Span<int> SliceCore(Span<int> s) => s[1..];
                [Guarded(Lock = nameof(_lock))] private void FillCore(out string s, out int? n, out List<string?> l) { s = ""; n = null; l = new(); }
                private void Callers()
                {
                    int a = 1, c = 2, d = 3;
                    A(ref a, out int b, in c, ref d); _ = b; A(ref a, out b, c, in d);
                    _ = B(ref a, stackalloc int[2], "x");
                    _ = Trim(" x ".AsSpan()); _ = Slice(new int[3]);
                    _ = TryA(ref a, out b, c, in d, TimeSpan.Zero);
                    _ = TryFill(out string? s, out int? n, out List<string?>? l, TimeSpan.Zero);
                }
            }
            """
        },
        {
            "params arrays, params spans and params collections, sync and async",
            Usings + """
            public partial class P
            {
                private readonly ExclusiveLock _lock = new();
                private readonly AsyncExclusiveLock _async = new();
                [Guarded(Lock = nameof(_lock))] private int ACore(params int[] xs) => xs.Length;
                [Guarded(Lock = nameof(_lock))] private int BCore(string s, params ReadOnlySpan<int> xs) => xs.Length;
                [Guarded(Lock = nameof(_lock))] private int CCore(params List<string> xs) => xs.Count;
                [Guarded(Lock = nameof(_lock))] private int DCore(params IEnumerable<string?> xs) => 1;
                [Guarded(Lock = nameof(_lock))] private int ECore(params string?[]? xs) => 1;
                [Guarded(Lock = nameof(_async))] private Task<int> FCoreAsync(params int[] xs) => Task.FromResult(xs.Length);
                [Guarded(Lock = nameof(_async))] private Task<int> GCoreAsync(params IReadOnlyList<int> xs) => Task.FromResult(xs.Count);
                [Guarded(Lock = nameof(_async))] private Task HCoreAsync(CancellationToken ct, params int[] xs) => Task.CompletedTask;
                private async Task Callers()
                {
                    _ = A(); _ = A(1, 2); _ = B("s"); _ = B("s", 1, 2); _ = C("a", "b"); _ = D(); _ = E(null, "x");
                    _ = await FAsync(1, 2); _ = await GAsync(1); await HAsync(default, 1, 2);
                    _ = await TryFAsync(TimeSpan.Zero, 1, 2);
                }
            }
            """
        },
        {
            "default values: null, default, enums (flags, unnamed), decimal, quoted and escaped strings, chars, NaN, extremes",
            Usings + """"
            using System.Reflection;
            public partial class Defs
            {
                private const int Answer = 42;
                private readonly ExclusiveLock _lock = new();
                private readonly AsyncExclusiveLock _async = new();
                [Guarded(Lock = nameof(_lock))] private void ACore(string? s = null, object? o = null, int? n = null, int? m = 5, DateTime when = default, CancellationToken ct = default, (int, string) t = default) { }
                [Guarded(Lock = nameof(_lock))] private void BCore(DayOfWeek d = DayOfWeek.Friday, BindingFlags f = BindingFlags.Public | BindingFlags.Instance, DayOfWeek u = (DayOfWeek)42, DayOfWeek? nd = DayOfWeek.Monday, AttributeTargets all = AttributeTargets.All) { }
                [Guarded(Lock = nameof(_lock))] private void CCore(decimal a = 1.5m, decimal b = decimal.MaxValue, decimal c = -0.000001m, decimal? e = 2m) { }
                [Guarded(Lock = nameof(_lock))] private void DCore(string a = "a\"b\\c\n\t\0\u0001", string b = "{0} {{x}} }", string c = @"C:\path ""q""", string d = "\uD83D\uDE00 é", string e = """raw "quoted" """) { }
                [Guarded(Lock = nameof(_lock))] private void ECore(char a = '\'', char b = '"', char c = '\\', char d = '\0', char e = '\uFFFF') { }
                [Guarded(Lock = nameof(_lock))] private void FCore(double a = double.NaN, double b = double.PositiveInfinity, double c = double.NegativeInfinity, float d = -0.0f, double e = double.Epsilon, float f = float.MaxValue, double g = 1e-300) { }
                [Guarded(Lock = nameof(_lock))] private void GCore(long a = long.MinValue, int b = int.MinValue, ulong c = ulong.MaxValue, sbyte d = sbyte.MinValue, short e = -1, byte f = 255, nint g = -1, nuint h = 1, uint i = uint.MaxValue) { }
                [Guarded(Lock = nameof(_lock))] private void HCore(int a = Answer, bool b = true, bool? c = false, string s = nameof(Answer)) { }
                [Guarded(Lock = nameof(_async))] private Task JCoreAsync(string a = "q\"", decimal m = 0.1m, DayOfWeek d = DayOfWeek.Sunday, int? n = null) => Task.CompletedTask;
                private async Task Callers()
                {
                    A(); B(); C(); D(); E(); F(); G(); H(); await JAsync();
                    _ = TryB(DayOfWeek.Friday, default, default, null, default, TimeSpan.Zero);
                }
            }
            """"
        },
        {
            "nullable reference and value types, nested in generics and arrays",
            Usings + """
            public partial class Nn
            {
                private readonly ExclusiveLock _lock = new();
                private readonly AsyncExclusiveLock _async = new();
                [Guarded(Lock = nameof(_lock))] private string? ACore(string? s, int? n, List<string?>? l, string?[]? a, int?[] b) => s;
                [Guarded(Lock = nameof(_lock))] private Dictionary<string, List<int?>?>? BCore() => null;
                [Guarded(Lock = nameof(_lock))] private int? CCore() => null;
                [Guarded(Lock = nameof(_async))] private Task<string?> DCoreAsync(string? s) => Task.FromResult(s);
                [Guarded(Lock = nameof(_async))] private ValueTask<int?> ECoreAsync() => default;
                [Guarded(Lock = nameof(_async))] private Task<List<string?>>? FCoreAsync() => null;
                private async Task Callers()
                {
                    _ = A(null, null, null, null, []); _ = B(); _ = C(); _ = await DAsync(null); _ = await EAsync();
                    _ = TryA(null, null, null, null, [], TimeSpan.Zero, out string? r);
                }
            }
            """
        },
        {
            "tuples: named, unnamed, nested, eight and more elements, named Acquired and Result",
            Usings + """
            public partial class T1
            {
                private readonly ExclusiveLock _lock = new();
                private readonly AsyncExclusiveLock _async = new();
                [Guarded(Lock = nameof(_lock))] private (int a, string? b) ACore((int x, int y) p) => (p.x, null);
                [Guarded(Lock = nameof(_lock))] private (int, (string, long Deep) Inner) BCore() => (1, ("s", 2));
                [Guarded(Lock = nameof(_lock))] private (int, int, int, int, int, int, int, int, int Ninth) CCore() => default;
                [Guarded(Lock = nameof(_lock))] private (bool Acquired, int Result) DCore() => (true, 1);
                [Guarded(Lock = nameof(_async))] private Task<(int Count, string Name)> ECoreAsync() => Task.FromResult((1, "n"));
                [Guarded(Lock = nameof(_async))] private ValueTask<(bool Acquired, int Result)> FCoreAsync() => new((true, 1));
                [Guarded(Lock = nameof(_lock))] private (int Item1, int Item2) GCore() => (1, 2);
                private async Task Callers()
                {
                    _ = A((1, 2)).b; _ = B().Inner.Deep; _ = C().Ninth; _ = D().Result;
                    _ = (await EAsync()).Name; _ = (await FAsync()).Acquired;
                    var t = await TryEAsync(TimeSpan.Zero); _ = t.Result.Name;
                    _ = TryB(TimeSpan.Zero, out var b) && b.Inner.Deep == 2;
                }
            }
            """
        },
        {
            "parameters named like the generated parameters and locals, and C# keywords",
            Usings + """
            public partial class K
            {
                private readonly ExclusiveLock _lock = new();
                private readonly AsyncExclusiveLock _async = new();
                private readonly StripedLock<string> _stripes = new();
                [Guarded(Lock = nameof(_lock))] private int ACore(int scope, int @lock, int token, int timeout, int result, int __scope, int __release, int timeout1, int result1) => 1;
                [Guarded(Lock = nameof(_lock))] private int BCore(string @class, string @this, int value, object @event, int @params, int @default) => 1;
                [Guarded(Lock = nameof(_async))] private Task<int> CCoreAsync(int cancellationToken, int scope, int timeout, int result, int __scope) => Task.FromResult(1);
                [Guarded(Lock = nameof(_async))] private Task<int> DCoreAsync(string @class, CancellationToken @default) => Task.FromResult(1);
                [Guarded(Lock = nameof(_stripes), StripeBy = nameof(@class))] private int ECore(string @class, int timeout) => 1;
                #pragma warning disable CS8981
                [Guarded(Lock = nameof(_lock))] private void FCore<timeout, result>(timeout t, result r) { }
                #pragma warning restore CS8981
                [Guarded(Lock = nameof(_lock))] private void GCore(ref int __scope, out int timeout) => timeout = __scope;
                private async Task Callers()
                {
                    _ = A(1, 2, 3, 4, 5, 6, 7, 8, 9); _ = B("c", "t", 1, new object(), 2, 3);
                    _ = await CAsync(1, 2, 3, 4, 5, CancellationToken.None); _ = await DAsync("c", default); _ = E("k", 1);
                    _ = TryA(1, 2, 3, 4, 5, 6, 7, 8, 9, TimeSpan.Zero, out int r);
                    int s = 0; G(ref s, out int t); _ = TryG(ref s, out t, TimeSpan.Zero);
                }
            }
            """
        },
        {
            "cancellation tokens: not last, two of them, optional, nullable, and none",
            Usings + """
            public partial class Ct
            {
                private readonly AsyncExclusiveLock _lock = new();
                private readonly AsyncReadWriteLock _rw = new();
                [Guarded(Lock = nameof(_lock))] private Task ACoreAsync(CancellationToken ct, int x) => Task.CompletedTask;
                [Guarded(Lock = nameof(_lock))] private Task BCoreAsync(CancellationToken first, CancellationToken second) => Task.CompletedTask;
                [Guarded(Lock = nameof(_lock))] private Task<int> CCoreAsync(int x, CancellationToken ct = default) => Task.FromResult(x);
                [Guarded(Lock = nameof(_lock))] private Task DCoreAsync(CancellationToken? ct) => Task.CompletedTask;
                [Guarded(Lock = nameof(_rw), Access = LockAccess.Read)] private ValueTask<int> ECoreAsync(int dummy = 0) => default;
                [Guarded(Lock = nameof(_rw))] private ValueTask FCoreAsync(int x, CancellationToken cancellationToken) => default;
                private async Task Callers()
                {
                    await AAsync(default, 1); await BAsync(default, default); _ = await CAsync(1); await DAsync(null, default); await FAsync(1, default);
                    _ = await TryBAsync(TimeSpan.Zero, default, default); _ = await TryCAsync(TimeSpan.Zero, 1);
                }
            }
            """
        },
        {
            "overloads that differ only by ref kind",
            Usings + """
            public partial class O
            {
                private readonly ExclusiveLock _lock = new();
                private int _last;
                [Guarded(Lock = nameof(_lock))] private void SetCore(int x) => _last = 1;
                [Guarded(Lock = nameof(_lock))] private void SetCore(ref int x) => _last = 2;
                [Guarded(Lock = nameof(_lock))] private void PutCore(int x) => _last = 3;
                [Guarded(Lock = nameof(_lock))] private void PutCore(in int x) => _last = 4;
                [Guarded(Lock = nameof(_lock))] private void TakeCore(int x) => _last = 5;
                [Guarded(Lock = nameof(_lock))] private void TakeCore(out int x) { x = 0; _last = 6; }
                [Guarded(Lock = nameof(_lock))] private void PeekCore(long x) => _last = 7;
                [Guarded(Lock = nameof(_lock))] private void PeekCore(ref readonly long x) => _last = 8;
                [Guarded(Lock = nameof(_lock))] private int LastCore() => _last;
                private void Callers()
                {
                    int i = 0; long l = 0;
                    Set(i); Set(ref i); Put(i); Put(in i); Take(i); Take(out i); Peek(l); Peek(in l);
                    _ = TrySet(ref i, TimeSpan.Zero) && TryPut(in i, TimeSpan.Zero) && TryPeek(ref l, TimeSpan.Zero);
                }
            }
            """
        },
        {
            "[Obsolete] and [Experimental] cores, and other attributes on cores and parameters",
            Usings + """
            using System.ComponentModel;
            using System.Diagnostics;
            using System.Diagnostics.CodeAnalysis;
            using System.Runtime.CompilerServices;
            public partial class Ob
            {
                private readonly ExclusiveLock _lock = new();
                private readonly AsyncExclusiveLock _async = new();
                [Obsolete] [Guarded(Lock = nameof(_lock))] private int ACore() => 1;
                [Obsolete("Use B2", DiagnosticId = "MY0001")] [Guarded(Lock = nameof(_lock))] private int BCore() => 1;
                [Obsolete("gone", true)] [Guarded(Lock = nameof(_lock))] private int CCore() => 1;
                [Obsolete] [Guarded(Lock = nameof(_async))] private Task<int> DCoreAsync() => Task.FromResult(1);
                [Experimental("MYEXP1")] [Guarded(Lock = nameof(_lock))] private int ECore() => 1;
                [EditorBrowsable(EditorBrowsableState.Never), DebuggerStepThrough, MethodImpl(MethodImplOptions.NoInlining)] [Guarded(Lock = nameof(_lock))] private int FCore() => 1;
                [Guarded(Lock = nameof(_lock))] private string GCore([CallerMemberName] string member = "", [CallerLineNumber] int line = 0, [CallerFilePath] string path = "") => member;
                [Guarded(Lock = nameof(_lock))] private string HCore(object? value, [CallerArgumentExpression(nameof(value))] string expr = "") => expr;
                [Guarded(Lock = nameof(_lock))] private void ICore([NotNull] ref string? s) => s ??= "";
                [Guarded(Lock = nameof(_lock))] [return: NotNullIfNotNull(nameof(s))] private string? JCore(string? s) => s;
            }
            """
        },
        {
            "XML doc comments with crefs to imported, generic and member names, paramrefs and inheritdoc",
            """
            using System;
            using System.Text;
            using System.Collections.Generic;
            using System.Threading.Tasks;
            using Locksmith;
            using SB = System.Text.StringBuilder;
            namespace N;
            /// <summary>Docs.</summary>
            public partial class Docs
            {
                private readonly ExclusiveLock _lock = new();
                private readonly AsyncExclusiveLock _async = new();

                /// <summary>Appends to a <see cref="StringBuilder"/> (a <see cref="SB"/>), see <see cref="List{T}"/>, <see cref="Dictionary{TKey, TValue}.Add"/>, <see cref="Helper(int)"/> and <see cref="Helper{T}(T)"/>.</summary>
                /// <param name="sb">The <see cref="StringBuilder"/>.</param>
                /// <param name="timeout">A parameter called <paramref name="timeout"/>.</param>
                /// <returns>The <see cref="Task{TResult}"/>-like <typeparamref name="T"/>.</returns>
                /// <param name="value">A value.</param>
                /// <typeparam name="T">A <see cref="IComparable{T}"/>.</typeparam>
                /// <exception cref="ArgumentException">Never.</exception>
                /// <seealso cref="Encoding.UTF8"/>
                [Guarded(Lock = nameof(_lock))] private T AppendCore<T>(StringBuilder sb, int timeout, T value) where T : IComparable<T> => value;

                /// <summary>Async, with a <see cref="Task"/> and <see cref="UTF8Encoding"/>.</summary>
                /// <param name="sb">The <see cref="SB"/>.</param>
                /// <returns>A <see cref="Task{TResult}"/>.</returns>
                [Guarded(Lock = nameof(_async))] private Task<int> CountCoreAsync(StringBuilder sb) => Task.FromResult(sb.Length);

                /// <inheritdoc cref="Helper(int)"/>
                [Guarded(Lock = nameof(_lock))] private int InheritCore(int x) => x;

                /// <summary>A helper.</summary>
                /// <param name="x">A number.</param>
                /// <returns>It.</returns>
                public int Helper(int x) => x;

                /// <summary>A generic helper.</summary>
                /// <typeparam name="T">Anything.</typeparam>
                /// <param name="x">A value.</param>
                /// <returns>It.</returns>
                public T Helper<T>(T x) => x;
            }
            """
        },
        {
            "#nullable disable regions and partial nullable contexts",
            Usings + """
            public partial class Nd
            {
                private readonly ExclusiveLock _lock = new();
                private readonly AsyncExclusiveLock _async = new();
            #nullable disable
                [Guarded(Lock = nameof(_lock))] private string ACore(string s, List<string> l) => s;
                [Guarded(Lock = nameof(_async))] private Task<string> BCoreAsync(string s) => Task.FromResult(s);
                [Guarded(Lock = nameof(_lock))] private T CCore<T>(T x) where T : class => x;
            #nullable restore
            #nullable disable annotations
                [Guarded(Lock = nameof(_lock))] private string DCore(string s) => s;
            #nullable restore annotations
            #nullable disable warnings
                [Guarded(Lock = nameof(_lock))] private string? ECore(string? s) => s;
            #nullable restore warnings
                [Guarded(Lock = nameof(_lock))] private string? FCore(string? s) => s;
                private void Callers() { _ = F(null); _ = E(null); }
            }
            """
        },
        {
            "global namespace, block namespaces nested and dotted, keyword-named namespace and type",
            """
            using System.Threading.Tasks;
            using Locksmith;
            public partial class Global { private readonly ExclusiveLock _lock = new(); [Guarded(Lock = nameof(_lock))] private int GetCore() => 1; }
            namespace A.B
            {
                namespace C
                {
                    public partial class Deep { private readonly AsyncExclusiveLock _lock = new(); [Guarded(Lock = nameof(_lock))] private Task GoCoreAsync() => Task.CompletedTask; }
                }
            }
            namespace @namespace
            {
                #pragma warning disable CS8981
                public partial class @class
                {
                    private readonly ExclusiveLock @lock = new();
                    private static readonly ExclusiveLock @static = new();
                    [Guarded(Lock = nameof(@lock))] private @class SelfCore() => this;
                    [Guarded(Lock = nameof(@static))] private static int @intCore() => 1;
                }
                #pragma warning restore CS8981
            }
            """
        },
        {
            "types named like System types (Task, Lock, Monitor, TimeSpan, CancellationToken, ValueTask, IDisposable) in the user's namespace",
            """
            using System.Threading;
            using Locksmith;
            namespace MyApp
            {
                public class Task { }
                public class ValueTask { }
                public class Lock { }
                public class Monitor { }
                public struct TimeSpan { }
                public struct CancellationToken { }
                public interface IDisposable { }
                public class Exception { }
                public class Timeout { }
                public class GeneratedCodeAttribute : System.Attribute { }
                public class LockTimeoutException { }
                public class LockSet { }
                public class Volatile { }
                public partial class User
                {
                    private readonly ExclusiveLock _lock = new();
                    private readonly AsyncExclusiveLock _async = new();
                    private readonly ReadWriteLock _rw = new();
                    [Guarded(Lock = nameof(_lock))] private Task GetCore(Lock l, TimeSpan t, CancellationToken c) => new();
                    [Guarded(Lock = nameof(_async))] private System.Threading.Tasks.Task<Monitor> GetCoreAsync(Timeout t) => System.Threading.Tasks.Task.FromResult(new Monitor());
                    [Guarded(Lock = nameof(_async))] private System.Threading.Tasks.ValueTask PutCoreAsync(System.Threading.CancellationToken c) => default;
                    [Guarded(Lock = nameof(_rw), Access = LockAccess.Read)] private int ReadCore() => 1;
                    [AcquiresLocksOf(nameof(a), nameof(b), Lock = nameof(_lock))] private static void SwapCore(User a, User b) { }
                }
            }
            namespace MyApp.Locksmith
            {
                public class ExclusiveLock { }
                public partial class Inner
                {
                    private readonly global::Locksmith.ExclusiveLock _lock = new();
                    [global::Locksmith.Guarded(Lock = nameof(_lock))] private int GetCore() => 1;
                }
            }
            """
        },
        {
            "a type named System in the user's namespace",
            """
            using Locksmith;
            namespace MyApp
            {
                public class System { }
                public partial class User
                {
                    private readonly ExclusiveLock _lock = new();
                    private readonly AsyncExclusiveLock _async = new();
                    [Guarded(Lock = nameof(_lock))] private int GetCore() => 1;
                    [Guarded(Lock = nameof(_async))] private global::System.Threading.Tasks.Task<int> GetCoreAsync() => global::System.Threading.Tasks.Task.FromResult(1);
                }
            }
            """
        },
        {
            "using aliases, global using aliases, tuple aliases and using static",
            """
            global using GNum = System.Int64;
            using System.Threading.Tasks;
            using Locksmith;
            using Num = System.Int32;
            using Pair = (int Left, string Right);
            using Strs = System.Collections.Generic.List<string?>;
            using static System.Math;
            public partial class Al
            {
                private readonly ExclusiveLock _lock = new();
                private readonly AsyncExclusiveLock _async = new();
                [Guarded(Lock = nameof(_lock))] private Num ACore(Num x, GNum y, Pair p, Strs s, int m = (int)PI) => x;
                [Guarded(Lock = nameof(_async))] private Task<Pair> BCoreAsync(Pair p) => Task.FromResult(p);
            }
            """
        },
        {
            "unsafe pointers, function pointers, dynamic, nint and object? parameters",
            Usings + """
            public unsafe partial class U
            {
                private readonly ExclusiveLock _lock = new();
                [Guarded(Lock = nameof(_lock))] private int* ACore(int* p, void** q) => p;
                [Guarded(Lock = nameof(_lock))] private int BCore(delegate*<int, void> f, delegate* unmanaged[Cdecl]<int> g) => 1;
                [Guarded(Lock = nameof(_lock))] private dynamic CCore(dynamic d, nint n, object? o) => d;
            }
            public partial class SafeOuter
            {
                private readonly ExclusiveLock _lock = new();
                [Guarded(Lock = nameof(_lock))] private unsafe int DCore(int* p) => *p;
            }
            """
        },
        {
            "StripeBy over key shapes: generic key, ref and in keys, a key that converts implicitly",
            Usings + """
            public partial class St<TKey> where TKey : notnull
            {
                private readonly StripedLock<TKey> _stripes = new();
                private readonly StripedLock<long> _longs = new();
                private readonly AsyncStripedLock<string> _async = new();
                private static readonly StripedLock<string> s_stripes = new();
                [Guarded(Lock = nameof(_stripes), StripeBy = nameof(key))] private int ACore(TKey key) => 1;
                [Guarded(Lock = nameof(_longs), StripeBy = nameof(key))] private int BCore(int key) => 1;
                [Guarded(Lock = nameof(_longs), StripeBy = nameof(key))] private int CCore(ref long key) => 1;
                [Guarded(Lock = nameof(_longs), StripeBy = nameof(key))] private int DCore(in long key) => 1;
                [Guarded(Lock = nameof(_async), StripeBy = nameof(key))] private Task<int> ECoreAsync(string key, CancellationToken ct) => Task.FromResult(1);
                [Guarded(Lock = nameof(s_stripes), StripeBy = nameof(key))] private static int FCore(string key) => 1;
            }
            """
        },
        {
            "[AcquiresLocksOf] over ref, in, generic and record parameters, sync and async",
            Usings + """
            public partial class Acc
            {
                [LockOrder(1)] private readonly ExclusiveLock _lock = new();
                [LockOrder(2)] private readonly AsyncExclusiveLock _async = new();
                [AcquiresLocksOf(nameof(a), nameof(b), Lock = nameof(_lock))] private static void ACore(ref Acc a, in Acc b) { }
                [AcquiresLocksOf(nameof(a), nameof(b), Lock = nameof(_lock))] private static T BCore<T>(T a, T b) where T : Acc => a;
                [AcquiresLocksOf(nameof(a), nameof(b), nameof(c), Lock = nameof(_lock))] private static int CCore(Acc a, Acc b, Acc c, int timeout) => timeout;
                [AcquiresLocksOf(nameof(a), nameof(b), Lock = nameof(_async))] private static Task<int> DCoreAsync(Acc a, Acc b, CancellationToken ct = default) => Task.FromResult(1);
                [AcquiresLocksOf(nameof(a), nameof(b), nameof(c), Lock = nameof(_async))] private static Task ECoreAsync(Acc a, Acc b, Acc c) => Task.CompletedTask;
                [AcquiresLocksOf(nameof(other), Lock = nameof(_lock))] private void FCore(Acc other) { }
            }
            """
        },
        {
            "async shapes over AsyncReadWriteLock with [ReadMostly], Task, Task<T>, ValueTask and ValueTask<T>",
            Usings + """
            [ReadMostly(Policy = ReadWritePolicy.Fair)]
            public sealed partial class Rw
            {
                private readonly AsyncReadWriteLock _lock = new(policy: ReadWritePolicy.Fair);
                private readonly ReadWriteLock _sync = new(ReadWritePolicy.Fair);
                [Guarded(Lock = nameof(_lock), Access = LockAccess.Read)] private Task ACoreAsync() => Task.CompletedTask;
                [Guarded(Lock = nameof(_lock), Access = LockAccess.Read)] private Task<int> BCoreAsync() => Task.FromResult(1);
                [Guarded(Lock = nameof(_lock))] private ValueTask CCoreAsync() => default;
                [Guarded(Lock = nameof(_lock), TimeoutMilliseconds = 10)] private ValueTask<int> DCoreAsync() => default;
                [Guarded(Lock = nameof(_lock), TimeoutMilliseconds = -1)] private async Task<string> ECoreAsync() { await Task.Yield(); return ""; }
                [Guarded(Lock = nameof(_sync), Access = LockAccess.Read)] private int FCore() => 1;
                [Guarded(Lock = nameof(_sync))] private void GCore() { }
            }
            """
        },
        {
            "a lock inherited from a generic base class, and a static lock of a base class",
            Usings + """
            public abstract class Base<T>
            {
                protected readonly ExclusiveLock Lock = new();
                protected static readonly AsyncExclusiveLock StaticLock = new();
            }
            public partial class Derived : Base<string>
            {
                [Guarded(Lock = nameof(Lock))] private string? GetCore() => null;
                [Guarded(Lock = nameof(StaticLock))] private static Task PutCoreAsync() => Task.CompletedTask;
            }
            """
        },
        {
            "a partial type split over two files, and nested types in a struct and a record",
            Usings + """
            namespace N;
            public partial class Split
            {
                private readonly ExclusiveLock _lock = new();
            }
            public partial struct Host
            {
                public partial class Nested
                {
                    private readonly ExclusiveLock _lock = new();
                    [Guarded(Lock = nameof(_lock))] private int GetCore() => 1;
                }
            }
            public partial record Rec
            {
                private partial class Hidden
                {
                    private readonly ExclusiveLock _lock = new();
                    [Guarded(Lock = nameof(_lock))] private int GetCore() => 1;
                }
            }
            """
            + "\n//--file--\n" + Usings + """
            namespace N
            {
                public partial class Split
                {
                    [Guarded(Lock = nameof(_lock))] private int GetCore() => 1;
                }
            }
            """
        },
        {
            "defaults whose text is hard to write back: line separators, lone surrogates, float precision, negative enums, decimal scale",
            Usings + """"
            public enum Small : sbyte { Neg = -1, Zero = 0 }
            public enum Big : ulong { Max = ulong.MaxValue }
            public enum Wide : long { Min = long.MinValue }
            public partial class Hard
            {
                private readonly ExclusiveLock _lock = new();
                [Guarded(Lock = nameof(_lock))] private void ACore(string a = "x\u2028y\u2029z\u0085w\r", char b = '\u2028', char c = '\u0085', string d = "\uD800", char e = '\uDFFF') { }
                [Guarded(Lock = nameof(_lock))] private void BCore(float a = 0.1f, double b = 0.1, float c = 1e30f, double d = 1.7976931348623157E+308, float e = 16777217f, double f = -0.0, float g = float.NaN, float h = float.NegativeInfinity) { }
                [Guarded(Lock = nameof(_lock))] private void CCore(Small a = Small.Neg, Small b = (Small)(-5), Big c = Big.Max, Wide d = Wide.Min, Small? e = (Small)(-7), Wide f = (Wide)(-1)) { }
                [Guarded(Lock = nameof(_lock))] private void DCore(decimal a = 79228162514264337593543950335m, decimal b = 0.0000000000000000000000000001m, decimal c = -79228162514264337593543950335m, decimal d = 1.50m) { }
                [Guarded(Lock = nameof(_lock))] private void ECore(Guid g = new(), CancellationToken ct = new(), (int, int)? t = null, KeyValuePair<string, int> kv = default) { }
                private void Callers() { A(); B(); C(); D(); E(); }
            }
            """"
        },
        {
            "wrapper names that meet type parameters, nested types and an enclosing type's members",
            Usings + """
            public partial class Host<TItem>
            {
                private readonly ExclusiveLock _lock = new();
                private static readonly ExclusiveLock s_lock = new();
                [Guarded(Lock = nameof(_lock))] private TItem? PeekCore<TOther>(TOther other) => default;
                [Guarded(Lock = nameof(s_lock))] private static int CountCore(int s_lock, Host<TItem> Host) => s_lock;
                [Guarded(Lock = nameof(_lock))] private int UseCore(int _lock, int global, int System) => _lock;
            }
            public static partial class Util
            {
                private static readonly AsyncExclusiveLock s_lock = new();
                [Guarded(Lock = nameof(s_lock))] private static Task<int> RunCoreAsync(int Util, string s_lock) => Task.FromResult(Util);
            }
            """
        },
        {
            "types whose hint names could meet: a generic and a plain type of one name, nested against dotted",
            Usings + """
            namespace N
            {
                public partial class Box { private readonly ExclusiveLock _lock = new(); [Guarded(Lock = nameof(_lock))] private int GetCore() => 1; }
                public partial class Box<T> { private readonly ExclusiveLock _lock = new(); [Guarded(Lock = nameof(_lock))] private int GetCore() => 2; }
                public partial class Box<T, U> { private readonly ExclusiveLock _lock = new(); [Guarded(Lock = nameof(_lock))] private int GetCore() => 3; }
                public partial class Outer
                {
                    public partial class Inner { private readonly ExclusiveLock _lock = new(); [Guarded(Lock = nameof(_lock))] private int GetCore() => 4; }
                }
                public partial class Outer<T>
                {
                    public partial class Inner { private readonly ExclusiveLock _lock = new(); [Guarded(Lock = nameof(_lock))] private int GetCore() => 5; }
                }
            }
            namespace N.Outer2
            {
                public partial class Inner { private readonly ExclusiveLock _lock = new(); [Guarded(Lock = nameof(_lock))] private int GetCore() => 6; }
            }
            namespace N
            {
                public partial class Outer2_ { }
                public partial class Outer2x { public partial class Inner { private readonly ExclusiveLock _lock = new(); [Guarded(Lock = nameof(_lock))] private int GetCore() => 7; } }
            }
            """
        },
        {
            "non-ASCII and escaped identifiers in namespaces, types, methods and parameters",
            Usings + """
            namespace Ünïcödé.Naïve
            {
                public partial class Café
                {
                    private readonly ExclusiveLock _lock = new();
                    private readonly AsyncExclusiveLock _async = new();
                    [Guarded(Lock = nameof(_lock))] private int ÜberCore(int \u0061bc, string straße) => abc;
                    [Guarded(Lock = nameof(_async))] private Task ΑλφαCoreAsync(int ñ) => Task.CompletedTask;
                    [Guarded(Lock = nameof(_lock))] private int \u0047etCore() => 1;
                }
            }
            """
        },
        {
            "the Guarded attribute through an alias, qualified, with string lock names and a lock property",
            Usings + """
            using G = Locksmith.GuardedAttribute;
            public partial class Alias
            {
                private readonly ExclusiveLock _lock = new();
                private ExclusiveLock Gate => _lock;
                private static ExclusiveLock StaticGate { get; } = new();
                [G(Lock = nameof(_lock))] private int ACore() => 1;
                [global::Locksmith.Guarded(Lock = "_lock")] private int BCore() => 1;
                [Locksmith.GuardedAttribute(Lock = nameof(Gate))] private int CCore() => 1;
                [Guarded(Lock = nameof(StaticGate))] private static int DCore() => 1;
            }
            """
        },
        {
            "doc comments in /** */ form, with crefs through using static, keywords, indexers and operators",
            """
            using System;
            using System.Collections.Generic;
            using Locksmith;
            using static System.Math;
            namespace N
            {
                using Inner = System.Collections.Generic.Dictionary<string, int>;
                /// <summary>Docs.</summary>
                public partial class Docs2
                {
                    private readonly ExclusiveLock _lock = new();
                    /**
                     * <summary>Uses <see cref="Max(int, int)"/>, <see cref="int.MaxValue"/>, <see cref="string"/>, <see cref="this[int]"/>,
                     * <see cref="operator +(Docs2, Docs2)"/>, <see cref="Inner"/>, <see cref="global::System.Console"/> and <see cref="Docs2"/>.</summary>
                     * <param name="x">A <see cref="List{T}"/> of <c>&lt;int&gt;</c>.</param>
                     * <returns>A number.</returns>
                     */
                    [Guarded(Lock = nameof(_lock))] private int ACore(List<int> x) => x.Count;
                    /// <summary>An indexer.</summary>
                    /// <param name="i">An index.</param>
                    public int this[int i] => i;
                    /// <summary>An operator.</summary>
                    /// <param name="a">One.</param>
                    /// <param name="b">Two.</param>
                    /// <returns>One.</returns>
                    public static Docs2 operator +(Docs2 a, Docs2 b) => a;
                }
            }
            """
        },
        {
            "sync striped read-write locks with [ReadMostly], read and write",
            Usings + """
            [ReadMostly]
            public partial class Srw
            {
                private readonly StripedReadWriteLock<string> _stripes = new();
                [Guarded(Lock = nameof(_stripes), StripeBy = nameof(key), Access = LockAccess.Read)] private int ReadCore(string key) => 1;
                [Guarded(Lock = nameof(_stripes), StripeBy = nameof(key))] private void WriteCore(string key, int value) { }
            }
            """
        },
        {
            "StripeBy over dynamic, boxing and nullable-key locks",
            Usings + """
            public partial class Sd
            {
                private readonly StripedLock<object> _objects = new();
                private readonly StripedLock<string?> _maybe = new();
                [Guarded(Lock = nameof(_objects), StripeBy = nameof(key))] private int ACore(int key) => 1;
                [Guarded(Lock = nameof(_maybe), StripeBy = nameof(key))] private int BCore(string? key) => 1;
                [Guarded(Lock = nameof(_objects), StripeBy = nameof(key))] private int CCore(string key) => 1;
            }
            """
        },
        {
            "overloads by arity and by parameter type, and cores of every accessibility and modifier",
            Usings + """
            public abstract partial class Ov
            {
                private readonly ExclusiveLock _lock = new();
                [Guarded(Lock = nameof(_lock))] private int GetCore() => 1;
                [Guarded(Lock = nameof(_lock))] private int GetCore<T>() => 2;
                [Guarded(Lock = nameof(_lock))] private int GetCore<T, U>(T t, U u) => 3;
                [Guarded(Lock = nameof(_lock))] private int GetCore(string s) => 4;
                [Guarded(Lock = nameof(_lock))] protected virtual int VirtCore() => 5;
                [Guarded(Lock = nameof(_lock))] protected abstract int AbsCore();
                [Guarded(Lock = nameof(_lock))] internal int InternalCore() => 6;
                [Guarded(Lock = nameof(_lock))] protected internal int ProtIntCore() => 7;
                [Guarded(Lock = nameof(_lock))] private protected int PrivProtCore() => 8;
                [Guarded(Lock = nameof(_lock))] public int PublicCore() => 9;
                [Guarded(Lock = nameof(_lock))] private unsafe int UnsafeCore() => 10;
            }
            public sealed partial class OvDerived : Ov
            {
                protected override int AbsCore() => 11;
                protected sealed override int VirtCore() => 12;
            }
            """
        },
        {
            "an [AcquiresLocksOf] over nullable parameters (the wrappers throw ArgumentNullException)",
            Usings + """
            public partial class An
            {
                private readonly ExclusiveLock _lock = new();
                [AcquiresLocksOf(nameof(a), nameof(b), Lock = nameof(_lock))] private static void ACore(An? a, An b) { }
            }
            """
        },
        {
            // The compiler takes these defaults; the generator took '!' and parentheses for a rejected default and left the
            // method without wrappers, and without a word.
            "defaults written with '!' or in parentheses: default!, null!, (default), default(T)!, (null)!",
            Usings + """
            public partial class Suppressed
            {
                private readonly ExclusiveLock _lock = new();
                private readonly AsyncExclusiveLock _async = new();
                [Guarded(Lock = nameof(_lock))] private T ACore<T>(T x = default!) => x;
                [Guarded(Lock = nameof(_lock))] private T BCore<T>(T x = default(T)!) where T : notnull => x;
                [Guarded(Lock = nameof(_lock))] private string CCore(string s = null!, string t = (null)!, string u = default!) => s;
                [Guarded(Lock = nameof(_lock))] private CancellationToken DCore(CancellationToken ct = (default), Guid g = (new())) => ct;
                [Guarded(Lock = nameof(_async))] private Task<T> ECoreAsync<T>(T x = default!) => Task.FromResult(x);
                private async Task Callers()
                {
                    _ = A<int>(); _ = B<string>(); _ = C(); _ = D(); _ = await EAsync<string>();
                    _ = TryA(1, TimeSpan.Zero, out int a);
                }
            }
            """
        },
        {
            // A class nested in an interface was refused as if the method were the interface's (LSM0015, "move the method
            // to a partial class"), which it already is in.
            "a partial type nested in a partial interface, and generic types with constraints under #nullable disable and enable",
            Usings + """
            public partial interface IHost
            {
                public partial class Nested
                {
                    private readonly ExclusiveLock _lock = new();
                    [Guarded(Lock = nameof(_lock))] private int GetCore() => 1;
                }
            }
            #nullable disable
            public partial class Oblivious<T, U> where T : class, IComparable<T> where U : IEnumerable<string>
            {
                private readonly ExclusiveLock _lock = new();
                [Guarded(Lock = nameof(_lock))] private T GetCore(U u) => null;
            }
            #nullable enable
            public partial class Annotated<T, U> where T : class?, IComparable<T?> where U : notnull, IEnumerable<string?>
            {
                private readonly ExclusiveLock _lock = new();
                [Guarded(Lock = nameof(_lock))] private T? GetCore(U u) => null;
            }
            public partial class Annotated<T, U> { }
            """
        },
        {
            "doc comments naming parameters the wrappers must rename around (cancellationToken, timeout, result)",
            Usings + """
            /// <summary>Docs.</summary>
            public partial class DocRenames
            {
                private readonly ExclusiveLock _lock = new();
                private readonly AsyncExclusiveLock _async = new();
                /// <summary>Async.</summary>
                /// <param name="cancellationToken">Not a token.</param>
                /// <param name="timeout">Not a timeout.</param>
                /// <returns>A number.</returns>
                [Guarded(Lock = nameof(_async))] private Task<int> ACoreAsync(int cancellationToken, int timeout) => Task.FromResult(1);
                /// <summary>Sync.</summary>
                /// <param name="result">Not the result.</param>
                /// <param name="timeout">Not a timeout.</param>
                /// <returns>A number.</returns>
                [Guarded(Lock = nameof(_lock))] private int BCore(int result, string timeout) => 1;
                /// <summary>Sync, void, with an out named result.</summary>
                /// <param name="result">An out.</param>
                [Guarded(Lock = nameof(_lock))] private void CCore(out int result) => result = 1;
            }
            """
        },
        {
            "nullable-flow attributes on results the timed form passes on: [return: MaybeNull], [MaybeNull] out",
            Usings + """
            using System.Diagnostics.CodeAnalysis;
            public partial class Flow
            {
                private readonly ExclusiveLock _lock = new();
                private readonly AsyncExclusiveLock _async = new();
                [Guarded(Lock = nameof(_lock))] [return: MaybeNull] private T PeekCore<T>() => default;
                [Guarded(Lock = nameof(_lock))] [return: MaybeNull] private string FindCore() => null;
                [Guarded(Lock = nameof(_lock))] private void TakeCore<T>([MaybeNull] out T x) => x = default;
                [Guarded(Lock = nameof(_lock))] [return: NotNull] private T? SureCore<T>(T? x) where T : class => x ?? throw new InvalidOperationException();
                [Guarded(Lock = nameof(_async))] [return: MaybeNull] private Task<T> PeekCoreAsync<T>() => Task.FromResult<T>(default!);
                private void Callers()
                {
                    if (TryPeek(TimeSpan.Zero, out string? p)) { _ = p; }
                    if (TryFind(TimeSpan.Zero, out string? f)) { _ = f; }
                }
            }
            """
        },
        {
            "generic constraints on Delegate, Enum, unmanaged Enum, and a type parameter bound to another",
            Usings + """
            public partial class MoreConstraints
            {
                private readonly ExclusiveLock _lock = new();
                [Guarded(Lock = nameof(_lock))] private T ACore<T>(T d) where T : Delegate => d;
                [Guarded(Lock = nameof(_lock))] private T BCore<T>(T e) where T : struct, Enum => e;
                [Guarded(Lock = nameof(_lock))] private T CCore<T>(T e) where T : unmanaged, Enum => e;
                [Guarded(Lock = nameof(_lock))] private U DCore<T, U>(U u) where T : class? where U : T => u;
                [Guarded(Lock = nameof(_lock))] private T? ECore<T>(T? x) where T : class, IDisposable? => x;
            }
            """
        },
        {
            "[UnscopedRef] on an out parameter and on a struct's method, whose ref-struct results may hold them",
            Usings + """
            using System.Diagnostics.CodeAnalysis;
            public partial class Unscoped
            {
                private readonly ExclusiveLock _lock = new();
                [Guarded(Lock = nameof(_lock))] private Span<int> ACore([UnscopedRef] out int x) { x = 1; return new Span<int>(ref x); }
            }
            public partial struct UnscopedStruct
            {
                private readonly ExclusiveLock _lock;
                private int _x;
                public UnscopedStruct() { _lock = new(); _x = 0; }
                [UnscopedRef] [Guarded(Lock = nameof(_lock))] private Span<int> AsSpanCore() => new Span<int>(ref _x);
            }
            """
        },
        {
            "wrapper names that are contextual keywords or a discard: var, await, field, extension, scoped, file, _",
            Usings + """
            public partial class Contextual
            {
                private readonly ExclusiveLock _lock = new();
                private readonly AsyncExclusiveLock _async = new();
                [Guarded(Lock = nameof(_lock))] private int varCore() => 1;
                [Guarded(Lock = nameof(_lock))] private int awaitCore() => 1;
                [Guarded(Lock = nameof(_lock))] private int fieldCore() => 1;
                [Guarded(Lock = nameof(_lock))] private int extensionCore() => 1;
                [Guarded(Lock = nameof(_lock))] private int scopedCore() => 1;
                [Guarded(Lock = nameof(_lock))] private int fileCore() => 1;
                [Guarded(Lock = nameof(_lock))] private int _Core() => 1;
                [Guarded(Lock = nameof(_async))] private Task<int> awaitCoreAsync() => Task.FromResult(1);
                [Guarded(Lock = nameof(_async))] private Task<int> asyncCoreAsync() => Task.FromResult(1);
            }
            """
        },
        {
            // CS9200 is the body's warning, which the user may suppress there; the throwing wrapper, which repeats the
            // default, must not raise it again in generated code.
            "a ref readonly parameter with a default, its CS9200 suppressed on the body",
            Usings + """
            public partial class RefReadonlyDefault
            {
                private readonly ExclusiveLock _lock = new();
            #pragma warning disable CS9200 // 'ref readonly' with a default: callers may pass a value
                [Guarded(Lock = nameof(_lock))] private int ReadCore(ref readonly int x = 5) => x;
            #pragma warning restore CS9200
                private int Callers() { int y = 1; return Read() + Read(in y) + (TryRead(in y, TimeSpan.Zero, out int r) ? r : 0); }
            }
            """
        },
        {
            // 'await' is an identifier outside async methods, so the body may name a parameter, key or lock that; inside the
            // async wrappers it is the operator (CS4003), so they must write '@await'.
            "identifiers named await in async wrappers: parameters, a token, a StripeBy key, [AcquiresLocksOf] parameters and a lock",
            Usings + """
            public partial class Awaits
            {
                internal readonly AsyncExclusiveLock await = new();
                private readonly AsyncStripedLock<string> _stripes = new();
                private readonly ExclusiveLock _sync = new();
                [Guarded(Lock = nameof(await))] private Task<int> ValueCoreAsync(int await) => Task.FromResult(await);
                [Guarded(Lock = nameof(await))] private Task TokenCoreAsync(CancellationToken await) => Task.CompletedTask;
                [Guarded(Lock = nameof(_stripes), StripeBy = nameof(await))] private ValueTask<int> KeyCoreAsync(string await) => new(1);
                [AcquiresLocksOf(nameof(async), nameof(await), Lock = nameof(await))] private static Task PairCoreAsync(Awaits async, Awaits await) => Task.CompletedTask;
                [Guarded(Lock = nameof(_sync))] private int SyncCore(int await) => await;
                private async Task Callers()
                {
                    _ = await ValueAsync(1); await TokenAsync(default); _ = await KeyAsync("k"); await PairAsync(this, this); _ = Sync(2);
                    _ = await TryValueAsync(TimeSpan.Zero, 1); _ = await TryTokenAsync(TimeSpan.Zero, default);
                }
            }
            """
        },
        {
            "user attributes on cores and parameters with typeof of open generics, arrays, nulls, flags, escapes and params",
            Usings + """
            [AttributeUsage(AttributeTargets.All, AllowMultiple = true)]
            public sealed class TagAttribute : Attribute
            {
                public TagAttribute() { }
                public TagAttribute(Type t) { }
                public TagAttribute(params int[] xs) { }
                public TagAttribute(string? s, object? o = null) { }
                public TagAttribute(AttributeTargets t) { }
                public TagAttribute(char c, double d) { }
                public Type? Named { get; set; }
                public string[]? Names { get; set; }
            }
            public partial class Tagged
            {
                private readonly ExclusiveLock _lock = new();
                private readonly AsyncExclusiveLock _async = new();
                [Tag(typeof(List<>)), Tag(typeof(Dictionary<,>)), Tag(typeof(int[])), Tag(typeof((int, string))), Tag(typeof(List<int>.Enumerator))]
                [Tag(1, 2, 3), Tag(), Tag(new int[0]), Tag((string?)null), Tag("a\"b{0}\n", (byte)3), Tag(AttributeTargets.Class | AttributeTargets.Method)]
                [Tag('\'', double.NaN), Tag(Named = typeof(Nullable<>), Names = new[] { "x", null! }), Tag((int[])null!)]
                [Guarded(Lock = nameof(_lock))] private int ACore([Tag(typeof(List<>))] int x, [Tag("p")] string y) => x;
                [Tag(typeof(Dictionary<,>))] [Guarded(Lock = nameof(_async))] private Task BCoreAsync([Tag(1)] int x) => Task.CompletedTask;
            }
            """
        },
        {
            "nested task results, params tokens, and generic and by-ref extension receivers",
            Usings + """
            public static partial class Ext
            {
                private static readonly ExclusiveLock s_lock = new();
                private static readonly AsyncExclusiveLock s_async = new();
                [Guarded(Lock = nameof(s_async))] private static Task<Task<int>> NestedCoreAsync(this string s) => Task.FromResult(Task.FromResult(1));
                [Guarded(Lock = nameof(s_async))] private static ValueTask<ValueTask> NestedValueCoreAsync(this string s) => new(default(ValueTask));
                [Guarded(Lock = nameof(s_async))] private static Task TokensCoreAsync(this string s, CancellationToken ct, params CancellationToken[] more) => Task.CompletedTask;
                [Guarded(Lock = nameof(s_lock))] private static T BumpCore<T>(this ref T x) where T : struct => x;
                [Guarded(Lock = nameof(s_lock))] private static T EchoCore<T>(this T x) where T : notnull => x;
                [Guarded(Lock = nameof(s_async))] private static Task<T> EchoCoreAsync<T>(this T x, params T[] more) => Task.FromResult(x);
                private static async Task Callers()
                {
                    int i = 1;
                    _ = await (await "s".NestedAsync()); await (await "s".NestedValueAsync()); await "s".TokensAsync(default);
                    _ = i.Bump(); _ = i.Echo(); _ = await 1.EchoAsync(2, 3); _ = await 1.TryEchoAsync(TimeSpan.Zero, 2);
                }
            }
            """
        },
    };

    public static TheoryData<string, string, string> RefusedShapes() => new()
    {
        {
            "a core hiding a base type's guarded core with new",
            "LSM0013",
            Usings + """
            public partial class GuardedBase
            {
                protected readonly ExclusiveLock _lock = new();
                [Guarded(Lock = nameof(_lock))] protected int GetCore() => 1;
            }
            public partial class GuardedDerived : GuardedBase
            {
                [Guarded(Lock = nameof(_lock))] protected new int GetCore() => 2;
            }
            """
        },
        {
            // A wrapper named nameof made every nameof(_lock) of the type a call to it (CS0120 in the user's attributes).
            "a wrapper named nameof",
            "LSM0014",
            Usings + """
            public partial class NameOf
            {
                private readonly ExclusiveLock _lock = new();
                [Guarded(Lock = nameof(_lock))] private int nameofCore(int x) => x;
                [Guarded(Lock = nameof(_lock), WrapperName = "@nameof")] private int OtherCore(string s) => 1;
                [Guarded(Lock = nameof(_lock))] private int GetCore() => 1;
            }
            """
        },
        {
            "an [UnmanagedCallersOnly] core, which managed code cannot call",
            "LSM0016",
            Usings + """
            using System.Runtime.InteropServices;
            public partial class Native
            {
                private static readonly ExclusiveLock s_lock = new();
                [UnmanagedCallersOnly] [Guarded(Lock = nameof(s_lock))] private static int ACore(int x) => x;
            }
            """
        },
        {
            "a type nested in an interface that is not partial",
            "LSM0001",
            Usings + """
            public interface INotPartial
            {
                public partial class Nested
                {
                    private readonly ExclusiveLock _lock = new();
                    [Guarded(Lock = nameof(_lock))] private int GetCore() => 1;
                }
            }
            """
        },
        {
            "a method of a partial interface",
            "LSM0015",
            Usings + """
            public partial interface IOwn
            {
                private static readonly ExclusiveLock s_lock = new();
                [Guarded(Lock = nameof(s_lock))] private static int GetCore() => 1;
            }
            """
        },
        {
            "a timed wrapper named like its containing type",
            "LSM0013",
            Usings + """
            public partial class TryGet
            {
                private readonly ExclusiveLock _lock = new();
                [Guarded(Lock = nameof(_lock))] private int GetCore() => 1;
            }
            """
        },
        {
            "wrappers named like object's methods (ToString, Equals, GetHashCode, GetType, Finalize)",
            "LSM0013",
            Usings + """
            public partial class LikeObject
            {
                private readonly ExclusiveLock _lock = new();
                [Guarded(Lock = nameof(_lock))] private string ToStringCore() => "";
                [Guarded(Lock = nameof(_lock))] private bool EqualsCore(object? other) => false;
                [Guarded(Lock = nameof(_lock))] private int GetHashCodeCore() => 1;
                [Guarded(Lock = nameof(_lock))] private Type GetTypeCore() => typeof(int);
                [Guarded(Lock = nameof(_lock))] private void FinalizeCore() { }
            }
            """
        },
        {
            "wrappers named like a record's synthesized members",
            "LSM0013",
            Usings + """
            public partial record LikeRecord(int X)
            {
                private readonly ExclusiveLock _lock = new();
                [Guarded(Lock = nameof(_lock))] private string ToStringCore() => "";
                [Guarded(Lock = nameof(_lock))] private int GetHashCodeCore() => 1;
                [Guarded(Lock = nameof(_lock))] private void DeconstructCore(out int x) => x = X;
            }
            """
        },
        {
            "a wrapper named like a base type's method and property",
            "LSM0013",
            Usings + """
            public class Base { public int Get() => 0; public int TryPeek { get; } }
            public partial class FromBase : Base
            {
                private readonly ExclusiveLock _lock = new();
                [Guarded(Lock = nameof(_lock))] private int GetCore() => 1;
                [Guarded(Lock = nameof(_lock))] private int PeekCore() => 1;
            }
            """
        },
        {
            "a wrapper named like its containing type",
            "LSM0013",
            Usings + """
            public partial class Deposit
            {
                private readonly ExclusiveLock _lock = new();
                [Guarded(Lock = nameof(_lock))] private void DepositCore() { }
            }
            """
        },
        {
            "a wrapper named like a type parameter of its type",
            "LSM0013",
            Usings + """
            public partial class Holder<Get>
            {
                private readonly ExclusiveLock _lock = new();
                [Guarded(Lock = nameof(_lock))] private int GetCore() => 1;
            }
            """
        },
        {
            "a wrapper named like a nested type",
            "LSM0013",
            Usings + """
            public partial class HasNested
            {
                private readonly ExclusiveLock _lock = new();
                public class Get { }
                [Guarded(Lock = nameof(_lock))] private int GetCore() => 1;
            }
            """
        },
        {
            "a timed wrapper named like a property",
            "LSM0013",
            Usings + """
            public partial class HasProperty
            {
                private readonly ExclusiveLock _lock = new();
                public int TryGet { get; set; }
                [Guarded(Lock = nameof(_lock))] private int GetCore() => 1;
            }
            """
        },
        {
            "an explicit interface implementation",
            "LSM0016",
            Usings + """
            public interface IGet { int GetCore(); }
            public partial class Explicit : IGet
            {
                private readonly ExclusiveLock _lock = new();
                [Guarded(Lock = nameof(_lock))] int IGet.GetCore() => 1;
            }
            """
        },
        {
            "a lock that is a primary constructor parameter",
            "LSM0002",
            Usings + """
            public partial class Primary(ExclusiveLock gate)
            {
                [Guarded(Lock = nameof(gate))] private int GetCore() => 1;
                public ExclusiveLock Gate => gate;
            }
            """
        },
        {
            "a StripeBy over an out parameter",
            "LSM0006",
            Usings + """
            public partial class So
            {
                private readonly StripedLock<int> _stripes = new();
                [Guarded(Lock = nameof(_stripes), StripeBy = nameof(key))] private void ACore(out int key) => key = 1;
            }
            """
        },
        {
            "a StripeBy over a nullable value type for a lock of non-nullable keys",
            "LSM0006",
            Usings + """
            public partial class Sv
            {
                private readonly StripedLock<int> _stripes = new();
                [Guarded(Lock = nameof(_stripes), StripeBy = nameof(key))] private void ACore(int? key) { }
            }
            """
        },
        {
            "an async void core",
            "LSM0016",
            Usings + """
            public partial class Av
            {
                private readonly AsyncExclusiveLock _lock = new();
                [Guarded(Lock = nameof(_lock))] private async void ACoreAsync() => await Task.Yield();
            }
            """
        },
        {
            "an extern core",
            "LSM0016",
            Usings + """
            public partial class Ex
            {
                private static readonly ExclusiveLock s_lock = new();
                [System.Runtime.InteropServices.DllImport("x")] [Guarded(Lock = nameof(s_lock))] private static extern int ACore();
            }
            """
        },
        {
            "ref and ref readonly returns",
            "LSM0016",
            Usings + """
            public partial class R
            {
                private readonly ExclusiveLock _lock = new();
                private int _x;
                [Guarded(Lock = nameof(_lock))] private ref int ACore() => ref _x;
                [Guarded(Lock = nameof(_lock))] private ref readonly int BCore() => ref _x;
            }
            """
        },
        {
            "an async iterator and an IAsyncEnumerable returned without one",
            "LSM0016",
            Usings + """
            public partial class Ae
            {
                private readonly AsyncExclusiveLock _lock = new();
                [Guarded(Lock = nameof(_lock))] private async IAsyncEnumerable<int> ACoreAsync() { await Task.Yield(); yield return 1; }
                [Guarded(Lock = nameof(_lock))] private IAsyncEnumerable<int> BCoreAsync() => ACoreAsync();
            }
            """
        },
        {
            "async cores with by-reference and ref-struct parameters",
            "LSM0016",
            Usings + """
            public partial class Ar
            {
                private readonly AsyncExclusiveLock _lock = new();
                [Guarded(Lock = nameof(_lock))] private Task ACoreAsync(in int x) => Task.CompletedTask;
                [Guarded(Lock = nameof(_lock))] private Task BCoreAsync(params ReadOnlySpan<int> xs) => Task.CompletedTask;
            }
            """
        },
        {
            "an async instance core of a struct",
            "LSM0016",
            Usings + """
            public partial struct As
            {
                private readonly AsyncExclusiveLock _lock;
                public As() { _lock = new(); }
                [Guarded(Lock = nameof(_lock))] private Task ACoreAsync() => Task.CompletedTask;
            }
            """
        },
        {
            "a file-local type",
            "LSM0015",
            Usings + """
            file partial class F
            {
                private readonly ExclusiveLock _lock = new();
                [Guarded(Lock = nameof(_lock))] private int GetCore() => 1;
            }
            """
        },
        {
            "a StripeBy parameter of a nullable type for a lock of non-nullable keys",
            "LSM0006",
            Usings + """
            public partial class Sn
            {
                private readonly StripedLock<string> _stripes = new();
                [Guarded(Lock = nameof(_stripes), StripeBy = nameof(key))] private int ACore(string? key) => 1;
            }
            """
        },
        {
            "an [AcquiresLocksOf] over an out parameter",
            "LSM0018",
            Usings + """
            public partial class Ao
            {
                private readonly ExclusiveLock _lock = new();
                [AcquiresLocksOf(nameof(a), nameof(b), Lock = nameof(_lock))] private static void ACore(Ao a, out Ao b) { b = a; }
            }
            """
        },
    };

    [Theory]
    [MemberData(nameof(AcceptedShapes))]
    public void AcceptedShape_TheGeneratorDoesNotThrow_AndItsWrappersCompileWithoutWarnings(string shape, string source)
    {
        var run = RunStrict(source);

        Assert.Null(run.Result.Results.Single().Exception);
        var problems = GeneratorHarness.CompileProblems(run).Concat(run.LocksmithDiagnostics).ToList();
        Assert.True(problems.Count == 0, shape + ":\n" + Snapshot.Render(problems) + "\n" + run.GeneratedText);
        Assert.NotEmpty(run.Result.GeneratedTrees);
    }

    [Theory]
    [MemberData(nameof(RefusedShapes))]
    public void RefusedShape_GetsTheDiagnosticsThatSayWhy_AndTheRestCompiles(string shape, string ids, string source)
    {
        var run = RunStrict(source);

        Assert.Null(run.Result.Results.Single().Exception);
        var ours = run.LocksmithDiagnostics.Select(static d => d.Id).Distinct().OrderBy(static id => id, StringComparer.Ordinal);
        Assert.True(
            ours.SequenceEqual(ids.Split(',')),
            shape + ": " + string.Join(", ", run.LocksmithDiagnostics.Select(static d => d.Id + " " + d.GetMessage())) + "\n" + run.GeneratedText);
        var problems = GeneratorHarness.CompileProblems(run);
        Assert.True(problems.Count == 0, shape + ":\n" + Snapshot.Render(problems) + "\n" + run.GeneratedText);
    }

    /// <summary>
    /// A .NET 10 project may set an older LangVersion; the wrappers of plain shapes must not need a newer C# than the body.
    /// LockSet's calls for a timeout or more than two locks take a params span, which C# 12 cannot expand: they get an array there.
    /// The lock-order manifest's class is file-local from C# 11 on and internal, named after the assembly, before.
    /// </summary>
    [Theory]
    [InlineData(LanguageVersion.CSharp12)]
    [InlineData(LanguageVersion.CSharp10)]
    [InlineData(LanguageVersion.CSharp9)]
    public void PlainShapes_CompileUnderAnOlderLangVersion(LanguageVersion version)
    {
        string source = Usings + """
            namespace N
            {
                [ReadMostly]
                public partial class Plain<T> where T : class
                {
                    [LockOrder(3)] private readonly ExclusiveLock _lock = new();
                    private readonly ReadWriteLock _rw = new();
                    private readonly AsyncExclusiveLock _async = new();
                    private readonly AsyncReadWriteLock _arw = new();
                    private readonly StripedLock<string> _stripes = new();
                    private readonly AsyncStripedLock<string> _astripes = new();
                    private static readonly ExclusiveLock s_lock = new();
                    /// <summary>Docs.</summary>
                    /// <param name="x">X.</param>
                    /// <returns>It.</returns>
                    [Guarded(Lock = nameof(_lock))] private T? GetCore(T? x = null) => x;
                    [Guarded(Lock = nameof(_lock))] private void PutCore(ref int a, out int b, in int c, params int[] rest) { b = a + c + rest.Length; }
                    [Guarded(Lock = nameof(_rw), Access = LockAccess.Read)] private int ReadCore() => 1;
                    [Guarded(Lock = nameof(_rw))] private void WriteCore() { }
                    [Guarded(Lock = nameof(_async))] private Task<T?> GetCoreAsync(CancellationToken ct) => Task.FromResult<T?>(null);
                    [Guarded(Lock = nameof(_arw), Access = LockAccess.Read)] private ValueTask<int> ReadCoreAsync(int x = 1) => new(x);
                    [Guarded(Lock = nameof(_stripes), StripeBy = nameof(key))] private int TakeCore(string key) => 1;
                    [Guarded(Lock = nameof(_astripes), StripeBy = nameof(key))] private Task TakeCoreAsync(string key) => Task.CompletedTask;
                    [Guarded(Lock = nameof(s_lock))] private static (int A, string? B) StaticCore() => (1, null);
                    [AcquiresLocksOf(nameof(a), nameof(b), Lock = nameof(_lock))] private static void SwapCore(Plain<T> a, Plain<T> b) { }
                    [AcquiresLocksOf(nameof(a), nameof(b), nameof(c), Lock = nameof(_lock))] private static void RotateCore(Plain<T> a, Plain<T> b, Plain<T> c) { }
                    [AcquiresLocksOf(nameof(a), nameof(b), Lock = nameof(_lock), TimeoutMilliseconds = 100)] private static void PairCore(Plain<T> a, Plain<T> b) { }
                    [AcquiresLocksOf(nameof(a), nameof(b), nameof(c), Lock = nameof(_async))] private static Task SwapCoreAsync(Plain<T> a, Plain<T> b, Plain<T> c) => Task.CompletedTask;
                }
            }
            """;
        var parse = new CSharpParseOptions(version, DocumentationMode.Diagnose);
        var compilation = TestCompilation.Create().AddSyntaxTrees(CSharpSyntaxTree.ParseText(source, parse, "Source0.cs"));
        compilation = compilation.WithOptions(compilation.Options.WithGeneralDiagnosticOption(ReportDiagnostic.Error));
        var driver = CSharpGeneratorDriver.Create([new Locksmith.Generators.Guarded.GuardedGenerator().AsSourceGenerator()], parseOptions: parse);
        driver.RunGeneratorsAndUpdateCompilation(compilation, out var output, out var generatorDiagnostics);

        var problems = generatorDiagnostics.Concat(TestCompilation.Problems(output.GetDiagnostics()))
            .Where(static d => d.Severity >= DiagnosticSeverity.Warning || d.IsWarningAsError).ToList();
        Assert.True(
            problems.Count == 0,
            version + ":\n" + Snapshot.Render(problems) + "\n" + string.Join("\n", output.SyntaxTrees.Skip(1).Select(static t => "// " + t.FilePath + "\n" + t)));
        Assert.True(output.SyntaxTrees.Count() > 1);
        Assert.Contains(output.SyntaxTrees, static t => t.FilePath.EndsWith("Locksmith.LockOrderManifest.g.cs", StringComparison.Ordinal));
    }

    /// <summary>A project without &lt;Nullable&gt;: oblivious types, defaults of null for any reference or type parameter, and no warnings either.</summary>
    [Fact]
    public void ShapesOfAProjectWithoutNullable_CompileWithoutWarnings()
    {
        string source = Usings + """
            public partial class Oblivious<T>
            {
                private readonly ExclusiveLock _lock = new();
                private readonly AsyncExclusiveLock _async = new();
                private readonly StripedLock<string> _stripes = new();
                [Guarded(Lock = nameof(_lock))] private T GetCore(T x = default, string s = null, List<string> l = null, object o = null) => x;
                [Guarded(Lock = nameof(_lock))] private U PutCore<U>(U u = default) where U : class => u;
                [Guarded(Lock = nameof(_lock))] private void FillCore(out string s, out T t) { s = null; t = default; }
                [Guarded(Lock = nameof(_async))] private Task<T> GetCoreAsync(T x = default, string s = null) => Task.FromResult(x);
                [Guarded(Lock = nameof(_stripes), StripeBy = nameof(key))] private int TakeCore(string key) => 1;
                [AcquiresLocksOf(nameof(a), nameof(b), Lock = nameof(_lock))] private static void SwapCore(Oblivious<T> a, Oblivious<T> b) { }
                private async Task Callers()
                {
                    _ = Get(); _ = Put<string>(null); Fill(out string s, out T t); _ = await GetAsync(); _ = Take(null);
                    _ = TryGet(default, null, null, null, TimeSpan.Zero, out T r) && TryFill(out s, out t, TimeSpan.Zero);
                    Swap(this, null);
                }
            }
            """;
        var compilation = TestCompilation.Create(source);
        compilation = compilation.WithOptions(compilation.Options
            .WithNullableContextOptions(NullableContextOptions.Disable)
            .WithGeneralDiagnosticOption(ReportDiagnostic.Error));
        var run = GeneratorHarness.Run(compilation);

        Assert.Null(run.Result.Results.Single().Exception);
        var problems = GeneratorHarness.CompileProblems(run).Concat(run.LocksmithDiagnostics).ToList();
        Assert.True(problems.Count == 0, Snapshot.Render(problems) + "\n" + run.GeneratedText);
        Assert.NotEmpty(run.Result.GeneratedTrees);
    }

    // A shape may hold a second file after a line of its own that says so.
    private static GeneratorRun RunStrict(string source) => GeneratorHarness.RunStrict(source.Split("\n//--file--\n"));
}
