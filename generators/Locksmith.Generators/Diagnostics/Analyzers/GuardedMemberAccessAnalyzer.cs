using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using Locksmith.Generators.Diagnostics.Analyzers.Support;
using Locksmith.Generators.Symbols;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace Locksmith.Generators.Diagnostics.Analyzers;

/// <summary>
/// LSM0020: a <c>[Guarded]</c> field or property read or written by code that does not hold its lock, or read by a
/// deferred query made in the hold and kept in a local that is used where the lock is not held, or touched in a lambda of
/// work a synchronous lock's hold does not wait for (<c>_ = Task.Run(() =&gt; _n++)</c>, or a lambda it runs inline), which
/// may run after the release, or in a lambda made in a hold and stored to run later (<see cref="StoredDelegates"/>).
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class GuardedMemberAccessAnalyzer : DiagnosticAnalyzer
{
    /// <inheritdoc/>
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } =
        ImmutableArray.Create(DiagnosticDescriptors.GuardedMemberAccessedWithoutLock);

    /// <inheritdoc/>
    public override void Initialize(AnalysisContext context)
    {
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.EnableConcurrentExecution();
        LockFacts.RegisterWhereLocksExist(context, static (start, facts) =>
        {
            start.RegisterOperationAction(
                operation => Analyze(operation, facts),
                OperationKind.FieldReference,
                OperationKind.PropertyReference);
            start.RegisterOperationAction(
                operation =>
                {
                    AnalyzeBodyRacingInConstruction(operation, facts);
                    AnalyzeCoreInDroppedWork(operation, facts);
                },
                OperationKind.MethodReference,
                OperationKind.Invocation);
            start.RegisterOperationAction(operation => AnalyzeCoreCall(operation, facts), OperationKind.Invocation, OperationKind.MethodReference);
        });
    }

    /// <summary>
    /// A method of this type that a constructor or initializer runs as a parallel loop's body: given by name
    /// (<c>Parallel.For(0, n, BumpCore)</c>, or through a local it is kept in) or called from a body of one
    /// (<c>i =&gt; BumpCore(i)</c>, one level). A guarded core holds its lock for its callers, and a constructor holds
    /// the object's state for its own thread only, so nothing holds it while the runs race: the first write of the
    /// object's guarded state in its body (as <see cref="ParallelBodies.RacingInConstruction"/> counts one) is reported at
    /// the method group or call. A method that is no core writes it without the lock anyway, which is reported in it.
    /// </summary>
    private static void AnalyzeBodyRacingInConstruction(OperationAnalysisContext context, LockFacts facts)
    {
        if (!IsConstruction(context.ContainingSymbol))
        {
            return;
        }

        var (method, instance, byName) = context.Operation switch
        {
            IMethodReferenceOperation reference => (reference.Method, reference.Instance, true),
            IInvocationOperation call => (call.TargetMethod, call.Instance, false),
            _ => (null!, null, false),
        };
        IOperation? site = context.Operation;
        if (method is null || facts.GuardOf(method) is null ||
            !BodiesByName.IsOwnCallee(method, instance, context.ContainingSymbol) ||
            (byName
                ? InlineDelegates.ParallelCallOf(context.Operation) ?? ParallelBodies.ParallelCallThroughLocal(context.Operation, out site)
                : ParallelBodies.LoopAround(context.Operation)) is not { } loop ||
            site is null ||
            context.Operation.SemanticModel is not { } model ||
            BodiesByName.BodyOf(method, model, context.CancellationToken) is not { } body)
        {
            return;
        }

        // A run that takes the lock around the call (i => { using (_lock.Acquire()) { BumpCore(i); } }) holds it.
        bool statics = context.ContainingSymbol.IsStatic;
        var at = site;
        if (ParallelBodies.FirstRacingWrite(body, (access, guard) =>
                access.Member.IsStatic == statics &&
                !(access.Parent is IArrayElementReferenceOperation element && element.ArrayReference == access) &&
                !HeldLocks.HeldByMethodOrScopeAt(at, guard, statics ? null : instance, context.ContainingSymbol, facts), facts) is not { } write)
        {
            return;
        }

        // The core is a guarded method already, and that is the trouble (it leaves the lock to its callers): the fix is a
        // caller that takes it, each run or the wrapper, not the plain access's "use it from a [Guarded] method".
        string how = byName ? "given as the body" : "called from the body";
        var guard = write.Guard;
        string wrapper = facts.WrapperNameOf(method) is { } name ? "its wrapper '" + name + "'" : "its generated wrapper";
        context.ReportDiagnostic(Diagnostic.Create(
            DiagnosticDescriptors.GuardedMemberAccessedWithoutLock,
            context.Operation.Syntax.GetLocation(),
            write.Access.Member.Name,
            write.Guard.LockMember.Name,
            write.Written,
            $" (in '{method.Name}', {how} of '{loop.TargetMethod.ContainingType.Name}.{loop.TargetMethod.Name}', which runs on several threads at once: a constructor holds the object's state for its own thread only)",
            TakeTheLockInEachRun(guard, method, loop, wrapper)));
    }

    /// <summary>
    /// The advice for a guarded core a constructor's parallel loop runs: take the lock in each run around its call, or call
    /// its wrapper. An async lock is taken by awaiting, which neither a constructor nor a synchronous body (Parallel.For)
    /// can do: the loop is to run from an async method, as the loop whose bodies can await (<see cref="SynchronousCode.AsyncLoopFor"/>).
    /// </summary>
    private static string TakeTheLockInEachRun(Guard guard, IMethodSymbol method, IInvocationOperation loop, string wrapper)
    {
        string lockName = guard.LockMember.Name;
        string scope = $"'using var scope = {guard.Capabilities.SuggestedAwait()}{lockName}.{guard.Capabilities.SuggestedAcquire(read: false)};'";
        return guard.Capabilities.IsAsync() && SynchronousCode.AsyncLoopFor(loop.TargetMethod) is { } asyncLoop
            ? $"'{lockName}' is an async lock, taken by awaiting, which neither the constructor nor a body of '{loop.TargetMethod.ContainingType.Name}.{loop.TargetMethod.Name}' can do: " +
                $"run the loop from an async method as {asyncLoop} that takes '{lockName}' around the call ({scope} before it) or awaits {wrapper}"
            : $"take '{lockName}' in each run, around the call of '{method.Name}' ({scope} in the body, before it), or call {wrapper} instead of the core";
    }

    /// <summary>
    /// A guarded core of this type given by name to work a synchronous hold does not wait for (<c>_ = Task.Run(BumpCore)</c>),
    /// or to a method such work runs inline (<c>_ = Task.Run(() =&gt; items.ForEach(BumpCore))</c>), or called from such work (<c>_ = Task.Run(() =&gt; BumpCore())</c>, as <see cref="ParallelBodies.DroppedWorkAround"/>
    /// finds it), on <c>this</c> or static and not one an override may replace (<see cref="BodiesByName.IsOwnCallee"/>):
    /// its body counts the lock as held for its callers, but the work runs on another thread, maybe after the release, with
    /// nothing holding it. The first access of its lock's state in its body (of this object or static, run with the body, not
    /// under a scope the body takes itself) is reported at the method group or call, when the lock is held there. A method
    /// that is no core touches the state without the lock anyway, which is reported in it.
    /// </summary>
    private static void AnalyzeCoreInDroppedWork(OperationAnalysisContext context, LockFacts facts)
    {
        var (method, instance, byName) = context.Operation switch
        {
            IMethodReferenceOperation reference => (reference.Method, reference.Instance, true),
            IInvocationOperation call => (call.TargetMethod, call.Instance, false),
            _ => (null!, null, false),
        };
        if (method is null || facts.GuardOf(method) is not { } core || core.Capabilities.IsAsync() ||
            !BodiesByName.IsOwnCallee(method, instance, context.ContainingSymbol) ||
            DroppedWorkRunningCore(context.Operation, byName, (at, work) => HeldLocks.HeldByScopeInside(at, core.LockMember, instance, work, facts)) is not { } start ||
            context.Operation.SemanticModel is not { } model ||
            BodiesByName.BodyOf(method, model, context.CancellationToken) is not { } body ||
            ((byName ? InlineDelegates.ParallelCallOf(context.Operation) : ParallelBodies.LoopAround(context.Operation)) is not null &&
                ParallelBodies.FirstRacingWrite(body, static (_, _) => true, facts) is not null))
        {
            // A core that writes, given to or called from a parallel body in such work, is reported where the race of the
            // bodies is said too.
            return;
        }

        foreach (var access in body.Descendants().OfType<IMemberReferenceOperation>())
        {
            if (facts.GuardOf(access.Member) is not { } guard ||
                !(access.Member.IsStatic || OperationFacts.IsThis(access.Instance)) ||
                OperationFacts.IsInNameof(access) ||
                !HeldLocks.HeldByMethod(method, guard, access.Instance, facts) ||
                !InlineDelegates.RunsWithItsBody(access) ||
                HeldLocks.HeldByScopeInside(access, guard.LockMember, access.Instance, body, facts))
            {
                continue;
            }

            if (!HeldLocks.HeldByMethodOrScopeAt(context.Operation, guard, access.Member.IsStatic ? null : instance, context.ContainingSymbol, facts) ||
                JoinedInTheHold(start, guard, access.Member.IsStatic ? null : instance, context.ContainingSymbol, facts))
            {
                return;
            }

            string lockName = guard.LockMember.Name;
            string wrapper = facts.WrapperNameOf(method) is { } name ? "its wrapper '" + name + "'" : "its generated wrapper";
            // Given to a method the work runs inline (`items.ForEach(BumpCore)` in it), not to the work: name that method.
            string how = !byName ? "called from work"
                : ParallelBodies.DroppedStartOf(context.Operation) is null && InlineDelegates.RunOf(context.Operation, out var runner) == DelegateRun.Inline
                    ? $"given to '{runner}' in work"
                    : "given to work";
            context.ReportDiagnostic(Diagnostic.Create(
                DiagnosticDescriptors.GuardedMemberAccessedWithoutLock,
                context.Operation.Syntax.GetLocation(),
                access.Member.Name,
                lockName,
                HowWorkTouches(access),
                $" (in '{method.Name}', a guarded core {how} that '{ParallelBodies.StarterName(start)}' starts and the hold does not wait for: " +
                    $"it runs on another thread and may run after '{lockName}' is released, with nothing holding it)",
                $"give the work {wrapper} instead of the core, which takes the lock itself, or take the lock in the work around the call " +
                    $"('using var scope = {lockName}.{guard.Capabilities.SuggestedAcquire(core.IsRead)};' before it){ParallelBodies.WaitAdvice(start)}"));
            return;
        }
    }

    /// <summary>
    /// A guarded core, sync or async (<c>DepositCore(1)</c>, <c>await DepositCoreAsync(1)</c>), called where its lock is not
    /// held: its body touches the guarded state as if the caller held the lock, so the call is that state used without
    /// it. Judged as an access of the state would be there (a guarded method of the lock, or a scope of it on the same
    /// object). A core given by name to a method that runs it inline (<c>items.ForEach(AddCore)</c>,
    /// <c>items.Sum(PriceCore)</c>, <see cref="InlineDelegates.RunOf"/>), or called in a lambda run so, is called there
    /// too. Left to the rules made for them: calls in a constructor or initializer (the object is not shared yet; its
    /// parallel loops are <see cref="AnalyzeBodyRacingInConstruction"/>), in a local function or a lambda not run inline
    /// (kept, dropped work: <see cref="AnalyzeCoreInDroppedWork"/>), a core given by name to be run elsewhere, cores of a
    /// keyed lock, held one key at a time, and a guarded local function, which is LSM0016 already.
    /// </summary>
    private static void AnalyzeCoreCall(OperationAnalysisContext context, LockFacts facts)
    {
        string? runner = null;
        var (call, method, callInstance) = context.Operation switch
        {
            IInvocationOperation invocation => ((IOperation)invocation, invocation.TargetMethod, invocation.Instance),
            IMethodReferenceOperation reference when InlineDelegates.RunOf(reference, out runner) == DelegateRun.Inline =>
                (reference, reference.Method, reference.Instance),
            _ => (null!, null, null),
        };
        if (method is null ||
            method.MethodKind != MethodKind.Ordinary ||
            facts.GuardOf(method) is not { } core ||
            (core.Capabilities & LockCapabilities.Keyed) != 0 ||
            IsConstruction(context.ContainingSymbol) ||
            OperationFacts.IsObjectUnderConstruction(callInstance) ||
            InAFunctionNotRunInline(call))
        {
            return;
        }

        var instance = core.LockMember.IsStatic ? null : callInstance;
        if (HeldLocks.HeldByMethodOrScopeAt(call, core, instance, context.ContainingSymbol, facts) ||
            (core.IsRead && HeldLocks.HeldForReadingByAHelpersScope(call, core.LockMember, instance, facts)))
        {
            return;
        }

        string? lockName = WritableLock(core, callInstance, context.ContainingSymbol, context.Compilation);

        // A core given by name is run by the method it is given to: its wrapper is given in its place. Where the lock
        // cannot be named from here, the wrapper alone is the advice.
        // Called on another object (other.DepositCoreAsync(1)), the wrapper is that object's: named through the receiver.
        string? wrapperName = facts.WrapperNameOf(method) is { } generated ? Receiver(callInstance) + generated : null;
        string wrapper = wrapperName is { } name
            ? (runner is not null ? $"give '{runner}' its wrapper '{name}' in its place" : $"{(core.Capabilities.IsAsync() ? "await" : "call")} its wrapper '{name}'") + ", which takes the lock"
            : string.Empty;
        context.ReportDiagnostic(Diagnostic.Create(
            DiagnosticDescriptors.GuardedMemberAccessedWithoutLock,
            call.Syntax.GetLocation(),
            method.Name,
            core.LockMember.Name,
            runner is null ? "called" : $"run by '{runner}'",
            " (a guarded core uses the state it guards as if its caller held the lock)",
            lockName is null && wrapperName is not null
                ? wrapper
                : (wrapper.Length > 0 ? wrapper + ", or " : string.Empty) + HoldTheLock(core, core.IsRead, lockName, call, context.ContainingSymbol)));
    }

    // The receiver of a call as written, with its dot ("other.", "items[0]?."), to name a member on that object; empty
    // for this object (implicit or 'this.') and for a static call.
    private static string Receiver(IOperation? instance) => instance switch
    {
        IConditionalAccessInstanceOperation conditional => ConditionalReceiver(conditional) is { } receiver ? receiver.Syntax + "?." : string.Empty,
        null or { IsImplicit: true } => string.Empty,
        _ when OperationFacts.Unwrap(instance) is IInstanceReferenceOperation => string.Empty,
        _ => instance.Syntax + ".",
    };

    // The receiver a '?.' tests, for the instance that stands for it in the call.
    private static IOperation? ConditionalReceiver(IConditionalAccessInstanceOperation instance)
    {
        for (var parent = instance.Parent; parent is not null; parent = parent.Parent)
        {
            if (parent is IConditionalAccessOperation access)
            {
                return access.Operation;
            }
        }

        return null;
    }

    // Whether a local function, or a lambda not run inline where it is made, is around the operation: code whose holds
    // are judged where it runs. A lambda a list or an immediate query runs before it returns is the caller's code.
    private static bool InAFunctionNotRunInline(IOperation operation)
    {
        for (var parent = operation.Parent; parent is not null; parent = parent.Parent)
        {
            if (parent is ILocalFunctionOperation ||
                (parent is IAnonymousFunctionOperation lambda && InlineDelegates.RunOf(lambda, out _) != DelegateRun.Inline))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// What starts the dropped work a core runs in: given by name to the work itself (<c>_ = Task.Run(BumpCore)</c>), or to
    /// a method the work runs inline (<c>_ = Task.Run(() =&gt; items.ForEach(BumpCore))</c>, where the method group counts as
    /// a lambda in its place would), or called from the work (<c>_ = Task.Run(() =&gt; BumpCore())</c>).
    /// </summary>
    private static IOperation? DroppedWorkRunningCore(IOperation site, bool byName, System.Func<IOperation, IOperation, bool> takesTheLockIn) =>
        !byName ? ParallelBodies.DroppedWorkAround(site, takesTheLockIn)
        : ParallelBodies.DroppedStartOf(site) ??
            (InlineDelegates.RunOf(site, out _) == DelegateRun.Inline ? ParallelBodies.DroppedWorkAround(site, takesTheLockIn) : null);

    /// <summary>
    /// The advice LSM0020 ends with for code that touches guarded state at <paramref name="at"/>: hold its lock there, as
    /// a guarded method or a using scope. An async lock is taken by awaiting, which synchronous code cannot write: there
    /// the advice says what that code is and how to make it async, or to move the use (<see cref="SynchronousCode"/>).
    /// </summary>
    private static string HoldTheLock(Guard guard, bool read, string? lockName, IOperation at, ISymbol containingSymbol)
    {
        string attribute = $"[Guarded(Lock = nameof({guard.LockMember.Name}))]";
        string owner = guard.LockMember.ContainingType.Name;
        if (lockName is null)
        {
            // No scope this code could write takes that object's lock: a method of the lock's type does.
            return $"use it from a {attribute} method of '{owner}', through its wrapper{(guard.LockMember.IsStatic ? string.Empty : " called on that object")}";
        }

        // Code of another type cannot name the lock in an attribute of its own methods: the method is the lock's type's.
        string method = (containingSymbol as INamedTypeSymbol ?? containingSymbol.ContainingType) is { } within && InsideOf(within, guard.LockMember.ContainingType)
            ? "method"
            : $"method of '{owner}'";

        string scope = $"'using var scope = {guard.Capabilities.SuggestedAwait()}{lockName}.{guard.Capabilities.SuggestedAcquire(read)};'";
        return guard.Capabilities.IsAsync() && SynchronousCode.Where(at, containingSymbol) is { } synchronous
            ? $"use it from an async {attribute} {method}, or inside {scope} in async code ('{guard.LockMember.Name}' is an async lock, taken by awaiting, and {synchronous})"
            : $"use it from a {attribute} {method}, or inside {scope}";
    }

    private static void Analyze(OperationAnalysisContext context, LockFacts facts)
    {
        var access = (IMemberReferenceOperation)context.Operation;
        if (facts.GuardOf(access.Member) is not { } guard ||
            OperationFacts.IsInNameof(access))
        {
            return;
        }

        // A delegate kept in a local or a private field and only invoked runs where it is invoked: the holds there count.
        IInvocationOperation? uncheckedTry = null;
        var kept = IsConstruction(context.ContainingSymbol) && ParallelBodies.RacingInConstruction(access) is not null ? null : HeldLocks.KeptAndInvoked(access);
        if (kept is { Lambda.Symbol.IsAsync: true } && !guard.Capabilities.IsAsync())
        {
            // An async lambda runs at its invocation only up to its first await, so a synchronous hold there may have
            // ended when the rest runs (an async lock's flow keeps holding): judged where it is made, as any lambda.
            kept = null;
        }

        if (kept is { } delegateKept && !HeldLocks.HeldByScopeInside(access, guard.LockMember, access.Instance, delegateKept.Lambda, facts) &&
            delegateKept.Sites.FirstOrDefault(site => !HeldLocks.HeldAtInvocation(site, access, guard, facts)) is { } unheld)
        {
            ReportKeptAndInvoked(context, access, guard, delegateKept.Lambda, unheld);
            return;
        }

        if (kept is not null || HeldLocks.IsHeld(access, guard, context.ContainingSymbol, facts, out uncheckedTry))
        {
            if (StoredOutsideItsHold(access, guard, context.ContainingSymbol, facts) is { } stored)
            {
                ReportStored(context, access, guard, stored.How);
            }
            else if (!ReportDroppedWork(context, access, guard, facts))
            {
                ReportQueryRunWithoutLock(context, access, guard, facts);
            }

            return;
        }

        // A helper's read scope (using var s = TakeRates(); where it returns _rw.AcquireRead()) holds for a plain read in
        // its body; a write there stays reported, since LSM0021 would not see that scope.
        if (uncheckedTry is null && OnlyReads(access) && OperationFacts.EnclosingFunction(access) is null &&
            HeldLocks.HeldForReadingByAHelpersScope(access, guard.LockMember, access.Instance, facts))
        {
            return;
        }

        string how = OperationFacts.IsWrite(access) ? "written" : "read";
        var (problem, fix) = (string.Empty, string.Empty);
        if (uncheckedTry is not null)
        {
            (problem, fix) = UncheckedTry(uncheckedTry);
        }
        else if (IsConstruction(context.ContainingSymbol) && ParallelBodies.RacingInConstruction(access) is { } loop)
        {
            how = ParallelBodies.WriteOf(access)!;
            problem = $" (in a body of '{loop.TargetMethod.ContainingType.Name}.{loop.TargetMethod.Name}', which runs on several threads at once: a constructor holds the object's state for its own thread only)";
            fix = "use Interlocked or a per-body local combined after the loop, or ";
        }

        context.ReportDiagnostic(Diagnostic.Create(
            DiagnosticDescriptors.GuardedMemberAccessedWithoutLock,
            access.Syntax.GetLocation(),
            access.Member.Name,
            guard.LockMember.Name,
            how,
            problem,
            fix + HoldTheLock(guard, OnlyReads(access), LockOf(access, guard, context), access, context.ContainingSymbol)));
    }

    /// <summary>
    /// A synchronous lock held around a lambda of work the hold does not wait for (<c>_ = Task.Run(() =&gt; _n++)</c>,
    /// <see cref="ParallelBodies.DroppedWorkAround"/>) is not held in it: the work runs on another thread, maybe after the
    /// release. An async lock's hold is the flow's, which the work shares, so it is left alone, as is work whose own code
    /// takes the lock. Reports LSM0020 and returns true for such an access.
    /// </summary>
    private static bool ReportDroppedWork(OperationAnalysisContext context, IMemberReferenceOperation access, Guard guard, LockFacts facts)
    {
        if (DroppedWorkUnderAHold(access, guard, context.ContainingSymbol, facts) is not { } start)
        {
            return false;
        }

        // A write in a parallel body in such work is reported (as LSM0020) where the race of its bodies is said too.
        if (ParallelBodies.WriteOf(access) is not null && !ParallelBodies.IsAtomic(access) &&
            ParallelBodyWriteAnalyzer.StartedUnwaited(access, guard, context.ContainingSymbol, facts))
        {
            return true;
        }

        string lockName = LockOf(access, guard, context) ?? guard.LockMember.Name;
        // A write of a keyed lock's state under a stripe is LSM0057's mistake too: a stripe in the work would not fix it.
        string fix = (guard.Capabilities & LockCapabilities.Keyed) != 0 && ParallelBodies.WriteOf(access) is not null
            ? ParallelBodyWriteAnalyzer.KeyedAdvice(access.Member.Name, guard)
            : $"take the lock in the work ('using var scope = {lockName}.{guard.Capabilities.SuggestedAcquire(OnlyReads(access))};' at the start of the {(InALocalFunction(access) ? "local function" : "lambda")}){ParallelBodies.WaitAdvice(start)}";
        context.ReportDiagnostic(Diagnostic.Create(
            DiagnosticDescriptors.GuardedMemberAccessedWithoutLock,
            access.Syntax.GetLocation(),
            access.Member.Name,
            guard.LockMember.Name,
            HowWorkTouches(access),
            $" (in work that '{ParallelBodies.StarterName(start)}' starts and the hold does not wait for: it runs on another thread and may run after '{guard.LockMember.Name}' is released, with nothing holding it)",
            fix));
        return true;
    }

    /// <summary>
    /// A lambda stored to run later (<see cref="StoredDelegates"/>: <c>_onChange = () =&gt; _count++;</c> in the hold) where the
    /// hold around the place it is made counts for the access: it runs when it is invoked, maybe after the hold, so nothing
    /// holds the lock there unless the lambda takes it itself. Null otherwise (and for work a synchronous hold does not wait
    /// for, which <see cref="ReportDroppedWork"/> reports).
    /// </summary>
    internal static (IAnonymousFunctionOperation Lambda, string How)? StoredOutsideItsHold(IMemberReferenceOperation access, Guard guard, ISymbol containingSymbol, LockFacts facts) =>
        StoredDelegates.StoredAround(access, guard, containingSymbol, facts) is { } stored &&
        DroppedWorkUnderAHold(access, guard, containingSymbol, facts) is null
            ? stored
            : null;

    /// <summary>
    /// A lambda kept in a local or a private field and only invoked (<see cref="HeldLocks.KeptAndInvoked(IMemberReferenceOperation)"/>)
    /// that is invoked at <paramref name="site"/>, where the lock is not held: it runs there, whatever holds where it is made.
    /// </summary>
    private static void ReportKeptAndInvoked(OperationAnalysisContext context, IMemberReferenceOperation access, Guard guard, IAnonymousFunctionOperation lambda, IInvocationOperation site)
    {
        string keptIn = InlineDelegates.KeptIn(lambda)?.Name ?? "a local";
        string invoker = HeldLocks.MemberAt(site) is { } member ? $"in '{SymbolNames.Display(member)}'" : "in an initializer";
        ReportInLambda(
            context, access, guard,
            $" (in a lambda kept in '{keptIn}', which runs where it is invoked: {invoker}, where the lock is not held)",
            "take the lock around that invocation, or in the lambda");
    }

    private static void ReportStored(OperationAnalysisContext context, IMemberReferenceOperation access, Guard guard, string how) =>
        ReportInLambda(
            context, access, guard,
            $" (in a lambda {how} where the lock is held: it runs when it is invoked, maybe after '{guard.LockMember.Name}' is released, so the hold where it is made does not count)",
            "take the lock in the lambda");

    /// <summary>LSM0020 for guarded state in a lambda that runs away from the hold: <paramref name="where"/> says why, <paramref name="take"/> starts the fix.</summary>
    private static void ReportInLambda(OperationAnalysisContext context, IMemberReferenceOperation access, Guard guard, string where, string take)
    {
        string lockName = LockOf(access, guard, context) ?? guard.LockMember.Name;
        string scope = $"'using var scope = {guard.Capabilities.SuggestedAwait()}{lockName}.{guard.Capabilities.SuggestedAcquire(OnlyReads(access))};'";
        string fix = guard.Capabilities.IsAsync() && SynchronousCode.Where(access, context.ContainingSymbol) is { } synchronous
            ? $"{take} ({scope} at its start), made async: '{guard.LockMember.Name}' is an async lock, taken by awaiting, and {synchronous}"
            : $"{take} ({scope} at its start)";
        context.ReportDiagnostic(Diagnostic.Create(
            DiagnosticDescriptors.GuardedMemberAccessedWithoutLock,
            access.Syntax.GetLocation(),
            access.Member.Name,
            guard.LockMember.Name,
            OperationFacts.IsWrite(access) ? "written" : "read",
            where,
            fix));
    }

    // How a message on work the hold does not wait for says the state is touched: written, changed in place by a call on a
    // System.Collections.Generic collection ("changed by 'Add'", as the parallel-body reports say), or read.
    private static string HowWorkTouches(IMemberReferenceOperation access) =>
        OperationFacts.IsWrite(access) ? "written" : ParallelBodies.WriteOf(access) ?? "read";

    // Whether the innermost function around the access is a local function (given to the work by name, or called from it).
    private static bool InALocalFunction(IOperation access)
    {
        for (var parent = access.Parent; parent is not null; parent = parent.Parent)
        {
            if (parent is ILocalFunctionOperation or IAnonymousFunctionOperation)
            {
                return parent is ILocalFunctionOperation;
            }
        }

        return false;
    }

    /// <summary>
    /// What starts the work <paramref name="access"/> runs in (<see cref="ParallelBodies.DroppedWorkAround"/>: a call, a
    /// <c>new Timer(…)</c>, an <c>Elapsed +=</c>), when a synchronous lock's hold around it (a guarded method or a scope
    /// outside the work) does not wait for it; null when the lock is async, the work takes the lock itself, it is a thread
    /// the hold joins, or nothing holds it (then plain LSM0020 applies).
    /// </summary>
    internal static IOperation? DroppedWorkUnderAHold(IMemberReferenceOperation access, Guard guard, ISymbol containingSymbol, LockFacts facts) =>
        guard.Capabilities.IsAsync() ||
        ParallelBodies.DroppedWorkAround(access, (at, work) => HeldLocks.HeldByScopeInside(at, guard.LockMember, access.Instance, work, facts)) is not { } start ||
        !HeldLocks.HeldByMethodOrScope(access, guard, containingSymbol, facts) ||
        JoinedInTheHold(start, guard, access.Instance, containingSymbol, facts)
            ? null
            : start;

    // A thread kept in a local and joined after its start where the lock is still held (`t.Start(); t.Join();` in the
    // scope, or anywhere in a guarded method) runs in the hold; joined only after the hold, or never, it does not.
    private static bool JoinedInTheHold(IOperation start, Guard guard, IOperation? instance, ISymbol containingSymbol, LockFacts facts) =>
        ParallelBodies.JoinsOf(start).Any(join => HeldLocks.HeldByMethodOrScopeAt(join, guard, instance, containingSymbol, facts));

    // A constructor or an initializer, which LSM0020 lets write the object's state without the lock.
    private static bool IsConstruction(ISymbol symbol) =>
        symbol is IFieldSymbol or IPropertySymbol or IMethodSymbol { MethodKind: MethodKind.Constructor or MethodKind.StaticConstructor } or IMethodSymbol { MethodKind: MethodKind.PropertySet, IsInitOnly: true };

    /// <summary>
    /// The lock as the advice names it: the guard's lock member, of the object whose state is accessed when that is
    /// not this one and is a plain local, parameter, or field or property chain (<c>other._lock</c>, <c>_parent._lock</c>);
    /// null where none can be written there (<see cref="WritableLock"/>).
    /// </summary>
    private static string? LockOf(IMemberReferenceOperation access, Guard guard, OperationAnalysisContext context) =>
        WritableLock(guard, access.Instance, context.ContainingSymbol, context.Compilation);

    /// <summary>
    /// The lock as the advice of another analyzer names it for state of the object <paramref name="instance"/> denotes
    /// (<see cref="WritableLock"/>), or the lock member's name where none can be written, as this analyzer's advice does.
    /// </summary>
    internal static string AdviceLock(Guard guard, IOperation? instance, OperationAnalysisContext context) =>
        WritableLock(guard, instance, context.ContainingSymbol, context.Compilation) ?? guard.LockMember.Name;

    /// <summary>
    /// The guard's lock as code in <paramref name="containingSymbol"/> can write it, through the receiver it used
    /// (<c>other._lock</c> for <c>other._balance</c>); null where no such expression compiles or takes that object's
    /// lock: the lock is not accessible there, the code is static and the receiver is none, or the receiver is not a
    /// plain local, parameter, field or property chain to repeat (<c>all[i + 1]</c>, <c>Find(a)</c>, <c>other?.</c>,
    /// which may be null).
    /// </summary>
    private static string? WritableLock(Guard guard, IOperation? instance, ISymbol containingSymbol, Compilation compilation)
    {
        var lockMember = guard.LockMember;
        var within = containingSymbol as INamedTypeSymbol ?? containingSymbol.ContainingType;
        if (within is null)
        {
            return null;
        }

        // A static lock of another type, through its type's name where that alone names it (not nested, not generic).
        if (lockMember.IsStatic && !InsideOf(within, lockMember.ContainingType))
        {
            var type = lockMember.ContainingType;
            return type.ContainingType is null && !type.IsGenericType && compilation.IsSymbolAccessibleWithin(lockMember, within)
                ? type.Name + "." + lockMember.Name
                : null;
        }

        if (lockMember.IsStatic || instance is null || OperationFacts.IsThis(instance))
        {
            return (lockMember.IsStatic || !containingSymbol.IsStatic) && InsideOf(within, lockMember.ContainingType) &&
                compilation.IsSymbolAccessibleWithin(lockMember, within)
                ? lockMember.Name
                : null;
        }

        return OperationFacts.Unwrap(instance) is { } receiver && IsPlainReceiver(receiver) &&
            compilation.IsSymbolAccessibleWithin(lockMember, within, receiver.Type)
            ? receiver.Syntax.ToString() + "." + lockMember.Name
            : null;
    }

    // Whether code of `within` names a member of `owner` by its name alone: the same type, one nested in it, or one
    // derived from it (where the member is accessible to it).
    private static bool InsideOf(INamedTypeSymbol within, INamedTypeSymbol owner)
    {
        for (var type = within; type is not null; type = type.ContainingType)
        {
            for (var baseType = type; baseType is not null; baseType = baseType.BaseType)
            {
                if (SymbolEqualityComparer.Default.Equals(baseType.OriginalDefinition, owner.OriginalDefinition))
                {
                    return true;
                }
            }
        }

        return false;
    }

    private static bool IsPlainReceiver(IOperation receiver) => receiver switch
    {
        ILocalReferenceOperation or IParameterReferenceOperation => true,
        IInstanceReferenceOperation { ReferenceKind: InstanceReferenceKind.ContainingTypeInstance } => true,
        IFieldReferenceOperation { Instance: var instance } => instance is null || IsPlainReceiver(OperationFacts.Unwrap(instance)!),
        IPropertyReferenceOperation { Arguments.Length: 0, Instance: var instance } => instance is null || IsPlainReceiver(OperationFacts.Unwrap(instance)!),
        _ => false,
    };

    /// <summary>
    /// An access made while the lock is held, by a deferred query kept in a local (<c>q = _items.Where(…)</c>): the
    /// query reads it where it is enumerated, so each use of the local where the lock is not held is reported there.
    /// Any use counts (<c>foreach</c>, <c>Sum()</c>, <c>string.Join</c>, <c>[.. q]</c>, passing it on): the query is
    /// made to be enumerated, and where it goes from there is not followed. A local assigned more than once, or by
    /// reference, is left alone: the use may see another value.
    /// </summary>
    private static void ReportQueryRunWithoutLock(OperationAnalysisContext context, IMemberReferenceOperation access, Guard guard, LockFacts facts)
    {
        if (InlineDelegates.LocalKeepingQueryOf(access) is not { RefKind: RefKind.None } local)
        {
            return;
        }

        int assignments = 0;
        var uses = new List<ILocalReferenceOperation>();
        foreach (var operation in OperationFacts.Root(access).Descendants())
        {
            if (operation is IVariableDeclaratorOperation { Initializer: not null } declarator && SymbolEqualityComparer.Default.Equals(declarator.Symbol, local))
            {
                assignments++;
            }
            else if (operation is ILocalReferenceOperation reference && SymbolEqualityComparer.Default.Equals(reference.Local, local))
            {
                if (reference.Parent is ISimpleAssignmentOperation assignment && assignment.Target == reference)
                {
                    assignments++;
                }
                else if (OperationFacts.IsWrite(reference))
                {
                    return;
                }
                else
                {
                    uses.Add(reference);
                }
            }
        }

        if (assignments != 1)
        {
            return;
        }

        foreach (var use in uses)
        {
            if (OperationFacts.IsInNameof(use) || HeldLocks.IsHeldAt(use, access, guard, context.ContainingSymbol, facts))
            {
                continue;
            }

            context.ReportDiagnostic(Diagnostic.Create(
                DiagnosticDescriptors.GuardedMemberAccessedWithoutLock,
                use.Syntax.GetLocation(),
                access.Member.Name,
                guard.LockMember.Name,
                "read",
                $" (through the deferred query kept in '{local.Name}', made while the lock was held but run where it is enumerated)",
                $"enumerate the query where the lock is held (materialize it there: '{local.Name}.ToList()'), or " + HoldTheLock(guard, read: true, LockOf(access, guard, context), use, context.ContainingSymbol)));
        }
    }

    /// <summary>
    /// Whether the access only reads, so a read-write lock's read mode is enough: not written nor changed in place
    /// (<see cref="OperationFacts.IsWriteOrMutation"/>), and not the receiver of a method call, which may change it
    /// (<c>_items.Add(x)</c>).
    /// </summary>
    private static bool OnlyReads(IMemberReferenceOperation access) =>
        !OperationFacts.IsWriteOrMutation(access) &&
        !(access.Parent is IInvocationOperation call && call.Instance == access) &&
        !(access.Parent is IConversionOperation { IsImplicit: true, Parent: IInvocationOperation converted } && converted.Instance == access.Parent);

    /// <summary>What LSM0020 adds when the access is in the scope of a TryAcquire… whose success nothing checks there.</summary>
    private static (string Problem, string Fix) UncheckedTry(IInvocationOperation acquire)
    {
        string name = acquire.TargetMethod.Name;
        string problem = $" (the scope of '{name}' holds it only if the lock was taken, and this code also runs when it was not)";
        string call = acquire.Instance is { IsImplicit: false } receiver ? receiver.Syntax + "." + name : name;
        if (acquire.TargetMethod.ReturnType.SpecialType == SpecialType.System_Boolean)
        {
            return (problem, $"use it only where '{name}' returned true ('if ({call}(…, out var scope)) {{ using (scope) {{ … }} }}'), or ");
        }

        if (OperationFacts.LocalDeclaredBy(acquire) is { } local)
        {
            return (problem, $"check '{local.Name}.IsAcquired' first ('if (!{local.Name}.IsAcquired) return;'), or ");
        }

        string awaited = acquire.Parent is IAwaitOperation || acquire.Parent?.Parent is IAwaitOperation ? "await " : string.Empty;
        return (problem, $"keep the scope in a local and check it first ('using var scope = {awaited}{call}(…); if (!scope.IsAcquired) return;'), or ");
    }
}
