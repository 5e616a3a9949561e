using System.Runtime.CompilerServices;
using Locksmith.Generators.Tests.Support;

namespace Locksmith.Generators.Tests;

/// <summary>
/// One snapshot of the generated code per shape of guarded method; each must also compile without warnings. The
/// inputs are <see cref="Samples.SnapshotInputs"/> under the test's name (<see cref="GeneratedCodeCompilesTests"/>
/// compiles them all with warnings as errors).
/// </summary>
public sealed class GeneratorSnapshotTests
{
    [Fact]
    public void ExclusiveLockMethods() => Verify();

    [Fact]
    public void StaticMethodsAndStaticLocks() => Verify();

    [Fact]
    public void ParameterShapes() => Verify();

    [Fact]
    public void GenericMethods() => Verify();

    [Fact]
    public void NestedAndGenericTypes() => Verify();

    [Fact]
    public void ReadMostlyReadWriteLock() => Verify();

    [Fact]
    public void ReentrantLockAndCountingSemaphore() => Verify();

    [Fact]
    public void StripedLocks() => Verify();

    [Fact]
    public void AcquiresLocksOfParameters() => Verify();

    /// <summary>
    /// [AcquiresLocksOf] over parameters typed by a type parameter takes the lock member its constraint declares (a
    /// class's field, an interface's property), and the body uses their state holding it.
    /// </summary>
    [Fact]
    public void AcquiresLocksOfGenericParameters() => Verify();

    /// <summary>The timed form rewrites nullable-flow attributes for its own bool (the lock was taken) and puts none on value types.</summary>
    [Fact]
    public void NullableFlowAttributes() => Verify();

    /// <summary>A core named TryXxxCore gets TryXxx and TryXxxWithin, not TryTryXxx.</summary>
    [Fact]
    public void TryNamedCores() => Verify();

    /// <summary>Without Visibility, a wrapper gets the widest accessibility its signature's types allow.</summary>
    [Fact]
    public void ClampedAccessibility() => Verify();

    /// <summary>An abstract guarded core gets wrappers in its base; overrides of guarded cores get none.</summary>
    [Fact]
    public void OverrideAndAbstractCores() => Verify();

    /// <summary>Keywords as wrapper and parameter names are escaped.</summary>
    [Fact]
    public void KeywordNames() => Verify();

    /// <summary>Warnings the body's declaration carries (and the user suppressed there) are suppressed around its wrappers.</summary>
    [Fact]
    public void EchoedWarnings() => Verify();

    /// <summary>
    /// Async locks get async wrappers: Task, Task&lt;T&gt;, ValueTask, ValueTask&lt;T&gt;, with the body's token or an
    /// added one (none after params), timed, static and generic.
    /// </summary>
    [Fact]
    public void AsyncExclusiveLockMethods() => Verify();

    /// <summary>
    /// One manifest file per compilation registers every [LockOrder] level (type, member, level, kind) from a module
    /// initializer, sorted by level, so the catalog shows the declared order before any lock exists.
    /// </summary>
    [Fact]
    public void LockOrderManifest() => Verify();

    /// <summary>A [Guarded] class whose lock comes through its primary constructor (as a container gives it).</summary>
    [Fact]
    public void GuardedPrimaryConstructor() => Verify();

    /// <summary>
    /// A record's positional parameter with <c>[property: LockOrder(n)]</c> is in the manifest like a declared property
    /// (ForAttributeWithMetadataName does not see attributes aimed at the property made from a parameter).
    /// </summary>
    [Fact]
    public void RecordParameterLockOrder() => Verify();

    private static void Verify([CallerMemberName] string testMethod = "")
    {
        var run = GeneratorHarness.Run(Samples.SnapshotInputs[testMethod]);

        Clean.Assert(run);
        Snapshot.VerifyGenerated(run, testMethod: testMethod);
    }
}
