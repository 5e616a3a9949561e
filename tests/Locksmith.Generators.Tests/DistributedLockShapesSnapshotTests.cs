using System.Linq;
using Locksmith.Generators.Tests.Support;
using Microsoft.CodeAnalysis;

namespace Locksmith.Generators.Tests;

/// <summary>
/// Wrappers over the distributed (PostgreSQL) locks of Locksmith.Postgres, generated against the real types: the
/// generator knows them only by their capability markers, and the generated code compiles with every warning an error.
/// Also the keyed set of <c>[AcquiresLocksOf]</c> naming key parameters, over an in-process keyed lock.
/// </summary>
public sealed class DistributedLockShapesSnapshotTests
{
    /// <summary>
    /// [Guarded] over a PostgresKeyedLock&lt;int&gt; with StripeBy, over a PostgresExclusiveLock with [LockOrder], and
    /// [AcquiresLocksOf] naming two account ids of the keyed lock: AcquireManyAsync(new int[] { from, to }, token), with
    /// a TryXxxAsync form (TryAcquireManyAsync) and, with TimeoutMilliseconds, the timed AcquireManyAsync; every form
    /// releases its keys with <c>await using</c> (a round trip), the TryXxxAsync forms included.
    /// </summary>
    [Fact]
    public void PostgresLocks() => Verify("""
        using System.Threading;
        using System.Threading.Tasks;
        using Locksmith;
        using Locksmith.Postgres;

        namespace Payments;

        /// <summary>A subject.</summary>
        public partial class DistributedBank
        {
            [LockOrder(10)]
            private readonly PostgresKeyedLock<int> _accounts;

            [LockOrder(20)]
            private readonly PostgresExclusiveLock _audit;

            /// <summary>Creates it.</summary>
            public DistributedBank(PostgresLockProvider provider)
            {
                _accounts = provider.CreateKeyedLock<int>("accounts");
                _audit = provider.CreateExclusiveLock("audit");
            }

            [Guarded(Lock = nameof(_accounts), StripeBy = nameof(account))]
            private Task<decimal> BalanceCoreAsync(int account, CancellationToken cancellationToken) => Task.FromResult(0m);

            [Guarded(Lock = nameof(_accounts), StripeBy = nameof(account), TimeoutMilliseconds = 500)]
            private ValueTask DepositCoreAsync(int account, decimal amount) => default;

            [Guarded(Lock = nameof(_audit))]
            private Task AuditCoreAsync(string line) => Task.CompletedTask;

            [AcquiresLocksOf(nameof(from), nameof(to), Lock = nameof(_accounts))]
            private Task<bool> TransferCoreAsync(int from, int to, decimal amount, CancellationToken cancellationToken) => Task.FromResult(true);

            [AcquiresLocksOf(nameof(from), nameof(to), Lock = nameof(_accounts), TimeoutMilliseconds = 250)]
            private ValueTask SwapCoreAsync(int from, int to) => default;
        }
        """);

    /// <summary>
    /// The keyed set over an in-process AsyncStripedLock&lt;string&gt;: the same AcquireManyAsync shape, a static lock, and
    /// (the lock has timed AcquireManyAsync and TryAcquireManyAsync) a TimeoutMilliseconds and a TryXxxAsync form.
    /// </summary>
    [Fact]
    public void AsyncStripedKeySet() => Verify("""
        using System.Threading.Tasks;
        using Locksmith;

        namespace Stock;

        /// <summary>A subject.</summary>
        public static partial class Shelves
        {
            private static readonly AsyncStripedLock<string> s_shelves = new();

            [AcquiresLocksOf(nameof(from), nameof(to), Lock = nameof(s_shelves))]
            private static ValueTask MoveCoreAsync(string from, string to, int count) => default;

            [AcquiresLocksOf(nameof(from), nameof(to), Lock = nameof(s_shelves), TimeoutMilliseconds = 250)]
            private static Task<int> SwapCoreAsync(string from, string to) => Task.FromResult(0);
        }
        """);

    /// <summary>
    /// A keyed set whose parameter is no key, and a timeout that a keyed lock without a timed AcquireManyAsync (one of the
    /// user's own, plugged in through IAsyncKeyedAccessLock) cannot honour, are LSM0018 naming why.
    /// </summary>
    [Fact]
    public void KeySetRefusals()
    {
        var run = GeneratorHarness.Run(TestCompilation.Create("""
            using System;
            using System.Collections.Generic;
            using System.Threading;
            using System.Threading.Tasks;
            using Locksmith;

            namespace Stock;

            public partial class Shelves
            {
                private readonly AsyncStripedLock<int> _shelves = new();

                [AcquiresLocksOf(nameof(from), nameof(to), Lock = nameof(_shelves))]
                private ValueTask MoveCoreAsync(int from, string to) => default;
            }

            public sealed class LedgerLock : IAsyncKeyedAccessLock
            {
                public ValueTask<AsyncLockScope> AcquireAsync(int key, CancellationToken cancellationToken = default) => default;
                public ValueTask<AsyncLockScope> AcquireAsync(int key, TimeSpan timeout, CancellationToken cancellationToken = default) => default;
                public ValueTask<AsyncLockScope> TryAcquireAsync(int key, TimeSpan timeout, CancellationToken cancellationToken = default) => default;
                public ValueTask<AsyncLockSetScope> AcquireManyAsync(IReadOnlyList<int> keys, CancellationToken cancellationToken = default) => default;
            }

            public partial class Ledgers
            {
                private readonly LedgerLock _ledgers = new();

                [AcquiresLocksOf(nameof(from), nameof(to), Lock = nameof(_ledgers), TimeoutMilliseconds = 10)]
                private ValueTask MoveCoreAsync(int from, int to) => default;
            }
            """).AddReferences(DistributedReferences()));
        var messages = run.GeneratorDiagnostics.Where(static d => d.Id == "LSM0018").Select(static d => d.GetMessage()).ToList();
        Assert.Equal(2, messages.Count);
        Assert.Contains(messages, static m => m.Contains("remove TimeoutMilliseconds", System.StringComparison.Ordinal));
        Assert.Contains(messages, static m => m.Contains("'to' is of type 'string', which is not a key of '_shelves' ('int')", System.StringComparison.Ordinal));
        Assert.Empty(run.Result.GeneratedTrees);
    }

    private static MetadataReference[] DistributedReferences() =>
    [
        MetadataReference.CreateFromFile(typeof(Locksmith.Postgres.PostgresLockProvider).Assembly.Location),
        MetadataReference.CreateFromFile(typeof(Npgsql.NpgsqlConnection).Assembly.Location),
        MetadataReference.CreateFromFile(typeof(Locksmith.Hosting.ILocksmithBuilder).Assembly.Location),
    ];

    private static void Verify(string source, [System.Runtime.CompilerServices.CallerMemberName] string testMethod = "")
    {
        var compilation = TestCompilation.Create(source).AddReferences(DistributedReferences());
        compilation = compilation.WithOptions(compilation.Options
            .WithNullableContextOptions(NullableContextOptions.Enable)
            .WithGeneralDiagnosticOption(ReportDiagnostic.Error));
        var run = GeneratorHarness.Run(compilation);

        Assert.True(run.LocksmithDiagnostics.IsEmpty, "Unexpected diagnostics:\n" + Snapshot.Render(run.LocksmithDiagnostics));
        Assert.NotEmpty(run.Result.GeneratedTrees);

        // Against the real types, the generated code must compile with every warning an error.
        var problems = run.CompilerDiagnostics
            .Where(static d => d.Severity >= DiagnosticSeverity.Warning || d.IsWarningAsError)
            .ToList();
        Assert.True(
            problems.Count == 0,
            "Diagnostics:\n" + Snapshot.Render(problems) + "\n" +
            string.Join("\n", run.Result.GeneratedTrees.Select(static t => "// " + t.FilePath + "\n" + t)));
        Snapshot.VerifyGenerated(run, testMethod: testMethod);
    }
}
