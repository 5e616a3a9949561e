using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Threading;
using Locksmith;
using Xunit;

// Outside the Locksmith namespace on purpose: a user's file imports both namespaces, and every name must resolve.
namespace Consumer.NameCollisions;

public sealed class NameCollisionTests
{
    [Fact]
    public void EveryPublicName_ResolvesWithSystemThreadingImportedToo()
    {
        Type[] locksmith =
        [
            typeof(ExclusiveLock), typeof(ReentrantLock), typeof(CountingSemaphore), typeof(ConditionVariable),
            typeof(SpinGate), typeof(PhaseBarrier), typeof(AtomicCounter), typeof(StripedCounter), typeof(ReadWriteLock),
            typeof(ReadWritePolicy), typeof(StripedLock<int>), typeof(StripedReadWriteLock<int>), typeof(LockSet),
            typeof(LockSetScope), typeof(LockTimeoutException), typeof(LockOrderViolationException),
            typeof(BrokenBarrierException), typeof(DeadlockDetector), typeof(LocksmithPolicy), typeof(LocksmithMetrics),
            typeof(GuardedAttribute), typeof(LockOrderAttribute), typeof(ReadMostlyAttribute), typeof(AcquiresLocksOfAttribute),
        ];
        Type[] bcl = [typeof(Lock), typeof(Monitor), typeof(SemaphoreSlim), typeof(Barrier), typeof(SpinLock), typeof(ReaderWriterLockSlim)];

        Assert.All(locksmith, t => Assert.Equal("Locksmith", t.Namespace));
        Assert.All(bcl, t => Assert.Equal("System.Threading", t.Namespace));

        // Every public type of the runtime, not just the ones named above, stays clear of the names of every
        // System.Threading* namespace in every System.Threading* assembly of the shared framework.
        var threadingNames = SystemThreadingTypes().ToLookup(static t => t.Name);
        var clashes = TopLevelPublicTypes(typeof(ExclusiveLock).Assembly)
            .Where(t => threadingNames.Contains(t.Name))
            .Select(t => $"Locksmith's {t.Name} collides with {string.Join(", ", threadingNames[t.Name].Select(static b => b.FullName).Distinct())}")
            .ToList();
        Assert.True(clashes.Count == 0, string.Join("\n", clashes));
    }

    [Fact]
    public void TheScan_SeesTheNamesOfEverySystemThreadingAssembly()
    {
        // The check above can only catch a name it sees: these live in CoreLib, System.Threading.dll and
        // System.Threading.Channels.dll respectively (Barrier is not in CoreLib, where the first version looked).
        var names = SystemThreadingTypes().Select(static t => t.FullName).ToHashSet();

        Assert.Contains("System.Threading.Lock", names);
        Assert.Contains("System.Threading.Mutex", names);
        Assert.Contains("System.Threading.Barrier", names);
        Assert.Contains("System.Threading.CountdownEvent", names);
        Assert.Contains("System.Threading.ReaderWriterLock", names);
        Assert.Contains("System.Threading.Channels.Channel", names);
        Assert.Contains("System.Threading.Tasks.Parallel", names);
    }

    /// <summary>
    /// The public top-level types of every <c>System.Threading*</c> namespace, from CoreLib and from every
    /// <c>System.Threading*.dll</c> of the shared framework, whether defined there or forwarded from there.
    /// </summary>
    private static IEnumerable<Type> SystemThreadingTypes()
    {
        var assemblies = new List<Assembly> { typeof(object).Assembly };
        string frameworkDirectory = Path.GetDirectoryName(typeof(object).Assembly.Location)!;
        foreach (string path in Directory.GetFiles(frameworkDirectory, "System.Threading*.dll"))
        {
            assemblies.Add(Assembly.Load(AssemblyName.GetAssemblyName(path)));
        }

        Assert.True(assemblies.Count >= 5, $"Found only {assemblies.Count - 1} System.Threading* assemblies in {frameworkDirectory}.");
        return assemblies
            .SelectMany(static a => TopLevelPublicTypes(a).Concat(ForwardedPublicTypes(a)))
            .Where(static t => t.Namespace is { } ns && (ns == "System.Threading" || ns.StartsWith("System.Threading.", StringComparison.Ordinal)))
            .Distinct();
    }

    private static IEnumerable<Type> TopLevelPublicTypes(Assembly assembly) =>
        assembly.GetExportedTypes().Where(static t => !t.IsNested);

    private static IEnumerable<Type> ForwardedPublicTypes(Assembly assembly)
    {
        Type?[] forwarded;
        try
        {
            forwarded = assembly.GetForwardedTypes();
        }
        catch (ReflectionTypeLoadException partly)
        {
            forwarded = partly.Types;
        }

        return forwarded.OfType<Type>().Where(static t => t.IsPublic);
    }
}
