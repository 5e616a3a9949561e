using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Globalization;
using Locksmith.Generators.Diagnostics.Analyzers.Support;
using Locksmith.Generators.Symbols;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace Locksmith.Generators.Diagnostics.Analyzers;

/// <summary>
/// A call of a generated wrapper from code that holds a lock: LSM0023 when the wrapper takes a non-reentrant lock
/// that the caller already holds on the same object, as a guarded method or through a using scope of it
/// (<c>using var s = _lock.Acquire();</c>, <c>using var s = await _lock.AcquireAsync(ct);</c>; it would fail at run
/// time; call the body instead), LSM0022 when it takes a lock whose <c>[LockOrder]</c> level is not above that of a
/// lock the caller holds, either way (the runtime would throw LockOrderViolationException); re-entering a held
/// reentrant lock takes no new level. A delegate that a known method runs inline under the hold
/// (<c>items.ForEach(x =&gt; Deposit(x))</c>, <see cref="InlineDelegates"/>) holds what the caller holds, and the message
/// says so. LSM0027 when the wrapper is called in work that the holder of its synchronous
/// lock waits for (<c>Task.Run(() =&gt; Deposit()).Wait()</c>, or a local function given by name as the work), which
/// deadlocks. A wrapper passed as a method group (<c>items.ForEach(Deposit)</c>, <c>Task.Run(Deposit)</c>) is called
/// where that lambda would call it, and a method of the type passed to an inline runner (<c>Parallel.For(0, n, Step)</c>),
/// or called from a parallel body or another lambda run inline (<c>i =&gt; Step(i)</c>, one call deep), has its body read as
/// that lambda's; a lambda or method group kept in a local given to a parallel loop runs under the holds where the loop takes it. A local function is in a using scope where every use of it is.
/// </summary>
/// <remarks>
/// The locks a method holds and what a wrapper takes are worked out once per method (<see cref="LockFacts"/>), so a
/// call costs two dictionary lookups; a call that is no wrapper's costs one. Only a wrapper call looks for enclosing
/// using scopes.
/// </remarks>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class LockOrderAnalyzer : DiagnosticAnalyzer
{
    /// <inheritdoc/>
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } =
        ImmutableArray.Create(DiagnosticDescriptors.LockOrderInversion, DiagnosticDescriptors.SelfDeadlock, DiagnosticDescriptors.BlockedOnWorkThatTakesTheHeldLock);

    /// <inheritdoc/>
    public override void Initialize(AnalysisContext context)
    {
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.EnableConcurrentExecution();
        LockFacts.RegisterWhereLocksExist(context, (start, facts) =>
        {
            var wrapperCalls = WrapperCallsIn(facts);
            CompilationStarted?.Invoke(wrapperCalls);
            start.RegisterOperationAction(operation => Analyze(operation, facts, wrapperCalls), OperationKind.Invocation, OperationKind.MethodReference);
        });
    }

    /// <summary>Told each compilation's <see cref="WrapperCallsIn"/> as it is made: what the tests of that cache count.</summary>
    internal Action<HelperJudgements<IReadOnlyList<(IInvocationOperation Call, Wrapper Wrapper)>>>? CompilationStarted { get; set; }

    /// <summary>
    /// A compilation's wrapper calls that run with the body of each method of it that is read as a lambda's (given by name
    /// to an inline runner or called from an inline body): read once per method however many uses name it, since a method
    /// in another file is bound through that file's semantic model. Only the body decides them; the holds are each use's.
    /// </summary>
    internal static HelperJudgements<IReadOnlyList<(IInvocationOperation Call, Wrapper Wrapper)>> WrapperCallsIn(LockFacts facts) =>
        new(static _ => true, (body, _) =>
            body.Descendants().OfType<IInvocationOperation>()
                .Where(InlineDelegates.RunsWithItsBody)
                .Select(call => (call, wrapper: facts.WrapperOf(call.TargetMethod)))
                .Where(static c => c.wrapper is not null)
                .Select(static c => (c.call, c.wrapper!))
                .ToList());

    private static void Analyze(OperationAnalysisContext context, LockFacts facts, HelperJudgements<IReadOnlyList<(IInvocationOperation Call, Wrapper Wrapper)>> wrapperCalls)
    {
        if (context.ContainingSymbol is not IMethodSymbol caller)
        {
            return;
        }

        // A call, or a method group made a delegate (items.ForEach(Deposit)): a call wherever the delegate runs, as a
        // lambda's (x => Deposit(x)) would be.
        var invocation = context.Operation;
        if (facts.WrapperOf(TargetOf(invocation)) is not { } wrapper)
        {
            if (invocation is IMethodReferenceOperation reference)
            {
                AnalyzeBodyGivenByName(context, reference, caller, facts, wrapperCalls);
            }
            else if (invocation is IInvocationOperation call)
            {
                if (!ReportAcquiredAgain(context, call, caller, facts))
                {
                    AnalyzeCallInAnInlineBody(context, call, caller, facts, wrapperCalls);
                }
            }

            return;
        }

        if (ReportWorkBlockedOn(context, invocation, wrapper, caller, facts))
        {
            return;
        }

        // In a delegate kept in a local and given to a parallel loop (Action<int> body = i => Deposit(i); Parallel.For(0, n, body)),
        // or the wrapper's method group kept so (Action<int> body = Deposit;): it runs under the holds where the loop takes
        // the local, as the lambda in its place would. Else (an async lock's hold where it was made) it is judged as any lambda.
        if (EnclosingFunction(invocation) is (IAnonymousFunctionOperation or IMethodReferenceOperation) and var function &&
            ParallelBodies.ParallelCallThroughLocal(function, out var kept) is { } loop && kept is ILocalReferenceOperation local &&
            InlineDelegates.IsParallelLoop(loop.TargetMethod) &&
            Check(context, invocation, kept, wrapper, caller, facts,
                RunInline("a delegate kept in '" + local.Local.Name + "', which", loop.TargetMethod.ContainingType.Name + "." + loop.TargetMethod.Name),
                invocation.Syntax.GetLocation()))
        {
            return;
        }

        Check(context, invocation, invocation, wrapper, caller, facts, reason: null);
    }

    /// <summary>
    /// A method of this type given by name on <c>this</c> (not one an override may replace, as for a call:
    /// <see cref="BodiesByName.IsOwnCallee"/>) to a method that runs it inline (<c>Parallel.For(0, n, Step)</c>,
    /// <c>items.ForEach(Each)</c>), or as the work of a task the hold blocks on (<c>Task.Run(Work).Wait()</c>, LSM0027):
    /// its one body is read as the lambda in its place would be, and the first wrapper it calls against the holds at the
    /// method group is reported there (its <c>this</c> is the method group's object; its
    /// own parameters and locals name nothing there). Its one body is read where the type declares it
    /// (<see cref="BodiesByName.BodyOf"/>, once per compilation: <see cref="WrapperCallsIn"/>), and only calls that run with its body (not in a lambda of its own that may run elsewhere).
    /// </summary>
    private static void AnalyzeBodyGivenByName(
        OperationAnalysisContext context, IMethodReferenceOperation reference, IMethodSymbol caller, LockFacts facts, HelperJudgements<IReadOnlyList<(IInvocationOperation Call, Wrapper Wrapper)>> wrapperCalls)
    {
        var method = reference.Method;
        if (!BodiesByName.IsOwnCallee(method, reference.Instance, caller) || reference.SemanticModel is not { } model)
        {
            return;
        }

        // Run inline under the holds here, or kept in a local given to a parallel loop (Action<int> b = Step; Parallel.For(0, n, b):
        // under the holds where the loop takes the local), or the work of a task that the hold blocks on (LSM0027); else
        // nothing to say.
        IOperation site = reference;
        bool inline = InlineDelegates.RunOf(reference, out var runner) == DelegateRun.Inline;
        string what = "'" + method.Name + "', which";
        if (!inline &&
            ParallelBodies.ParallelCallThroughLocal(reference, out var kept) is { } loop && kept is ILocalReferenceOperation local &&
            InlineDelegates.IsParallelLoop(loop.TargetMethod))
        {
            (inline, site, runner) = (true, kept, loop.TargetMethod.ContainingType.Name + "." + loop.TargetMethod.Name);
            what = "'" + method.Name + "', kept in '" + local.Local.Name + "', which";
        }

        var wait = inline ? null : BlockingWait.On(reference);
        if (!inline && wait is null)
        {
            return;
        }

        if (wrapperCalls.Of(method, model, context.CancellationToken) is not { } calls)
        {
            return;
        }

        foreach (var (call, wrapper) in calls)
        {
            if ((wait is null
                    ? Check(context, call, site, wrapper, caller, facts, RunInline(what, runner!), reference.Syntax.GetLocation())
                    : call.TargetMethod.Parameters.Length == wrapper.Body.Parameters.Length &&
                        ReportBlockedWait(context, call, reference, wait, wrapper, caller, facts)))
            {
                return;
            }
        }
    }

    /// <summary>
    /// A method of this type called directly, on <c>this</c> or static, from a body of <c>Parallel.For</c>, <c>ForEach</c>
    /// or <c>Invoke</c> (<c>Parallel.For(0, n, i =&gt; Step(i))</c>, or a local function run there), or from a lambda that
    /// another method runs inline (<c>items.ForEach(x =&gt; Step(x))</c>, <c>xs.Sum(x =&gt; Price(x))</c>, see
    /// <see cref="InlineDelegates"/>), or from a local function such a method runs (<see cref="InlineRunOfLocalFunction"/>): its one body runs there, as <c>Parallel.For(0, n, Step)</c>'s or
    /// <c>items.ForEach(Step)</c>'s would (<see cref="AnalyzeBodyGivenByName"/>), so the first wrapper it calls against the
    /// holds at the call is reported there. One level: calls in it are not followed; not a virtual method, which an
    /// override may replace.
    /// </summary>
    private static void AnalyzeCallInAnInlineBody(
        OperationAnalysisContext context, IInvocationOperation call, IMethodSymbol caller, LockFacts facts, HelperJudgements<IReadOnlyList<(IInvocationOperation Call, Wrapper Wrapper)>> wrapperCalls)
    {
        var method = call.TargetMethod;
        if (!BodiesByName.IsOwnCallee(method, call.Instance, caller))
        {
            return;
        }

        string? runner;
        string what;
        if (ParallelBodies.LoopAround(call) is { } loop)
        {
            if (!InlineDelegates.IsParallelLoop(loop.TargetMethod))
            {
                return;
            }

            runner = loop.TargetMethod.ContainingType.Name + "." + loop.TargetMethod.Name;
            what = "'" + method.Name + "', called from a body that";
        }
        else if (InlineLambdaAround(call) is { } function && InlineDelegates.RunOf(function, out runner) == DelegateRun.Inline)
        {
            what = "'" + method.Name + "', called from a delegate that";
        }
        else if (InlineRunOfLocalFunction(call, out runner, out var how) is { } local)
        {
            what = "'" + method.Name + "', called from the local function '" + local.Name + "', " + how;
        }
        else
        {
            return;
        }

        if (wrapperCalls.Of(method, call.SemanticModel, context.CancellationToken) is not { } calls)
        {
            return;
        }

        foreach (var (inner, wrapper) in calls)
        {
            if (Check(context, inner, call, wrapper, caller, facts, RunInline(what, runner!)))
            {
                return;
            }
        }
    }

    /// <summary>
    /// The local function <paramref name="call"/> is directly in (no lambda between) when a method runs it inline: it is
    /// given to that method by name (<c>items.ForEach(Each)</c>; <paramref name="how"/> "which") or called from a lambda
    /// that method runs inline (<c>items.ForEach(x =&gt; Each(x))</c>; "called from a delegate that"), as the lambda in its
    /// place would be; <paramref name="runner"/> names the method. Null otherwise: a local function only called from the
    /// hold's own code is not followed, as such a call of a method is not. Whether it runs under the hold at all is the
    /// holds' question (a local function is in a scope where every use of it is).
    /// </summary>
    /// <remarks>A walk of the one body the call is in, made only for a call of a method of the type in a local function.</remarks>
    private static IMethodSymbol? InlineRunOfLocalFunction(IOperation call, out string? runner, out string how)
    {
        (runner, how) = (null, string.Empty);
        ILocalFunctionOperation? local = null;
        for (var parent = call.Parent; parent is not null && local is null; parent = parent.Parent)
        {
            switch (parent)
            {
                case IAnonymousFunctionOperation:
                    return null;
                case ILocalFunctionOperation found:
                    local = found;
                    break;
            }
        }

        if (local is null)
        {
            return null;
        }

        foreach (var use in OperationFacts.Root(local).Descendants())
        {
            if (local.Syntax.Span.Contains(use.Syntax.Span))
            {
                continue;
            }

            if (use is IMethodReferenceOperation reference &&
                SymbolEqualityComparer.Default.Equals(reference.Method.OriginalDefinition, local.Symbol.OriginalDefinition) &&
                InlineDelegates.RunOf(reference, out runner) == DelegateRun.Inline)
            {
                how = "which";
                return local.Symbol;
            }

            if (use is IInvocationOperation invoked &&
                SymbolEqualityComparer.Default.Equals(invoked.TargetMethod.OriginalDefinition, local.Symbol.OriginalDefinition) &&
                InlineLambdaAround(invoked) is { } function && InlineDelegates.RunOf(function, out runner) == DelegateRun.Inline)
            {
                how = "called from a delegate that";
                return local.Symbol;
            }
        }

        runner = null;
        return null;
    }

    /// <summary>
    /// The innermost lambda around <paramref name="call"/>, or null when the call is in the method's own code or a local
    /// function first (a call there is not followed). Parent steps only: no search.
    /// </summary>
    private static IAnonymousFunctionOperation? InlineLambdaAround(IOperation call)
    {
        for (var parent = call.Parent; parent is not null; parent = parent.Parent)
        {
            switch (parent)
            {
                case IAnonymousFunctionOperation function:
                    return function;
                case ILocalFunctionOperation:
                    return null;
            }
        }

        return null;
    }

    /// <summary>
    /// LSM0023 and LSM0022 for a wrapper call <paramref name="invocation"/> made where the holds at <paramref name="site"/>
    /// are in force: the call itself, or a method group whose body makes it (reported there, with <paramref name="reason"/>
    /// saying so). Whether it reported.
    /// </summary>
    private static bool Check(OperationAnalysisContext context, IOperation invocation, IOperation site, Wrapper wrapper, IMethodSymbol caller, LockFacts facts, string? reason, Location? location = null)
    {
        location ??= site.Syntax.GetLocation();
        var held = HeldWhere(site, facts.LocksHeldBy(caller), facts);
        var taken = wrapper.Taken;
        foreach (var use in wrapper.Taken)
        {
            bool alreadyHeld = Holds(held, use, invocation) || HeldLocks.HeldByScopeAt(site, use.Member, TargetOf(use, invocation), acrossLambdas: use.Capabilities.IsAsync());
            if (alreadyHeld && (use.Capabilities & LockCapabilities.Reentrant) != 0)
            {
                // Re-entering a held reentrant lock takes no new level: it is no call against the order.
                taken = taken.Remove(use);
                continue;
            }

            bool reentrant = (use.Capabilities & (LockCapabilities.Reentrant | LockCapabilities.Keyed)) != 0;
            if (!reentrant && alreadyHeld)
            {
                // A read hold calling a write wrapper: the body would write under the read lock, so calling it is no fix.
                bool upgrade = (use.Capabilities & LockCapabilities.ReadWrite) != 0 &&
                    facts.GuardOf(caller) is { IsRead: true } callerGuard && SymbolEqualityComparer.Default.Equals(callerGuard.LockMember, use.Member) &&
                    facts.GuardOf(wrapper.Body) is { IsRead: false };
                string fix = upgrade
                    ? $"a read lock does not upgrade, and calling '{wrapper.Body.Name}' here would write under it: take '{use.Member.Name}' for writing in " +
                      $"'{SymbolNames.Display(caller)}' (without Access = LockAccess.Read), or call '{TargetOf(invocation).Name}' after the read lock is released"
                    : $"call '{wrapper.Body.Name}' instead";
                context.ReportDiagnostic(Diagnostic.Create(
                    DiagnosticDescriptors.SelfDeadlock,
                    location,
                    SymbolNames.Display(HolderOf(site, use, caller, facts)),
                    use.Member.Name,
                    TargetOf(invocation).Name,
                    fix,
                    reason ?? InlineReason(invocation),
                    upgrade ? " for reading" : string.Empty));
                return true;
            }
        }

        // Locks held through using scopes around the call count as the caller's own (any object's: the order is global).
        var scopes = HeldLocks.ScopeLocksAt(site, facts);
        if (!scopes.IsEmpty)
        {
            held = held.AddRange(scopes.Select(s => new LockUse(s.Member, facts.CapabilitiesOf(LockMembers.TypeOf(s.Member)))));
        }

        if (held.IsEmpty)
        {
            return false;
        }

        var highestHeld = Highest(held);
        var lowestTaken = Lowest(taken);
        if (highestHeld is null || lowestTaken is null || lowestTaken.Level > highestHeld.Level)
        {
            return false;
        }

        // Two locks of one name in different types ('_lock' of Ledger and of Account) are told apart by their types.
        bool sameName = highestHeld.Member.Name == lowestTaken.Member.Name &&
            !SymbolEqualityComparer.Default.Equals(highestHeld.Member.OriginalDefinition, lowestTaken.Member.OriginalDefinition);
        context.ReportDiagnostic(Diagnostic.Create(
            DiagnosticDescriptors.LockOrderInversion,
            location,
            SymbolNames.Display(caller),
            LockName(highestHeld.Member, sameName),
            highestHeld.Level!.Value.ToString(CultureInfo.InvariantCulture),
            CalledName(TargetOf(invocation), caller),
            LockName(lowestTaken.Member, sameName),
            lowestTaken.Level!.Value.ToString(CultureInfo.InvariantCulture)));
        return true;
    }

    /// <summary>A called wrapper's name, with its type when it is another type's ('Ledger.NoteAsync'), as the locks beside it are named.</summary>
    private static string CalledName(IMethodSymbol target, IMethodSymbol caller) =>
        SymbolEqualityComparer.Default.Equals(target.ContainingType.OriginalDefinition, caller.ContainingType?.OriginalDefinition)
            ? target.Name
            : target.ContainingType.Name + "." + target.Name;

    /// <summary>
    /// LSM0023 for a held lock acquired again by hand (<c>using var s = await _lock.AcquireAsync();</c> in a core guarded
    /// by <c>_lock</c>, or in a using scope of it on the same object), as for its wrapper: the runtime refuses it with
    /// LockRecursionException every time. Only the runtime's locks known to refuse re-entry in either mode (exclusive,
    /// spin, read-write, async exclusive, async read-write) and only <c>Acquire…</c>: a <c>TryAcquire…</c> may give up
    /// instead, a reentrant lock nests, a semaphore has permits to spare, and a keyed lock may be asked for another key.
    /// </summary>
    private static bool ReportAcquiredAgain(OperationAnalysisContext context, IInvocationOperation call, IMethodSymbol caller, LockFacts facts)
    {
        string name = call.TargetMethod.Name;
        if (!name.StartsWith(KnownNames.Acquire, System.StringComparison.Ordinal) || name.IndexOf("Many", System.StringComparison.Ordinal) >= 0 ||
            call.TargetMethod.IsStatic || OperationFacts.Unwrap(call.Instance) is not IMemberReferenceOperation { Member: IFieldSymbol or IPropertySymbol } lockReference)
        {
            return false;
        }

        var member = lockReference.Member;
        var type = LockMembers.TypeOf(member);
        var capabilities = facts.CapabilitiesOf(type);
        if (LockKinds.Of(type, capabilities) is not ("Exclusive" or "Spin" or "ReadWrite" or "AsyncExclusive" or "AsyncReadWrite") ||
            !RuntimeSymbols.IsInLocksmithNamespaces(type))
        {
            return false;
        }

        // The object whose lock it is: held as the caller's guard (this object's, or a named parameter's), or by a using
        // scope of that object's lock around the call.
        var owner = lockReference.Instance;
        bool byGuard = HeldWhere(call, facts.LocksHeldBy(caller), facts).Any(use =>
            SymbolEqualityComparer.Default.Equals(LockOf(use.Member), LockOf(member)) &&
            (member.IsStatic || (use.Parameter is null
                ? OperationFacts.IsThis(owner)
                : OperationFacts.Unwrap(owner) is IParameterReferenceOperation parameter &&
                  SymbolEqualityComparer.Default.Equals(PartialParts.Definition(parameter.Parameter).OriginalDefinition, PartialParts.Definition(use.Parameter).OriginalDefinition))));
        if (!byGuard && !HeldLocks.HeldByScopeAt(call, member, owner, acrossLambdas: capabilities.IsAsync()))
        {
            return false;
        }

        // The mode held: the guard's, or the scope's acquisition's. A read held and a write asked is an upgrade.
        bool heldForReading = byGuard
            ? facts.GuardOf(caller) is { IsRead: true }
            : HeldLocks.ScopeAcquisition(call, member, owner)?.TargetMethod.Name.StartsWith(KnownNames.AcquireRead, System.StringComparison.Ordinal) == true;
        bool upgrade = heldForReading && name.StartsWith(KnownNames.AcquireWrite, System.StringComparison.Ordinal);
        string fix = upgrade
            ? $"a read lock does not upgrade: release the read hold before taking '{member.Name}' for writing, or take it for writing from the start"
            : $"remove this acquisition: '{member.Name}' is held here already" +
              (byGuard ? $" (the wrappers of '{caller.Name}' take it)" : string.Empty);
        context.ReportDiagnostic(Diagnostic.Create(
            DiagnosticDescriptors.SelfDeadlock,
            call.Syntax.GetLocation(),
            SymbolNames.Display(caller),
            member.Name,
            name,
            fix,
            InlineReason(call),
            heldForReading ? " for reading" : string.Empty));
        return true;
    }

    /// <summary>
    /// LSM0027: a wrapper called in a lambda that is the work of a task the caller waits for synchronously (untimed
    /// <c>Wait()</c>, <c>Result</c>, <c>GetAwaiter().GetResult()</c>, <c>Task.WaitAll</c>) while it holds the wrapper's
    /// synchronous lock on the same object, as a guarded method or through a using scope around the wait. The work runs
    /// on another thread, whose wrapper waits for the hold, which waits for the work. Async locks are LSM0023's (the
    /// work shares the flow's hold), keyed ones are left out (the keys may differ), and so is a timed wrapper.
    /// </summary>
    private static bool ReportWorkBlockedOn(OperationAnalysisContext context, IOperation invocation, Wrapper wrapper, IMethodSymbol caller, LockFacts facts)
    {
        // The timed form (more parameters than the body) gives up at its timeout: no deadlock.
        if (EnclosingFunction(invocation) is not { } work ||
            TargetOf(invocation).Parameters.Length != wrapper.Body.Parameters.Length)
        {
            return false;
        }

        foreach (var wait in WaitsFor(work))
        {
            if (ReportBlockedWait(context, invocation, invocation, wait, wrapper, caller, facts))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// LSM0027 for the wrapper call <paramref name="invocation"/> in work that <paramref name="wait"/> blocks on, reported at
    /// <paramref name="site"/> (the call, or the method group whose body makes it). Whether it reported.
    /// </summary>
    private static bool ReportBlockedWait(
        OperationAnalysisContext context, IOperation invocation, IOperation site, BlockingWait wait, Wrapper wrapper, IMethodSymbol caller, LockFacts facts)
    {
        // A guarded caller holds its lock where the wait runs only when the wait is not itself in a lambda.
        var held = EnclosingFunction(wait.Wait) is null ? facts.LocksHeldBy(caller) : ImmutableArray<LockUse>.Empty;
        foreach (var use in wrapper.Taken)
        {
            if (use.Capabilities.IsAsync() || (use.Capabilities & LockCapabilities.Keyed) != 0 ||
                !(Holds(held, use, invocation) || HeldLocks.HeldByScopeAt(wait.Wait, use.Member, TargetOf(use, invocation))))
            {
                continue;
            }

            context.ReportDiagnostic(Diagnostic.Create(
                DiagnosticDescriptors.BlockedOnWorkThatTakesTheHeldLock,
                site.Syntax.GetLocation(),
                SymbolNames.Display(caller),
                use.Member.Name,
                wait.Started.TargetMethod.ContainingType.Name + "." + wait.Started.TargetMethod.Name,
                TargetOf(invocation).Name,
                wrapper.Body.Name));
            return true;
        }

        return false;
    }

    /// <summary>
    /// The blocking waits for tasks that run <paramref name="work"/>: a lambda or method group's own, or for a local
    /// function, those of each method group of it (<c>Task.Run(Work).Wait()</c>), found in the one body it is in.
    /// </summary>
    private static System.Collections.Generic.IEnumerable<BlockingWait> WaitsFor(IOperation work)
    {
        if (work is not ILocalFunctionOperation local)
        {
            if (BlockingWait.On(work) is { } wait)
            {
                yield return wait;
            }

            yield break;
        }

        foreach (var reference in OperationFacts.Root(local).Descendants().OfType<IMethodReferenceOperation>())
        {
            if (SymbolEqualityComparer.Default.Equals(reference.Method.OriginalDefinition, local.Symbol.OriginalDefinition) &&
                !local.Syntax.Span.Contains(reference.Syntax.Span) &&
                BlockingWait.On(reference) is { } wait)
            {
                yield return wait;
            }
        }
    }

    /// <summary>
    /// The caller's locks that code at <paramref name="invocation"/> holds. In a lambda or local function, which may run
    /// on another thread or after the hold (<c>Task.Run(() =&gt; Deposit())</c>), a synchronous lock is not held: it is
    /// the thread's, and taking it there waits for the hold instead of failing. An async lock's hold is the flow's, and
    /// work started inside it shares the flow (its execution context carries it), unless it is started where
    /// <c>ExecutionContext.SuppressFlow()</c> is in force. A delegate kept in a local that is only invoked runs inline
    /// where it is invoked (<see cref="InlineDelegates.InvocationsOfLocal"/>): it holds what those invocations hold; one
    /// kept in a field is invoked by members of its own, which hold what they are guarded with.
    /// </summary>
    private static ImmutableArray<LockUse> HeldWhere(IOperation invocation, ImmutableArray<LockUse> held, LockFacts facts, int depth = 0)
    {
        if (EnclosingFunction(invocation) is not { } function)
        {
            return held;
        }

        // A lambda of a deferred query returned out of the hold runs where the caller enumerates it, after the hold.
        if (function is IAnonymousFunctionOperation or IMethodReferenceOperation && InlineDelegates.RunOf(function, out _) == DelegateRun.Returned)
        {
            return ImmutableArray<LockUse>.Empty;
        }

        // Bounded: a delegate may invoke itself.
        if (depth < 4 && function is IAnonymousFunctionOperation or IMethodReferenceOperation &&
            InlineDelegates.InvocationsOfLocal(function) is { IsDefault: false } sites)
        {
            bool field = InlineDelegates.KeptIn(function) is IFieldSymbol;
            var atSites = ImmutableArray<LockUse>.Empty;
            foreach (var site in sites)
            {
                var heldThere = field && MemberAt(site) is { } member ? facts.LocksHeldBy(member) : held;
                atSites = atSites.AddRange(HeldWhere(site, heldThere, facts, depth + 1).Except(atSites));
            }

            return atSites;
        }

        return OperationFacts.FlowSuppressedAround(function) ? ImmutableArray<LockUse>.Empty : held.RemoveAll(static use => !use.Capabilities.IsAsync());
    }

    /// <summary>
    /// The innermost lambda, or local function that may run elsewhere, around <paramref name="operation"/>; null when
    /// it runs in the caller's hold. A lambda run inline (<c>items.ForEach(x =&gt; Deposit(x))</c>, see
    /// <see cref="InlineDelegates"/>) runs there, and so does a local function that is only called, or made a delegate
    /// run inline, never made another delegate nor called from a lambda that may run elsewhere. A method group made a
    /// delegate is its own function: the method group itself, unless it is run inline.
    /// </summary>
    private static IOperation? EnclosingFunction(IOperation operation)
    {
        for (var parent = operation is IMethodReferenceOperation ? operation : operation.Parent; parent is not null; parent = parent.Parent)
        {
            if ((parent is IAnonymousFunctionOperation or IMethodReferenceOperation && InlineDelegates.RunOf(parent, out _) != DelegateRun.Inline) ||
                (parent is ILocalFunctionOperation local && MayRunElsewhere(local)))
            {
                return parent;
            }
        }

        return null;
    }

    /// <summary>
    /// Why a call in the hold takes its lock there although it is in a delegate: the innermost delegate around it and
    /// what runs it inline (all those around it run inline); empty for a call in the method's own code.
    /// </summary>
    private static string InlineReason(IOperation invocation)
    {
        if (EnclosingFunction(invocation) is { } function)
        {
            return function is IAnonymousFunctionOperation or IMethodReferenceOperation &&
                InlineDelegates.InvocationsOfLocal(function) is { IsDefault: false, Length: > 0 } &&
                InlineDelegates.KeptIn(function) is { } kept
                ? " (the call is in a delegate kept in " + (kept is IFieldSymbol ? "the field '" : "'") + kept.Name + "', which runs it where it is invoked, under the hold)"
                : string.Empty;
        }

        for (var parent = invocation is IMethodReferenceOperation ? invocation : invocation.Parent; parent is not null; parent = parent.Parent)
        {
            if (parent is IAnonymousFunctionOperation or IMethodReferenceOperation && InlineDelegates.RunOf(parent, out var runner) == DelegateRun.Inline)
            {
                return RunInline("a delegate that", runner!);
            }

            // A local function given by name to a method that runs it inline (Parallel.For(0, n, Step)); one only called
            // runs as the caller's own code.
            if (parent is ILocalFunctionOperation local)
            {
                foreach (var use in OperationFacts.Root(local).Descendants().OfType<IMethodReferenceOperation>())
                {
                    if (SymbolEqualityComparer.Default.Equals(use.Method.OriginalDefinition, local.Symbol.OriginalDefinition) &&
                        InlineDelegates.RunOf(use, out var by) == DelegateRun.Inline)
                    {
                        return RunInline("'" + local.Symbol.Name + "', which", by!);
                    }
                }

                return string.Empty;
            }
        }

        return string.Empty;
    }

    // Parallel's pool threads do not hold the lock, but the caller waits for them while it does.
    private static string RunInline(string what, string runner) =>
        runner.StartsWith("Parallel.", System.StringComparison.Ordinal)
            ? " (the call is in " + what + " '" + runner + "' runs before it returns, so under the hold: on this thread it takes the lock again, " +
                "and a pool thread running it waits for the hold, which waits for the loop)"
            : " (the call is in " + what + " '" + runner + "' runs inline, on this thread before it returns, so under the hold)";

    /// <summary>
    /// Who holds the lock at the call: the caller, or for a call in a delegate kept in a field, the first member that
    /// invokes the field where the lock is held (the caller may hold nothing).
    /// </summary>
    private static IMethodSymbol HolderOf(IOperation invocation, LockUse use, IMethodSymbol caller, LockFacts facts)
    {
        if (EnclosingFunction(invocation) is not { } function || InlineDelegates.KeptIn(function) is not IFieldSymbol ||
            InlineDelegates.InvocationsOfLocal(function) is not { IsDefault: false } sites)
        {
            return caller;
        }

        foreach (var site in sites)
        {
            if (MemberAt(site) is { } member &&
                (Holds(HeldWhere(site, facts.LocksHeldBy(member), facts, depth: 1), use, invocation) ||
                    HeldLocks.HeldByScopeAt(site, use.Member, TargetOf(use, invocation), acrossLambdas: use.Capabilities.IsAsync())))
            {
                return member;
            }
        }

        return caller;
    }

    /// <summary>The method (or accessor) whose body holds <paramref name="operation"/>, past lambdas and local functions; null in an initializer.</summary>
    private static IMethodSymbol? MemberAt(IOperation operation)
    {
        for (var symbol = operation.SemanticModel?.GetEnclosingSymbol(operation.Syntax.SpanStart); symbol is not null; symbol = symbol.ContainingSymbol)
        {
            if (symbol is IMethodSymbol { MethodKind: not (MethodKind.AnonymousFunction or MethodKind.LambdaMethod or MethodKind.LocalFunction) } method)
            {
                return method;
            }

            if (symbol is not IMethodSymbol)
            {
                return null;
            }
        }

        return null;
    }

    private static bool MayRunElsewhere(ILocalFunctionOperation local)
    {
        IOperation top = local;
        while (top.Parent is { } parent)
        {
            top = parent;
        }

        foreach (var use in top.Descendants())
        {
            if (use is IMethodReferenceOperation reference && SymbolEqualityComparer.Default.Equals(reference.Method, local.Symbol) &&
                InlineDelegates.RunOf(reference, out _) != DelegateRun.Inline)
            {
                return true;
            }

            // Only lambdas here: asking about enclosing local functions would recurse (a local function may call itself).
            if (use is IInvocationOperation call && SymbolEqualityComparer.Default.Equals(call.TargetMethod, local.Symbol) && InsideLambda(call))
            {
                return true;
            }
        }

        return false;
    }

    // A lambda run inline is not one here: the local function it calls runs in the hold too.
    private static bool InsideLambda(IOperation operation)
    {
        for (var parent = operation.Parent; parent is not null; parent = parent.Parent)
        {
            if (parent is IAnonymousFunctionOperation lambda && InlineDelegates.RunOf(lambda, out _) != DelegateRun.Inline)
            {
                return true;
            }
        }

        return false;
    }

    private static string LockName(ISymbol member, bool qualified) =>
        qualified && member.ContainingType is { } type ? SymbolNames.TypeName(type) + "." + member.Name : member.Name;

    /// <summary>
    /// Whether the caller already holds the lock that <paramref name="taken"/> names, on the same object: a static lock;
    /// the lock of the object the wrapper is called on (or, for an <c>[AcquiresLocksOf]</c> wrapper, of the argument
    /// given for its parameter) when that is the object whose lock the caller holds — <c>this</c> for a <c>[Guarded]</c>
    /// caller, its own parameter for an <c>[AcquiresLocksOf]</c> one. Another object's lock of the same member is not
    /// held (taking it may still break the order, which is LSM0022).
    /// </summary>
    private static bool Holds(ImmutableArray<LockUse> held, LockUse taken, IOperation invocation)
    {
        var target = TargetOf(taken, invocation);
        foreach (var use in held)
        {
            // A property that merely returns a lock member (Gate => _lock) holds that member's lock.
            if (!SymbolEqualityComparer.Default.Equals(LockOf(use.Member), LockOf(taken.Member)))
            {
                continue;
            }

            if (taken.Member.IsStatic || (taken.Parameter is null && InstanceOf(invocation) is null))
            {
                return true;
            }

            bool same = use.Parameter is null
                ? OperationFacts.IsThis(target)
                : OperationFacts.Unwrap(target) is IParameterReferenceOperation reference &&
                    SymbolEqualityComparer.Default.Equals(
                        PartialParts.Definition(reference.Parameter).OriginalDefinition, PartialParts.Definition(use.Parameter).OriginalDefinition);
            if (same)
            {
                return true;
            }
        }

        return false;
    }

    private static ISymbol LockOf(ISymbol member) => (LockMembers.ForwardedTo(member) ?? member).OriginalDefinition;

    /// <summary>
    /// The object whose lock <paramref name="taken"/> is at this call: the receiver, or for an <c>[AcquiresLocksOf]</c>
    /// wrapper the argument given for its parameter (unknown for a method group: the delegate's caller gives it).
    /// </summary>
    private static IOperation? TargetOf(LockUse taken, IOperation invocation) =>
        taken.Parameter is null
            ? InstanceOf(invocation)
            : (invocation as IInvocationOperation)?.Arguments.FirstOrDefault(a => a.Parameter?.Name == taken.Parameter.Name)?.Value;

    /// <summary>The method a call or a method group names.</summary>
    private static IMethodSymbol TargetOf(IOperation invocation) =>
        invocation is IInvocationOperation call ? call.TargetMethod : ((IMethodReferenceOperation)invocation).Method;

    private static IOperation? InstanceOf(IOperation invocation) =>
        invocation is IInvocationOperation call ? call.Instance : ((IMethodReferenceOperation)invocation).Instance;

    /// <summary>The ordered lock of the highest level (the first of equals), or null.</summary>
    private static LockUse? Highest(ImmutableArray<LockUse> uses)
    {
        LockUse? best = null;
        foreach (var use in uses)
        {
            if (use.Level.HasValue && (best is null || use.Level > best.Level))
            {
                best = use;
            }
        }

        return best;
    }

    /// <summary>The ordered lock of the lowest level (the first of equals), or null.</summary>
    private static LockUse? Lowest(ImmutableArray<LockUse> uses)
    {
        LockUse? best = null;
        foreach (var use in uses)
        {
            if (use.Level.HasValue && (best is null || use.Level < best.Level))
            {
                best = use;
            }
        }

        return best;
    }
}
