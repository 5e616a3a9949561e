using System;
using System.Linq;
using Locksmith.Generators.Tests.Support;
using Microsoft.CodeAnalysis;

namespace Locksmith.Generators.Tests;

/// <summary>
/// A <c>[ReadMostly(Policy = …)]</c> other than the default reaches a read-write lock only through the wrappers of the
/// type that declares it; wrappers that take it through an interface (or base) member do not apply it. When they hold it
/// first, the type's first wrapper finds the lock in use with the default policy and throws, so such a lock is LSM0050
/// unless its initializer constructs it with the policy, which then needs no switch.
/// </summary>
public sealed class ReadMostlyThroughInterfaceTests
{
    private const string Shapes = """
        using System;
        using System.Threading;
        using Locksmith;
        namespace N;
        /// <summary>A cache.</summary>
        public interface ICache { /// <summary>The lock.</summary>
            ReadWriteLock Lock { get; } }
        /// <summary>Prefers readers.</summary>
        [ReadMostly(Policy = ReadWritePolicy.ReaderPreferred)]
        public sealed partial class Cache : ICache
        {
            /// <summary>The lock.</summary>
            public ReadWriteLock Lock { get; } = new(CONSTRUCTION);
            private readonly int _value = 7;
            [Guarded(Lock = nameof(Lock), Access = LockAccess.Read)] private int GetCore() => _value;
        }
        /// <summary>Takes caches' locks through the interface.</summary>
        public static partial class Sweeper
        {
            [AcquiresLocksOf(nameof(cache), Lock = nameof(ICache.Lock))] private static string SweepCore(ICache cache, Func<string> inside) => inside();
        }
        /// <summary>The interface's wrapper first, the type's on another thread while it holds the lock.</summary>
        public static class Probe
        {
            /// <summary>What the type's first wrapper did.</summary>
            /// <returns>It.</returns>
            public static string Run()
            {
                var cache = new Cache();
                return Sweeper.Sweep(cache, () =>
                {
                    string outcome = "";
                    var reader = new Thread(() =>
                    {
                        try { outcome = cache.TryGet(TimeSpan.Zero, out _) ? "read" : "waited"; }
                        catch (InvalidOperationException) { outcome = "threw"; }
                    });
                    reader.Start();
                    reader.Join();
                    return outcome + "|" + cache.Lock.Policy;
                });
            }
        }
        """;

    [Theory]
    [InlineData("", "threw|WriterPreferred", "LSM0050")]
    [InlineData("ReadWritePolicy.ReaderPreferred", "waited|ReaderPreferred", "")]
    public void ANonDefaultPolicyReachedThroughAnInterface_IsLSM0050_UnlessTheLockIsConstructedWithIt(string construction, string outcome, string diagnostics) =>
        Check(Shapes.Replace("CONSTRUCTION", construction, StringComparison.Ordinal), outcome, diagnostics);

    /// <summary>A lock built with the policy in the constructor needs no switch either: no LSM0050, and the type's wrapper waits.</summary>
    [Fact]
    public void ALockConstructedWithThePolicyInTheConstructor_IsNoLSM0050_AndNeedsNoSwitch() =>
        Check(
            Shapes.Replace(
                "{ get; } = new(CONSTRUCTION);",
                "{ get; }\n/// <summary>Builds the lock.</summary>\npublic Cache() => Lock = new(policy: ReadWritePolicy.ReaderPreferred);",
                StringComparison.Ordinal),
            "waited|ReaderPreferred",
            "");

    /// <summary>Nor does a lock behind a property that returns a field built with the policy: no LSM0050, and the type's wrapper waits.</summary>
    [Fact]
    public void ALockInAFieldBuiltWithThePolicy_IsNoLSM0050_AndNeedsNoSwitch() =>
        Check(
            Shapes.Replace(
                "{ get; } = new(CONSTRUCTION);",
                "=> _lock;\nprivate readonly ReadWriteLock _lock = new(ReadWritePolicy.ReaderPreferred);",
                StringComparison.Ordinal),
            "waited|ReaderPreferred",
            "");

    private static void Check(string source, string outcome, string diagnostics)
    {
        Assert.DoesNotContain("CONSTRUCTION", source, StringComparison.Ordinal);
        var compilation = TestCompilation.Create(source);
        var run = GeneratorHarness.Run(compilation);
        Assert.Equal(diagnostics, string.Join(",", run.LocksmithDiagnostics.Select(static d => d.Id)));
        using var loaded = LoadedAssembly.Load(run, "read-mostly-through-interface");
        Assert.Equal(outcome, loaded.Type("N.Probe").GetMethod("Run")!.Invoke(null, null));
    }

    /// <summary>LSM0050 for each lock property reached through a member above it, unless built with the type's policy.</summary>
    [Fact]
    public void LSM0050_OnlyWhereAWrapperMayTakeTheLockWithoutThePolicy() => DiagnosticCheck.Verify("""
        using Locksmith;
        public interface ICache { ReadWriteLock Lock { get; } }
        public abstract class Store { public abstract ReadWriteLock Lock { get; } }
        [ReadMostly(Policy = ReadWritePolicy.Fair)] public sealed class Explicit : ICache { ReadWriteLock ICache.{|LSM0050:Lock|} { get; } = new(); }
        [ReadMostly(Policy = ReadWritePolicy.Fair)] public sealed class Other : ICache { public ReadWriteLock Lock { get; } = new({|LSM0051:ReadWritePolicy.ReaderPreferred|}); }
        [ReadMostly(Policy = ReadWritePolicy.Fair)] public sealed class Built : ICache { public ReadWriteLock Lock { get; } = new("built", 3, ReadWritePolicy.Fair); }
        [ReadMostly(Policy = ReadWritePolicy.ReaderPreferred)] public sealed class Shop : Store { public override ReadWriteLock {|LSM0050:Lock|} { get; } = new(); }
        [ReadMostly(Policy = ReadWritePolicy.WriterPreferred)] public sealed class Default : ICache { public ReadWriteLock Lock { get; } = new(); }
        [ReadMostly(Policy = ReadWritePolicy.Fair)] public sealed class Own { private readonly ReadWriteLock _lock = new(); public ReadWriteLock Lock => _lock; }
        """);

    /// <summary>A lock built with the policy in every constructor (through ': this(…)' chains) is no LSM0050; one that some constructor builds otherwise is (or LSM0051, where it builds it with another constant policy).</summary>
    [Fact]
    public void LSM0050_NotForALockBuiltWithThePolicyInEveryConstructor() => DiagnosticCheck.Verify("""
        using Locksmith;
        public interface ICache { ReadWriteLock Lock { get; } }
        public abstract class Store { public abstract ReadWriteLock Lock { get; } }
        [ReadMostly(Policy = ReadWritePolicy.ReaderPreferred)] public sealed class One : ICache
        {
            public One() { Lock = new ReadWriteLock(ReadWritePolicy.ReaderPreferred); }
            public ReadWriteLock Lock { get; }
        }
        [ReadMostly(Policy = ReadWritePolicy.Fair)] public sealed class Named : ICache
        {
            public Named() => this.Lock = new(policy: ReadWritePolicy.Fair);
            public ReadWriteLock Lock { get; }
        }
        [ReadMostly(Policy = ReadWritePolicy.Fair)] public sealed class Chained : ICache
        {
            public Chained() : this("chained") { }
            public Chained(int level) : this() { }
            private Chained(string name) { Lock = new(name, 3, ReadWritePolicy.Fair); }
            public ReadWriteLock Lock { get; }
        }
        [ReadMostly(Policy = ReadWritePolicy.Fair)] public sealed class Shop : Store
        {
            public Shop() { Lock = new(ReadWritePolicy.Fair); }
            public override ReadWriteLock Lock { get; }
        }
        [ReadMostly(Policy = ReadWritePolicy.Fair)] public sealed class Partly : ICache
        {
            public Partly() { Lock = new(ReadWritePolicy.Fair); }
            public Partly(int level) { Lock = new("partly", level); }
            public ReadWriteLock {|LSM0050:Lock|} { get; }
        }
        [ReadMostly(Policy = ReadWritePolicy.Fair)] public sealed class Other : ICache
        {
            public Other() { Lock = new({|LSM0051:ReadWritePolicy.ReaderPreferred|}); }
            public ReadWriteLock Lock { get; }
        }
        [ReadMostly(Policy = ReadWritePolicy.Fair)] public sealed class Maybe : ICache
        {
            public Maybe(bool fair) { if (fair) { Lock = new(ReadWritePolicy.Fair); } else { Lock = new(); } }
            public ReadWriteLock {|LSM0050:Lock|} { get; }
        }
        [ReadMostly(Policy = ReadWritePolicy.Fair)] public sealed class Replaced : ICache
        {
            public Replaced() : this(1) { Lock = new(); }
            private Replaced(int level) { Lock = new(ReadWritePolicy.Fair); }
            public ReadWriteLock {|LSM0050:Lock|} { get; }
        }
        [ReadMostly(Policy = ReadWritePolicy.Fair)] public sealed class Initialized : ICache
        {
            public Initialized() { }
            public ReadWriteLock {|LSM0050:Lock|} { get; } = new();
        }
        """);

    /// <summary>
    /// A property that merely returns a field (or another property) has the lock of that member: built with the policy
    /// by its initializer or in every constructor, it is no LSM0050; built otherwise, or not surely, it is.
    /// </summary>
    [Fact]
    public void LSM0050_NotForALockForwardedToAMemberBuiltWithThePolicy() => DiagnosticCheck.Verify("""
        using Locksmith;
        public interface ICache { ReadWriteLock Lock { get; } }
        public abstract class Store { public abstract ReadWriteLock Lock { get; } }
        [ReadMostly(Policy = ReadWritePolicy.ReaderPreferred)] public sealed class Field : ICache
        {
            private readonly ReadWriteLock _lock = new(ReadWritePolicy.ReaderPreferred);
            public ReadWriteLock Lock => _lock;
        }
        [ReadMostly(Policy = ReadWritePolicy.Fair)] public sealed class Returned : ICache
        {
            private readonly ReadWriteLock _lock = new(policy: ReadWritePolicy.Fair);
            public ReadWriteLock Lock { get { return this._lock; } }
        }
        [ReadMostly(Policy = ReadWritePolicy.Fair)] public sealed class Constructed : ICache
        {
            private readonly ReadWriteLock _lock;
            public Constructed() : this("constructed") { }
            private Constructed(string name) { _lock = new(name, 3, ReadWritePolicy.Fair); }
            public ReadWriteLock Lock => _lock;
        }
        [ReadMostly(Policy = ReadWritePolicy.Fair)] public sealed class Inner : ICache
        {
            private ReadWriteLock Core { get; } = new(ReadWritePolicy.Fair);
            public ReadWriteLock Lock => Core;
        }
        [ReadMostly(Policy = ReadWritePolicy.Fair)] public sealed class Shop : Store
        {
            private readonly ReadWriteLock _lock = new(ReadWritePolicy.Fair);
            public override ReadWriteLock Lock => _lock;
        }
        [ReadMostly(Policy = ReadWritePolicy.Fair)] public sealed class Plain : ICache
        {
            private readonly ReadWriteLock _lock = new();
            public ReadWriteLock {|LSM0050:Lock|} => _lock;
        }
        [ReadMostly(Policy = ReadWritePolicy.Fair)] public sealed class Other : ICache
        {
            private readonly ReadWriteLock _lock = new({|LSM0051:ReadWritePolicy.ReaderPreferred|});
            public ReadWriteLock Lock => _lock;
        }
        [ReadMostly(Policy = ReadWritePolicy.Fair)] public sealed class Partly : ICache
        {
            private readonly ReadWriteLock _lock;
            public Partly() { _lock = new(ReadWritePolicy.Fair); }
            public Partly(int level) { _lock = new("partly", level); }
            public ReadWriteLock {|LSM0050:Lock|} => _lock;
        }
        [ReadMostly(Policy = ReadWritePolicy.Fair)] public sealed class Unbuilt : ICache
        {
            private readonly ReadWriteLock _lock = null!;
            public ReadWriteLock {|LSM0050:Lock|} => _lock;
        }
        [ReadMostly(Policy = ReadWritePolicy.Fair)] public sealed class InnerPlain : ICache
        {
            private ReadWriteLock Core { get; } = new();
            public ReadWriteLock {|LSM0050:Lock|} => Core;
        }
        """);

    /// <summary>A constructor that builds the lock with the policy in every branch of an if/else builds it; one that may skip it does not.</summary>
    [Fact]
    public void LSM0050_NotForALockBuiltWithThePolicyInEveryBranch() => DiagnosticCheck.Verify("""
        using Locksmith;
        public interface ICache { ReadWriteLock Lock { get; } }
        [ReadMostly(Policy = ReadWritePolicy.Fair)] public sealed class Both : ICache
        {
            public Both(bool named) { if (named) { Lock = new("both", 3, ReadWritePolicy.Fair); } else { Lock = new(ReadWritePolicy.Fair); } }
            public ReadWriteLock Lock { get; }
        }
        [ReadMostly(Policy = ReadWritePolicy.Fair)] public sealed class Chain : ICache
        {
            public Chain(int level)
            {
                if (level > 2) Lock = new("high", level, ReadWritePolicy.Fair);
                else if (level > 1) { _ = level; Lock = new("mid", level, ReadWritePolicy.Fair); }
                else { { Lock = new(ReadWritePolicy.Fair); } }
            }
            public ReadWriteLock Lock { get; }
        }
        [ReadMostly(Policy = ReadWritePolicy.Fair)] public sealed class Field : ICache
        {
            private readonly ReadWriteLock _lock;
            public Field(bool named) { if (named) { _lock = new("field", 3, ReadWritePolicy.Fair); } else { _lock = new(ReadWritePolicy.Fair); } }
            public ReadWriteLock Lock => _lock;
        }
        [ReadMostly(Policy = ReadWritePolicy.Fair)] public sealed class NoElse : ICache
        {
            public NoElse(bool fair) { if (fair) { Lock = new(ReadWritePolicy.Fair); } }
            public ReadWriteLock {|LSM0050:Lock|} { get; }
        }
        [ReadMostly(Policy = ReadWritePolicy.Fair)] public sealed class OneBranch : ICache
        {
            public OneBranch(int level)
            {
                if (level > 2) { Lock = new(ReadWritePolicy.Fair); }
                else if (level > 1) { Lock = new(ReadWritePolicy.Fair); }
                else { _ = level; }
            }
            public ReadWriteLock {|LSM0050:Lock|} { get; }
        }
        [ReadMostly(Policy = ReadWritePolicy.Fair)] public sealed class Looped : ICache
        {
            public Looped(int count) { for (int i = 0; i < count; i++) { Lock = new(ReadWritePolicy.Fair); } }
            public ReadWriteLock {|LSM0050:Lock|} { get; }
        }
        [ReadMostly(Policy = ReadWritePolicy.Fair)] public sealed class Mixed : ICache
        {
            public Mixed(bool fair) { if (fair) { Lock = new(ReadWritePolicy.Fair); } else { Lock = new({|LSM0051:ReadWritePolicy.ReaderPreferred|}); } }
            public ReadWriteLock Lock { get; }
        }
        """);
}
