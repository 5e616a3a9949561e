using System.Collections.Immutable;

namespace Locksmith.Generators;

/// <summary>
/// Every name of the Locksmith runtime the generator and analyzers depend on. They know the runtime by these names
/// only, never by a project reference, so a lock type plugs in by implementing the capability interfaces.
/// </summary>
internal static class KnownNames
{
    public const string RuntimeNamespace = "Locksmith";
    public const string GeneratorName = "Locksmith.Generators";

    // Attributes (metadata names, for ForAttributeWithMetadataName and symbol lookups).
    public const string GuardedAttribute = "Locksmith.GuardedAttribute";
    public const string LockOrderAttribute = "Locksmith.LockOrderAttribute";
    public const string ReadMostlyAttribute = "Locksmith.ReadMostlyAttribute";
    public const string AcquiresLocksOfAttribute = "Locksmith.AcquiresLocksOfAttribute";

    // The controlled scheduler's scenario (Locksmith.Testing), whose Action overloads drop a lambda's task.
    public const string Scenario = "Locksmith.Testing.Scenario";

    // Attribute members.
    public const string LockProperty = "Lock";
    public const string AccessProperty = "Access";
    public const string StripeByProperty = "StripeBy";
    public const string TimeoutProperty = "TimeoutMilliseconds";
    public const string WrapperNameProperty = "WrapperName";
    public const string VisibilityProperty = "Visibility";
    public const string PolicyProperty = "Policy";

    // Capability marker interfaces a lock type implements.
    public const string ExclusiveAccessLock = "IExclusiveAccessLock";
    public const string ReadWriteAccessLock = "IReadWriteAccessLock";
    public const string KeyedAccessLock = "IKeyedAccessLock";
    public const string ThreadAffineLock = "IThreadAffineLock";
    public const string ReentrantAccessLock = "IReentrantAccessLock";

    // Async capability markers: the lock is held by an async flow, and its wrappers await it.
    public const string AsyncExclusiveAccessLock = "IAsyncExclusiveAccessLock";
    public const string AsyncReadWriteAccessLock = "IAsyncReadWriteAccessLock";
    public const string AsyncKeyedAccessLock = "IAsyncKeyedAccessLock";

    // The scopes of holds owned by an async flow (Locksmith's, and Locksmith.Postgres's).
    public const string AsyncLockScope = "AsyncLockScope";
    public const string AsyncLockSetScope = "AsyncLockSetScope";
    public const string PostgresLockScope = "PostgresLockScope";
    public const string PostgresLockSetScope = "PostgresLockSetScope";

    // Claims a flow's lock ownership in the caller's frame, so the locks its async helpers take are the caller's (LSM0058).
    public const string AsyncLockFlow = "Locksmith.AsyncLockFlow";

    // Its permits have no owner: a helper that only takes them leaves its caller no ownership to miss (LSM0058).
    public const string CountingSemaphore = "Locksmith.CountingSemaphore";

    // Every scope an acquisition returns or gives out, whose Dispose releases the hold (LSM0053). A list, not a naming
    // rule, so a struct that merely ends in "Scope" is never taken for one; a test pins it against the runtime's types.
    public static readonly ImmutableArray<string> ScopeTypes = ImmutableArray.Create(
        "Locksmith.ExclusiveLock+Scope",
        "Locksmith.ReentrantLock+Scope",
        "Locksmith.SpinGate+Scope",
        "Locksmith.CountingSemaphore+Scope",
        "Locksmith.ReadWriteLock+ReadScope",
        "Locksmith.ReadWriteLock+WriteScope",
        "Locksmith.LockSetScope",
        "Locksmith.AsyncLockScope",
        "Locksmith.AsyncLockSetScope",
        "Locksmith.Postgres.PostgresLockScope",
        "Locksmith.Postgres.PostgresLockSetScope");

    // The marker of a whole lock that LockSet takes (its public API is typed by it).
    public const string LockSetMember = "ILockSetMember";
    public const string AsyncLockSetMember = "IAsyncLockSetMember";

    // The base of the locks held in PostgreSQL (Locksmith.Postgres), for the manifest's lock kind only.
    public const string DistributedNamespace = "Locksmith.Postgres";
    public const string DistributedNamespaceName = "Postgres";
    public const string DistributedLockBase = "PostgresLock";

    // Runtime types.
    public const string LockPrimitive = "LockPrimitive";
    public const string ReadWritePolicy = "ReadWritePolicy";
    public const string LockSetType = "global::Locksmith.LockSet";
    public const string ReadWritePolicyType = "global::Locksmith.ReadWritePolicy";
    public const string LockOrderManifest = "Locksmith.LockOrderManifest";

    // BCL types whose methods run a delegate argument inline, on the calling thread, before they return (LSM0023).
    public const string ListType = "System.Collections.Generic.List`1";
    public const string ArrayType = "System.Array";
    public const string EnumerableType = "System.Linq.Enumerable";
    public const string ParallelType = "System.Threading.Tasks.Parallel";
    public const string EnumerableInterface = "System.Collections.Generic.IEnumerable`1";
    public const string OrderedEnumerableInterface = "System.Linq.IOrderedEnumerable`1";

    // Collections whose slots may be written from several threads at once (LSM0057 leaves such a write alone).
    public const string ConcurrentCollectionsNamespace = "System.Collections.Concurrent";

    // BCL calls that start a delegate as work of its own, which a hold around the call does not wait for (LSM0020).
    public const string TaskType = "System.Threading.Tasks.Task";
    public const string TaskFactoryType = "System.Threading.Tasks.TaskFactory";
    public const string TaskFactoryOfTType = "System.Threading.Tasks.TaskFactory`1";
    public const string ThreadPoolType = "System.Threading.ThreadPool";
    public const string TaskRun = "Run";
    public const string TaskFactoryStartNew = "StartNew";
    public const string QueueUserWorkItem = "QueueUserWorkItem";
    public const string UnsafeQueueUserWorkItem = "UnsafeQueueUserWorkItem";

    // More work a hold does not wait for: a thread started at once, a timer's callback, a continuation of a task.
    public const string ThreadType = "System.Threading.Thread";
    public const string ThreadStart = "Start";
    public const string ThreadJoin = "Join";
    public const string TimerType = "System.Threading.Timer";
    public const string TimersTimerType = "System.Timers.Timer";
    public const string TimerElapsed = "Elapsed";
    public const string TaskOfTType = "System.Threading.Tasks.Task`1";
    public const string TaskContinueWith = "ContinueWith";
    public const string TaskFactoryContinueWhenAll = "ContinueWhenAll";
    public const string TaskFactoryContinueWhenAny = "ContinueWhenAny";

    // A cancellation callback registered (run at cancellation, on the cancelling thread) and what removes it.
    public const string CancellationTokenType = "System.Threading.CancellationToken";
    public const string CancellationTokenRegister = "Register";
    public const string CancellationTokenUnsafeRegister = "UnsafeRegister";

    public const string ModuleInitializerAttribute = "System.Runtime.CompilerServices.ModuleInitializerAttribute";
    public const string UnmanagedCallersOnlyAttribute = "System.Runtime.InteropServices.UnmanagedCallersOnlyAttribute";
    public const string LibraryImportAttribute = "System.Runtime.InteropServices.LibraryImportAttribute";
    public const string LockTimeoutExceptionType = "global::Locksmith.LockTimeoutException";

    // Methods the emitted code calls on a lock.
    public const string EnsureDeclared = "EnsureDeclared";
    public const string Acquire = "Acquire";
    public const string TryAcquire = "TryAcquire";
    public const string AcquireRead = "AcquireRead";
    public const string TryAcquireRead = "TryAcquireRead";
    public const string AcquireWrite = "AcquireWrite";
    public const string TryAcquireWrite = "TryAcquireWrite";
    public const string AsyncSuffix = "Async";
    public const string AcquireManyAsync = "AcquireManyAsync";

    // LockSet's forms for the locks of several objects, which may be one object at run time: a lock given twice is taken
    // once (its list forms, Acquire(params locks), refuse a lock listed twice).
    public const string AcquireLocksOf = "AcquireLocksOf";
    public const string TryAcquireLocksOf = "TryAcquireLocksOf";
    public const string TryAcquireManyAsync = "TryAcquireManyAsync";

    // Wrapper naming: XxxCore gets Xxx and TryXxx (TryXxxCore gets TryXxx and TryXxxWithin).
    public const string BodySuffix = "Core";
    public const string TryPrefix = "Try";

    // Async wrapper naming: XxxCoreAsync or XxxAsyncCore gets XxxAsync and TryXxxAsync.
    public const string AsyncBodySuffix = "CoreAsync";

    // The timed form of a wrapper already named TryXxx: TryXxxWithin.
    public const string TimedSuffix = "Within";
}
