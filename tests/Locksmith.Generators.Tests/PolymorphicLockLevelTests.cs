using System;
using System.Linq;
using Locksmith.Generators.Tests.Support;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Locksmith.Generators.Tests;

/// <summary>
/// A lock reached through a member that another one implements or overrides (an interface property, an abstract or
/// virtual one) has one level, whichever wrapper declares it first: a level given on the interface (or base) member
/// is the implementing member's too, a member without one is not declared by the wrappers that reach the lock through
/// it (it would fix the lock's level at none), and two different levels on the two members are LSM0047.
/// </summary>
public sealed class PolymorphicLockLevelTests
{
    private const string Shapes = """
        using Locksmith;
        namespace N;
        /// <summary>The level is on the interface member.</summary>
        public interface IAccount { /// <summary>The lock.</summary>
            [LockOrder(10)] ExclusiveLock Lock { get; } }
        /// <summary>Takes it from the interface.</summary>
        public sealed partial class Account : IAccount
        {
            /// <summary>The lock.</summary>
            public ExclusiveLock Lock { get; } = new();
            [Guarded(Lock = nameof(Lock))] private void DepositCore() { }
        }
        /// <summary>No level on the interface member.</summary>
        public interface IVault { /// <summary>The gate.</summary>
            ExclusiveLock Gate { get; } }
        /// <summary>The level is on the implementing member.</summary>
        public sealed partial class Vault : IVault
        {
            /// <summary>The gate.</summary>
            [LockOrder(20)] public ExclusiveLock Gate { get; } = new();
            [Guarded(Lock = nameof(Gate))] private void OpenCore() { }
        }
        /// <summary>An abstract lock without a level.</summary>
        public abstract partial class Shelf
        {
            /// <summary>The lock.</summary>
            public abstract ExclusiveLock Lock { get; }
            [Guarded(Lock = nameof(Lock))] private void StockCore() { }
        }
        /// <summary>Its override has one.</summary>
        public sealed partial class Fridge : Shelf
        {
            /// <summary>The lock.</summary>
            [LockOrder(30)] public override ExclusiveLock Lock { get; } = new();
            [Guarded(Lock = nameof(Lock))] private void ChillCore() { }
        }
        /// <summary>Reaches the locks through the interfaces.</summary>
        public static partial class Bank
        {
            [AcquiresLocksOf(nameof(a), nameof(b), Lock = nameof(IAccount.Lock))] private static void TransferCore(IAccount a, IAccount b) { }
            [AcquiresLocksOf(nameof(v), Lock = nameof(IVault.Gate))] private static void PeekCore(IVault v) { }
        }
        /// <summary>Calls the wrappers in both orders.</summary>
        public static class Probe
        {
            /// <summary>The levels the locks end with.</summary>
            /// <returns>Them.</returns>
            public static string Run()
            {
                var a = new Account();
                var b = new Account();
                Bank.Transfer(a, b);
                a.Deposit();
                var c = new Account();
                c.Deposit();
                Bank.Transfer(c, b);
                var v = new Vault();
                Bank.Peek(v);
                v.Open();
                var f = new Fridge();
                f.Stock();
                f.Chill();
                return $"{a.Lock.Level}|{b.Lock.Level}|{c.Lock.Level}|{v.Gate.Level}|{f.Lock.Level}";
            }
        }
        """;

    [Fact]
    public void ALockReachedThroughAnInterfaceOrAbstractMember_HasOneLevel_WhicheverWrapperRunsFirst()
    {
        var compilation = TestCompilation.Create(Shapes);
        compilation = compilation.WithOptions(compilation.Options.WithGeneralDiagnosticOption(ReportDiagnostic.Error));
        var run = GeneratorHarness.Run(compilation);
        // The levels below members without one (Vault.Gate, Fridge.Lock) are LSM0049: the order checks wait for their wrappers.
        Assert.Equal(["LSM0049", "LSM0049"], run.LocksmithDiagnostics.Select(static d => d.Id));
        using (var loaded = LoadedAssembly.Load(run, "polymorphic-levels"))
        {
            Assert.Equal("10|10|10|20|30", loaded.Type("N.Probe").GetMethod("Run")!.Invoke(null, null));
        }

        // Through a member without a level, nothing is declared; through one with a level, that level.
        string bank = run.Result.GeneratedTrees.Single(static t => t.FilePath.EndsWith("N.Bank.Locksmith.g.cs", StringComparison.Ordinal)).ToString();
        Assert.Contains("a.Lock.EnsureDeclared(\"N.IAccount.Lock\", 10);", bank, StringComparison.Ordinal);
        Assert.DoesNotContain("v.Gate.EnsureDeclared", bank, StringComparison.Ordinal);
    }

    /// <summary>The analyzer orders a lock by the level its interface or base member declares, as the wrappers do.</summary>
    [Fact]
    public void LSM0022_TheLevelOfTheImplementedMember_IsTheImplementingMembers() => DiagnosticCheck.Verify("""
        using Locksmith;
        public interface IAccount { [LockOrder(10)] ExclusiveLock Lock { get; } }
        public sealed partial class Account : IAccount
        {
            public ExclusiveLock Lock { get; } = new();
            [LockOrder(5)] private readonly ExclusiveLock _journal = new();
            [Guarded(Lock = nameof(_journal))] private void RecordCore() { }
            [Guarded(Lock = nameof(Lock))] private void DepositCore() => {|LSM0022:Record()|};
        }
        public abstract partial class Shelf { [LockOrder(30)] public abstract ExclusiveLock Lock { get; } }
        public sealed partial class Fridge : Shelf
        {
            public override ExclusiveLock Lock { get; } = new();
            [LockOrder(20)] private readonly ExclusiveLock _door = new();
            [LockOrder(40)] private readonly ExclusiveLock _light = new();
            [Guarded(Lock = nameof(_door))] private void OpenCore() { }
            [Guarded(Lock = nameof(_light))] private void ShineCore() { }
            [Guarded(Lock = nameof(Lock))] private void ChillCore() { {|LSM0022:Open()|}; Shine(); }
        }
        """);

    /// <summary>Two levels for one lock, on a member and on the member it implements or overrides, are LSM0047.</summary>
    [Fact]
    public void LSM0047_ImplementingMemberDeclaresAnotherLevel() => DiagnosticCheck.Verify("""
        using Locksmith;
        public interface IVault { [LockOrder(10)] ExclusiveLock Gate { get; } }
        public sealed class Vault : IVault { [LockOrder(20)] public ExclusiveLock {|LSM0047:Gate|} { get; } = new(); }
        public sealed class Same : IVault { [LockOrder(10)] public ExclusiveLock Gate { get; } = new(); }
        public sealed class Quiet : IVault { public ExclusiveLock Gate { get; } = new(); }
        public sealed class Explicit : IVault { [LockOrder(30)] ExclusiveLock IVault.{|LSM0047:Gate|} { get; } = new(); }
        public abstract class Base { [LockOrder(10)] public abstract ExclusiveLock Lock { get; } }
        public class Middle : Base { public override ExclusiveLock Lock { get; } = new(); }
        public sealed class Derived : Middle { [LockOrder(11)] public override ExclusiveLock {|LSM0047:Lock|} { get; } = new(); }
        """);

    /// <summary>
    /// A level on a member that implements or overrides one without a level is LSM0049: the wrappers that take the lock
    /// through the member above declare nothing, so the lock is taken unchecked until a wrapper of the implementing type
    /// has run. A member above that has a level, or is not in source (nothing to add it to), is not reported.
    /// </summary>
    [Fact]
    public void LSM0049_ALevelBelowAnInterfaceOrBaseMemberWithoutOne() => DiagnosticCheck.Verify("""
        using Locksmith;
        public interface IVault { ExclusiveLock Gate { get; } }
        public interface ILeveled { [LockOrder(10)] ExclusiveLock Gate { get; } }
        public sealed class Vault : IVault { [LockOrder(20)] public ExclusiveLock {|LSM0049:Gate|} { get; } = new(); }
        public sealed class Explicit : IVault { [LockOrder(20)] ExclusiveLock IVault.{|LSM0049:Gate|} { get; } = new(); }
        public sealed class Leveled : ILeveled { [LockOrder(10)] public ExclusiveLock Gate { get; } = new(); }
        public sealed class Unleveled : IVault { public ExclusiveLock Gate { get; } = new(); }
        public abstract class Base { public abstract ExclusiveLock Lock { get; } }
        public class Middle : Base { public override ExclusiveLock Lock { get; } = new(); }
        public sealed class Derived : Middle { [LockOrder(11)] public override ExclusiveLock {|LSM0049:Lock|} { get; } = new(); }
        public abstract class Ordered { [LockOrder(5)] public abstract ExclusiveLock Lock { get; } }
        public sealed class Fine : Ordered { public override ExclusiveLock Lock { get; } = new(); }
        public sealed class Stream : System.IO.MemoryStream { [LockOrder(1)] public ExclusiveLock Lock { get; } = new(); }
        """);
}
