using System.Collections.Immutable;
using System.Linq;
using Locksmith.Generators.Diagnostics.Analyzers.Support;
using Locksmith.Generators.Symbols;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace Locksmith.Generators.Diagnostics.Analyzers;

/// <summary>
/// LSM0056: guarded state written (as LSM0021 counts writes, or changed by a call such as <c>_items.Add(i)</c> on a
/// System.Collections.Generic collection) in a lambda or anonymous method given to
/// <c>Parallel.For</c>, <c>ForEach</c>, <c>ForAsync</c>, <c>ForEachAsync</c> or <c>Invoke</c>, where the lock is held around the loop (a
/// scope, a guarded method): LSM0020 counts the body as holding it, but its runs race each other. A body given by name
/// is read as that lambda: a local function (given to the loop, or called from a body of it), or a method of this type
/// on <c>this</c>, whose one body is read from the method group (reported there; not one an override may replace,
/// <see cref="BodiesByName.IsOwnCallee"/>); so is a method of this type called
/// directly from a body (<c>i =&gt; Step(i)</c>, reported at the call; one level), and a delegate kept in a local assigned
/// once and given to the loop (<c>Action&lt;int&gt; body = i =&gt; _n++; Parallel.For(0, n, body);</c>). A body that takes the
/// lock itself, a write through <c>Interlocked</c> or <c>Volatile</c>, and a constructor's loop (which holds no lock: a
/// write in its bodies is LSM0020's, <see cref="ParallelBodies.RacingInConstruction"/>) are not reported. A loop in work
/// the hold does not wait for (<c>_ = Task.Run(() =&gt; Parallel.For(…))</c>, <see cref="ParallelBodies.StartedUnwaited"/>)
/// may run after the hold: its write is reported here as LSM0020, written without the lock.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class ParallelBodyWriteAnalyzer : DiagnosticAnalyzer
{
    /// <inheritdoc/>
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } =
        ImmutableArray.Create(DiagnosticDescriptors.GuardedStateWrittenInAParallelBody, DiagnosticDescriptors.GuardedMemberAccessedWithoutLock);

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
            start.RegisterOperationAction(operation => AnalyzeMethodGroup(operation, facts), OperationKind.MethodReference);
            start.RegisterOperationAction(operation => AnalyzeCall(operation, facts), OperationKind.Invocation);
        });
    }

    private static void Analyze(OperationAnalysisContext context, LockFacts facts)
    {
        var access = (IMemberReferenceOperation)context.Operation;
        if (facts.GuardOf(access.Member) is not { } guard ||
            ParallelBodies.WriteOf(access) is not { } written ||
            ParallelBodies.IsAtomic(access) ||
            ParallelBodies.IsOwnSlot(access) ||
            GuardedMemberAccessAnalyzer.StoredOutsideItsHold(access, guard, context.ContainingSymbol, facts) is not null ||
            RacingLoop(access, access.Instance, guard, context.ContainingSymbol, facts, depth: 0) is not { } loop)
        {
            // A loop in a lambda stored to run later is not under the hold where the lambda is made: LSM0020 says so.
            return;
        }

        // Under a stripe, LSM0057 says what is wrong: a stripe taken in the body, as LSM0056 would advise, is not enough.
        if (StartedUnwaited(loop, guard, access.Instance, context.ContainingSymbol, facts) is null &&
            KeyedHoldWriteAnalyzer.WrittenUnderAHold(access, guard, context.ContainingSymbol, facts) is not null)
        {
            return;
        }

        Report(context, access.Syntax.GetLocation(), access.Member.Name, loop, guard, written, access.Instance, facts);
    }

    /// <summary>
    /// A method of this type given by name as the body (<c>Parallel.For(0, n, BumpCore)</c>, or through a local it is kept
    /// in: <c>Action&lt;int&gt; body = BumpCore;</c>): its body runs as a lambda's there would, so the first guarded member
    /// of this object it writes where it does not take the lock itself is reported, at the method group.
    /// </summary>
    private static void AnalyzeMethodGroup(OperationAnalysisContext context, LockFacts facts)
    {
        var reference = (IMethodReferenceOperation)context.Operation;
        var method = reference.Method;
        IOperation? site = reference;
        if (!BodiesByName.IsOwnCallee(method, reference.Instance, context.ContainingSymbol) ||
            (InlineDelegates.ParallelCallOf(reference) ?? ParallelBodies.ParallelCallThroughLocal(reference, out site)) is not { } loop ||
            site is null ||
            reference.SemanticModel is not { } model ||
            BodiesByName.BodyOf(method, model, context.CancellationToken) is not { } body)
        {
            return;
        }

        var at = site;
        if (ParallelBodies.FirstRacingWrite(body, (access, guard) =>
                HeldLocks.HeldByMethodOrScopeAt(at, guard, access.Member.IsStatic ? null : reference.Instance, context.ContainingSymbol, facts), facts) is { } write)
        {
            Report(context, reference.Syntax.GetLocation(), write.Access.Member.Name, loop, write.Guard, write.Written + " (in '" + method.Name + "', given as the body)",
                write.Access.Member.IsStatic ? null : reference.Instance, facts);
        }
    }

    /// <summary>
    /// A method of this type called directly from a parallel body (<c>Parallel.For(0, n, i =&gt; Step(i))</c>), on
    /// <c>this</c> or static: its body runs in each run, as <c>Parallel.For(0, n, Step)</c>'s would, so the first guarded
    /// member of this object it writes where it does not take the lock itself is reported, at the call, when the caller
    /// holds the lock around the loop and the body does not take it around the call. One level: calls in the method are
    /// not followed. A wrapper takes the lock itself (calling one under the hold is LSM0023).
    /// </summary>
    private static void AnalyzeCall(OperationAnalysisContext context, LockFacts facts)
    {
        var call = (IInvocationOperation)context.Operation;
        var method = call.TargetMethod;
        if (!BodiesByName.IsOwnCallee(method, call.Instance, context.ContainingSymbol) ||
            facts.WrapperOf(method) is not null ||
            ParallelBodies.LoopAround(call) is null ||
            call.SemanticModel is not { } model ||
            BodiesByName.BodyOf(method, model, context.CancellationToken) is not { } body)
        {
            return;
        }

        IInvocationOperation? loop = null;
        if (ParallelBodies.FirstRacingWrite(body, (access, guard) =>
                (loop = RacingLoop(call, access.Member.IsStatic ? null : call.Instance, guard, context.ContainingSymbol, facts, depth: 0)) is not null, facts) is { } write)
        {
            Report(context, call.Syntax.GetLocation(), write.Access.Member.Name, loop!, write.Guard, write.Written + " (in '" + method.Name + "', called from the body)",
                write.Access.Member.IsStatic ? null : call.Instance, facts);
        }
    }

    /// <summary>
    /// Whether <paramref name="access"/> is a racing write in a body of a parallel loop in work the hold does not wait for,
    /// which this analyzer reports as LSM0020 (<see cref="ParallelBodies.StartedUnwaited"/>).
    /// </summary>
    internal static bool StartedUnwaited(IMemberReferenceOperation access, Guard guard, ISymbol containingSymbol, LockFacts facts) =>
        RacingLoop(access, access.Instance, guard, containingSymbol, facts, depth: 0) is { } loop &&
        StartedUnwaited(loop, guard, access.Instance, containingSymbol, facts) is not null;

    // What starts the loop as work the hold does not wait for, a thread joined where the hold is still taken excepted.
    private static IOperation? StartedUnwaited(IInvocationOperation loop, Guard guard, IOperation? instance, ISymbol containingSymbol, LockFacts facts) =>
        ParallelBodies.StartedUnwaited(loop, guard.LockMember, instance, at => HeldLocks.HeldByMethodOrScopeAt(at, guard, instance, containingSymbol, facts), facts);

    /// <summary>
    /// LSM0056 for a write that races under the hold around the loop; LSM0020 when the loop is in work the hold does not
    /// wait for (<see cref="ParallelBodies.StartedUnwaited"/>): its bodies may run after the hold, with no lock held at all,
    /// so the hold is not "around the loop" and the plain LSM0020 of a write without the lock is what is true.
    /// </summary>
    private static void Report(
        OperationAnalysisContext context, Location location, string member, IInvocationOperation loop, Guard guard, string written, IOperation? instance, LockFacts facts)
    {
        string loopName = loop.TargetMethod.ContainingType.Name + "." + loop.TargetMethod.Name;
        // The advice names the lock of the object whose state is written (other._lock), as LSM0020's other advice does.
        string receiverLock = GuardedMemberAccessAnalyzer.AdviceLock(guard, instance, context);
        if (StartedUnwaited(loop, guard, instance, context.ContainingSymbol, facts) is { } start)
        {
            string lockName = guard.LockMember.Name;
            string work = start == loop
                ? $"in a body of '{loopName}', whose task the hold does not wait for"
                : $"in a body of '{loopName}', in work that '{ParallelBodies.StarterName(start)}' starts and the hold does not wait for";
            context.ReportDiagnostic(Diagnostic.Create(
                DiagnosticDescriptors.GuardedMemberAccessedWithoutLock,
                location,
                member,
                lockName,
                written,
                $" ({work}: the bodies may run after '{lockName}' is released, with nothing holding it, and race each other)",
                (guard.Capabilities & LockCapabilities.Keyed) != 0
                    ? KeyedAdvice(member, guard)
                    : $"take '{receiverLock}' in the body ({TakeInTheBody(loop, guard, receiverLock, loopName, "there")}), " +
                        "or use an AtomicCounter, a StripedCounter, Interlocked, or a per-body local combined after the loop"));
            return;
        }

        context.ReportDiagnostic(Diagnostic.Create(
            DiagnosticDescriptors.GuardedStateWrittenInAParallelBody,
            location,
            member,
            loopName,
            guard.LockMember.Name,
            TakeInTheBody(loop, guard, receiverLock, loopName),
            written,
            HeldAsCore(context.ContainingSymbol, loop, guard, instance, facts) is { } core
                ? $"'{SymbolNames.Display(core)}' holds '{guard.LockMember.Name}' as a guarded core, whose wrappers hold it around the whole call: run the loop in a method that does not hold it"
                : $"release '{guard.LockMember.Name}' before the loop"));
    }

    /// <summary>
    /// The guarded method (core) whose own hold is the one around the loop, with no using scope of the lock there: it
    /// cannot release the lock before the loop, its wrappers hold it for the whole call. Null otherwise.
    /// </summary>
    private static IMethodSymbol? HeldAsCore(ISymbol containingSymbol, IInvocationOperation loop, Guard guard, IOperation? instance, LockFacts facts)
    {
        if (containingSymbol is not IMethodSymbol method || HeldLocks.HeldByScopeAt(loop, guard.LockMember, instance, acrossLambdas: guard.Capabilities.IsAsync()))
        {
            return null;
        }

        var held = (LockMembers.ForwardedTo(guard.LockMember) ?? guard.LockMember).OriginalDefinition;
        return facts.LocksHeldBy(method).Any(use => SymbolEqualityComparer.Default.Equals((LockMembers.ForwardedTo(use.Member) ?? use.Member).OriginalDefinition, held))
            ? method
            : null;
    }

    // The scope to take in each body (with `where` after it, if given); for an async lock in a loop whose bodies are
    // synchronous (Parallel.For), which cannot await it, the loop whose bodies can, with the scope in them.
    private static string TakeInTheBody(IInvocationOperation loop, Guard guard, string lockName, string loopName, string? where = null)
    {
        string scope = $"'using var scope = {guard.Capabilities.SuggestedAwait()}{lockName}.{guard.Capabilities.SuggestedAcquire()};'";
        return guard.Capabilities.IsAsync() && SynchronousCode.AsyncLoopFor(loop.TargetMethod) is { } asyncLoop
            ? $"a body of '{loopName}' is synchronous and cannot await: use {asyncLoop}, {scope} in it"
            : where is null ? scope : scope + " " + where;
    }

    // A stripe taken in the body would not guard one piece of state shared by every key (LSM0057), so a keyed lock gets
    // LSM0057's advice instead.
    internal static string KeyedAdvice(string member, Guard guard) =>
        $"a stripe of '{guard.LockMember.Name}' would not guard '{member}', one piece of state for every key: guard '{member}' with a lock that is not keyed " +
        $"({(guard.Capabilities.IsAsync() ? "an AsyncExclusiveLock or AsyncReadWriteLock" : "an ExclusiveLock or ReadWriteLock")}) and take it there, " +
        "or keep per-key state in a ConcurrentDictionary without [Guarded] and take the key's stripe around each read-modify-write of it";

    /// <summary>
    /// The <c>Parallel</c> call whose delegate runs <paramref name="at"/> (the access, or a call of the local function it
    /// is in) while the caller holds the lock <paramref name="access"/> needs around the loop, or null. The delegate is a
    /// lambda or anonymous method given to the call (also through lambdas run inline in it: <c>items.ForEach(…)</c> in the
    /// body), or a local function given to it by name (<c>Parallel.For(0, n, Step)</c>) or called from such a body; a
    /// body that takes the lock itself holds it for each run. Null past a lambda that may run elsewhere; a local function
    /// is followed to its uses, a few deep (it may call itself).
    /// </summary>
    private static IInvocationOperation? RacingLoop(IOperation at, IOperation? instance, Guard guard, ISymbol containingSymbol, LockFacts facts, int depth)
    {
        for (var parent = at.Parent; parent is not null; parent = parent.Parent)
        {
            if (parent is ILocalFunctionOperation local)
            {
                return depth < 3 && !HeldLocks.HeldByScopeInside(at, guard.LockMember, instance, local, facts)
                    ? RacingLoopOfLocalFunction(local, instance, guard, containingSymbol, facts, depth)
                    : null;
            }

            if (parent is not IAnonymousFunctionOperation function)
            {
                continue;
            }

            IOperation? site = at;
            if ((InlineDelegates.ParallelCallOf(function) ?? ParallelBodies.ParallelCallThroughLocal(function, out site)) is { } loop && site is not null)
            {
                return !HeldLocks.HeldByScopeInside(at, guard.LockMember, instance, function, facts) &&
                    HeldLocks.HeldByMethodOrScopeAt(site, guard, instance, containingSymbol, facts)
                    ? loop
                    : null;
            }

            if (InlineDelegates.RunOf(function, out _) != DelegateRun.Inline)
            {
                return null;
            }
        }

        return null;
    }

    /// <summary>The first parallel loop that runs <paramref name="local"/> under the hold: given to it by name, or called from a body of one.</summary>
    private static IInvocationOperation? RacingLoopOfLocalFunction(
        ILocalFunctionOperation local, IOperation? instance, Guard guard, ISymbol containingSymbol, LockFacts facts, int depth)
    {
        foreach (var use in OperationFacts.Root(local).Descendants())
        {
            if (local.Syntax.Span.Contains(use.Syntax.Span))
            {
                continue;
            }

            IOperation? site = use;
            if (use is IMethodReferenceOperation reference && SymbolEqualityComparer.Default.Equals(reference.Method.OriginalDefinition, local.Symbol.OriginalDefinition) &&
                (InlineDelegates.ParallelCallOf(reference) ?? ParallelBodies.ParallelCallThroughLocal(reference, out site)) is { } loop &&
                site is not null &&
                HeldLocks.HeldByMethodOrScopeAt(site, guard, instance, containingSymbol, facts))
            {
                return loop;
            }

            if (use is IInvocationOperation call && SymbolEqualityComparer.Default.Equals(call.TargetMethod.OriginalDefinition, local.Symbol.OriginalDefinition) &&
                RacingLoop(call, instance, guard, containingSymbol, facts, depth + 1) is { } around)
            {
                return around;
            }
        }

        return null;
    }
}
