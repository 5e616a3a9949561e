using System;
using System.Linq;
using Locksmith.Generators.Tests.Support;

namespace Locksmith.Generators.Tests;

/// <summary>
/// The generated file suppresses an obsolete or experimental symbol's warning around a wrapper only when that wrapper
/// names the symbol (its signature, its lock member, the acquisition it calls), so that it hides nothing else.
/// </summary>
public sealed class WarningSuppressionTests
{
    /// <summary>
    /// An obsolete overload no wrapper calls suppresses nothing, and an obsolete timed acquisition only around the timed
    /// wrapper, not around its throwing twin; an obsolete acquisition that is an extension method is one the wrapper calls.
    /// </summary>
    [Fact]
    public void OnlyTheWrapperThatCallsAnObsoleteAcquisition_SuppressesItsWarning()
    {
        var run = GeneratorHarness.Run("""
            using System;
            using System.Diagnostics.CodeAnalysis;
            using Locksmith;
            namespace N;
            /// <summary>A lock whose timed acquisition is obsolete, beside an overload no wrapper calls.</summary>
            public sealed class OldTimedLock : IExclusiveAccessLock
            {
                /// <summary>Takes it.</summary><returns>The scope.</returns>
                public IDisposable Acquire() => new Scope();
                /// <summary>Takes it, waiting at most a while.</summary><param name="timeout">How long.</param><returns>The scope.</returns>
                [Obsolete("not called by any wrapper")] public IDisposable Acquire(TimeSpan timeout) => new Scope();
                /// <summary>Tries.</summary><param name="timeout">How long.</param><param name="scope">The scope.</param><returns>Whether taken.</returns>
                [Obsolete("called by the timed wrapper")] public bool TryAcquire(TimeSpan timeout, [NotNullWhen(true)] out IDisposable? scope) { scope = new Scope(); return true; }
                private sealed class Scope : IDisposable { public void Dispose() { } }
            }
            /// <summary>A lock with only an experimental overload no wrapper calls.</summary>
            public sealed class ExperimentalOverloadLock : IExclusiveAccessLock
            {
                /// <summary>Takes it.</summary><returns>The scope.</returns>
                public IDisposable Acquire() => new Scope();
                /// <summary>Takes it for a caller.</summary><param name="owner">Who.</param><returns>The scope.</returns>
                [Experimental("LSX2")] public IDisposable Acquire(string owner) => new Scope();
                /// <summary>Tries.</summary><param name="timeout">How long.</param><param name="scope">The scope.</param><returns>Whether taken.</returns>
                public bool TryAcquire(TimeSpan timeout, [NotNullWhen(true)] out IDisposable? scope) { scope = new Scope(); return true; }
                private sealed class Scope : IDisposable { public void Dispose() { } }
            }
            /// <summary>A lock whose timed acquisition is an obsolete extension method.</summary>
            public sealed class ExtendedLock : IExclusiveAccessLock
            {
                /// <summary>Takes it.</summary><returns>The scope.</returns>
                public IDisposable Acquire() => new Scope();
                internal sealed class Scope : IDisposable { public void Dispose() { } }
            }
            /// <summary>The timed acquisition of <see cref="ExtendedLock"/>.</summary>
            public static class ExtendedLockExtensions
            {
                /// <summary>Tries.</summary><param name="gate">The lock.</param><param name="timeout">How long.</param><param name="scope">The scope.</param><returns>Whether taken.</returns>
                [Obsolete("called by the timed wrapper")]
                public static bool TryAcquire(this ExtendedLock gate, TimeSpan timeout, [NotNullWhen(true)] out IDisposable? scope) { scope = new ExtendedLock.Scope(); return true; }
            }
            /// <summary>Uses them.</summary>
            public partial class C
            {
                private readonly OldTimedLock _old = new();
                private readonly ExperimentalOverloadLock _experimental = new();
                private readonly ExtendedLock _extended = new();
                [Guarded(Lock = nameof(_old))] private int GetCore() => 1;
                [Guarded(Lock = nameof(_experimental))] private int PeekCore() => 2;
                [Guarded(Lock = nameof(_extended))] private int ReadCore() => 3;
            }
            """);

        Clean.Assert(run);
        string generated = Assert.Single(run.Result.GeneratedTrees).ToString();
        var outline = generated.Split('\n')
            .Select(static line => line.Trim())
            .Where(static line => line.StartsWith("#pragma", StringComparison.Ordinal) || line.StartsWith("public ", StringComparison.Ordinal))
            .Select(static line => line.StartsWith("public ", StringComparison.Ordinal) ? line.Substring(0, line.IndexOf('(', StringComparison.Ordinal)) : line);
        Assert.Equal(
            [
                "public int Get",
                "#pragma warning disable CS0618",
                "public bool TryGet",
                "#pragma warning restore CS0618",
                "public int Peek",
                "public bool TryPeek",
                "public int Read",
                "#pragma warning disable CS0618",
                "public bool TryRead",
                "#pragma warning restore CS0618",
            ],
            outline);
    }
}
