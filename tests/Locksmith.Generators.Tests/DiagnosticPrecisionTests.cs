using System;
using System.Globalization;
using System.IO;
using System.Linq;
using Locksmith.Generators.Tests.Support;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Locksmith.Generators.Tests;

/// <summary>
/// A diagnostic says each problem once, at its place, and names the type where the user must look: two parameters of
/// one type whose lock member is unusable got the same LSM0018 twice, and a wrapper clashing with an inherited member
/// was said to clash with a member of the deriving type rather than of the base that declares it (LSM0013), as an
/// unusable lock member a parameter's type inherits was said to be the parameter type's alone (LSM0018).
/// </summary>
public sealed class DiagnosticPrecisionTests
{
    private const string Usings = """
        using System;
        using System.Threading;
        using System.Threading.Tasks;
        using Locksmith;

        """;

    public static TheoryData<string, string> UnusableLockMembers() => new()
    {
        { "private readonly ExclusiveLock _lock = new();", "'_lock' of 'Account' is not accessible from 'Transfers'" },
        { "public readonly object _lock = new();", "'_lock' of 'Account' is of type 'object', not a Locksmith lock" },
        { "public static readonly ExclusiveLock _lock = new();", "'_lock' of 'Account' is static" },
        { "public readonly StripedLock<int> _lock = new();", "'_lock' of 'Account' is a keyed lock" },
        { "public readonly ExclusiveLock? _lock = null;", "'_lock' of 'Account' is of type 'Locksmith.ExclusiveLock?', which may be null" },
        { "public readonly ExclusiveLock _other = new();", "'Account', the type of 'from', has no field or property '_lock'" },
    };

    [Theory]
    [MemberData(nameof(UnusableLockMembers))]
    public void LSM0018_TwoParametersOfOneType_WhoseLockMemberIsUnusable_IsReportedOnce(string member, string expected)
    {
        var run = GeneratorHarness.RunStrict(Usings + $$"""
            public class Account
            {
                {{member}}
                public int Balance { get; set; }
            }
            public static partial class Transfers
            {
                [AcquiresLocksOf(nameof(from), nameof(to), Lock = "_lock")]
                private static void MoveCore(Account from, Account to, int amount) { from.Balance -= amount; to.Balance += amount; }
            }
            """);

        AssertNoCompileProblems(run);
        var messages = Messages(run, "LSM0018");
        Assert.True(messages.Count == 1 && messages[0].Contains(expected, StringComparison.Ordinal), string.Join("\n", messages));
    }

    public static TheoryData<string, string> UnusableInheritedLockMembers() => new()
    {
        { "protected readonly ExclusiveLock _lock = new();", "'_lock' of 'Savings' (declared in 'Account') is not accessible from 'Transfers'" },
        { "public static readonly ExclusiveLock _lock = new();", "'_lock' of 'Savings' (declared in 'Account') is static" },
        { "public readonly object _lock = new();", "'_lock' of 'Savings' (declared in 'Account') is of type 'object'" },
    };

    [Theory]
    [MemberData(nameof(UnusableInheritedLockMembers))]
    public void LSM0018_AnUnusableLockMemberInheritedByTheParametersType_NamesTheBaseThatDeclaresIt_Once(string member, string expected)
    {
        var run = GeneratorHarness.RunStrict(Usings + $$"""
            public class Account
            {
                {{member}}
            }
            public class Savings : Account
            {
                public int Balance { get; set; }
            }
            public static partial class Transfers
            {
                [AcquiresLocksOf(nameof(from), nameof(to), Lock = "_lock")]
                private static void MoveCore(Savings from, Savings to, int amount) { from.Balance -= amount; to.Balance += amount; }
            }
            """);

        AssertNoCompileProblems(run);
        var messages = Messages(run, "LSM0018");
        Assert.True(messages.Count == 1 && messages[0].Contains(expected, StringComparison.Ordinal), string.Join("\n", messages));
    }

    [Fact]
    public void LSM0018_ParametersOfTwoTypes_WithTheirOwnProblems_EachGetTheirOwn()
    {
        var run = GeneratorHarness.RunStrict(Usings + """
            public class Account
            {
                private readonly ExclusiveLock _lock = new();
                public int Balance { get; set; }
            }
            public class Ledger
            {
                private readonly ExclusiveLock _lock = new();
                public int Total { get; set; }
            }
            public static partial class Transfers
            {
                [AcquiresLocksOf(nameof(from), nameof(to), nameof(ledger), Lock = "_lock")]
                private static void MoveCore(Account from, Account to, Ledger ledger, int amount) { from.Balance -= amount; to.Balance += amount; ledger.Total += amount; }
            }
            """);

        AssertNoCompileProblems(run);
        var messages = Messages(run, "LSM0018");
        Assert.True(messages.Count == 2, string.Join("\n", messages));
        Assert.Contains(messages, static m => m.Contains("'_lock' of 'Account' is not accessible", StringComparison.Ordinal));
        Assert.Contains(messages, static m => m.Contains("'_lock' of 'Ledger' is not accessible", StringComparison.Ordinal));
    }

    [Fact]
    public void LSM0018_LaterParametersOfOneType_AfterLocksOfTheOtherKind_AreReportedOnce()
    {
        var run = GeneratorHarness.RunStrict(Usings + """
            public class Vault
            {
                public readonly AsyncExclusiveLock _lock = new();
            }
            public class Account
            {
                public readonly ExclusiveLock _lock = new();
            }
            public static partial class Transfers
            {
                [AcquiresLocksOf(nameof(vault), nameof(from), nameof(to), Lock = "_lock")]
                private static void MoveCore(Vault vault, Account from, Account to) { }
            }
            """);

        AssertNoCompileProblems(run);
        var messages = Messages(run, "LSM0018");
        Assert.True(messages.Count == 1 && messages[0].Contains("the locks before it are async", StringComparison.Ordinal), string.Join("\n", messages));
    }

    [Theory]
    [InlineData("Move")]
    [InlineData("MoveAsync")]
    public void LSM0018_AParameterNamedThreeTimes_IsSaidToBeNamedTwiceOnce(string wrapper)
    {
        // The lock-set path (whole locks of parameters) and the key-set path (keys of the type's own async keyed lock).
        string core = wrapper == "Move"
            ? """
              public class Account { public readonly ExclusiveLock _lock = new(); }
              public static partial class Transfers
              {
                  [AcquiresLocksOf(nameof(from), nameof(from), nameof(from), Lock = "_lock")]
                  private static void MoveCore(Account from) { }
              }
              """
            : """
              public partial class Transfers
              {
                  private readonly AsyncStripedLock<int> _accounts = new();
                  [AcquiresLocksOf(nameof(from), nameof(from), nameof(from), Lock = nameof(_accounts))]
                  private Task MoveCoreAsync(int from, CancellationToken ct) => Task.CompletedTask;
              }
              """;
        var run = GeneratorHarness.RunStrict(Usings + core);

        AssertNoCompileProblems(run);
        var messages = Messages(run, "LSM0018");
        Assert.True(messages.Count == 1 && messages[0].Contains("'from' is named twice", StringComparison.Ordinal), string.Join("\n", messages));
    }

    public static TheoryData<string, string> InheritedClashes() => new()
    {
        { "a method of the same signature", "public int Restock(int n) => n;" },
        { "a property of the wrapper's name", "public int Restock { get; set; }" },
        { "a nested type of the wrapper's name", "public class Restock { }" },
    };

    [Theory]
    [MemberData(nameof(InheritedClashes))]
    public void LSM0013_AClashWithAnInheritedMember_NamesTheBaseThatDeclaresIt(string shape, string baseMember)
    {
        var run = GeneratorHarness.RunStrict(Usings + $$"""
            public class Store
            {
                {{baseMember}}
            }
            public partial class Shop : Store
            {
                private readonly ExclusiveLock _lock = new();
                private int _stock;
                [Guarded(Lock = nameof(_lock))] private int RestockCore(int n) => _stock += n;
            }
            """);

        AssertNoCompileProblems(run);
        var messages = Messages(run, "LSM0013");
        Assert.True(
            messages.Count == 1 && messages[0].Contains("collides with an existing member of 'Store';", StringComparison.Ordinal),
            shape + ":\n" + string.Join("\n", messages));
    }

    [Fact]
    public void LSM0013_AClashWithTheWrapperOfABasesGuardedCore_NamesTheBase()
    {
        var run = GeneratorHarness.RunStrict(Usings + """
            public partial class Store
            {
                protected readonly ExclusiveLock _lock = new();
                private int _stock;
                [Guarded(Lock = nameof(_lock))] protected int RestockCore(int n) => _stock += n;
            }
            public partial class Shop : Store
            {
                private int _shelf;
                [Guarded(Lock = nameof(_lock), WrapperName = "Restock")] private int RefillCore(int n) => _shelf += n;
            }
            """);

        AssertNoCompileProblems(run);
        var messages = Messages(run, "LSM0013");
        // Restock and TryRestock: each form clashes with the base's of that name.
        Assert.True(
            messages.Count == 2 &&
            messages.All(static m => m.Contains("collides with an existing member of 'Store'; that member is a wrapper generated for 'Store.RestockCore(int)'", StringComparison.Ordinal)),
            string.Join("\n", messages));
    }

    [Fact]
    public void LSM0013_AClashWithAnInheritedMemberOfAnotherAssembly_NamesTheBase()
    {
        var @base = CSharpCompilation.Create(
            "Cross.Base",
            [TestCompilation.Parse("namespace Cross.Base; public class Store { public int Restock(int n) => n; }", "Store.cs")],
            TestCompilation.References,
            TestCompilation.Options);
        using var image = new MemoryStream();
        var emitted = @base.Emit(image);
        Assert.True(emitted.Success, Snapshot.Render(emitted.Diagnostics));
        var compilation = TestCompilation.Create(Usings + """
            public partial class Shop : Cross.Base.Store
            {
                private readonly ExclusiveLock _lock = new();
                private int _stock;
                [Guarded(Lock = nameof(_lock))] private int RestockCore(int n) => _stock += n;
            }
            """).AddReferences(MetadataReference.CreateFromImage(image.ToArray()));
        var run = GeneratorHarness.Run(compilation.WithOptions(compilation.Options.WithGeneralDiagnosticOption(ReportDiagnostic.Error)));

        AssertNoCompileProblems(run);
        var messages = Messages(run, "LSM0013");
        Assert.True(
            messages.Count == 1 && messages[0].Contains("collides with an existing member of 'Store';", StringComparison.Ordinal),
            string.Join("\n", messages));
    }

    [Fact]
    public void LSM0013_AClashWithAMemberOfTheTypeItself_StillNamesThatType()
    {
        var run = GeneratorHarness.RunStrict(Usings + """
            public class Store
            {
            }
            public partial class Shop : Store
            {
                private readonly ExclusiveLock _lock = new();
                private int _stock;
                public int Restock(int n) => n;
                [Guarded(Lock = nameof(_lock))] private int RestockCore(int n) => _stock += n;
            }
            """);

        AssertNoCompileProblems(run);
        var messages = Messages(run, "LSM0013");
        Assert.True(
            messages.Count == 1 && messages[0].Contains("collides with an existing member of 'Shop';", StringComparison.Ordinal),
            string.Join("\n", messages));
    }

    private static void AssertNoCompileProblems(GeneratorRun run)
    {
        Assert.Null(run.Result.Results.Single().Exception);
        var problems = GeneratorHarness.CompileProblems(run);
        Assert.True(problems.Count == 0, Snapshot.Render(problems) + "\n" + run.GeneratedText);
    }

    private static System.Collections.Generic.List<string> Messages(GeneratorRun run, string id)
    {
        // Only the Locksmith diagnostics this case is about, and no failure of ours beside them.
        Assert.DoesNotContain(run.LocksmithDiagnostics, static d => d.Id == "LSM0099");
        return [.. run.LocksmithDiagnostics.Where(d => d.Id == id).Select(static d => d.GetMessage(CultureInfo.InvariantCulture))];
    }
}
