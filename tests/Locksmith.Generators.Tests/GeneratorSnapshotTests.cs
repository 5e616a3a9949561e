using Locksmith.Generators.Tests.Support;

namespace Locksmith.Generators.Tests;

/// <summary>One snapshot of the generated code per shape of guarded method; each must also compile without warnings.</summary>
public sealed class GeneratorSnapshotTests
{
    [Fact]
    public void ExclusiveLockMethods()
    {
        var run = GeneratorHarness.Run(Samples.ExclusiveLockMethods);

        Clean.Assert(run);
        Snapshot.VerifyGenerated(run);
    }

    [Fact]
    public void StaticMethodsAndStaticLocks()
    {
        var run = GeneratorHarness.Run(Samples.StaticMethodsAndStaticLocks);

        Clean.Assert(run);
        Snapshot.VerifyGenerated(run);
    }

    [Fact]
    public void ParameterShapes()
    {
        var run = GeneratorHarness.Run(Samples.ParameterShapes);

        Clean.Assert(run);
        Snapshot.VerifyGenerated(run);
    }

    [Fact]
    public void GenericMethods()
    {
        var run = GeneratorHarness.Run(Samples.GenericMethods);

        Clean.Assert(run);
        Snapshot.VerifyGenerated(run);
    }

    [Fact]
    public void NestedAndGenericTypes()
    {
        var run = GeneratorHarness.Run(Samples.NestedAndGenericTypes1, Samples.NestedAndGenericTypes2);

        Clean.Assert(run);
        Snapshot.VerifyGenerated(run);
    }

    [Fact]
    public void ReadMostlyReadWriteLock()
    {
        var run = GeneratorHarness.Run(Samples.ReadMostlyReadWriteLock);

        Clean.Assert(run);
        Snapshot.VerifyGenerated(run);
    }

    [Fact]
    public void ReentrantLockAndCountingSemaphore()
    {
        var run = GeneratorHarness.Run(Samples.ReentrantLockAndCountingSemaphore);

        Clean.Assert(run);
        Snapshot.VerifyGenerated(run);
    }

    [Fact]
    public void StripedLocks()
    {
        var run = GeneratorHarness.Run(Samples.StripedLocks);

        Clean.Assert(run);
        Snapshot.VerifyGenerated(run);
    }

    [Fact]
    public void AcquiresLocksOfParameters()
    {
        var run = GeneratorHarness.Run(Samples.AcquiresLocksOfParameters);

        Clean.Assert(run);
        Snapshot.VerifyGenerated(run);
    }
}
