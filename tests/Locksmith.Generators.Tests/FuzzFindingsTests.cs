using System;
using System.Collections.Generic;
using System.Linq;
using Locksmith.Generators.Tests.Support;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Locksmith.Generators.Tests;

/// <summary>
/// Shapes a fuzzing run found the generator mishandling: each either compiles with its wrappers (nullable enabled,
/// every warning an error) or is refused with exactly the diagnostics that say why, and the rest still compiles.
/// </summary>
public sealed class FuzzFindingsTests
{
    public static TheoryData<string, string> AcceptedShapes() => new()
    {
        // Custom lock types whose scopes may be null only where they promise otherwise, taking the timeout 'in', with an overload that fits exactly.
        {
            "a custom lock with a [NotNull] nullable scope, an 'in' timeout and overloads of which one needs no default",
            """
            using System;
            using System.Diagnostics.CodeAnalysis;
            using Locksmith;
            public sealed class MyLock : IExclusiveAccessLock
            {
                [return: NotNull] public IDisposable? Acquire() => new Scope();
                public IDisposable Acquire(int x = 0) => new Scope();
                public IDisposable Acquire(in TimeSpan t) => new Scope();
                public bool TryAcquire(in TimeSpan t, [NotNullWhen(true)] out IDisposable? s) { s = new Scope(); return true; }
                private sealed class Scope : IDisposable { public void Dispose() { } }
            }
            public partial class K
            {
                private readonly MyLock _lock = new();
                [Guarded(Lock = nameof(_lock))] private int GetCore() => 1;
                [Guarded(Lock = nameof(_lock), TimeoutMilliseconds = 10)] private int PeekCore() => 1;
            }
            """
        },
        // A normal-form overload beats one that needs an empty params array, so Acquire() is not ambiguous (a review found LSM0044 here).
        {
            "a custom lock with Acquire(int x = 0) beside Acquire(params object[] a)",
            """
            using System;
            using Locksmith;
            public sealed class ParamsLock : IExclusiveAccessLock
            {
                public IDisposable Acquire(int x = 0) => new Scope();
                public IDisposable Acquire(params object[] a) => new Scope();
                public bool TryAcquire(TimeSpan t, out IDisposable s) { s = new Scope(); return true; }
                private sealed class Scope : IDisposable { public void Dispose() { } }
            }
            public partial class P
            {
                private readonly ParamsLock _lock = new();
                [Guarded(Lock = nameof(_lock))] private int GetCore() => 1;
            }
            """
        },
        // Hint names that differ only in case: Roslyn compares them ignoring case, and one duplicate dropped every file (CS8785).
        {
            "two types whose names differ only in case",
            """
            using Locksmith;
            namespace N;
            public partial class Foo { private readonly ExclusiveLock _lock = new(); [Guarded(Lock = nameof(_lock))] private void DoCore() { } }
            #pragma warning disable CS8981
            public partial class foo { private readonly ExclusiveLock _lock = new(); [Guarded(Lock = nameof(_lock))] private void DoCore() { } }
            #pragma warning restore CS8981
            public partial class FOO { private readonly ExclusiveLock _lock = new(); [Guarded(Lock = nameof(_lock))] private void DoCore() { } }
            """
        },
        {
            "two namespaces whose names differ only in case",
            """
            using Locksmith;
            namespace N { public partial class Foo { private readonly ExclusiveLock _lock = new(); [Guarded(Lock = nameof(_lock))] private void DoCore() { } } }
            namespace n { public partial class Foo { private readonly ExclusiveLock _lock = new(); [Guarded(Lock = nameof(_lock))] private void DoCore() { } } }
            """
        },
        {
            "two nested types whose names differ only in case",
            """
            using Locksmith;
            namespace N;
            public partial class Outer
            {
                public partial class Inner { private readonly ExclusiveLock _lock = new(); [Guarded(Lock = nameof(_lock))] private int GetCore() => 1; }
                public partial class INNER { private readonly ExclusiveLock _lock = new(); [Guarded(Lock = nameof(_lock))] private int GetCore() => 1; }
            }
            public partial class Other { private readonly ExclusiveLock _lock = new(); [Guarded(Lock = nameof(_lock))] private int GetCore() => 1; }
            """
        },

        // Defaults C# cannot write: the wrappers carry the parameter's attributes, as the body does, and stay optional.
        {
            "[Optional, DefaultParameterValue] on object and interface parameters, [Optional] alone, [DateTimeConstant]",
            """
            using System;
            using System.Runtime.CompilerServices;
            using System.Runtime.InteropServices;
            using System.Threading.Tasks;
            using Locksmith;
            public partial class C
            {
                private readonly ExclusiveLock _lock = new();
                private readonly AsyncExclusiveLock _async = new();
                [Guarded(Lock = nameof(_lock))] private void SetCore([Optional, DefaultParameterValue("x")] object o) { }
                [Guarded(Lock = nameof(_lock))] private void PutCore([Optional, DefaultParameterValue(5)] object o) { }
                [Guarded(Lock = nameof(_lock))] private void CompareCore([Optional, DefaultParameterValue("s")] IComparable c) { }
                [Guarded(Lock = nameof(_lock))] private void MarkCore([Optional] int o, [Optional] string? s) { }
                [Guarded(Lock = nameof(_lock))] private void StampCore([Optional, DateTimeConstant(630822816000000000)] DateTime d) { }
                [Guarded(Lock = nameof(_lock))] private void PayCore([Optional, DecimalConstant(1, 0, 0u, 0u, 15u)] decimal m) { }
                [Guarded(Lock = nameof(_async))] private Task SendCoreAsync([Optional, DefaultParameterValue("x")] object o, [Optional] int n) => Task.CompletedTask;
                private async Task Callers()
                {
                    Set(); Put(); Compare(); Mark(); Stamp(); Pay();
                    _ = TrySet(1, TimeSpan.Zero) && TryMark(1, null, TimeSpan.Zero) && TryStamp(DateTime.Now, TimeSpan.Zero);
                    await SendAsync();
                    _ = await TrySendAsync(TimeSpan.Zero);
                }
            }
            """
        },

        // A synchronous [DoesNotReturn] core: the wrapper keeps the attribute (callers' flow analysis relies on it) and
        // must not seem to return (CS8763).
        {
            "[DoesNotReturn] cores, void and with a result, beside [DoesNotReturnIf]",
            """
            using System;
            using System.Diagnostics.CodeAnalysis;
            using Locksmith;
            public partial class C
            {
                private readonly ExclusiveLock _lock = new();
                [DoesNotReturn] [Guarded(Lock = nameof(_lock))] private int ACore() => throw new InvalidOperationException();
                [Guarded(Lock = nameof(_lock))] [DoesNotReturn] private void FailCore() => throw new InvalidOperationException();
                [Guarded(Lock = nameof(_lock))] private void BCore([DoesNotReturnIf(true)] bool b) { if (b) throw new InvalidOperationException(); }
                private int Length(string? s) { if (s is null) Fail(); return s.Length; }
                private int Count(string? s) { if (s is null) { _ = A(); } return s.Length; }
                private int Size(string? s) { B(s is null); return s.Length; }
            }
            """
        },

        // '?' on reference types where annotations are disabled: the user silenced CS8632, the wrappers repeated it as CS8669 (a valid-variation sweep found this).
        {
            "nullable annotations under '#nullable disable' with CS8632 silenced",
            """
            #nullable disable
            using System.Collections.Generic;
            using System.Threading.Tasks;
            using Locksmith;
            public partial class C
            {
                private readonly ExclusiveLock _lock = new();
                private readonly AsyncExclusiveLock _gate = new();
            #pragma warning disable CS8632
                [Guarded(Lock = nameof(_lock))] private string? NameCore(string? s) => s;
                [Guarded(Lock = nameof(_lock))] private bool FindCore(string key, out string? value) { value = key; return true; }
                [Guarded(Lock = nameof(_lock))] private int CountCore(List<string?>[] items) => items.Length;
                [Guarded(Lock = nameof(_lock))] private T PickCore<T>(T item) where T : class? => item;
                [Guarded(Lock = nameof(_gate))] private Task<string?> LoadCoreAsync() => Task.FromResult<string?>(null);
            #pragma warning restore CS8632
            }
            """
        },
        // Obsolete and experimental symbols the wrappers must name: the user silenced them where they wrote them.
        {
            "an obsolete lock field",
            """
            using System;
            using Locksmith;
            public partial class C
            {
                [Obsolete("use other")] private readonly ExclusiveLock _lock = new();
            #pragma warning disable CS0618
                [Guarded(Lock = nameof(_lock))] private void RunCore() { }
            #pragma warning restore CS0618
            }
            """
        },
        {
            "a static lock inherited from an obsolete base type",
            """
            using System;
            using Locksmith;
            namespace N;
            [Obsolete("x")] public class OldBase { protected static readonly ExclusiveLock s_lock = new(); }
            #pragma warning disable CS0618
            public partial class D : OldBase
            #pragma warning restore CS0618
            {
                [Guarded(Lock = nameof(s_lock))] private int GetCore() => 1;
            }
            """
        },
        {
            "an experimental lock field",
            """
            using System.Diagnostics.CodeAnalysis;
            using Locksmith;
            public partial class C
            {
                [Experimental("LSX1")] private readonly ExclusiveLock _lock = new();
            #pragma warning disable LSX1
                [Guarded(Lock = nameof(_lock))] private int GetCore() => 1;
            #pragma warning restore LSX1
            }
            """
        },
        {
            "a lock property with an obsolete getter",
            """
            using System;
            using Locksmith;
            public partial class C
            {
                private readonly ExclusiveLock _l = new();
                private ExclusiveLock Lock { [Obsolete("no")] get => _l; }
                [Guarded(Lock = nameof(Lock))] private int GetCore() => 1;
            }
            """
        },
        {
            "nullable enum defaults naming obsolete and experimental members",
            """
            using System;
            using System.Diagnostics.CodeAnalysis;
            using Locksmith;
            public enum E { [Obsolete("old")] A = 1, B = 2, [Experimental("EXP1")] C = 3 }
            public partial class K
            {
                private readonly ExclusiveLock _lock = new();
            #pragma warning disable CS0618, EXP1
                [Guarded(Lock = nameof(_lock))] private void SetCore(E? e = E.A) { }
                [Guarded(Lock = nameof(_lock))] private void PutCore(E e = E.C) { }
                [Guarded(Lock = nameof(_lock))] private void AddCore(E? e = E.C) { }
            #pragma warning restore CS0618, EXP1
            }
            """
        },
        {
            "a custom lock whose Acquire is obsolete",
            """
            using System;
            using System.Diagnostics.CodeAnalysis;
            using Locksmith;
            public sealed class MyLock : IExclusiveAccessLock
            {
                [Obsolete("use X")] public IDisposable Acquire() => null!;
                public bool TryAcquire(TimeSpan t, [NotNullWhen(true)] out IDisposable? s) { s = null; return false; }
            }
            public partial class K { private readonly MyLock _lock = new(); [Guarded(Lock = nameof(_lock))] private int GetCore() => 1; }
            """
        },

        // Partial methods: the defining and the implementing declaration are one method, whichever carries the attribute.
        {
            "[Guarded] on the defining or on the implementing declaration of a partial method",
            """
            using Locksmith;
            public partial class C
            {
                private readonly ExclusiveLock _lock = new();
                /// <summary>Gets.</summary>
                [Guarded(Lock = nameof(_lock))] private partial int GetCore(int a);
                private partial int GetCore(int a) => a;
                private partial int PutCore(int b);
                [Guarded(Lock = nameof(_lock))] private partial int PutCore(int b) => b;
                private partial int ZedCore(int b);
                [Guarded(Lock = nameof(_lock), WrapperName = "Zed")] private partial int ZedCore(int b) => b;
                private int Callers() => Get(1) + Put(2) + Zed(3);
            }
            """
        },

        // [MemberNotNull] naming a base type's field: the compiler takes only the type's own members there (CS8776).
        {
            "[MemberNotNull] naming a base type's field, beside one naming the type's own",
            """
            using System.Diagnostics.CodeAnalysis;
            using Locksmith;
            public class Base { protected string? _name; }
            public partial class D : Base
            {
                private readonly ExclusiveLock _lock = new();
                private string? _own;
            #pragma warning disable CS8776
                [MemberNotNull(nameof(_name))]
            #pragma warning restore CS8776
                [Guarded(Lock = nameof(_lock))] private void InitCore() { _name = ""; }
                [MemberNotNull(nameof(_own))] [Guarded(Lock = nameof(_lock))] private void OwnCore() { _own = ""; }
                private int Callers() { Own(); Init(); return _own.Length; }
            }
            """
        },
    };

    public static TheoryData<string, string, string> RefusedShapes() => new()
    {
        // C# ignores formatting characters in names, so 'Ab\u200Bc' is 'Abc': two wrappers of one name (CS0111).
        {
            "a wrapper name with an invisible formatting character",
            "LSM0014",
            """
            using Locksmith;
            public partial class C
            {
                private readonly ExclusiveLock _lock = new();
                [Guarded(Lock = "_lock", WrapperName = "\u0041bc")] private int HHH() => 1;
                [Guarded(Lock = "_lock", WrapperName = "Ab\u200Bc")] private int LLL() => 1;
                private int Callers() => Abc();
            }
            """
        },
        // Custom lock types that pass the marker's contract by name but whose calls would not compile cleanly.
        {
            "a custom lock whose scopes are declared nullable",
            "LSM0044",
            """
            using System;
            using Locksmith;
            public sealed class MyLock : IExclusiveAccessLock
            {
                public IDisposable? Acquire() => null;
                public bool TryAcquire(TimeSpan t, out IDisposable? s) { s = null; return false; }
            }
            public partial class K { private readonly MyLock _lock = new(); [Guarded(Lock = nameof(_lock))] private int GetCore() => 1; }
            """
        },
        {
            "a custom async lock whose scope is declared nullable",
            "LSM0044",
            """
            using System;
            using System.Threading;
            using System.Threading.Tasks;
            using Locksmith;
            public sealed class Sc : IDisposable { public bool IsAcquired => true; public void Dispose() { } }
            public sealed class MyLock : IAsyncExclusiveAccessLock
            {
                public ValueTask<Sc?> AcquireAsync(CancellationToken c) => default;
                public ValueTask<Sc?> TryAcquireAsync(TimeSpan t, CancellationToken c) => default;
            }
            public partial class K { private readonly MyLock _lock = new(); [Guarded(Lock = nameof(_lock))] private Task<int> GetCoreAsync() => Task.FromResult(1); }
            """
        },
        {
            "a custom lock that takes its timeout as ref readonly",
            "LSM0044",
            """
            using System;
            using System.Diagnostics.CodeAnalysis;
            using Locksmith;
            public sealed class MyLock : IExclusiveAccessLock
            {
                public IDisposable Acquire(ref readonly TimeSpan t) => null!;
                public IDisposable Acquire() => null!;
                public bool TryAcquire(ref readonly TimeSpan t, [NotNullWhen(true)] out IDisposable? s) { s = null; return false; }
            }
            public partial class K { private readonly MyLock _lock = new(); [Guarded(Lock = nameof(_lock), TimeoutMilliseconds = 10)] private int GetCore() => 1; }
            """
        },
        {
            "a custom lock whose Acquire overloads all need defaults",
            "LSM0044",
            """
            using System;
            using System.Diagnostics.CodeAnalysis;
            using Locksmith;
            public sealed class MyLock : IExclusiveAccessLock
            {
                public IDisposable Acquire(int x = 0) => null!;
                public IDisposable Acquire(string s = "") => null!;
                public bool TryAcquire(TimeSpan t, [NotNullWhen(true)] out IDisposable? s) { s = null; return false; }
            }
            public partial class K { private readonly MyLock _lock = new(); [Guarded(Lock = nameof(_lock))] private int GetCore() => 1; }
            """
        },
        // Overload identity as C# sees it: method type parameters by position at any depth, tuple names, dynamic and object.
        {
            "an existing generic overload over an array of the method's type parameter",
            "LSM0013",
            """
            using Locksmith;
            public partial class C
            {
                private readonly ExclusiveLock _lock = new();
                public void Put<U>(U[] items) { }
                [Guarded(Lock = nameof(_lock))] private void PutCore<T>(T[] items) { }
            }
            """
        },
        {
            "an existing generic overload over a List of the method's type parameter",
            "LSM0013",
            """
            using System.Collections.Generic;
            using Locksmith;
            public partial class C
            {
                private readonly ExclusiveLock _lock = new();
                public void Put<U>(List<U> items) { }
                [Guarded(Lock = nameof(_lock))] private void PutCore<T>(List<T> items) { }
            }
            """
        },
        {
            "an existing overload taking object beside a core taking dynamic",
            "LSM0013",
            """
            using Locksmith;
            public partial class C
            {
                private readonly ExclusiveLock _lock = new();
                public void Log(object x) { }
                [Guarded(Lock = nameof(_lock))] private void LogCore(dynamic x) { }
            }
            """
        },
        {
            "an existing overload whose tuple elements are named otherwise",
            "LSM0013",
            """
            using Locksmith;
            public partial class C
            {
                private readonly ExclusiveLock _lock = new();
                public void Set((int a, int b) p) { }
                [Guarded(Lock = nameof(_lock))] private void SetCore((int x, int y) p) { }
            }
            """
        },
        {
            "an existing overload that differs only in nested nullable annotations",
            "LSM0013",
            """
            using System.Collections.Generic;
            using Locksmith;
            public partial class C
            {
                private readonly ExclusiveLock _lock = new();
                public void Add(Dictionary<string, List<string?>> map) { }
                [Guarded(Lock = nameof(_lock))] private void AddCore(Dictionary<string, List<string>> map) { }
            }
            """
        },
        {
            "two generated wrappers over arrays of their own type parameters",
            "LSM0013",
            """
            using Locksmith;
            public partial class C
            {
                private readonly ExclusiveLock _lock = new();
                [Guarded(Lock = nameof(_lock))] private int GetCore(int k) => k;
                [Guarded(Lock = nameof(_lock))] private int GetCore(long k) => 1;
                [Guarded(Lock = nameof(_lock))] private void PutCore<T>(T[] k) { }
                [Guarded(Lock = nameof(_lock), WrapperName = "Put")] private void Put2Core<U>(U[] k) { }
                private int Callers() => Get(1) + Get(2L);
            }
            """
        },
        {
            "two generated wrappers, one over object and one over dynamic",
            "LSM0013",
            """
            using Locksmith;
            public partial class C
            {
                private readonly ExclusiveLock _lock = new();
                [Guarded(Lock = nameof(_lock))] private void LogCore(object k) { }
                [Guarded(Lock = nameof(_lock), WrapperName = "Log")] private void Log2Core(dynamic k) { }
            }
            """
        },
        {
            "a base type's generic overload the wrapper would hide (CS0108)",
            "LSM0013",
            """
            using Locksmith;
            public class Bs { public void Put<U>(U[] items) { } }
            public partial class K : Bs
            {
                private readonly ExclusiveLock _lock = new();
                [Guarded(Lock = nameof(_lock))] private void PutCore<T>(T[] items) { }
            }
            """
        },

        // An async wrapper adds an optional token: a method of the type that takes the wrapper's other parameters wins
        // every call that leaves the token out, so the guarded wrapper would never run (as a sync clash would not compile).
        {
            "an existing async method beside the async wrapper that adds a token",
            "LSM0013",
            """
            using System;
            using System.Threading.Tasks;
            using Locksmith;
            public partial class C
            {
                private readonly AsyncExclusiveLock _lock = new();
                public Task<int> GetAsync() => Task.FromResult(0);
                [Guarded(Lock = nameof(_lock))] private Task<int> GetCoreAsync() => Task.FromResult(1);
            }
            """
        },
        {
            "an existing timed async method beside the timed async wrapper that adds a token",
            "LSM0013",
            """
            using System;
            using System.Threading.Tasks;
            using Locksmith;
            public partial class C
            {
                private readonly AsyncExclusiveLock _lock = new();
                public ValueTask<(bool, int)> TryGetAsync(TimeSpan timeout) => new((false, 0));
                [Guarded(Lock = nameof(_lock))] private Task<int> GetCoreAsync(string key) => Task.FromResult(1);
                public ValueTask<(bool, int)> TryGetAsync(TimeSpan timeout, string key) => new((false, 0));
            }
            """
        },

        // A protected lock of a base type is reachable only through the deriving type (CS1540).
        {
            "an inherited protected lock taken through parameters of the base type",
            "LSM0018",
            """
            using Locksmith;
            public class Base { protected readonly ExclusiveLock _lock = new(); }
            public partial class Derived : Base
            {
                [AcquiresLocksOf(nameof(a), nameof(b), Lock = nameof(_lock))] private static void MoveCore(Base a, Base b) { }
                [AcquiresLocksOf(nameof(a), nameof(b), Lock = nameof(_lock))] private static void SwapCore(Derived a, Derived b) { }
            }
            """
        },
        {
            "an inherited private protected lock taken through parameters of the base type; protected internal is reachable",
            "LSM0018",
            """
            using Locksmith;
            public class Base { protected internal readonly ExclusiveLock _a = new(); private protected readonly ExclusiveLock _b = new(); }
            public partial class D : Base
            {
                [AcquiresLocksOf(nameof(x), nameof(y), Lock = "_a")] private static void ACore(Base x, Base y) { }
                [AcquiresLocksOf(nameof(x), nameof(y), Lock = "_b")] private static void BCore(Base x, Base y) { }
                [AcquiresLocksOf(nameof(x), nameof(y), Lock = "_b")] private static void CCore(D x, D y) { }
            }
            """
        },

        // A member of a derived type hides a base member of its name whatever its kind, so 'this.Gate' in a wrapper would
        // be the method group, the nested type or the set-only property, not the base's lock (a mutation sweep found the
        // wrappers failing to compile).
        {
            "a derived method that hides the base type's lock property",
            "LSM0002",
            """
            using Locksmith;
            public class Base { protected ExclusiveLock Gate { get; } = new(); }
            public partial class Derived : Base
            {
                public new void Gate() { }
                [Guarded(Lock = nameof(Gate))] private int GetCore() => 1;
            }
            """
        },
        {
            "a derived nested type that hides the base type's lock field",
            "LSM0002",
            """
            using Locksmith;
            public class Base { protected readonly ExclusiveLock Gate = new(); }
            public partial class Derived : Base
            {
                public new sealed class Gate { }
                [Guarded(Lock = nameof(Gate))] private int GetCore() => 1;
            }
            """
        },
        {
            "a derived set-only property that hides the base type's lock property",
            "LSM0002",
            """
            using Locksmith;
            public class Base { protected ExclusiveLock Gate { get; } = new(); }
            public partial class Derived : Base
            {
                public new ExclusiveLock Gate { set { } }
                [Guarded(Lock = nameof(Gate))] private int GetCore() => 1;
            }
            """
        },
        {
            "an async wrapper's lock hidden by a derived method",
            "LSM0002",
            """
            using System.Threading.Tasks;
            using Locksmith;
            public class Base { protected readonly AsyncExclusiveLock Gate = new(); }
            public partial class Derived : Base
            {
                public new Task Gate() => Task.CompletedTask;
                [Guarded(Lock = nameof(Gate))] private Task<int> GetCoreAsync() => Task.FromResult(1);
            }
            """
        },
    };

    [Theory]
    [MemberData(nameof(AcceptedShapes))]
    public void AcceptedShape_AndItsWrappers_CompileWithWarningsAsErrors(string shape, string source)
    {
        var run = GeneratorHarness.RunStrict(source);

        var problems = GeneratorHarness.CompileProblems(run).Concat(run.LocksmithDiagnostics).ToList();
        Assert.True(problems.Count == 0, shape + ":\n" + Snapshot.Render(problems) + "\n" + run.GeneratedText);
        Assert.NotEmpty(run.Result.GeneratedTrees);
    }

    [Theory]
    [MemberData(nameof(RefusedShapes))]
    public void RefusedShape_GetsTheDiagnosticsThatSayWhy_AndTheRestCompiles(string shape, string ids, string source)
    {
        var run = GeneratorHarness.RunStrict(source);

        var ours = run.LocksmithDiagnostics.Select(static d => d.Id).Distinct().OrderBy(static id => id, StringComparer.Ordinal);
        Assert.True(
            ours.SequenceEqual(ids.Split(',')),
            shape + ": " + string.Join(", ", run.LocksmithDiagnostics.Select(static d => d.Id + " " + d.GetMessage())));
        var problems = GeneratorHarness.CompileProblems(run);
        Assert.True(problems.Count == 0, shape + ":\n" + Snapshot.Render(problems) + "\n" + run.GeneratedText);
    }

    [Theory]
    [InlineData("a derived method", "public new void Gate() { }", "'Derived.Gate' is a method, which hides the lock 'Base.Gate' in 'Derived': rename it, or set Lock to another lock member")]
    [InlineData("a derived nested type", "public new sealed class Gate { }", "'Derived.Gate' is a nested type, which hides the lock 'Base.Gate' in 'Derived': rename it, or set Lock to another lock member")]
    [InlineData("a derived set-only property", "public new ExclusiveLock Gate { set { } }", "'Derived.Gate' is a property without a getter, which hides the lock 'Base.Gate' in 'Derived': rename it, or set Lock to another lock member")]
    public void ALockHiddenByADerivedMember_IsLSM0002_NamingWhatHidesIt(string shape, string hider, string advice)
    {
        var run = GeneratorHarness.RunStrict($$"""
            using Locksmith;
            public class Base { protected ExclusiveLock Gate { get; } = new(); }
            public partial class Derived : Base
            {
                {{hider}}
                [Guarded(Lock = nameof(Gate))] private int GetCore() => 1;
            }
            """);

        var diagnostic = Assert.Single(run.LocksmithDiagnostics);
        Assert.Equal("LSM0002", diagnostic.Id);
        Assert.True(
            diagnostic.GetMessage(System.Globalization.CultureInfo.InvariantCulture) ==
                "'Derived.GetCore' is guarded by lock 'Gate', but 'Derived' has no field or property of that name; " + advice,
            shape + ": " + diagnostic.GetMessage(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Empty(run.Result.GeneratedTrees.Where(static t => t.ToString().Contains("GetCore", StringComparison.Ordinal)));
    }

    // Declarations the compiler rejects, found by mutation sweeps (2,000 inputs each, seeds 1-6): the compiler reports
    // the error in the user's code; the generator must neither throw nor write a wrapper that repeats it.
    public static TheoryData<string, string> InvalidDeclarations() => new()
    {
        {
            "a params parameter that is not the last (CS0231) and not a collection (CS0225)",
            """
            using Locksmith;
            public partial class C
            {
                private readonly ExclusiveLock _lock = new();
                private int _count;
                [Guarded(Lock = nameof(_lock))] private void AddCore(params int n, string s) => _count += n + s.Length;
            }
            """
        },
        {
            "a last params parameter of a type that is not a collection (CS0225)",
            """
            using Locksmith;
            public partial class C
            {
                private readonly ExclusiveLock _lock = new();
                [Guarded(Lock = nameof(_lock))] private string? GetOrCore(string key, params string? fallback) => fallback;
            }
            """
        },
        {
            "a static class as a parameter type of [AcquiresLocksOf] (CS0721) whose lock is an instance field (CS0708)",
            """
            using Locksmith;
            public static partial class Account
            {
                private readonly ExclusiveLock _lock = new();
                [AcquiresLocksOf(nameof(from), nameof(to), Lock = nameof(_lock))]
                private static void TransferCore(Account from, Account to, decimal amount) { }
            }
            """
        },
        {
            "a second method of the core's name and parameters (CS0111)",
            """
            using Locksmith;
            public partial class Inventory
            {
                private readonly ExclusiveLock _lock = new();
                [Guarded(Lock = nameof(_lock))] private int PeekCore(int slot) => slot;
                public int PeekCore(int x) => x;
            }
            """
        },
        {
            "an array of a type parameter that allows ref structs (CS0611), a ref struct as a type argument (CS0306)",
            """
            using System;
            using System.Collections.Generic;
            using Locksmith;
            public partial class Store
            {
                private readonly ExclusiveLock _lock = new();
                [Guarded(Lock = nameof(_lock))] private T[] EchoCore<T>(T value) where T : allows ref struct => null!;
                [Guarded(Lock = nameof(_lock))] private int CountCore(List<Span<int>> spans) => 0;
            }
            """
        },
        {
            "a ref extension parameter of a reference type (CS8337), an in extension parameter of a type parameter (CS8338)",
            """
            using Locksmith;
            public static partial class NameExtensions
            {
                private static readonly ReentrantLock s_gate = new();
                [Guarded(Lock = nameof(s_gate))] private static string ShoutCore(ref this string name) => name.ToUpperInvariant();
                [Guarded(Lock = nameof(s_gate))] private static T EchoCore<T>(in this T value) => value;
            }
            """
        },
        // Mutation seed 43: a base made 'file', whose lock the wrappers of a derived type in another file cannot see.
        {
            "a file-local base type, directly, through another base, or as the outer type of the base (CS9053)",
            """
            using Locksmith;
            file abstract class Job { protected ExclusiveLock Gate { get; } = new(); }
            public partial class Move : Job { [Guarded(Lock = nameof(Gate))] private int StepCore(int step) => step; }
            internal class Middle : Job { }
            public partial class Copy : Middle { [Guarded(Lock = nameof(Gate))] private int StepCore(int step) => step; }
            file class Outer { public class Base { protected ExclusiveLock Gate { get; } = new(); } }
            public partial class Nest : Outer.Base { [Guarded(Lock = nameof(Gate))] private int StepCore(int step) => step; }
            """
        },
        // Mutation seed 44: the wrappers dropped the default the compiler rejects and kept the later ones (CS1737).
        {
            "a default on a ref or out parameter (CS1741), an extension receiver (CS1743) or a params array (CS1751), before other optional parameters",
            """
            using Locksmith;
            public partial class C
            {
                private readonly ExclusiveLock _lock = new();
                [Guarded(Lock = nameof(_lock))] private void NoteCore(int a = 1, ref string? note = null, int b = 2) { }
                [Guarded(Lock = nameof(_lock))] private void TakeCore(int a = 1, out int taken = 0, int b = 2) { taken = 0; }
                [Guarded(Lock = nameof(_lock))] private int SumCore(int a = 1, params int[] values = null) => a;
            }
            public static partial class E
            {
                private static readonly ExclusiveLock s_lock = new();
                [Guarded(Lock = nameof(s_lock))] private static int TwiceCore(this int x = 0, int y = 1) => x * y;
            }
            """
        },
        {
            "a static class as a return type (CS0722) and as a type argument (CS0718)",
            """
            using System.Collections.Generic;
            using Locksmith;
            public static class Tools { }
            public partial class C
            {
                private readonly ExclusiveLock _lock = new();
                [Guarded(Lock = nameof(_lock))] private Tools GetCore() => null!;
                [Guarded(Lock = nameof(_lock))] private void PutCore(List<Tools> items) { }
            }
            """
        },
    };

    [Theory]
    [MemberData(nameof(InvalidDeclarations))]
    public void AnInvalidDeclaration_IsLeftToTheCompiler_TheGeneratorNeitherThrowsNorRepeatsItsError(string shape, string source)
    {
        var run = GeneratorHarness.Run(TestCompilation.Create(source));

        Assert.True(run.ErrorsInUserCode.Length > 0, shape + ": the compiler reports no error in the declaration");
        var inGenerated = run.InGeneratedCode(DiagnosticSeverity.Warning);
        Assert.True(inGenerated.Length == 0, shape + ":\n" + Snapshot.Render(inGenerated) + "\n" + run.GeneratedText);
        Assert.Empty(run.Failures.Select(static d => d.GetMessage()));
        Assert.Null(run.Result.Results.Single().Exception);
    }

    // The receivers CS8337/CS8338 allow keep their wrappers: 'ref this' of a struct or of a type parameter constrained to
    // one, 'in this' of a concrete struct.
    [Fact]
    public void ValidRefAndInExtensionReceivers_KeepTheirWrappers()
    {
        var run = GeneratorHarness.RunStrict(
            """
            using Locksmith;
            public struct Counter { public int Value; }
            public readonly struct Point { public Point(int x) => X = x; public int X { get; } }
            public static partial class CounterExtensions
            {
                private static readonly ReentrantLock s_gate = new();
                [Guarded(Lock = nameof(s_gate))] private static void BumpCore(ref this Counter counter) => counter.Value++;
                [Guarded(Lock = nameof(s_gate))] private static void ResetCore<T>(ref this T value) where T : struct => value = default;
                [Guarded(Lock = nameof(s_gate))] private static int ScaleCore(in this Point point, int by) => point.X * by;
            }
            """);

        var problems = GeneratorHarness.CompileProblems(run).Concat(run.LocksmithDiagnostics).ToList();
        Assert.True(problems.Count == 0, Snapshot.Render(problems) + "\n" + run.GeneratedText);
        Assert.Contains("public static void Bump(this ref global::Counter counter)", run.GeneratedText, StringComparison.Ordinal);
        Assert.Contains("public static void Reset<T>(this ref T value)", run.GeneratedText, StringComparison.Ordinal);
        Assert.Contains("public static int Scale(this in global::Point point, int by)", run.GeneratedText, StringComparison.Ordinal);
    }

    // An <include> is found relative to the file it is written in: copied to the wrappers, it named a file beside the
    // generated one, which is not there (CS1589 in generated code; a valid-variation sweep found this).
    [Fact]
    public void ADocCommentWithAnInclude_IsNotCopiedToTheWrappers_WhoseFileCannotReachIt()
    {
        // The source and its docs in a folder below the project's: the resolver's base directory finds neither beside the generated file.
        string directory = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "locksmith-include-" + Guid.NewGuid().ToString("N"));
        string folder = System.IO.Path.Combine(directory, "Models");
        System.IO.Directory.CreateDirectory(folder);
        try
        {
            System.IO.File.WriteAllText(
                System.IO.Path.Combine(folder, "docs.xml"),
                "<doc><member name=\"get\"><summary>Gets the count.</summary><returns>The count.</returns></member></doc>");
            var tree = TestCompilation.Parse(
                """
                using Locksmith;
                /// <summary>A counter.</summary>
                public partial class C
                {
                    private readonly ExclusiveLock _lock = new();
                    private int _count = 1;

                    /// <include file='docs.xml' path='doc/member[@name="get"]/*'/>
                    [Guarded(Lock = nameof(_lock))] private int GetCore() => _count;
                }
                """,
                System.IO.Path.Combine(folder, "Source0.cs"));
            var compilation = CSharpCompilation.Create(
                "Locksmith.Generators.TestInput",
                [tree],
                TestCompilation.References,
                TestCompilation.Options.WithXmlReferenceResolver(new XmlFileResolver(directory)));

            var run = GeneratorHarness.Run(compilation);

            Assert.Contains("public int Get()", run.GeneratedText, StringComparison.Ordinal);
            var problems = run.CompilerDiagnostics.Where(static d => d.Severity >= DiagnosticSeverity.Warning).ToList();
            Assert.True(problems.Count == 0, Snapshot.Render(problems) + "\n" + run.GeneratedText);
        }
        finally
        {
            System.IO.Directory.Delete(directory, recursive: true);
        }
    }

    // An <include> was dropped with the rest of the comment, so a core documented from a file had wrappers with only
    // the generated summary; they now carry the comment as the compiler expands it.
    [Fact]
    public void ADocCommentWithAnInclude_GivesTheWrappersTheIncludedDocs_OrTheGeneratedSummaryWhenItCannotBeExpanded()
    {
        var files = new InMemoryXmlFiles(new Dictionary<string, string>
        {
            ["docs.xml"] = """
                <doc>
                  <member name="get">
                    <summary>
                    Gets the count of <see cref="Item"/> &amp; others.
                    </summary>
                    <returns>The count.</returns>
                  </member>
                  <member name="add"><summary>Adds to the count.</summary><param name="by">How much to add.</param></member>
                  <member name="bad"><summary>Adds.</summary><param name="nope">No such parameter.</param></member>
                </doc>
                """,
        });
        var compilation = CSharpCompilation.Create(
            "Locksmith.Generators.TestInput",
            [TestCompilation.Parse(
                """
                using Locksmith;
                namespace N;
                /// <summary>An item.</summary>
                public sealed class Item { }
                /// <summary>A counter.</summary>
                public partial class C
                {
                    private readonly ExclusiveLock _lock = new();
                    private int _count = 1;

                    /// <include file='docs.xml' path='doc/member[@name="get"]/*'/>
                    [Guarded(Lock = nameof(_lock), TimeoutMilliseconds = 100)] private int GetCore() => _count;

                    /// <include file='docs.xml' path='doc/member[@name="add"]/*'/>
                    [Guarded(Lock = nameof(_lock))] private void AddCore(int by) => _count += by;

                    /// <include file='missing.xml' path='doc/member[@name="get"]/*'/>
                    [Guarded(Lock = nameof(_lock))] private int MissingCore() => _count;

                    /// <include file='docs.xml' path='doc/member[@name="none"]/*'/>
                    [Guarded(Lock = nameof(_lock))] private int UnmatchedCore() => _count;

                    /// <include file='docs.xml' path='doc/member[@name="bad"]/*'/>
                    [Guarded(Lock = nameof(_lock))] private void BadCore(int by) => _count += by;

                    // A partial method: the defining part's include, the attribute on the implementing part.
                    /// <include file='docs.xml' path='doc/member[@name="add"]/*'/>
                    private partial void AddAgainCore(int by);
                    [Guarded(Lock = nameof(_lock))] private partial void AddAgainCore(int by) => _count += by;
                }
                """,
                "Source0.cs")],
            TestCompilation.References,
            TestCompilation.Options.WithXmlReferenceResolver(files));

        var run = GeneratorHarness.Run(compilation);

        string text = run.GeneratedText;
        // Both forms carry it, the cref as its id (the generated file has no usings), the entity kept.
        Assert.Equal(2, text.Split("/// Gets the count of <see cref=\"T:N.Item\" /> &amp; others.").Length - 1);
        Assert.Contains("/// </summary><returns>The count.</returns>", text, StringComparison.Ordinal);
        // The timed form takes the included returns for its result parameter.
        Assert.Contains("/// <param name=\"result\">The count; <see langword=\"default\"/> when the lock was not acquired.</param>", text, StringComparison.Ordinal);
        Assert.Equal(4, text.Split("/// <summary>Adds to the count.</summary><param name=\"by\">How much to add.</param>").Length - 1);
        // A file not found, a path matching nothing, a param tag naming no parameter: the generated summary, as without a comment.
        Assert.Contains("/// <summary>Calls <c>MissingCore</c> while holding", text, StringComparison.Ordinal);
        Assert.Contains("/// <summary>Calls <c>UnmatchedCore</c> while holding", text, StringComparison.Ordinal);
        Assert.Contains("/// <summary>Calls <c>BadCore</c> while holding", text, StringComparison.Ordinal);
        Assert.DoesNotContain("include", text, StringComparison.Ordinal);

        // The user's comments warn where the compiler says (CS1589, CS1572); the generated code adds nothing.
        Assert.True(run.InGeneratedCode(DiagnosticSeverity.Warning).IsEmpty, Snapshot.Render(run.InGeneratedCode(DiagnosticSeverity.Warning)) + "\n" + text);
        Assert.Equal(
            ["CS1572 at line 23", "CS1573 at line 24", "CS1589 at line 17"],
            run.CompilerDiagnostics.Where(static d => d.Severity >= DiagnosticSeverity.Warning)
                .Select(static d => d.Id + " at line " + (d.Location.GetLineSpan().StartLinePosition.Line + 1)).Order().ToArray());
    }

    /// <summary>Include files served from memory, by the path the include names.</summary>
    private sealed class InMemoryXmlFiles(Dictionary<string, string> files) : XmlReferenceResolver
    {
        public override string? ResolveReference(string path, string? baseFilePath) => files.ContainsKey(path) ? path : null;

        public override System.IO.Stream OpenRead(string resolvedPath) =>
            new System.IO.MemoryStream(System.Text.Encoding.UTF8.GetBytes(files[resolvedPath]));

        public override bool Equals(object? other) => ReferenceEquals(this, other);

        public override int GetHashCode() => files.GetHashCode();
    }

    // A null array for the params list: TypedConstant.Values of it is a default array, which threw in the generator
    // (LSM0099 for every method of the type) and in an analyzer (AD0001).
    [Fact]
    public void AcquiresLocksOfANullList_IsReadAsNamingNoParameter_WithoutAGeneratorOrAnalyzerFailure()
    {
        var run = GeneratorHarness.Run(TestCompilation.Create("""
            using Locksmith;
            public partial class Account
            {
                [LockOrder(10)] private readonly ExclusiveLock _lock = new();
                [Guarded(Lock = nameof(_lock))] private decimal _balance;
                [AcquiresLocksOf(nameof(from), nameof(to), Lock = nameof(_lock))]
                private static void TransferCore(Account from, Account to, decimal amount) { from._balance -= amount; to._balance += amount; }
                [AcquiresLocksOf(null, Lock = nameof(_lock))]
                private bool IsRicherThanCore(Account other) => other._balance < 0;
            }
            """));

        Assert.Empty(run.Failures.Select(static d => d.GetMessage()));
        // The analyzer now runs too: with no parameter named, nothing holds 'other._lock' where the core reads the balance.
        Assert.Equal(["LSM0018", "LSM0020"], run.LocksmithDiagnostics.Select(static d => d.Id).Order(StringComparer.Ordinal));
        var diagnostic = run.LocksmithDiagnostics.Single(static d => d.Id == "LSM0018");
        Assert.Equal(
            "'Account.IsRicherThanCore': it names no parameter; name the parameters whose locks it needs: [AcquiresLocksOf(nameof(a), nameof(b), Lock = nameof(_lock))]",
            diagnostic.GetMessage(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Contains("Transfer", run.GeneratedText, StringComparison.Ordinal);
    }

    // Invalid code (CS0102, which the compiler reports), but the generator must still write nothing that fails: a mutation
    // sweep turned an attribute into a nested type of the lock's name and the wrappers got CS0229.
    [Fact]
    public void TwoMembersOfTheLocksNameInOneType_GetNoWrapper_AndLSM0002SaysSo()
    {
        var run = GeneratorHarness.Run(TestCompilation.Create("""
            using Locksmith;
            public partial class Job
            {
                protected ExclusiveLock Gate { get; } = new();
                class Gate { }
                [Guarded(Lock = "Gate")] protected virtual string DescribeCore() => "job";
            }
            """));

        Assert.Contains(run.CompilerDiagnostics, static d => d.Id == "CS0102");
        Assert.Empty(run.InGeneratedCode(DiagnosticSeverity.Hidden));
        var diagnostic = Assert.Single(run.LocksmithDiagnostics);
        Assert.Equal("LSM0002", diagnostic.Id);
        Assert.EndsWith("'Job' declares more than one member named 'Gate' (CS0102): rename all but the lock", diagnostic.GetMessage(System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public void HintNamesThatDifferOnlyInCase_AreMadeUnique_TheSameWhateverTheOrder_AndOthersKeepTheirs()
    {
        const string upper = "namespace N; public partial class Foo { private readonly Locksmith.ExclusiveLock _lock = new(); [Locksmith.Guarded(Lock = nameof(_lock))] private void DoCore() { } }";
        const string lower = "#pragma warning disable CS8981\nnamespace N; public partial class foo { private readonly Locksmith.ExclusiveLock _lock = new(); [Locksmith.Guarded(Lock = nameof(_lock))] private void DoCore() { } }";
        const string other = "namespace N; public partial class Other { private readonly Locksmith.ExclusiveLock _lock = new(); [Locksmith.Guarded(Lock = nameof(_lock))] private void DoCore() { } }";

        var forward = HintNames(GeneratorHarness.RunStrict(upper, lower, other));
        var backward = HintNames(GeneratorHarness.RunStrict(other, lower, upper));

        Assert.Equal(3, forward.Distinct(StringComparer.OrdinalIgnoreCase).Count());
        Assert.Equal(forward.Order(StringComparer.Ordinal), backward.Order(StringComparer.Ordinal));
        Assert.Contains("N.Other.Locksmith.g.cs", forward);
    }

    [Fact]
    public void DefaultsWrittenAsAttributes_KeepTheirType_AndOnesTheCompilerRejectsGetNoWrapper()
    {
        var run = GeneratorHarness.RunStrict("""
            using System.Runtime.InteropServices;
            using Locksmith;
            namespace N;
            public enum E { A, B }
            public partial class K
            {
                private readonly ExclusiveLock _lock = new();
                [Guarded(Lock = nameof(_lock))] private void ACore([Optional, DefaultParameterValue((short)3)] object a, [Optional, DefaultParameterValue((byte)1)] object b) { }
                [Guarded(Lock = nameof(_lock))] private void BCore([Optional, DefaultParameterValue(1)] E e) { }
            }
            """);

        Assert.Empty(run.LocksmithDiagnostics);
        var problems = GeneratorHarness.CompileProblems(run);
        Assert.True(
            problems.Select(static d => d.Id).SequenceEqual(["CS1908"]) && problems[0].Location.SourceTree!.FilePath.StartsWith("Source", StringComparison.Ordinal),
            "The user's CS1908 only, once, on the declaration:\n" + Snapshot.Render(problems));
        var type = run.Output.GetTypeByMetadataName("N.K")!;
        var wrapper = type.GetMembers("A").OfType<IMethodSymbol>().Single();
        Assert.Equal((short)3, wrapper.Parameters[0].ExplicitDefaultValue);
        Assert.Equal((byte)1, wrapper.Parameters[1].ExplicitDefaultValue);
        Assert.Empty(type.GetMembers("B"));
    }

    /// <summary>
    /// A partial method's defaults, on whichever declaration the compiler takes them from: '= value' only on the
    /// defining one (the implementing one's is ignored, CS1066), attributes ([Optional, DefaultParameterValue],
    /// [CallerMemberName]) on either, merged. The wrappers take the same defaults whichever declaration [Guarded] is on,
    /// and run with them; a default the compiler rejects on the other declaration gets no wrapper.
    /// </summary>
    [Fact]
    public void PartialMethodDefaults_FromEitherDeclaration_AreTheWrappersDefaults_AndRun()
    {
        var run = GeneratorHarness.RunStrict("""
            using System.Runtime.CompilerServices;
            using System.Runtime.InteropServices;
            using Locksmith;
            namespace N;
            /// <summary>Partial bodies.</summary>
            public partial class P
            {
                private readonly ExclusiveLock _lock = new();
                private partial string EchoCore(int n = 3, string s = "d", [CallerMemberName] string caller = "");
                [Guarded(Lock = nameof(_lock))] private partial string EchoCore(int n, string s, string caller) => n + s + caller;
                private partial object BoxCore(object o);
                [Guarded(Lock = nameof(_lock))] private partial object BoxCore([Optional, DefaultParameterValue(5)] object o) => o;
                [Guarded(Lock = nameof(_lock))] private partial object PeekCore([Optional, DefaultParameterValue("p")] object o);
                private partial object PeekCore(object o) => o;
                private partial int MarkCore([Optional] int n);
                [Guarded(Lock = nameof(_lock))] private partial int MarkCore(int n) => n + 1;
                /// <summary>Calls the wrappers with their defaults.</summary>
                /// <returns>What they returned.</returns>
                public string Run() => Echo() + "|" + Echo(4, "e") + "|" + Box() + "|" + Peek() + "|" + Mark();
            }
            """);

        Assert.Empty(run.LocksmithDiagnostics);
        Assert.True(GeneratorHarness.CompileProblems(run).Count == 0, Snapshot.Render(GeneratorHarness.CompileProblems(run)) + "\n" + run.GeneratedText);
        using (var loaded = LoadedAssembly.Load(run, "partial-defaults"))
        {
            var p = loaded.Create("N.P");
            Assert.Equal("3dRun|4eRun|5|p|1", p.GetType().GetMethod("Run")!.Invoke(p, null));
        }

        var rejected = GeneratorHarness.RunStrict("""
            using System.Runtime.InteropServices;
            using Locksmith;
            namespace N;
            /// <summary>Partial bodies with defaults the compiler rejects on the declaration [Guarded] is not on.</summary>
            public partial class Q
            {
                private readonly ExclusiveLock _lock = new();
                private partial int TakeCore(int n = "three");
                [Guarded(Lock = nameof(_lock))] private partial int TakeCore(int n) => n;
                private partial int PutCore([Optional, DefaultParameterValue("x")] int n);
                [Guarded(Lock = nameof(_lock))] private partial int PutCore(int n) => n;
            }
            """);
        Assert.Empty(rejected.LocksmithDiagnostics);
        var problems = GeneratorHarness.CompileProblems(rejected);
        Assert.True(
            problems.Select(static d => d.Id).Order(StringComparer.Ordinal).SequenceEqual(["CS1750", "CS1908"]) &&
            problems.All(static d => d.Location.SourceTree!.FilePath.StartsWith("Source", StringComparison.Ordinal)),
            "The user's errors only, once each, on the declarations:\n" + Snapshot.Render(problems) + "\n" + rejected.GeneratedText);
        Assert.Empty(rejected.Result.GeneratedTrees);
    }

    /// <summary>
    /// The Program class of top-level statements is declared by the compiler, and 'partial class Program' declarations
    /// add to it: a [Guarded] method of one gets its wrappers (the generated part is one more such declaration), not an
    /// LSM0001 asking for the 'partial' it has. The wrappers run from the top-level statements.
    /// </summary>
    [Fact]
    public void TheProgramClassOfTopLevelStatements_GetsItsWrappers()
    {
        var compilation = TestCompilation.Create("""
            using System;
            using System.Threading.Tasks;
            using Locksmith;

            var program = new Program();
            Console.WriteLine(program.Count(2) + await program.CountAsync(3));

            partial class Program
            {
                [LockOrder(1)] private readonly ExclusiveLock _lock = new();
                private readonly AsyncExclusiveLock _async = new();
                private int _count;

                [Guarded(Lock = nameof(_lock))] private int CountCore(int by) => _count += by;
                [Guarded(Lock = nameof(_async))] private Task<int> CountCoreAsync(int by) => Task.FromResult(_count += by);
            }
            """);
        compilation = compilation.WithOptions(compilation.Options
            .WithOutputKind(OutputKind.ConsoleApplication)
            .WithGeneralDiagnosticOption(ReportDiagnostic.Error));
        var run = GeneratorHarness.Run(compilation);

        Clean.Assert(run);
        Snapshot.VerifyGenerated(run);
    }

    private static List<string> HintNames(GeneratorRun run) =>
        [.. run.Result.Results.Single().GeneratedSources.Select(static s => s.HintName)];
}
