using System;
using System.Linq;
using Locksmith.Generators.Tests.Support;

namespace Locksmith.Generators.Tests;

/// <summary>
/// LSM0051: a <c>[ReadMostly]</c> type whose own read-write lock is built in its initializer or constructor with a constant policy other
/// than the default and the attribute's. The lock keeps that policy, so the type's first wrapper throws
/// (ThrowPolicyDeclaredTwice); the generator says so at compile time. A policy it cannot read as a constant, or a lock
/// not built in the type, is left to the runtime.
/// </summary>
public sealed class ReadMostlyPolicyClashTests
{
    [Fact]
    public void LSM0051_ForASyncOrAsyncLockBuiltWithAnotherPolicy_PositionalOrNamed() => DiagnosticCheck.Verify("""
        using Locksmith;
        [ReadMostly] public sealed class DefaultPositional { private readonly ReadWriteLock _lock = new ReadWriteLock("d", 3, {|LSM0051:ReadWritePolicy.Fair|}); }
        [ReadMostly] public sealed class DefaultTargetTyped { public ReadWriteLock Lock { get; } = new({|LSM0051:ReadWritePolicy.ReaderPreferred|}); }
        [ReadMostly(Policy = ReadWritePolicy.ReaderPreferred)] public sealed class ExplicitNamed { private readonly ReadWriteLock _lock = new ReadWriteLock("e", {|LSM0051:policy: ReadWritePolicy.Fair|}); }
        [ReadMostly] public sealed class AsyncPositional { private readonly AsyncReadWriteLock _lock = new AsyncReadWriteLock("n", 10, {|LSM0051:ReadWritePolicy.Fair|}); }
        [ReadMostly(Policy = ReadWritePolicy.Fair)] public sealed class AsyncNamed { public AsyncReadWriteLock Lock { get; } = new({|LSM0051:policy: ReadWritePolicy.ReaderPreferred|}); }
        [ReadMostly(Policy = ReadWritePolicy.WriterPreferred)] public sealed partial class ExplicitDefault { private static readonly ReadWriteLock s_lock = new(name: "s", {|LSM0051:policy: ReadWritePolicy.Fair|}); }
        """);

    /// <summary>A lock assigned in a constructor body with a clashing constant policy keeps it just as an initializer's does.</summary>
    [Fact]
    public void LSM0051_ForALockAssignedInAConstructorWithAnotherPolicy() => DiagnosticCheck.Verify("""
        using Locksmith;
        [ReadMostly(Policy = ReadWritePolicy.ReaderPreferred)] public sealed class Named
        {
            private readonly ReadWriteLock _lock;
            public Named() { _lock = new ReadWriteLock("n", {|LSM0051:policy: ReadWritePolicy.Fair|}); }
        }
        [ReadMostly] public sealed class ThisTargetTyped
        {
            private readonly ReadWriteLock _lock;
            public ThisTargetTyped() => this._lock = new({|LSM0051:ReadWritePolicy.Fair|});
        }
        [ReadMostly(Policy = ReadWritePolicy.Fair)] public sealed class AsyncProperty
        {
            public AsyncReadWriteLock Lock { get; }
            public AsyncProperty(bool named)
            {
                if (named) { Lock = new AsyncReadWriteLock("a", 10, {|LSM0051:ReadWritePolicy.ReaderPreferred|}); }
                else { Lock = new(ReadWritePolicy.Fair); }
            }
        }
        [ReadMostly] public sealed class InOneOfTwoConstructors
        {
            private readonly ReadWriteLock _lock;
            public InOneOfTwoConstructors() => _lock = new();
            public InOneOfTwoConstructors(int level) => _lock = new("o", level, {|LSM0051:ReadWritePolicy.ReaderPreferred|});
        }
        [ReadMostly] public sealed class StaticLock
        {
            private static readonly ReadWriteLock s_lock;
            static StaticLock() => s_lock = new({|LSM0051:ReadWritePolicy.Fair|});
        }
        """);

    /// <summary>A striped read-write lock gives its policy to every stripe and keeps it, as a ReadWriteLock does.</summary>
    [Fact]
    public void LSM0051_ForAStripedReadWriteLockBuiltWithAnotherPolicy() => DiagnosticCheck.Verify("""
        using Locksmith;
        [ReadMostly] public sealed class Initialized { private readonly StripedReadWriteLock<int> _lock = new(16, {|LSM0051:policy: ReadWritePolicy.Fair|}); }
        [ReadMostly(Policy = ReadWritePolicy.Fair)] public sealed class Constructed
        {
            private readonly StripedReadWriteLock<string> _lock;
            public Constructed() => _lock = new StripedReadWriteLock<string>(16, "c", null, {|LSM0051:ReadWritePolicy.ReaderPreferred|});
        }
        [ReadMostly(Policy = ReadWritePolicy.Fair)] public sealed class Agrees { private readonly StripedReadWriteLock<int> _lock = new(16, policy: ReadWritePolicy.Fair); }
        """);

    /// <summary>
    /// No LSM0051 for a constructor's assignment where the policies agree, the lock is built with the default, the policy
    /// is not a constant, or the member may be an override's (virtual); nor for a lock assigned outside a constructor.
    /// </summary>
    [Fact]
    public void NoLSM0051_ForAConstructorsLockWhenThePoliciesAgreeOrThePolicyIsNotKnown() => DiagnosticCheck.Verify("""
        using Locksmith;
        [ReadMostly(Policy = ReadWritePolicy.Fair)] public sealed class Agree
        {
            private readonly ReadWriteLock _lock;
            public Agree() => _lock = new(ReadWritePolicy.Fair);
        }
        [ReadMostly(Policy = ReadWritePolicy.Fair)] public sealed class BuiltWithTheDefault
        {
            private readonly AsyncReadWriteLock _lock;
            public BuiltWithTheDefault() { this._lock = new("w", 10, ReadWritePolicy.WriterPreferred); }
        }
        [ReadMostly] public sealed class NotConstant
        {
            private readonly ReadWriteLock _lock;
            public NotConstant(ReadWritePolicy policy) => _lock = new("p", policy: policy);
        }
        [ReadMostly] public class Virtual
        {
            public virtual ReadWriteLock Lock { get; }
            public Virtual() => Lock = new(ReadWritePolicy.Fair);
        }
        [ReadMostly] public sealed class OtherObjectsLock
        {
            private ReadWriteLock _lock = new();
            public OtherObjectsLock(OtherObjectsLock other) => other._lock = new(ReadWritePolicy.Fair);
        }
        [ReadMostly] public sealed class InAMethod
        {
            private ReadWriteLock _lock = new();
            public void Reset() => _lock = new(ReadWritePolicy.Fair);
        }
        """);

    /// <summary>
    /// No LSM0051 where the policies agree, where the lock is built with the default (it takes the declared one), where
    /// the policy is not a constant, or where the lock is not built in the type's own initializer.
    /// </summary>
    [Fact]
    public void NoLSM0051_WhenThePoliciesAgreeOrThePolicyIsNotKnown() => DiagnosticCheck.Verify("""
        using System;
        using Locksmith;
        [ReadMostly(Policy = ReadWritePolicy.Fair)] public sealed class Agree { private readonly ReadWriteLock _lock = new(ReadWritePolicy.Fair); }
        [ReadMostly(Policy = ReadWritePolicy.ReaderPreferred)] public sealed class AgreeAsync { public AsyncReadWriteLock Lock { get; } = new("a", 10, ReadWritePolicy.ReaderPreferred); }
        [ReadMostly] public sealed class AgreeDefault { private readonly ReadWriteLock _lock = new(policy: ReadWritePolicy.WriterPreferred); }
        [ReadMostly(Policy = ReadWritePolicy.Fair)] public sealed class BuiltWithTheDefault { private readonly ReadWriteLock _lock = new("w", 3, ReadWritePolicy.WriterPreferred); }
        [ReadMostly(Policy = ReadWritePolicy.Fair)] public sealed class NoPolicy { private readonly AsyncReadWriteLock _lock = new("n", 10); }
        [ReadMostly] public sealed class NotConstant
        {
            private static readonly ReadWritePolicy s_chosen = Environment.ProcessorCount > 1 ? ReadWritePolicy.Fair : ReadWritePolicy.ReaderPreferred;
            private readonly ReadWriteLock _lock = new(s_chosen);
            private readonly AsyncReadWriteLock _other = new("o", 10, policy: s_chosen);
        }
        [ReadMostly] public sealed class FromConstructor
        {
            private readonly ReadWriteLock _lock;
            public FromConstructor(ReadWriteLock injected) => _lock = injected;
        }
        [ReadMostly] public sealed class FromFactory { private readonly ReadWriteLock _lock = Make(); private static ReadWriteLock Make() => new(ReadWritePolicy.Fair); }
        public class Base { protected readonly ReadWriteLock Lock = new(ReadWritePolicy.Fair); }
        [ReadMostly] public sealed class Derived : Base { }
        """);

    /// <summary>The message names the type, both policies (and that the attribute's is the default), the lock, and both fixes.</summary>
    [Theory]
    [InlineData("[ReadMostly]", "ReadWritePolicy.WriterPreferred (the default: Policy is not set)")]
    [InlineData("[ReadMostly(Policy = ReadWritePolicy.ReaderPreferred)]", "ReadWritePolicy.ReaderPreferred,")]
    public void LSM0051_MessageSaysWhichPoliciesAndHowToFix(string attribute, string declared)
    {
        var run = GeneratorHarness.Run(
            "using Locksmith; namespace N; ATTRIBUTE public sealed class Cache { private readonly ReadWriteLock _lock = new(ReadWritePolicy.Fair); }"
                .Replace("ATTRIBUTE", attribute, StringComparison.Ordinal));
        var diagnostic = Assert.Single(run.LocksmithDiagnostics);
        Assert.Equal("LSM0051", diagnostic.Id);
        string message = diagnostic.GetMessage(System.Globalization.CultureInfo.InvariantCulture);
        string policy = declared.Split(' ', ',')[0];
        Assert.Contains("[ReadMostly] on 'Cache' declares " + declared, message, StringComparison.Ordinal);
        Assert.Contains("'Cache._lock' is initialized with a lock built with ReadWritePolicy.Fair", message, StringComparison.Ordinal);
        Assert.Contains("set [ReadMostly(Policy = ReadWritePolicy.Fair)], or build the lock with " + policy, message, StringComparison.Ordinal);
    }

    /// <summary>
    /// A lock a constructor assigns is not "initialized with" the policy: the message says which constructor assigns it
    /// (by its parameters where the type has several), and a static one as the static constructor.
    /// </summary>
    [Theory]
    [InlineData("private readonly ReadWriteLock _lock; public Cache() { _lock = new(ReadWritePolicy.Fair); }",
        "'Cache._lock' is assigned, in the constructor 'Cache()', a lock built with ReadWritePolicy.Fair")]
    [InlineData("private readonly ReadWriteLock _lock; public Cache() => _lock = new(); public Cache(int level) => this._lock = new(\"c\", level, ReadWritePolicy.Fair);",
        "'Cache._lock' is assigned, in the constructor 'Cache(int)', a lock built with ReadWritePolicy.Fair")]
    [InlineData("private static readonly ReadWriteLock s_lock; static Cache() => s_lock = new(ReadWritePolicy.Fair);",
        "'Cache.s_lock' is assigned, in the static constructor, a lock built with ReadWritePolicy.Fair")]
    [InlineData("private readonly ReadWriteLock _lock = new(ReadWritePolicy.Fair);",
        "'Cache._lock' is initialized with a lock built with ReadWritePolicy.Fair")]
    public void LSM0051_MessageSaysWhereTheLockIsBuilt(string members, string where)
    {
        var run = GeneratorHarness.Run("using Locksmith; namespace N; [ReadMostly] public sealed class Cache { MEMBERS }"
            .Replace("MEMBERS", members, StringComparison.Ordinal));
        var diagnostic = Assert.Single(run.LocksmithDiagnostics);
        Assert.Equal("LSM0051", diagnostic.Id);
        string message = diagnostic.GetMessage(System.Globalization.CultureInfo.InvariantCulture);
        Assert.Contains(where + ", which it keeps", message, StringComparison.Ordinal);
        Assert.DoesNotContain(where.Contains("assigned", StringComparison.Ordinal) ? "initialized" : "assigned", message, StringComparison.Ordinal);
    }

    /// <summary>What LSM0051 reports is what the runtime refuses: the reported shape's first wrapper throws, the agreeing one does not.</summary>
    [Theory]
    [InlineData("ReadWritePolicy.Fair", "LSM0051", "threw")]
    [InlineData("ReadWritePolicy.ReaderPreferred", "", "7|ReaderPreferred")]
    public void TheReportedShapeThrowsAtRunTime(string built, string diagnostics, string outcome)
    {
        const string Source = """
            using System;
            using Locksmith;
            namespace N;
            /// <summary>Prefers readers.</summary>
            [ReadMostly(Policy = ReadWritePolicy.ReaderPreferred)]
            public sealed partial class Cache
            {
                /// <summary>The lock.</summary>
                public ReadWriteLock Lock { get; } = new(BUILT);
                private readonly int _value = 7;
                [Guarded(Lock = nameof(Lock), Access = LockAccess.Read)] private int GetCore() => _value;
            }
            /// <summary>Calls the wrapper once.</summary>
            public static class Probe
            {
                /// <summary>What the first wrapper call did.</summary>
                /// <returns>It.</returns>
                public static string Run()
                {
                    var cache = new Cache();
                    try { return cache.Get() + "|" + cache.Lock.Policy; }
                    catch (InvalidOperationException) { return "threw"; }
                }
            }
            """;
        var run = GeneratorHarness.Run(TestCompilation.Create(Source.Replace("BUILT", built, StringComparison.Ordinal)));
        Assert.Equal(diagnostics, string.Join(",", run.LocksmithDiagnostics.Select(static d => d.Id)));
        using var loaded = LoadedAssembly.Load(run, "read-mostly-policy-clash");
        Assert.Equal(outcome, loaded.Type("N.Probe").GetMethod("Run")!.Invoke(null, null));
    }
}
