using System.Linq;
using Locksmith.Generators.Tests.Support;
using Microsoft.CodeAnalysis;

namespace Locksmith.Generators.Tests;

/// <summary>
/// <c>LockSet</c> takes <c>ILockSetMember</c>s, which striped locks are not: passing one is a compile-time error, not a
/// run-time <c>NotSupportedException</c>. Compiled with Roslyn against the runtime assembly.
/// </summary>
public sealed class LockSetMemberCompileTests
{
    private const string Snippet = """
        using System;
        using Locksmith;

        public static class Use
        {
            public static void TwoLocks(LOCK candidate, ExclusiveLock other)
            {
                using var scope = LockSet.Acquire(candidate, other);
            }

            public static void Span(LOCK candidate, ExclusiveLock other)
            {
                using var scope = LockSet.Acquire(TimeSpan.FromSeconds(1), candidate, other, new ExclusiveLock());
            }

            public static bool Try(LOCK candidate, ExclusiveLock other)
            {
                if (!LockSet.TryAcquire(TimeSpan.Zero, out var scope, candidate, other))
                {
                    return false;
                }

                scope.Dispose();
                return true;
            }
        }
        """;

    [Theory]
    [InlineData("StripedLock<int>")]
    [InlineData("StripedReadWriteLock<int>")]
    public void StripedLock_PassedToLockSet_DoesNotCompile(string lockType)
    {
        var errors = Errors(lockType);

        // Every error is "cannot convert to ILockSetMember", and each of the three calls (the two-lock overload, the
        // timed span and TryAcquire) has one.
        Assert.NotEmpty(errors);
        Assert.All(errors, static e => Assert.Equal("CS1503", e.Id));
        Assert.All(errors, e => Assert.Contains(
            "Locksmith.ILockSetMember", e.GetMessage(System.Globalization.CultureInfo.InvariantCulture), System.StringComparison.Ordinal));
        int[] callLines = [.. Snippet.Split('\n').Select(static (line, index) => (line, index))
            .Where(static l => l.line.Contains("LockSet.", System.StringComparison.Ordinal)).Select(static l => l.index)];
        Assert.Equal(3, callLines.Length);
        Assert.Equal(callLines, errors.Select(static e => e.Location.GetLineSpan().StartLinePosition.Line).Distinct().Order());
    }

    [Theory]
    [InlineData("ExclusiveLock")]
    [InlineData("ReentrantLock")]
    [InlineData("SpinGate")]
    [InlineData("ReadWriteLock")]
    [InlineData("CountingSemaphore")]
    public void WholeLock_PassedToLockSet_CompilesClean(string lockType)
    {
        Assert.Empty(Errors(lockType));
    }

    private static Diagnostic[] Errors(string lockType)
    {
        var compilation = TestCompilation.Create(Snippet.Replace("LOCK", lockType, System.StringComparison.Ordinal));
        return [.. TestCompilation.Problems(compilation.GetDiagnostics())];
    }
}
