using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Runtime.Loader;
using System.Threading;
using System.Threading.Tasks;
using Locksmith.Generators.Tests.Support;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Locksmith.Generators.Tests;

/// <summary>
/// Locks and guarded cores a class inherits from a base class of another assembly (a metadata reference, not source):
/// the derived class, with its wrappers, compiles as a strict project without a warning and runs through them, or gets
/// the diagnostic that says what to write; a base member the derived assembly cannot reach (internal or private
/// protected without [InternalsVisibleTo], private) is never one a wrapper names.
/// </summary>
public sealed class CrossAssemblyShapesTests
{
    private const string DerivedAssemblyName = "Locksmith.Generators.TestInput";

    private const string Usings = """
        using System;
        using System.Runtime.CompilerServices;
        using System.Threading;
        using System.Threading.Tasks;
        using Locksmith;

        """;

    private const string FriendAttribute = "[assembly: InternalsVisibleTo(\"" + DerivedAssemblyName + "\")]\n";

    private static readonly string[] s_accesses = ["private", "internal", "private protected", "protected", "protected internal", "public"];

    /// <summary>Whether a derived class in another assembly reaches a base member of that access.</summary>
    private static bool DerivedReaches(string access, bool friend) => access switch
    {
        "private" => false,
        "internal" or "private protected" => friend,
        _ => true,
    };

    public static TheoryData<string, bool, string> GuardedByABaseLock()
    {
        var data = new TheoryData<string, bool, string>();
        foreach (string access in s_accesses)
        {
            foreach (bool friend in new[] { false, true })
            {
                foreach (string lockType in new[] { "ExclusiveLock", "AsyncExclusiveLock", "AsyncReadWriteLock" })
                {
                    data.Add(access, friend, lockType);
                }
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(GuardedByABaseLock))]
    public async Task GuardedCore_NamingABaseLockOfAnotherAssembly_RunsWhenReachable_ElseLSM0002SaysHowToReachIt(string access, bool friend, string lockType)
    {
        var @base = BaseAssembly.Compile((friend ? FriendAttribute : "") + $$"""
            namespace Cross.Base;
            public class Vault
            {
                {{access}} readonly {{lockType}} _lock = new();
            }
            """);
        bool isAsync = lockType.StartsWith("Async", StringComparison.Ordinal);
        bool reaches = DerivedReaches(access, friend);
        // nameof of a member it cannot reach is the user's own CS0122, so that case names the lock by its string.
        string lockName = reaches ? "nameof(_lock)" : "\"_lock\"";
        string core = isAsync
            ? $"[Guarded(Lock = {lockName})] private Task<int> BumpCoreAsync(CancellationToken ct) => Task.FromResult(++_count);"
            : $"[Guarded(Lock = {lockName})] private int BumpCore() => ++_count;";
        var run = @base.RunDerived(Usings + $$"""
            namespace Cross.App;
            public partial class Safe : Cross.Base.Vault
            {
                private int _count;
                {{core}}
            }
            """);

        string shape = $"{access} {lockType}{(friend ? " with [InternalsVisibleTo]" : "")}";
        Assert.Null(run.Result.Results.Single().Exception);
        var problems = GeneratorHarness.CompileProblems(run);
        Assert.True(problems.Count == 0, shape + ":\n" + Snapshot.Render(problems) + "\n" + run.GeneratedText);
        if (!reaches)
        {
            var reported = Assert.Single(run.LocksmithDiagnostics);
            string message = reported.GetMessage(CultureInfo.InvariantCulture);
            Assert.True(reported.Id == "LSM0002", shape + ": " + reported.Id + " " + message);
            // A private member, or an internal one without [InternalsVisibleTo], is not in the metadata the compiler
            // imports, so the lock is simply not there; a private protected one is, and the advice says how to reach it.
            Assert.Contains(
                access == "private protected"
                    ? "'Vault._lock' is private protected to assembly 'Cross.Base', which gives '" + DerivedAssemblyName + "' no access: make it protected, " +
                      "or give that access with [assembly: InternalsVisibleTo(\"" + DerivedAssemblyName + "\")] in 'Cross.Base'"
                    : "'Safe' has no field or property of that name; set Lock = nameof(yourLockField)",
                message,
                StringComparison.Ordinal);
            Assert.Empty(run.Result.GeneratedTrees.Where(static t => t.FilePath.EndsWith("Safe.Locksmith.g.cs", StringComparison.Ordinal)));
            return;
        }

        Assert.True(run.LocksmithDiagnostics.IsEmpty, shape + ": " + Snapshot.Render(run.LocksmithDiagnostics));
        using var loaded = @base.Load(run);
        var safe = loaded.Create("Cross.App.Safe");
        for (int expected = 1; expected <= 2; expected++)
        {
            object? result = isAsync
                ? await (Task<int>)safe.GetType().GetMethod("BumpAsync")!.Invoke(safe, [CancellationToken.None])!
                : safe.GetType().GetMethod("Bump")!.Invoke(safe, null);
            Assert.Equal(expected, result);
        }
    }

    [Fact]
    public void GuardedCore_NamingAnUnreachableBaseLockByNameof_HasOnlyTheUsersOwnError()
    {
        var @base = BaseAssembly.Compile("""
            namespace Cross.Base;
            public class Vault
            {
                private protected readonly ExclusiveLock _lock = new();
            }
            """);
        var run = @base.RunDerived(Usings + """
            namespace Cross.App;
            public partial class Safe : Cross.Base.Vault
            {
                private int _count;
                [Guarded(Lock = nameof(_lock))] private int BumpCore() => ++_count;
            }
            """);

        Assert.Null(run.Result.Results.Single().Exception);
        var problems = GeneratorHarness.CompileProblems(run);
        // The user's nameof is CS0122; nothing the generator wrote adds to it.
        Assert.True(
            problems.All(static d => d.Id == "CS0122" && d.Location.SourceTree?.FilePath == "Source0.cs"),
            Snapshot.Render(problems) + "\n" + run.GeneratedText);
        Assert.NotEmpty(problems);
        Assert.Empty(run.Result.GeneratedTrees.Where(static t => t.FilePath.EndsWith("Safe.Locksmith.g.cs", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task BaseLocksWithLevelsFromAnotherAssembly_RunInOrder_AndTheReverseIsReportedAndRefused()
    {
        var @base = BaseAssembly.Compile("""
            namespace Cross.Base;
            public class Ledger
            {
                [LockOrder(1)] protected readonly ExclusiveLock _accounts = new();
                [LockOrder(2)] protected internal readonly ExclusiveLock _audit = new();
                [LockOrder(3)] public readonly AsyncExclusiveLock _journal = new();
            }
            """);
        var run = @base.RunDerived(Usings + """
            namespace Cross.App;
            public partial class Branch : Cross.Base.Ledger
            {
                private int _balance;
                [Guarded(Lock = nameof(_accounts))] private int DepositCore(int amount) => _balance += amount;
                [Guarded(Lock = nameof(_audit))] private int AuditThenDepositCore() => Deposit(1);
                [Guarded(Lock = nameof(_journal))] private Task<int> NoteCoreAsync(int amount, CancellationToken ct) => Task.FromResult(amount);
            }
            """);

        Assert.Null(run.Result.Results.Single().Exception);
        Assert.True(GeneratorHarness.CompileProblems(run).Count == 0, Snapshot.Render(GeneratorHarness.CompileProblems(run)) + "\n" + run.GeneratedText);
        // Level 1 taken under level 2: the analyzer reads both levels from the other assembly's metadata.
        Assert.Equal(["LSM0022"], run.LocksmithDiagnostics.Select(static d => d.Id));

        using var loaded = @base.Load(Lenient(run));
        var branch = loaded.Create("Cross.App.Branch");
        var type = branch.GetType();
        Assert.Equal(5, type.GetMethod("Deposit")!.Invoke(branch, [5]));
        Assert.Equal(7, await (Task<int>)type.GetMethod("NoteAsync")!.Invoke(branch, [7, CancellationToken.None])!);
        var refused = Assert.Throws<TargetInvocationException>(() => type.GetMethod("AuditThenDeposit")!.Invoke(branch, null));
        Assert.IsType<LockOrderViolationException>(refused.InnerException);
        Assert.Equal(5, type.GetMethod("Deposit")!.Invoke(branch, [0]));
    }

    [Fact]
    public void BasesGeneratedWrapperOfAnotherAssembly_CalledUnderAHigherLevelLock_IsLSM0022AndRefusedAtRun()
    {
        var @base = BaseAssembly.Compile("""
            namespace Cross.Base;
            public partial class Ledger
            {
                [LockOrder(1)] protected readonly ExclusiveLock _accounts = new();
                private int _balance;
                [Guarded(Lock = nameof(_accounts))] protected int DepositCore(int amount) => _balance += amount;
            }
            """);
        var run = @base.RunDerived(Usings + """
            namespace Cross.App;
            public partial class Branch : Cross.Base.Ledger
            {
                [LockOrder(2)] private readonly ExclusiveLock _audit = new();
                [Guarded(Lock = nameof(_audit))] private int AuditThenDepositCore() => Deposit(1);
            }
            """);

        Assert.Null(run.Result.Results.Single().Exception);
        Assert.True(GeneratorHarness.CompileProblems(run).Count == 0, Snapshot.Render(GeneratorHarness.CompileProblems(run)) + "\n" + run.GeneratedText);
        // The base's wrapper, read from metadata, takes its level-1 lock under this level-2 one. (A private lock there
        // is not in the imported metadata, and the analyzer then sees no lock to order: not covered here.)
        Assert.Equal(["LSM0022"], run.LocksmithDiagnostics.Select(static d => d.Id));

        using var loaded = @base.Load(Lenient(run));
        var branch = loaded.Create("Cross.App.Branch");
        var refused = Assert.Throws<TargetInvocationException>(() => branch.GetType().GetMethod("AuditThenDeposit")!.Invoke(branch, null));
        Assert.IsType<LockOrderViolationException>(refused.InnerException);
        Assert.Equal(2, branch.GetType().GetMethod("Deposit")!.Invoke(branch, [2]));
    }

    public static TheoryData<string, bool, string> AcquiresLocksOfAnotherAssemblysType()
    {
        var data = new TheoryData<string, bool, string>();
        foreach (string access in s_accesses)
        {
            foreach (bool friend in new[] { false, true })
            {
                data.Add(access, friend, "ExclusiveLock");
                data.Add(access, friend, "AsyncExclusiveLock");
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(AcquiresLocksOfAnotherAssemblysType))]
    public async Task AcquiresLocksOf_ParametersOfAnotherAssemblysType_RunsWhenReachable_ElseLSM0018SaysHowToReachIt(string access, bool friend, string lockType)
    {
        var @base = BaseAssembly.Compile((friend ? FriendAttribute : "") + $$"""
            namespace Cross.Base;
            public class Account
            {
                {{access}} readonly {{lockType}} _lock = new();
                public int Balance { get; set; }
            }
            """);
        bool isAsync = lockType.StartsWith("Async", StringComparison.Ordinal);
        // A static class derives from nothing: only a public member, or an internal one of a friend, is its to reach.
        bool reaches = access is "public" || (friend && access is "internal" or "protected internal");
        // Not imported from metadata at all: the type has no such member as far as the compiler can tell.
        bool absent = access is "private" || (!friend && access is "internal");
        string core = isAsync
            ? """[AcquiresLocksOf(nameof(from), nameof(to), Lock = "_lock")] private static Task<int> MoveCoreAsync(Account from, Account to, int amount, CancellationToken ct) { from.Balance -= amount; to.Balance += amount; return Task.FromResult(to.Balance); }"""
            : """[AcquiresLocksOf(nameof(from), nameof(to), Lock = "_lock")] private static int MoveCore(Account from, Account to, int amount) { from.Balance -= amount; to.Balance += amount; return to.Balance; }""";
        var run = @base.RunDerived(Usings + $$"""
            using Cross.Base;
            namespace Cross.App;
            public static partial class Transfers
            {
                {{core}}
            }
            """);

        string shape = $"{access} {lockType}{(friend ? " with [InternalsVisibleTo]" : "")}";
        Assert.Null(run.Result.Results.Single().Exception);
        var problems = GeneratorHarness.CompileProblems(run);
        Assert.True(problems.Count == 0, shape + ":\n" + Snapshot.Render(problems) + "\n" + run.GeneratedText);
        if (!reaches)
        {
            var messages = run.LocksmithDiagnostics.Select(static d => d.Id + " " + d.GetMessage(CultureInfo.InvariantCulture)).ToList();
            Assert.True(messages.Count > 0 && messages.All(static m => m.StartsWith("LSM0018 ", StringComparison.Ordinal)), shape + ":\n" + string.Join("\n", messages));
            string advice = absent ? "'Cross.Base.Account', the type of 'from', has no field or property '_lock'; set Lock to the lock member of that type"
                // Internal is advice only where the other assembly gives this one access.
                : friend ? "'_lock' of 'Cross.Base.Account' is not accessible from 'Transfers'; make it internal or move the method into that type"
                : "'_lock' of 'Cross.Base.Account' is not accessible from 'Transfers', and its assembly 'Cross.Base' gives '" + DerivedAssemblyName + "' no access; " +
                  "make it public, or internal with [assembly: InternalsVisibleTo(\"" + DerivedAssemblyName + "\")] in 'Cross.Base'";
            Assert.True(messages.Any(m => m.Contains(advice, StringComparison.Ordinal)), shape + ":\n" + string.Join("\n", messages));
            return;
        }

        Assert.True(run.LocksmithDiagnostics.IsEmpty, shape + ": " + Snapshot.Render(run.LocksmithDiagnostics));
        using var loaded = @base.Load(run);
        var from = loaded.Create("Cross.Base.Account");
        var to = loaded.Create("Cross.Base.Account");
        var transfers = loaded.Type("Cross.App.Transfers");
        object? moved = isAsync
            ? await (Task<int>)transfers.GetMethod("MoveAsync")!.Invoke(null, [from, to, 3, CancellationToken.None])!
            : transfers.GetMethod("Move")!.Invoke(null, [from, to, 3]);
        Assert.Equal(3, moved);
    }

    [Theory]
    [InlineData("protected")]
    [InlineData("protected internal")]
    [InlineData("public")]
    public void AcquiresLocksOf_ParametersOfTheDerivedType_ReachABaseLockOfAnotherAssembly(string access)
    {
        var @base = BaseAssembly.Compile($$"""
            namespace Cross.Base;
            public class Account
            {
                {{access}} readonly ExclusiveLock _lock = new();
            }
            """);
        var run = @base.RunDerived(Usings + """
            namespace Cross.App;
            public partial class Savings : Cross.Base.Account
            {
                private int _balance;
                [AcquiresLocksOf(nameof(from), nameof(to), Lock = nameof(_lock))] private static int MoveCore(Savings from, Savings to, int amount) { from._balance -= amount; return to._balance += amount; }
            }
            """);

        Assert.Null(run.Result.Results.Single().Exception);
        var problems = GeneratorHarness.CompileProblems(run);
        Assert.True(problems.Count == 0, access + ":\n" + Snapshot.Render(problems) + "\n" + run.GeneratedText);
        Assert.True(run.LocksmithDiagnostics.IsEmpty, access + ": " + Snapshot.Render(run.LocksmithDiagnostics));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void AcquiresLocksOf_ParametersOfTheBaseType_InAnotherAssembly_LSM0018SaysToDeclareThemAsTheDerivedType(bool friend)
    {
        var @base = BaseAssembly.Compile((friend ? FriendAttribute : "") + """
            namespace Cross.Base;
            public class Account
            {
                protected readonly ExclusiveLock _lock = new();
            }
            """);
        var run = @base.RunDerived(Usings + """
            namespace Cross.App;
            public partial class Savings : Cross.Base.Account
            {
                [AcquiresLocksOf(nameof(from), nameof(to), Lock = nameof(_lock))] private static int MoveCore(Cross.Base.Account from, Cross.Base.Account to) => 0;
            }
            """);

        Assert.Null(run.Result.Results.Single().Exception);
        var problems = GeneratorHarness.CompileProblems(run);
        Assert.True(problems.Count == 0, Snapshot.Render(problems) + "\n" + run.GeneratedText);
        var messages = run.LocksmithDiagnostics.Select(static d => d.Id + " " + d.GetMessage(CultureInfo.InvariantCulture)).ToList();
        Assert.True(messages.Count > 0 && messages.All(static m => m.StartsWith("LSM0018 ", StringComparison.Ordinal)), string.Join("\n", messages));
        // Internal reaches it from here only where the base's assembly gives this one access.
        string fix = friend ? "declare 'from' as 'Savings', or make '_lock' internal"
            : "declare 'from' as 'Savings', or make '_lock' public, or internal with [assembly: InternalsVisibleTo(\"" + DerivedAssemblyName + "\")] in 'Cross.Base'";
        Assert.True(messages.Any(m => m.Contains(fix, StringComparison.Ordinal)), string.Join("\n", messages));
    }

    public static TheoryData<string, bool> GuardedStateOfABase()
    {
        var data = new TheoryData<string, bool>();
        // A private lock, or an internal one without [InternalsVisibleTo], is not in the metadata the compiler imports,
        // and the analyzer then knows no lock for the guarded state: that gap is not covered here.
        foreach (string access in s_accesses.Where(static a => a != "private"))
        {
            if (access != "internal")
            {
                data.Add(access, false);
            }

            data.Add(access, true);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(GuardedStateOfABase))]
    public void GuardedStateOfABaseInAnotherAssembly_UsedWithoutItsLock_IsLSM0020_NamingTheLockOnlyWhereItCanBeTaken(string access, bool friend)
    {
        var @base = BaseAssembly.Compile((friend ? FriendAttribute : "") + $$"""
            namespace Cross.Base;
            public partial class Counter
            {
                {{access}} readonly ExclusiveLock _lock = new();
                [Guarded(Lock = nameof(_lock))] protected int _count;
                [Guarded(Lock = nameof(_lock))] protected int BumpCore() => ++_count;
            }
            """);
        var run = @base.RunDerived(Usings + """
            namespace Cross.App;
            public partial class Tally : Cross.Base.Counter
            {
                public int Peek() => _count;
                public int Twice() { Bump(); return Bump(); }
            }
            """);

        string shape = access + (friend ? " with [InternalsVisibleTo]" : "");
        Assert.Null(run.Result.Results.Single().Exception);
        var problems = GeneratorHarness.CompileProblems(run);
        Assert.True(problems.Count == 0, shape + ":\n" + Snapshot.Render(problems) + "\n" + run.GeneratedText);
        var reported = Assert.Single(run.LocksmithDiagnostics);
        string message = reported.GetMessage(CultureInfo.InvariantCulture);
        Assert.True(reported.Id == "LSM0020", shape + ": " + reported.Id + " " + message);
        Assert.Contains("'_count' is guarded by '_lock' but is read here without holding it", message, StringComparison.Ordinal);
        // Advice to write '_lock.Acquire()' here only where 'Tally' can reach '_lock'.
        bool reaches = DerivedReaches(access, friend);
        Assert.True(message.Contains("_lock.Acquire()", StringComparison.Ordinal) == reaches, shape + ": " + message);
    }

    private const string GeneratedBase = """
        namespace Cross.Base;
        public partial class Store
        {
            protected readonly ExclusiveLock _lock = new();
            protected readonly AsyncReadWriteLock _async = new();
            protected int _count;
            [Guarded(Lock = nameof(_lock))] protected int AddCore(int by) => _count += by;
            [Guarded(Lock = nameof(_lock))] protected virtual int WorkCore() => -1;
            [Guarded(Lock = nameof(_async))] protected virtual Task<int> ReadCoreAsync(CancellationToken ct) => Task.FromResult(_count);
            [Guarded(Lock = nameof(_lock), Visibility = WrapperVisibility.Internal)] private int HiddenCore() => _count;
            [Guarded(Lock = nameof(_lock), Visibility = WrapperVisibility.PrivateProtected)] private int SecretCore() => _count;
        }
        """;

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task BaseWithGeneratedWrappersInAnotherAssembly_DerivedAddsWrappersAndOverridesCores(bool friend)
    {
        var @base = BaseAssembly.Compile((friend ? FriendAttribute : "") + GeneratedBase);
        var run = @base.RunDerived(Usings + """
            namespace Cross.App;
            public partial class Shop : Cross.Base.Store
            {
                [Guarded(Lock = nameof(_lock))] private int RemoveCore(int by) => _count -= by;
                protected override int WorkCore() => _count * 10;
                protected override Task<int> ReadCoreAsync(CancellationToken ct) => Task.FromResult(_count + 100);
            }
            """);

        Assert.Null(run.Result.Results.Single().Exception);
        var problems = GeneratorHarness.CompileProblems(run);
        Assert.True(problems.Count == 0, Snapshot.Render(problems) + "\n" + run.GeneratedText);
        Assert.True(run.LocksmithDiagnostics.IsEmpty, Snapshot.Render(run.LocksmithDiagnostics));

        using var loaded = @base.Load(run);
        var shop = loaded.Create("Cross.App.Shop");
        var type = shop.GetType();
        Assert.Equal(5, type.GetMethod("Add")!.Invoke(shop, [5]));
        Assert.Equal(3, type.GetMethod("Remove")!.Invoke(shop, [2]));
        // The base's wrappers call the overrides virtually, under the base's locks.
        Assert.Equal(30, type.GetMethod("Work")!.Invoke(shop, null));
        Assert.Equal(103, await (Task<int>)type.GetMethod("ReadAsync")!.Invoke(shop, [CancellationToken.None])!);
    }

    public static TheoryData<string, bool, string, string> ClashesWithABasesWrapper() => new()
    {
        {
            "a core whose wrapper is the base's public wrapper",
            false,
            "LSM0013",
            "[Guarded(Lock = nameof(_lock), WrapperName = \"Add\")] private int PlusCore(int by) => by;"
        },
        {
            "an async core whose wrapper is the base's public async wrapper",
            false,
            "LSM0013",
            "[Guarded(Lock = nameof(_async), WrapperName = \"ReadAsync\")] private Task<int> PeekCoreAsync(CancellationToken ct) => Task.FromResult(0);"
        },
        {
            "a core whose wrapper is the base's internal wrapper, which a friend assembly sees",
            true,
            "LSM0013",
            "[Guarded(Lock = nameof(_lock))] private int HiddenCore() => 0;"
        },
        {
            "a core whose wrapper is the base's private protected wrapper, which a friend assembly reaches",
            true,
            "LSM0013",
            "[Guarded(Lock = nameof(_lock))] private int SecretCore() => 0;"
        },
        {
            "an override of a guarded core that names another lock",
            false,
            "LSM0043",
            "[Guarded(Lock = nameof(_mine))] protected override int WorkCore() => 0;"
        },
    };

    [Theory]
    [MemberData(nameof(ClashesWithABasesWrapper))]
    public void DerivedCore_ClashingWithABasesGeneratedWrapper_GetsItsDiagnostic(string shape, bool friend, string id, string member)
    {
        var @base = BaseAssembly.Compile((friend ? FriendAttribute : "") + GeneratedBase);
        var run = @base.RunDerived(Usings + $$"""
            namespace Cross.App;
            public partial class Shop : Cross.Base.Store
            {
                private readonly ExclusiveLock _mine = new();
                {{member}}
                public ExclusiveLock Mine => _mine;
            }
            """);

        Assert.Null(run.Result.Results.Single().Exception);
        var problems = GeneratorHarness.CompileProblems(run);
        Assert.True(problems.Count == 0, shape + ":\n" + Snapshot.Render(problems) + "\n" + run.GeneratedText);
        var messages = run.LocksmithDiagnostics.Select(static d => d.Id + " " + d.GetMessage(CultureInfo.InvariantCulture)).ToList();
        Assert.True(messages.Count > 0 && messages.All(m => m.StartsWith(id + " ", StringComparison.Ordinal)), shape + ":\n" + string.Join("\n", messages));
    }

    [Fact]
    public void DerivedCore_NamedLikeABasesInternalWrapperItCannotSee_GetsItsWrapper()
    {
        // The base's internal 'Hidden()' and private protected 'Secret()' are not this assembly's to reach (no
        // [InternalsVisibleTo]): wrappers of those names hide nothing.
        var @base = BaseAssembly.Compile(GeneratedBase);
        var run = @base.RunDerived(Usings + """
            namespace Cross.App;
            public partial class Shop : Cross.Base.Store
            {
                [Guarded(Lock = nameof(_lock))] private int HiddenCore() => _count;
                [Guarded(Lock = nameof(_lock))] private int SecretCore() => _count;
            }
            """);

        Assert.Null(run.Result.Results.Single().Exception);
        var problems = GeneratorHarness.CompileProblems(run);
        Assert.True(problems.Count == 0, Snapshot.Render(problems) + "\n" + run.GeneratedText);
        Assert.True(run.LocksmithDiagnostics.IsEmpty, Snapshot.Render(run.LocksmithDiagnostics));
        Assert.Single(run.Result.GeneratedTrees.Where(static t => t.FilePath.EndsWith("Shop.Locksmith.g.cs", StringComparison.Ordinal)));
    }

    [Fact]
    public void GuardedCore_NamingAPrivateLockOfABaseInTheSameAssembly_LSM0002SaysToMakeItProtected()
    {
        var run = GeneratorHarness.RunStrict(Usings + """
            namespace Local;
            public class Vault
            {
                private readonly ExclusiveLock _lock = new();
                public int Size => _lock.GetHashCode();
            }
            public partial class Safe : Vault
            {
                private int _count;
                [Guarded(Lock = "_lock")] private int BumpCore() => ++_count;
            }
            """);

        Assert.Null(run.Result.Results.Single().Exception);
        Assert.True(GeneratorHarness.CompileProblems(run).Count == 0, Snapshot.Render(GeneratorHarness.CompileProblems(run)) + "\n" + run.GeneratedText);
        var reported = Assert.Single(run.LocksmithDiagnostics);
        Assert.Equal("LSM0002", reported.Id);
        Assert.EndsWith(
            "'Safe' has no field or property of that name; 'Vault._lock' is private to its type: make it protected, or set Lock to a lock member of 'Safe'",
            reported.GetMessage(CultureInfo.InvariantCulture),
            StringComparison.Ordinal);
    }

    private static GeneratorRun Lenient(GeneratorRun run) =>
        run with { Output = run.Output.WithOptions(run.Output.Options.WithGeneralDiagnosticOption(ReportDiagnostic.Default)) };

    /// <summary>A base assembly compiled (with its generated wrappers) and emitted, that derived sources reference as metadata.</summary>
    private sealed class BaseAssembly
    {
        private BaseAssembly(byte[] image) => Image = image;

        public byte[] Image { get; }

        public MetadataReference Reference => MetadataReference.CreateFromImage(Image);

        /// <summary>Compiles the source as a strict project of its own assembly, asserting it has no problem, and emits it.</summary>
        public static BaseAssembly Compile(string source)
        {
            var compilation = CSharpCompilation.Create(
                "Cross.Base",
                [TestCompilation.Parse(Usings + source, "SourceBase.cs")],
                TestCompilation.References,
                TestCompilation.Options.WithGeneralDiagnosticOption(ReportDiagnostic.Error));
            var run = GeneratorHarness.Run(compilation);
            Assert.True(run.LocksmithDiagnostics.IsEmpty, Snapshot.Render(run.LocksmithDiagnostics));
            Assert.True(GeneratorHarness.CompileProblems(run).Count == 0, Snapshot.Render(GeneratorHarness.CompileProblems(run)) + "\n" + run.GeneratedText);
            // Emitted as a lenient project: the hand-written base has no doc comments (CS1591).
            using var image = new MemoryStream();
            var emitted = Lenient(run).Output.Emit(image);
            Assert.True(emitted.Success, Snapshot.Render(emitted.Diagnostics) + "\n" + run.GeneratedText);
            return new BaseAssembly(image.ToArray());
        }

        /// <summary>Runs the generator over the derived sources, a strict project that references this assembly.</summary>
        public GeneratorRun RunDerived(string source)
        {
            var compilation = TestCompilation.Create(source).AddReferences(Reference);
            return GeneratorHarness.Run(compilation.WithOptions(compilation.Options.WithGeneralDiagnosticOption(ReportDiagnostic.Error)));
        }

        /// <summary>Loads this assembly and the derived run's output together into a collectible context.</summary>
        public LoadedPair Load(GeneratorRun derived)
        {
            using var image = new MemoryStream();
            var emitted = Lenient(derived).Output.Emit(image);
            Assert.True(emitted.Success, Snapshot.Render(emitted.Diagnostics) + "\n" + derived.GeneratedText);
            var context = new AssemblyLoadContext("cross-assembly", isCollectible: true);
            var baseAssembly = context.LoadFromStream(new MemoryStream(Image));
            image.Position = 0;
            return new LoadedPair(context, baseAssembly, context.LoadFromStream(image));
        }
    }

    private sealed class LoadedPair(AssemblyLoadContext context, Assembly @base, Assembly derived) : IDisposable
    {
        public Type Type(string fullName) =>
            derived.GetType(fullName) ?? @base.GetType(fullName, throwOnError: true)!;

        public object Create(string fullName) => Activator.CreateInstance(Type(fullName))!;

        public void Dispose() => context.Unload();
    }
}
