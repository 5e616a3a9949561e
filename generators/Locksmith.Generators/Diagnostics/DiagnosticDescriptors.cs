using Microsoft.CodeAnalysis;

namespace Locksmith.Generators.Diagnostics;

/// <summary>
/// Every diagnostic of the Locksmith generator and analyzers. IDs are tracked in AnalyzerReleases.*.md and tabled
/// in README.md with the fix for each (a test keeps the table and these descriptors in step); every message says
/// what to change, and every descriptor links to its row of that table.
/// </summary>
internal static class DiagnosticDescriptors
{
    /// <summary>The diagnostics table of the README; each row carries the anchor <c>lsmNNNN</c>.</summary>
    public const string HelpLinkBase = "https://github.com/locksmith-dotnet/locksmith/blob/main/README.md#";

    private const string DeclarationCategory = "Locksmith.Declarations";
    private const string ConcurrencyCategory = "Locksmith.Concurrency";

    public static readonly DiagnosticDescriptor TypeNotPartial = Error(
        "LSM0001",
        "Type with guarded methods is not partial",
        "'{0}' cannot get a generated wrapper: '{1}' is not partial; declare it (and every type containing it) 'partial'",
        "The generator adds the locking wrappers to the type that declares the guarded method, so the type and every type containing it must be partial.");

    public static readonly DiagnosticDescriptor LockMemberNotFound = Error(
        "LSM0002",
        "Lock names no member",
        "'{0}' is guarded by lock '{1}', but '{2}' has no field or property of that name; {3}",
        "Lock must name a field or property of the type (or a base type) that holds a Locksmith lock.");

    public static readonly DiagnosticDescriptor NotALocksmithLock = Error(
        "LSM0003",
        "Lock member is not a Locksmith lock",
        "'{0}' is guarded by '{1}' of type '{2}', which is not a Locksmith lock; declare it as a concrete Locksmith lock such as {3}",
        "A lock is recognised by the capability interfaces its concrete type implements (IExclusiveAccessLock, IReadWriteAccessLock, IKeyedAccessLock).");

    public static readonly DiagnosticDescriptor StaticMemberGuardedByInstanceLock = Error(
        "LSM0004",
        "Static member guarded by an instance lock",
        "Static member '{0}' is guarded by instance lock '{1}', which a static member cannot reach; make the lock static or the member an instance member",
        "A lock of one instance cannot guard state or code shared by all instances.");

    public static readonly DiagnosticDescriptor ReadAccessOnExclusiveLock = Error(
        "LSM0005",
        "Read access on a lock without a read mode",
        "'{0}' asks for read access, but '{1}' ({2}) has no read mode; {3}",
        "LockAccess.Read takes the shared mode of a read-write lock; other locks have only an exclusive mode.");

    public static readonly DiagnosticDescriptor StripeByNamesNoParameter = Error(
        "LSM0006",
        "StripeBy names no usable parameter",
        "'{0}': the StripeBy key {1}; {2}",
        "StripeBy names the parameter whose value picks the stripe of a keyed lock; it must be an input parameter of the key type.");

    public static readonly DiagnosticDescriptor StripeByOnUnkeyedLock = Error(
        "LSM0007",
        "StripeBy on a lock that is not keyed",
        "'{0}' sets StripeBy, but '{1}' ({2}) is not a keyed lock; remove StripeBy or guard it with {3}",
        "Only a keyed lock (IKeyedAccessLock) has stripes to choose from.");

    public static readonly DiagnosticDescriptor KeyedLockWithoutStripeBy = Error(
        "LSM0008",
        "Keyed lock without StripeBy",
        "'{0}' is guarded by keyed lock '{1}' but names no key; set StripeBy = nameof(keyParameter)",
        "A keyed lock is taken one stripe at a time; the wrapper needs the parameter whose value picks the stripe.");

    public static readonly DiagnosticDescriptor AsyncMethodWithThreadAffineLock = Error(
        "LSM0009",
        "Asynchronous method guarded by a thread-affine lock",
        "'{0}' returns '{1}' but is guarded by '{2}', a thread-affine lock: a lock held across 'await' would be released on another thread; guard it with {3} (its wrapper awaits the body while holding it), or guard a synchronous method and await outside it",
        "A thread-affine lock must be released by the thread that took it; the continuation of an await may run on any thread.");

    public static readonly DiagnosticDescriptor AwaitableNotSupported = Error(
        "LSM0010",
        "Asynchronous guarded method",
        "'{0}' returns '{1}': its wrapper would release '{2}' before the task completes; guard it with {3} (its wrapper awaits the body while holding it{4}){5}, or guard a synchronous method and await outside it",
        "Generated wrappers hold the lock for the synchronous call only; an asynchronous body would run partly without the lock.");

    public static readonly DiagnosticDescriptor LockOrderOnNonLock = Error(
        "LSM0011",
        "[LockOrder] on a member that is not a lock",
        "[LockOrder] is on '{0}' of type '{1}', which is not a Locksmith lock; put it on the lock field or property",
        "A lock order level only means something on a lock.");

    public static readonly DiagnosticDescriptor DuplicateLockOrderLevel = Warning(
        "LSM0012",
        "Two locks of one type share a level",
        "Locks '{0}' and '{1}' of '{2}' share level {3}, so neither can be taken while the other is held; give each its own level",
        "A thread may only take a lock whose level is greater than every ordered lock it holds, so two locks of one level can never be nested.");

    public static readonly DiagnosticDescriptor WrapperNameCollision = Error(
        "LSM0013",
        "Wrapper name collides with an existing member",
        "The wrapper '{0}' generated for '{1}' collides with an existing member of '{2}'; {3}",
        "A generated wrapper must not clash with, or hide, a member the type declares or inherits.");

    public static readonly DiagnosticDescriptor MissingWrapperName = Error(
        "LSM0014",
        "Wrapper name missing or invalid",
        "'{0}' needs a wrapper name: {1}",
        "A guarded method XxxCore gets the wrapper Xxx; any other method must set WrapperName to a valid identifier.");

    public static readonly DiagnosticDescriptor UnsupportedContainingType = Error(
        "LSM0015",
        "Type cannot hold guarded methods",
        "'{0}' cannot get a generated wrapper: '{1}' is {2}; move the method to a partial class, struct or record",
        "Wrappers are added as members of a partial class, struct or record; interfaces and file-local types are not supported.");

    public static readonly DiagnosticDescriptor UnsupportedGuardedMethod = Error(
        "LSM0016",
        "Method cannot be wrapped",
        "'{0}' cannot get a generated wrapper: {1}",
        "Only ordinary methods with a body whose whole work runs during the call can be wrapped.");

    public static readonly DiagnosticDescriptor InvalidTimeout = Error(
        "LSM0017",
        "Invalid timeout",
        "TimeoutMilliseconds = {1} on '{0}' is invalid; use 0 (the default policy), -1 (wait forever) or a positive number of milliseconds",
        "Negative timeouts other than -1 mean nothing.");

    public static readonly DiagnosticDescriptor InvalidAcquiresLocksOf = Error(
        "LSM0018",
        "[AcquiresLocksOf] cannot take the named locks",
        "'{0}': {1}",
        "[AcquiresLocksOf] names input parameters whose type has the instance lock member named by Lock, a LockPrimitive reachable from this type.");

    public static readonly DiagnosticDescriptor ConflictingLockAttributes = Error(
        "LSM0019",
        "[Guarded] and [AcquiresLocksOf] on one method",
        "'{0}' has both [Guarded] and [AcquiresLocksOf]; keep one: [Guarded] for a lock of this instance, [AcquiresLocksOf] for the locks of parameters",
        "A method's wrapper takes either one lock or a set of locks.");

    public static readonly DiagnosticDescriptor GuardedMemberAccessedWithoutLock = Warning(
        "LSM0020",
        "Guarded member used without its lock",
        "'{0}' is guarded by '{1}' but is {2} here without holding it{3}; {4}",
        "A guarded field or property may only be read or written by code that holds its lock: a guarded method of that lock, a using scope of the lock's Acquire (of a TryAcquire, where its success is checked), or a constructor.",
        ConcurrencyCategory);

    public static readonly DiagnosticDescriptor ReadAccessWritesGuardedMember = Error(
        "LSM0021",
        "Guarded state written under a read lock",
        "'{0}' holds '{1}' for reading only{2} but writes '{3}'; other readers run at the same time, so {4}",
        "The read mode of a read-write lock is shared: code holding it, as a read-access method or in a read scope, must not change the state it guards.",
        ConcurrencyCategory);

    public static readonly DiagnosticDescriptor LockOrderInversion = Warning(
        "LSM0022",
        "Call against the lock order",
        "'{0}' holds '{1}' (level {2}) and calls '{3}', which takes '{4}' (level {5}); a lock may only be taken above the level of every lock held, so call it before taking '{1}' or raise the level of '{4}'",
        "The runtime throws LockOrderViolationException for this call; the analyzer finds it at compile time.",
        ConcurrencyCategory);

    public static readonly DiagnosticDescriptor SelfDeadlock = Error(
        "LSM0023",
        "Wrapper of a held lock called",
        "'{0}' already holds '{1}'{5} and calls '{2}', which takes it again{4}: '{1}' is not reentrant, so the call fails at run time (LockRecursionException; a semaphore waits for itself); {3}",
        "A guarded method runs with its lock held; calling a wrapper of the same non-reentrant lock on the same instance acquires it twice.",
        ConcurrencyCategory);

    public static readonly DiagnosticDescriptor LockStatementOnLocksmithLock = Warning(
        "LSM0024",
        "'lock' statement or Monitor call on a Locksmith lock",
        "'{0}' on '{1}' uses the object's Monitor, not the {2}; {3}",
        "The C# lock statement binds to EnterScope only for System.Threading.Lock; on any other object it takes a Monitor, which a Locksmith lock does not see. Monitor.Enter, TryEnter, Exit, Wait, Pulse, PulseAll and IsEntered likewise work on the object's Monitor.",
        ConcurrencyCategory);

    public static readonly DiagnosticDescriptor TaskStartedWhileAsyncLockHeld = Warning(
        "LSM0026",
        "Task started while an async lock is held",
        "'{0}' {2} while '{1}' is held: {3}; {4}",
        "An async lock belongs to the flow that took it and to everything started while it is held. Work started and left running (Task.Run, TaskFactory.StartNew, a task discarded, stored in a field or property or kept in a local the hold does not read again, ThreadPool.QueueUserWorkItem, Thread.Start, Task.Start, a timer's callbacks, a cancellation callback) carries that ownership: it throws LockRecursionException where it should wait for the flow's lock, and, since ownership records are reused to keep acquisitions allocation-free, it may see a later hold made from the same execution context as its own. Started with the flow suppressed it is a flow of its own.",
        ConcurrencyCategory);

    public static readonly DiagnosticDescriptor BlockedOnWorkThatTakesTheHeldLock = Error(
        "LSM0027",
        "Blocking on work that takes a held lock",
        "'{0}' holds '{1}' and blocks on work ('{2}') that calls '{3}', which takes '{1}' on another thread: that call waits for this hold and the hold waits for the work, so it deadlocks (or, run inline, fails with LockRecursionException); wait for the work after the hold ends, or call '{4}' in it",
        "A synchronous lock belongs to the thread that took it. Work started in a task and waited for synchronously (Wait(), Result, GetAwaiter().GetResult(), Task.WaitAll) while the lock is held runs on another thread, where a wrapper of that lock waits for the hold, which never ends.",
        ConcurrencyCategory);

    public static readonly DiagnosticDescriptor ReadMostlyWithoutReadWriteLock = Warning(
        "LSM0025",
        "[ReadMostly] on a type without a read-write lock",
        "[ReadMostly] on '{0}' has no effect: it declares no read-write lock; guard its state with {1} or remove the attribute",
        "[ReadMostly] declares the policy of the type's read-write lock and makes read-access wrappers take the read lock.");

    public static readonly DiagnosticDescriptor ExtensionBlockMember = Error(
        "LSM0030",
        "Locksmith attribute in an extension block",
        "[{1}] on '{0}' is not supported: '{2}' is a C# 14 extension block, which has no state or lock of its own and cannot get a generated wrapper; move the member into a partial class, struct or record and put [{1}] there",
        "The generator adds wrappers to, and finds locks in, the type that declares the member; an extension block declares no fields and cannot be extended with partial declarations.");

    public static readonly DiagnosticDescriptor GuardedWithoutLock = Error(
        "LSM0031",
        "[Guarded] without a Lock",
        "[Guarded] on '{0}' needs Lock = nameof(yourLock); set it to the lock field or property of '{1}' that guards it",
        "Lock names the member holding the lock that guards the field, property or method; it has no default.");

    public static readonly DiagnosticDescriptor EnumArgumentOutOfRange = Error(
        "LSM0032",
        "Attribute argument outside its enum",
        "{1} = {2} on '{0}' is not a {3} value; use one of {4}",
        "A cast such as (LockAccess)99 compiles, but names no member of the enum; the generator would have to guess what it means.");

    public static readonly DiagnosticDescriptor GeneratorFailure = Error(
        "LSM0099",
        "Locksmith generator failure",
        "The Locksmith generator could not process '{0}': {1}; please report this with the declaration",
        "An unexpected input made the generator fail; it reports this instead of failing the build with CS8785.");

    public static readonly DiagnosticDescriptor WrapperLessAccessibleThanSignature = Error(
        "LSM0040",
        "Wrapper visibility wider than its signature allows",
        "'{0}' cannot get {1} wrappers: its signature uses '{2}', which is less accessible; set Visibility = WrapperVisibility.{3}, or remove Visibility to let the generator choose",
        "A wrapper may not be more accessible than the types of its parameters, return value and constraints (CS0050/CS0051). Without Visibility the generator gives it the widest accessibility they allow.");

    public static readonly DiagnosticDescriptor NullableLockMember = Error(
        "LSM0041",
        "Lock member is nullable",
        "'{0}' is guarded by '{1}' of type '{2}', which may be null, so its wrapper cannot take it; declare the lock non-nullable (and assign it in every constructor)",
        "A generated wrapper calls the lock directly; a lock declared nullable would make it dereference a possibly null reference.");

    public static readonly DiagnosticDescriptor SynchronousMethodWithAsyncLock = Error(
        "LSM0042",
        "Synchronous method guarded by an async lock",
        "'{0}' returns '{1}' but is guarded by '{2}', {3}, which is taken by awaiting; make it return Task, Task<T>, ValueTask or ValueTask<T>{4}, or guard it with {5}",
        "An async lock is acquired with AcquireAsync, so its wrappers are async and await the body; a synchronous body would make a synchronous wrapper block on an async lock.");

    public static readonly DiagnosticDescriptor OverrideGuardedByAnotherLock = Error(
        "LSM0043",
        "Override guarded by another lock than its base",
        "'{0}' overrides '{1}', whose wrappers take '{2}' and call this override under it; its own [Guarded] names '{3}', which no wrapper takes: name '{2}', or remove [Guarded] from the override",
        "An override of a guarded core gets no wrapper of its own: the base's wrappers call it virtually under the base's lock. A different lock on the override would never be taken, and what it guards would be touched under the base's lock instead.");

    public static readonly DiagnosticDescriptor LockTypeLacksAcquisition = Error(
        "LSM0044",
        "Lock type lacks a method its wrappers call",
        "'{0}' is guarded by '{1}' of type '{2}', which is marked as {3} but has no accessible method the wrapper can call as '{4}'{5}; {6}give '{2}' that method, or guard '{0}' with a Locksmith lock",
        "The capability markers (IExclusiveAccessLock, IAsyncExclusiveAccessLock, …) declare no members: the wrappers call the lock's own methods, so a type that carries a marker must have the methods its documentation lists.");

    public static readonly DiagnosticDescriptor WrapperTakesExistingCalls = Error(
        "LSM0045",
        "Wrapper overload changes how existing calls bind",
        "The wrapper '{0}' generated for '{1}' would change calls to {2} that it also accepts: they would bind to the wrapper, or be ambiguous (CS0121) where both fill defaults{3}; {4}set WrapperName to another name, or make one of the two take different parameters",
        "A new overload that accepts the same leading arguments as an existing method takes over its calls (it needs no default, or the existing method is a base type's) or makes them ambiguous, so callers that compiled before would silently call the wrapper or break.");

    public static readonly DiagnosticDescriptor LockUsedThroughObsoleteError = Error(
        "LSM0046",
        "Lock is reached through a member obsolete as an error",
        "'{0}' is guarded by '{1}', but its wrappers would have to use '{2}', which is [Obsolete] as an error ({3}), so they would not compile; guard '{0}' with a lock member that is not, or drop 'error: true' from that [Obsolete]",
        "An [Obsolete(..., error: true)] member or type is an error wherever it is used, and no #pragma lifts it: wrappers that name the lock through it could not compile, so the generator writes none.");

    public static readonly DiagnosticDescriptor LockLevelDiffersFromImplementedMember = Error(
        "LSM0047",
        "Lock member's level differs from the member it implements",
        "'{0}' declares [LockOrder({1})], but '{2}', which it implements or overrides, declares [LockOrder({3})]: wrappers that reach the lock through either would declare their own level, and the first to run would decide it; give the level on '{2}' only (the implementing member takes it), or the same level on both",
        "A lock has one level. A property that implements an interface property or overrides a base one without a [LockOrder] of its own takes that member's level, so wrappers reaching the lock through either agree.");

    public static readonly DiagnosticDescriptor LockLevelOnPropertyReturningLock = Error(
        "LSM0048",
        "Property returning a lock declares another level",
        "'{0}' declares [LockOrder({1})], but it returns the lock '{2}', {3}: wrappers that reach the lock through either would declare their own level, and the first to run would decide it; give the level on '{2}' only (every property returning it takes it)",
        "A property that merely returns a lock member (Gate => _lock) reaches that member's lock, which has one level: the [LockOrder] on the member, or on properties of its own type that return it, all the same.");

    public static readonly DiagnosticDescriptor LockLevelMissingOnImplementedMember = Warning(
        "LSM0049",
        "Lock member's level is missing on the member it implements",
        "'{0}' declares [LockOrder({1})], but '{2}', which it implements or overrides, declares none: wrappers that reach the lock through '{2}' leave its level to those of '{3}', so until one of these has run, the lock is taken without order checks; put [LockOrder({1})] on '{2}' (the implementing member takes it)",
        "A lock reached through an interface, abstract or virtual member belongs to whichever object implements it, so the wrappers reaching it there cannot know the implementation's level and do not declare one; only the level on that member itself reaches every wrapper.",
        ConcurrencyCategory);

    public static readonly DiagnosticDescriptor ReadMostlyPolicyNotAppliedAbove = Warning(
        "LSM0050",
        "Read-write policy is not applied through the member a lock implements",
        "'{0}' takes [ReadMostly(Policy = {2})] from '{3}', but wrappers that reach it through '{1}' do not apply it: if they hold the lock when the first wrapper of '{3}' runs, that wrapper cannot switch the lock in use and throws InvalidOperationException; construct it with the policy ('= new({2})')",
        "The [ReadMostly] policy is applied by the declaring type's wrappers when they first run, and only while the lock is free. Wrappers that reach the lock through an interface or base member do not know the implementing type's policy; a lock constructed with it needs no switch.",
        ConcurrencyCategory);

    public static readonly DiagnosticDescriptor ReadMostlyPolicyClashesWithInitializer = Error(
        "LSM0051",
        "Read-write policy of [ReadMostly] differs from the one its lock is built with",
        "[ReadMostly] on '{0}' declares ReadWritePolicy.{1}{2}, but '{3}' {4} a lock built with ReadWritePolicy.{5}, which it keeps, so the first wrapper that takes it throws InvalidOperationException; give one policy: set [ReadMostly(Policy = ReadWritePolicy.{5})], or build the lock with ReadWritePolicy.{1}",
        "A lock built with a policy other than WriterPreferred keeps it; a [ReadMostly] type that declares another makes its wrappers' first call throw, as a level given twice does. Reported when the lock's initializer, or an assignment to it in a constructor, passes the policy as a constant.");

    public static readonly DiagnosticDescriptor ScenarioLambdaDropsTask = Warning(
        "LSM0052",
        "Scenario body drops the task it returns",
        "'{0}' returns '{1}', but the lambda binds to the Action overload of Scenario.{2}, which drops it unawaited: the run neither waits for that work nor fails when it fails; {3}",
        "A lambda that is not async and whose body is a call returning a task (Task, ValueTask, Task<T>, ValueTask<T> or any other awaitable) converts to Action, discarding the result. Scenario.Thread takes only an Action, and Scenario.Finally takes a Func<Task> but no Func<ValueTask>, so such a lambda runs the call up to its first incomplete await and the scenario passes whatever the rest does. An async lambda binds to the overload that awaits it.",
        ConcurrencyCategory);

    public static readonly DiagnosticDescriptor FlowClaimReturnedByAsyncMethod = Warning(
        "LSM0062",
        "Async method returns a flow claim its caller never carries",
        "'{0}' is async, so the claim '{1}' makes lives in its own frame, whose execution context never flows back: the caller that gets the scope carries nothing of it, and the locks its helpers take are not the caller's; make '{0}' synchronous, returning AsyncLockFlowScope (and do its async work after the claim, in the caller), or call AsyncLockFlow.Begin() in the caller",
        "AsyncLockFlow.Begin() claims the flow in the frame that calls it. In an async method that frame is the method's own: .NET restores the caller's execution context when the method returns or awaits, so the claim never reaches the caller, and the scope it returns only ends a claim nothing carries. A synchronous method returning the scope claims in its caller's frame, which is what the caller needs.",
        ConcurrencyCategory);

    public static readonly DiagnosticDescriptor ScenarioThreadBodyIsAsync = Error(
        "LSM0061",
        "Async body given to Scenario.Thread",
        "The body of Scenario.Thread({0}) is async, which an Action runs as async void: its first await would leave the scheduler's control and its exceptions would fail no run, so Scenario.Thread refuses it at run time with ArgumentException; an async body is a flow: call Scenario.Flow({0}, async () => …)",
        "Scenario.Thread takes an Action, so an async lambda or an async method given to it is async void. The controlled scheduler cannot follow such a body past its first incomplete await, and nothing observes its exceptions, so Scenario.Thread throws ArgumentException when it is given one. Scenario.Flow takes a Func<Task> and runs the body as a flow whose continuations the scheduler runs.",
        ConcurrencyCategory);

    public static readonly DiagnosticDescriptor ScopeNeverReleased = Warning(
        "LSM0053",
        "Lock scope is never released",
        "The scope {0} is never disposed, so {1} stays held for good: later acquisitions wait or time out; {2}",
        "An acquisition's scope releases the lock when it is disposed, and only then. Reported when the scope (or the awaited task of one) is discarded, '_ = …' included, or kept in a local, not declared with 'using', that is never used again or only has its properties read (IsAcquired). Any other use of the local (disposed, in a 'using', passed on, returned, stored, captured) is taken to release it; 'out _' is not reported, since a TryAcquire whose result is asserted false takes nothing.",
        ConcurrencyCategory);

    public static readonly DiagnosticDescriptor AttributeOnBackingField = Error(
        "LSM0054",
        "Locksmith attribute on a property's backing field",
        "[field: {0}] on '{1}' goes to the backing field the compiler makes for it, which Locksmith does not read, so {2}; {3}",
        "Locksmith reads [LockOrder] and [Guarded] on the field or property they are written on. On a property, or a record's positional parameter, the 'field:' target moves the attribute to the compiler's backing field, where neither the generator nor the analyzers look, so it has no effect.");

    public static readonly DiagnosticDescriptor LanguageVersionTooOld = Error(
        "LSM0055",
        "Language version too old for generated wrappers",
        "'{0}' cannot get generated wrappers: they use C# 8 (using declarations, nullable annotations), and this project's LangVersion is {1}; set <LangVersion> to 8.0 or later (or remove it: .NET's default is newer), or take the lock in the method yourself without the attribute",
        "The wrappers are written in C# 8 or later; under an older LangVersion they would not compile, so none are generated.");

    public static readonly DiagnosticDescriptor GuardedStateWrittenInAParallelBody = Warning(
        "LSM0056",
        "Guarded state written in a parallel body under the caller's hold",
        "'{0}' is {4} in a body of '{1}' while '{2}' is held around the loop: the hold keeps other code out but does not serialize the bodies, which run on several threads at once and race each other (lost updates); {5} and take it in the body ({3}; not a wrapper while '{2}' is held, which would wait for the loop), or use an AtomicCounter, a StripedCounter, Interlocked, or a per-body local combined after the loop",
        "Parallel.For, ForEach, ForAsync, ForEachAsync and Invoke run their delegates on pool threads at the same time. A lock held by the code that starts the loop is held for all of them together, not for each: guarded state they write (or change through a collection's Add, Remove, …) is written concurrently. Reads are safe there, since the hold keeps writers out.",
        ConcurrencyCategory);

    public static readonly DiagnosticDescriptor GuardedStateWrittenUnderAKeyedHold = Warning(
        "LSM0057",
        "State guarded by a keyed lock written under a hold of some keys",
        "'{0}' is guarded by the keyed lock '{1}' and is {2} here, where '{1}' is held for some keys only: code holding another key's stripe runs at the same time and writes '{0}' too (lost updates, a corrupted collection); guard '{0}' with a lock that is not keyed ({3}), or keep per-key state in a ConcurrentDictionary without [Guarded] and take the key's stripe around each read-modify-write of it",
        "A keyed lock (StripedLock<TKey>, StripedReadWriteLock<TKey>, AsyncStripedLock<TKey>) is held one key's stripe at a time, so two callers with keys on different stripes run together. A field or property of the object is one piece of state for every key: written under a stripe, it is written concurrently. Writes through Interlocked or Volatile, to an array's elements (one per stripe) and to a concurrent collection's slots are not reported.",
        ConcurrencyCategory);

    public static readonly DiagnosticDescriptor HelperScopeNotOwnedByCaller = Warning(
        "LSM0058",
        "Scope returned by an async helper is not owned by the caller's flow",
        "'{0}' is an async method that returns the scope of a lock taken in its own frame, and its lock ownership does not flow back here: this method's flow does not own the lock ('IsHeldByCurrentFlow' is false, the lock order does not count it, and asking for the lock again waits for itself instead of throwing LockRecursionException); begin the flow before the call: 'using var flow = AsyncLockFlow.Begin();'",
        "An async lock belongs to the flow that took it, and that ownership lives in the execution context, which .NET never flows from an async method back to its caller. A lock that an async helper takes and returns the scope of (return await _lock.AcquireAsync();) is therefore not owned by the caller's flow, unless the caller already held an async lock (the helper then shares its flow) or began its flow with AsyncLockFlow.Begin() before the call. A non-async method that only forwards such a helper's task (every return is a call to it or to another such forwarder, and it makes no other claim) adds no frame of its own, so its caller is told, naming the helper; a helper's task kept in a local and awaited later is reported at the call, where ownership is decided: the helper starts there, so a flow begun after the call comes too late. Not reported for Locksmith's own acquisition methods, a non-async method that acquires the lock itself (its acquisition is made in the caller's frame) or does more than forward a helper's task, a kept task whose local is written again or escapes (passed on, stored, returned, captured), a helper whose body only takes a CountingSemaphore's permits (a permit has no owner), a call through an interface, abstract member or delegate, in a method that returns the scope onward (its callers are told), or in a lambda or local function, whose caller is not known.",
        ConcurrencyCategory);

    public static readonly DiagnosticDescriptor IteratorHoldNotOwnedByConsumer = Warning(
        "LSM0060",
        "Async iterator holds a lock across yield return that the consumer's flow does not own",
        "'{0}' is an async iterator that holds {1} across 'yield return', and its steps after the first run in this method's execution context, which does not own the lock: there 'IsHeldByCurrentFlow' is false, the lock order does not count it, and asking for the lock again waits for itself instead of throwing LockRecursionException; begin the flow before the loop: 'using var flow = AsyncLockFlow.Begin();'",
        "An async lock belongs to the flow that took it, and that ownership lives in the execution context. .NET runs each step of an async iterator after the first in the context of the MoveNextAsync call, the consumer's, so a lock the iterator took in an earlier step and still holds is owned in its later steps only if the consumer's flow owns it: the consumer holds an async lock or began its flow with AsyncLockFlow.Begin() before enumerating. Not reported for a lock the iterator releases before each yield, a CountingSemaphore's permits (they have no owner), an iterator whose body is not known (interface, abstract, delegate, another assembly), an enumerable or enumerator kept in a field, or in a local that is written again or escapes (passed on, stored, returned, captured), or a loop in a lambda or local function, whose caller is not known.",
        ConcurrencyCategory);

    public static readonly DiagnosticDescriptor FlowClaimNeverEnded = Warning(
        "LSM0059",
        "Async lock flow claim is never ended",
        "The claim '{0}' makes {1}, so {2}; {3}",
        "AsyncLockFlow.Begin() (or a method of the user's returning its AsyncLockFlowScope) claims the current async flow's lock ownership until the scope is disposed. A claim never ended keeps its hold on the flow's record: the frame's context carries it for as long as that context lives, so everything the frame starts afterwards is one flow (a lock one task takes is held by the others, and another asking for it throws LockRecursionException instead of waiting), and the record never goes back to the thread's cache, so the next claim allocates a new one. A synchronous method's context is its caller's, so there the claim outlives the method. Reported when the scope is dropped (a statement of its own, '_ = …', or only a property read), or kept in a local not declared with 'using' that is never disposed, or disposed only outside a 'finally' (an exception before the Dispose skips it) or only in a 'catch' (the path that throws nothing never reaches it). Not reported when the scope is disposed in a 'finally', or in a 'catch' and also on the path without an exception, used in a 'using', returned, stored in a field or property, passed on, captured by a lambda or local function, or otherwise used: whoever receives it ends it. A call given a scope (a parameter holding one) or returning one through a type parameter hands back a scope and makes no claim.",
        ConcurrencyCategory);

    public static readonly DiagnosticDescriptor BlockingReadOfAsyncAcquisition = Warning(
        "LSM0063",
        "Result of a pending async acquisition read without awaiting it",
        "'{0}' on the ValueTask of '{1}' reads it without awaiting it: {2}, the acquisition is still pending, and reading a pending one throws InvalidOperationException (its wait is withdrawn, nothing is held); {3}",
        "The ValueTask an async lock's acquisition returns (AcquireAsync, TryAcquireAsync, AcquireReadAsync, AcquireWriteAsync and their timed forms, of AsyncExclusiveLock, AsyncReadWriteLock, CountingSemaphore and AsyncStripedLock) is backed by a pooled wait while the lock is contended, and a ValueTask's result may not be read before it completes. '.Result' or '.GetAwaiter().GetResult()' on it works while the lock is free and throws InvalidOperationException under contention. Reported when it is read so directly, or through a local that is used no other way (or a local that only copies it, used so), also off a call of a method of the project that only returns such an acquisition and is not async. Not reported: an await, '.AsTask()' or '.Preserve()' first (a task that blocking waits for), a local whose completion is tested or that is otherwise used, and LockSet's and AcquireManyAsync's set acquisitions, whose pending task is a real task.",
        ConcurrencyCategory);

    public static readonly DiagnosticDescriptor NamespaceHiddenFromGeneratedCode = Error(
        "LSM0064",
        "Namespace hidden from generated code",
        "Generated code names the namespace '{0}' as 'global::{0}', but {1}, so nothing is generated for this project; {2}",
        "The generator writes every type it names from the global namespace (global::System.…, global::Locksmith.…), so that no using or type of the project changes what it names. A non-generic type named System or Locksmith in the global namespace, declared in the project (CS0437) or public in a reference (CS0434), takes that name instead, and no spelling reaches the namespace past it. Every generated file would be errors, so none is generated: no wrappers, no lock-order manifest.");

    /// <summary>The help link of a diagnostic: its row of the README's diagnostics table.</summary>
    public static string HelpLink(string id) => HelpLinkBase + id.ToLowerInvariant();

    private static DiagnosticDescriptor Error(string id, string title, string message, string description, string category = DeclarationCategory) =>
        new(id, title, message, category, DiagnosticSeverity.Error, isEnabledByDefault: true, description, HelpLink(id));

    private static DiagnosticDescriptor Warning(string id, string title, string message, string description, string category = DeclarationCategory) =>
        new(id, title, message, category, DiagnosticSeverity.Warning, isEnabledByDefault: true, description, HelpLink(id));
}
