using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Threading;
using Locksmith.Generators.Diagnostics.Analyzers.Support;
using Locksmith.Generators.Symbols;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace Locksmith.Generators.Diagnostics.Analyzers;

/// <summary>
/// LSM0058: <c>await TakeLedgerAsync()</c>, where <c>TakeLedgerAsync</c> is the user's own async method returning the
/// scope of a flow's hold (<c>Task</c>/<c>ValueTask</c> of <c>AsyncLockScope</c>, <c>AsyncLockSetScope</c> or a
/// Locksmith.Postgres scope), in a method whose flow holds no async lock there and did not begin its flow with
/// <c>AsyncLockFlow.Begin()</c>. The helper's claim lives in the execution context of its own frame, which .NET never
/// flows back to the caller: the caller's flow does not own the lock, and asking for it again waits for itself. Also
/// through a forwarder that is not async (<c>Task&lt;AsyncLockScope&gt; TakeAsync() =&gt; TakeLedgerAsync();</c>, named by
/// the helper under it), for a helper's task kept in a local and awaited (or read) later, reported at the call, and for
/// one blocked on where it is made (<c>TakeLedgerAsync().Result</c>), reported there.
/// </summary>
/// <remarks>
/// Like LSM0026's, the check is syntactic and local, and errs on the side of silence. Owned means: after a
/// <c>using</c> (statement around the await, or declaration earlier in an enclosing block) whose resource begins the flow
/// or acquires a flow's scope (a call returning one, or a task of one: Locksmith's acquisitions, and another helper's,
/// which this rule reports once, not at every later helper); after such a call kept in a local or made as a statement
/// anywhere earlier in the method's own code (where its scope ends is not followed); or in a core guarded by an async lock
/// (or an <c>[AcquiresLocksOf]</c> one), whose wrapper holds it. Not reported: a helper that is not async (a
/// <c>=&gt; _lock.AcquireAsync()</c> forwarder claims in the caller's frame), one whose body only takes a
/// <c>CountingSemaphore</c>'s permits (they have no owner), an interface, abstract or delegate call (its
/// body is not known), a method returning the awaited scope onward (its callers are told), and an await in a lambda or
/// local function, which may run inside a caller's hold.
/// <para>A forwarder is followed (through others; a cycle, or a chain of more than eight, gives nothing) only when each
/// of its returns is of such a call (or picks one of such calls: a conditional or switch expression, an arm of which
/// may throw) and it makes no other claim. A task kept in a local is followed only when the call is the local's only
/// value (its initializer, or the one assignment to a local declared without one) and, in this method's own code, the
/// local is only awaited, read for its <c>Result</c>, or observed (<c>Task.WhenAll</c>, <c>Task.WhenAny</c>); ownership
/// is decided at the call, where the helper starts in a copy of this method's context: a flow begun after it comes too
/// late, however the scope is read later.</para>
/// <para>LSM0060 is the same case in an async iterator's shape: <c>await foreach</c> over the user's async iterator that
/// holds a flow's scope across a <c>yield return</c>, where the consumer's flow is not owned as above at a loop; .NET runs
/// each of the iterator's steps after the first in the consumer's context. The call is followed through a local it is the
/// only value of (never written again, used only by this method's own loops and <c>await using</c>) and into a hand-written
/// loop over its enumerator (<c>while (await e.MoveNextAsync())</c>, ownership decided at each <c>MoveNextAsync</c>); it is
/// reported once, at the call. A flow begun in a loop's body comes too late: the first step ran before it, and a
/// <c>using</c> in the body ends before the next <c>MoveNextAsync</c>.</para>
/// </remarks>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class HelperScopeOwnershipAnalyzer : DiagnosticAnalyzer
{
    // Forwarders chained deeper than this are not read (nothing is reported for them): a bound on the bodies one call binds.
    private const int MaxForwarders = 8;

    /// <inheritdoc/>
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } =
        ImmutableArray.Create(DiagnosticDescriptors.HelperScopeNotOwnedByCaller, DiagnosticDescriptors.IteratorHoldNotOwnedByConsumer);

    /// <inheritdoc/>
    public override void Initialize(AnalysisContext context)
    {
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.EnableConcurrentExecution();
        LockFacts.RegisterWhereLocksExist(context, (start, facts) =>
        {
            // A runtime without AsyncLockFlow has no fix to offer.
            if (KnownTypes.Resolve(start.Compilation) is { } known)
            {
                var permitsOnly = PermitsOnlyIn(known);
                CompilationStarted?.Invoke(permitsOnly);
                start.RegisterOperationAction(operation => Analyze(operation, facts, known, permitsOnly), OperationKind.Await);
                start.RegisterOperationAction(operation => AnalyzeKeptCall(operation, facts, known, permitsOnly), OperationKind.Invocation);
                start.RegisterOperationAction(operation => AnalyzeIteratorCall(operation, facts, known), OperationKind.Invocation);
            }
        });
    }

    /// <summary>Told each compilation's <see cref="PermitsOnlyIn"/> as it is made: what the tests of that cache count.</summary>
    internal Action<HelperJudgements<object>>? CompilationStarted { get; set; }

    /// <summary>Stands for "only takes permits" in <see cref="PermitsOnlyIn"/> (null stands for "not").</summary>
    private static readonly object s_takesOnlyPermits = new();

    /// <summary>
    /// A compilation's helpers judged by <see cref="OnlyTakesPermits"/>, each body read once however many uses name the
    /// helper (one in another file is bound through that file's semantic model). Only the body decides it.
    /// </summary>
    private static HelperJudgements<object> PermitsOnlyIn(KnownTypes known) =>
        new(static _ => true, (body, _) => OnlyTakesPermits(body, known) ? s_takesOnlyPermits : null);

    private static void Analyze(OperationAnalysisContext context, LockFacts facts, KnownTypes known, HelperJudgements<object> permitsOnly)
    {
        var awaited = (IAwaitOperation)context.Operation;
        if (AwaitedCall(awaited) is { } call &&
            MayGiveAHelpersScope(call, known) &&
            !InsideAFunction(awaited) &&
            !ReturnedOnward(awaited) &&
            UsedInThisFrame(awaited))
        {
            ReportUnlessOwned(context, facts, known, permitsOnly, awaited, call);
        }
    }

    /// <summary>
    /// The check both LSM0058 shapes end with: the method holds no async lock and its flow is not owned at
    /// <paramref name="at"/>, and the call reaches a helper to name; then the report, at <paramref name="at"/>.
    /// </summary>
    private static void ReportUnlessOwned(
        OperationAnalysisContext context, LockFacts facts, KnownTypes known, HelperJudgements<object> permitsOnly, IOperation at, IInvocationOperation call)
    {
        if ((context.ContainingSymbol is IMethodSymbol method && facts.LocksHeldBy(method).Any(static use => use.Capabilities.IsAsync())) ||
            OwnedAt(at, known) ||
            HelperToName(call, known, permitsOnly, context.CancellationToken) is not { } helper)
        {
            return;
        }

        context.ReportDiagnostic(Diagnostic.Create(
            DiagnosticDescriptors.HelperScopeNotOwnedByCaller,
            at.Syntax.GetLocation(),
            helper.TargetMethod.Name));
    }

    /// <summary>
    /// LSM0058 for a helper's task kept and awaited later (<c>var pending = TakeLedgerAsync(); … using var s = await
    /// pending;</c>): the helper runs from the call, in a copy of the context this method had then, so ownership is decided
    /// at the call (a flow begun after it comes too late for the helper), and the report is at the call, once.
    /// </summary>
    private static void AnalyzeKeptCall(OperationAnalysisContext context, LockFacts facts, KnownTypes known, HelperJudgements<object> permitsOnly)
    {
        var call = (IInvocationOperation)context.Operation;
        if (!MayGiveAHelpersScope(call, known) || InsideAFunction(call))
        {
            return;
        }

        if (KeptAndTakenHere(call))
        {
            ReportUnlessOwned(context, facts, known, permitsOnly, call, call);
        }
        else if (BlockedOn(call) is { } blocked && !ReturnedOnward(blocked) && UsedInThisFrame(blocked))
        {
            // The kept task's case without the local (TakeLedgerAsync().Result): told at the blocking read, as an await is.
            ReportUnlessOwned(context, facts, known, permitsOnly, blocked, call);
        }
    }

    /// <summary>
    /// Whether the call's task is the only value of a local (see <see cref="OnlyValueOf"/>) whose every reference is in
    /// this method's own code and either takes the scope (an await, also through <c>ConfigureAwait</c>, <c>Result</c>, or
    /// <c>GetAwaiter().GetResult()</c>) for use in this frame, not returned onward, or only observes the task
    /// (<c>Task.WhenAll</c>, <c>Task.WhenAny</c>, a completion property, a comparison); one at least takes it. A task passed
    /// on, stored, returned or captured may be read where this method does not decide; observing it runs nothing of the
    /// helper's elsewhere, so it changes nothing of where the helper's claim was made.
    /// </summary>
    private static bool KeptAndTakenHere(IInvocationOperation call)
    {
        if (OnlyValueOf(OperationFacts.Outer(call), out var write) is not { } local)
        {
            return false;
        }

        bool taken = false;
        foreach (var (reference, inItsFunction) in OperationFacts.ReferencesOf(local, call))
        {
            if (reference == write)
            {
                continue;
            }

            if (!inItsFunction || OperationFacts.IsWrite(reference))
            {
                return false;
            }

            if (ScopeTakenFrom(reference) is { } scope)
            {
                if (ReturnedOnward(scope) || !UsedInThisFrame(scope))
                {
                    return false;
                }

                taken = true;
            }
            else if (!OnlyObserved(reference))
            {
                return false;
            }
        }

        return taken;
    }

    /// <summary>
    /// The local <paramref name="value"/> is the only value of, or null: the local's initializer, or the one assignment (a
    /// statement of its own) to a local declared without one, whose target reference is <paramref name="write"/>.
    /// </summary>
    private static ILocalSymbol? OnlyValueOf(IOperation value, out IOperation? write)
    {
        write = null;
        switch (value.Parent)
        {
            case IVariableInitializerOperation { Parent: IVariableDeclaratorOperation { Symbol: { RefKind: RefKind.None } declared } }:
                return declared;
            case ISimpleAssignmentOperation { Target: ILocalReferenceOperation { Local: { RefKind: RefKind.None } assigned } target } assignment
                when assignment.Value == value && assignment.Parent is IExpressionStatementOperation && DeclaredWithoutValue(assigned):
                write = target;
                return assigned;
            default:
                return null;
        }
    }

    /// <summary>Whether the local is declared by a declaration statement without an initializer (<c>IAsyncEnumerable&lt;int&gt; rows;</c>).</summary>
    private static bool DeclaredWithoutValue(ILocalSymbol local) =>
        local.DeclaringSyntaxReferences.Length == 1 &&
        local.DeclaringSyntaxReferences[0].GetSyntax() is VariableDeclaratorSyntax { Initializer: null, Parent.Parent: LocalDeclarationStatementSyntax };

    /// <summary>
    /// Where the scope of the task <paramref name="reference"/> reads is taken: its await (<see cref="AwaitOf"/>), its
    /// <c>Result</c>, or its <c>GetAwaiter().GetResult()</c>; null when it is not taken there.
    /// </summary>
    private static IOperation? ScopeTakenFrom(IOperation reference) => AwaitOf(reference) ?? BlockedOn(reference);

    /// <summary>Where the task <paramref name="reference"/> reads is blocked on for its scope: its <c>Result</c> or <c>GetAwaiter().GetResult()</c>; else null.</summary>
    private static IOperation? BlockedOn(IOperation reference)
    {
        var value = OperationFacts.Outer(reference);
        if (value.Parent is IPropertyReferenceOperation { Property.Name: "Result" } result && result.Instance == value &&
            IsTask(result.Property.ContainingType))
        {
            return result;
        }

        if (value.Parent is not IInvocationOperation { TargetMethod: { Name: "GetAwaiter", Parameters.IsEmpty: true } } awaiter ||
            awaiter.Instance != value || !IsTask(awaiter.TargetMethod.ContainingType))
        {
            return null;
        }

        var awaiterValue = OperationFacts.Outer(awaiter);
        return awaiterValue.Parent is IInvocationOperation { TargetMethod: { Name: "GetResult", Parameters.IsEmpty: true } } got && got.Instance == awaiterValue
            ? got
            : null;
    }

    /// <summary>
    /// Whether <paramref name="reference"/> only observes the task: an argument of <c>Task.WhenAll</c> or <c>Task.WhenAny</c>
    /// (also among their <c>params</c>, or in an array or collection expression written in the call), a read of whether or
    /// how it completed, or a comparison (<c>await Task.WhenAny(t, d) == t</c>).
    /// </summary>
    private static bool OnlyObserved(IOperation reference)
    {
        var value = OperationFacts.Outer(reference);
        switch (value.Parent)
        {
            case IPropertyReferenceOperation { Property.Name: "IsCompleted" or "IsCompletedSuccessfully" or "IsFaulted" or "IsCanceled" or "Status" } read
                when read.Instance == value && IsTask(read.Property.ContainingType):
                return true;
            case IBinaryOperation { OperatorKind: BinaryOperatorKind.Equals or BinaryOperatorKind.NotEquals }:
                return true;
        }

        // Also in an array or collection expression made for the call (params or written out): nothing else reads it.
        IOperation argument = value;
        if (value.Parent is IArrayInitializerOperation { Parent: IArrayCreationOperation creation })
        {
            argument = creation;
        }
        else if (value.Parent is ICollectionExpressionOperation collection)
        {
            argument = collection;
        }

        return OperationFacts.Outer(argument).Parent is IArgumentOperation { Parent: IInvocationOperation { TargetMethod: { Name: "WhenAll" or "WhenAny" } observer } } &&
            observer.IsStatic && IsTask(observer.ContainingType);
    }

    private static bool IsTask(ITypeSymbol? type) => AsyncWrappers.IsTaskType(type, out _);

    /// <summary>The <c>await</c> of the task <paramref name="reference"/> reads (also through <c>ConfigureAwait</c>), or null when it is not awaited there.</summary>
    private static IAwaitOperation? AwaitOf(IOperation reference)
    {
        var value = OperationFacts.Outer(reference);
        if (value.Parent is IInvocationOperation { TargetMethod.Name: "ConfigureAwait" } configured && configured.Instance == value &&
            AsyncWrappers.IsTaskType(configured.TargetMethod.ContainingType, out _))
        {
            value = OperationFacts.Outer(configured);
        }

        return value.Parent as IAwaitOperation;
    }

    /// <summary>
    /// LSM0060: <c>await foreach (var row in RowsAsync())</c>, where <c>RowsAsync</c> is the user's async iterator that
    /// holds a flow's scope across a <c>yield return</c>, in a method whose flow holds no async lock there and did not
    /// begin its flow: the iterator's later steps run in this method's context, which does not carry its claim. Also by hand
    /// (<c>await using var e = RowsAsync().GetAsyncEnumerator(); while (await e.MoveNextAsync())</c>) and through a local.
    /// Read from the call, so a call enumerated more than once is reported once, at the call.
    /// </summary>
    private static void AnalyzeIteratorCall(OperationAnalysisContext context, LockFacts facts, KnownTypes known)
    {
        var call = (IInvocationOperation)context.Operation;
        var steps = new List<IOperation>();
        if (!IsIteratorCall(call, known) ||
            InsideAFunction(call) ||
            !EnumeratedHere(call, steps, new HashSet<ILocalSymbol>(SymbolEqualityComparer.Default)) ||
            steps.All(step => OwnedAt(step, known)) ||
            (context.ContainingSymbol is IMethodSymbol method && facts.LocksHeldBy(method).Any(static use => use.Capabilities.IsAsync())) ||
            HeldAcrossAYield(call, known, context.CancellationToken) is not { } taker)
        {
            return;
        }

        context.ReportDiagnostic(Diagnostic.Create(
            DiagnosticDescriptors.IteratorHoldNotOwnedByConsumer,
            call.Syntax.GetLocation(),
            call.TargetMethod.Name,
            taker));
    }

    /// <summary>Whether the call is to an async iterator of the user's (one returning <c>IAsyncEnumerable&lt;T&gt;</c> or <c>IAsyncEnumerator&lt;T&gt;</c>).</summary>
    private static bool IsIteratorCall(IInvocationOperation call, KnownTypes known) =>
        call.TargetMethod.ReturnType is INamedTypeSymbol { Name: "IAsyncEnumerable" or "IAsyncEnumerator", Arity: 1 } &&
        !RuntimeSymbols.IsInLocksmithNamespaces(call.TargetMethod.ContainingType) &&
        known.IsAsyncMethod(call.TargetMethod);

    /// <summary>
    /// Whether every use of <paramref name="value"/> (the iterator's enumerable or enumerator, or what is made from it) is
    /// this method's own enumeration of it, adding to <paramref name="steps"/> where its steps run: an <c>await foreach</c>
    /// over it or a <c>MoveNextAsync</c> call on its enumerator (through <c>WithCancellation</c>, <c>ConfigureAwait</c> and
    /// <c>GetAsyncEnumerator</c>; <c>Current</c>, <c>DisposeAsync</c> and an <c>await using</c> of it are uses too), or a
    /// local it is the only value of (<see cref="OnlyValueOf"/>), whose every reference is such a use. Anything else (a
    /// local passed on, stored, returned, captured by a lambda) may be enumerated elsewhere, in a flow this method does not
    /// decide, so it is not followed and nothing is reported.
    /// </summary>
    private static bool EnumeratedHere(IOperation value, List<IOperation> steps, HashSet<ILocalSymbol> seen)
    {
        value = OperationFacts.Outer(value);
        switch (value.Parent)
        {
            case IForEachLoopOperation { IsAsynchronous: true } loop when loop.Collection == value:
                steps.Add(loop);
                return true;
            case IArgumentOperation { Parent: IInvocationOperation wrapper } argument when IsConfiguring(wrapper) && wrapper.Arguments[0] == argument:
                return EnumeratedHere(wrapper, steps, seen);
            case IInvocationOperation wrapper when IsConfiguring(wrapper) && wrapper.Instance == value:
                return EnumeratedHere(wrapper, steps, seen);
            case IInvocationOperation { TargetMethod.Name: "GetAsyncEnumerator" } enumerator when enumerator.Instance == value:
                return EnumeratedHere(enumerator, steps, seen);
            case IInvocationOperation { TargetMethod: { Name: "MoveNextAsync", Parameters.IsEmpty: true } } move when move.Instance == value:
                steps.Add(move);
                return true;
            case IInvocationOperation { TargetMethod: { Name: "DisposeAsync", Parameters.IsEmpty: true } } dispose when dispose.Instance == value:
            case IPropertyReferenceOperation { Property.Name: "Current" } current when current.Instance == value:
            case IUsingOperation usingStatement when usingStatement.Resources == value:
                return true;
            default:
                return OnlyValueOf(value, out var write) is { } local && LocalEnumeratedHere(local, value, write, steps, seen);
        }
    }

    /// <summary>
    /// Whether every reference to <paramref name="local"/> (of which <paramref name="value"/> is the only value; one
    /// reference at least, besides the assignment <paramref name="write"/>) is this method's own enumeration (<see cref="EnumeratedHere"/>).
    /// </summary>
    private static bool LocalEnumeratedHere(ILocalSymbol local, IOperation value, IOperation? write, List<IOperation> steps, HashSet<ILocalSymbol> seen)
    {
        // A local seen again is its own value, which only code with errors has.
        if (!seen.Add(local))
        {
            return false;
        }

        bool used = false;
        foreach (var (reference, inItsFunction) in OperationFacts.ReferencesOf(local, value))
        {
            if (reference == write)
            {
                continue;
            }

            if (!inItsFunction || OperationFacts.IsWrite(reference) || !EnumeratedHere(reference, steps, seen))
            {
                return false;
            }

            used = true;
        }

        return used;
    }

    /// <summary>
    /// Whether the call is <c>WithCancellation</c> or <c>ConfigureAwait</c> on an async enumerable: the extensions on
    /// <c>IAsyncEnumerable&lt;T&gt;</c>, or the same methods of the configured enumerable they return.
    /// </summary>
    private static bool IsConfiguring(IInvocationOperation call) =>
        call.TargetMethod is { Name: "WithCancellation" or "ConfigureAwait" } method &&
        ((method.IsExtensionMethod && method.ContainingType is { Name: "TaskAsyncEnumerableExtensions" } && call.Arguments.Length > 0) ||
         (method.ContainingType is { Name: "ConfiguredCancelableAsyncEnumerable", Arity: 1 } && call.Instance is not null));

    /// <summary>
    /// How the message names the lock the iterator's body (in source) holds across one of its own <c>yield return</c>s (the
    /// acquisition's receiver, or the scope of the method called), or null when none is: a flow's scope that lasts to the yield,
    /// other than a <c>CountingSemaphore</c>'s permits, which have no owner.
    /// </summary>
    private static string? HeldAcrossAYield(IInvocationOperation call, KnownTypes known, CancellationToken token)
    {
        if (call.SemanticModel is not { } model || BodiesByName.BodyOf(call.TargetMethod, model, token) is not { } body)
        {
            return null;
        }

        // The iterator's own code: not a lambda's or local function's in it (a local function iterator's body is its own).
        var home = body as ILocalFunctionOperation;
        bool Own(IOperation operation) => OperationFacts.EnclosingFunction(operation) == home;
        var yields = body.Descendants().OfType<IReturnOperation>().Where(r => r.Kind == OperationKind.YieldReturn && Own(r)).ToList();
        if (yields.Count == 0)
        {
            return null;
        }

        foreach (var acquisition in body.Descendants().OfType<IInvocationOperation>())
        {
            if (known.ClaimsAFlowHold(acquisition) &&
                !known.IsSemaphore(acquisition.TargetMethod.ContainingType) &&
                Own(acquisition) &&
                yields.Any(y => y.Syntax.SpanStart > acquisition.Syntax.SpanStart && LastsTo(acquisition, y) && !DisposedBefore(acquisition, y)))
            {
                return acquisition.Instance is { } receiver ? $"'{receiver.Syntax}'" : $"the scope '{acquisition.TargetMethod.Name}' returns";
            }
        }

        return null;
    }

    /// <summary>
    /// Whether the scope <paramref name="acquisition"/> gives is kept in a local that the iterator disposes
    /// (<c>scope.Dispose()</c>, <c>await scope.DisposeAsync()</c>, in a <c>finally</c> or not) between it and
    /// <paramref name="yield"/>, on every path to it: released before that yield. A Dispose after the yield (a
    /// <c>finally</c> around it), or on a branch of its own, is not.
    /// </summary>
    private static bool DisposedBefore(IInvocationOperation acquisition, IOperation yield)
    {
        IOperation value = acquisition;
        while (value.Parent is IAwaitOperation or IConversionOperation or IParenthesizedOperation)
        {
            value = value.Parent;
        }

        ILocalSymbol? local = value.Parent switch
        {
            IVariableInitializerOperation { Parent: IVariableDeclaratorOperation declarator } => declarator.Symbol,
            ISimpleAssignmentOperation { Target: ILocalReferenceOperation target } assignment when assignment.Value == value => target.Local,
            _ => null,
        };
        return local is not null && OperationFacts.Root(acquisition).Descendants().OfType<IInvocationOperation>().Any(call =>
            call.TargetMethod is { Name: "Dispose" or "DisposeAsync", Parameters.IsEmpty: true } &&
            OperationFacts.Unwrap(call.Instance) is ILocalReferenceOperation reference &&
            SymbolEqualityComparer.Default.Equals(reference.Local, local) &&
            call.Syntax.SpanStart > acquisition.Syntax.SpanStart &&
            call.Syntax.SpanStart < yield.Syntax.SpanStart &&
            OperationFacts.EnclosingFunction(call) == OperationFacts.EnclosingFunction(acquisition) &&
            OnTheWayTo(call, yield));
    }

    /// <summary>
    /// Whether <paramref name="dispose"/> runs on every path to <paramref name="yield"/>: between it and the nearest
    /// operation enclosing the yield are only statements, blocks and a <c>try</c> (its body or <c>finally</c>). One under an
    /// <c>if</c>, a loop or a switch of its own (<c>if (empty) { scope.Dispose(); yield break; }</c>) may not.
    /// </summary>
    private static bool OnTheWayTo(IOperation dispose, IOperation yield)
    {
        for (var parent = dispose.Parent; parent is not null; parent = parent.Parent)
        {
            if (Encloses(parent, yield))
            {
                return true;
            }

            if (parent is not (IExpressionStatementOperation or IBlockOperation or ITryOperation or IAwaitOperation or IConversionOperation))
            {
                return false;
            }
        }

        return false;
    }

    /// <summary>The awaited call (through <c>ConfigureAwait</c>), or null when a call is not what is awaited.</summary>
    private static IInvocationOperation? AwaitedCall(IAwaitOperation awaited)
    {
        var operand = OperationFacts.Unwrap(awaited.Operation);
        if (operand is IInvocationOperation { TargetMethod.Name: "ConfigureAwait" } configured &&
            AsyncWrappers.IsTaskType(configured.TargetMethod.ContainingType, out _))
        {
            operand = OperationFacts.Unwrap(configured.Instance);
        }

        return operand as IInvocationOperation;
    }

    /// <summary>Whether the call, to a method of the user's, returns a task of a flow's scope: a helper or forwarder, if its body says so.</summary>
    private static bool MayGiveAHelpersScope(IInvocationOperation call, KnownTypes known) =>
        known.IsScopeTask(call.TargetMethod.ReturnType) &&
        !RuntimeSymbols.IsInLocksmithNamespaces(call.TargetMethod.ContainingType);

    /// <summary>
    /// The async helper's call the message names for <paramref name="call"/>: the call itself when it is to an async helper
    /// of the user's, or the first helper under a forwarder (<see cref="HelpersUnder"/>); null when there is none, or each
    /// one only takes a <c>CountingSemaphore</c>'s permits.
    /// </summary>
    private static IInvocationOperation? HelperToName(IInvocationOperation call, KnownTypes known, HelperJudgements<object> permitsOnly, CancellationToken token) =>
        HelpersUnder(call, known, new HashSet<IMethodSymbol>(SymbolEqualityComparer.Default), new Dictionary<IMethodSymbol, List<IInvocationOperation>?[]>(SymbolEqualityComparer.Default), token)?
            .FirstOrDefault(helper => permitsOnly.Of(helper.TargetMethod, helper.SemanticModel, token) is null);

    /// <summary>
    /// The calls to async helpers of the user's whose task <paramref name="call"/> gives, or null when it is neither such a
    /// call nor a forwarder's: a method that is not async (its frame is its caller's, so it adds none the claim could live
    /// in), with a body in source that no override replaces, whose every <c>return</c> (one at least) is of a call to such
    /// a helper or another such forwarder, and which does nothing else that begins a flow or gives a flow's scope.
    /// <paramref name="path"/> holds the forwarders being read, so a cycle of them gives null. <paramref name="read"/> holds
    /// what each forwarder gave at each depth: forwarders that pick the same ones would otherwise be read once per path
    /// through them, which grows as the arms to the power of the depth. (What one gives does not depend on the path: a
    /// forwarder under it that is on the path is one it leads back to, a cycle, null from anywhere.)
    /// </summary>
    private static List<IInvocationOperation>? HelpersUnder(IInvocationOperation call, KnownTypes known, HashSet<IMethodSymbol> path, Dictionary<IMethodSymbol, List<IInvocationOperation>?[]> read, CancellationToken token)
    {
        token.ThrowIfCancellationRequested();
        var method = call.TargetMethod;
        if (!MayGiveAHelpersScope(call, known))
        {
            return null;
        }

        if (known.IsAsyncMethod(method))
        {
            return new List<IInvocationOperation> { call };
        }

        var definition = (method.ReducedFrom ?? method).OriginalDefinition;
        if (method.MethodKind is not (MethodKind.Ordinary or MethodKind.LocalFunction) ||
            definition.ContainingType is null or { TypeKind: TypeKind.Interface } ||
            ((definition.IsVirtual || definition.IsAbstract || definition.IsOverride) && !definition.IsSealed && !definition.ContainingType.IsSealed) ||
            path.Count >= MaxForwarders ||
            call.SemanticModel is not { } model ||
            path.Contains(definition))
        {
            return null;
        }

        // Read at each depth once (a slot stays null until read; an empty list stands for 'none').
        if (!read.TryGetValue(definition, out var atDepth))
        {
            atDepth = new List<IInvocationOperation>?[MaxForwarders];
            read.Add(definition, atDepth);
        }

        if (atDepth[path.Count] is { } before)
        {
            return before.Count == 0 ? null : before;
        }

        path.Add(definition);
        List<IInvocationOperation>? helpers;
        try
        {
            helpers = BodiesByName.BodyOf(definition, model, token) is { } body ? ForwardedHelpers(body, known, path, read, token) : null;
        }
        finally
        {
            path.Remove(definition);
        }

        atDepth[path.Count] = helpers ?? new List<IInvocationOperation>();
        return helpers;
    }

    /// <summary>The helpers under a forwarder's <paramref name="body"/> (see <see cref="HelpersUnder"/>), or null when it is not one.</summary>
    private static List<IInvocationOperation>? ForwardedHelpers(IOperation body, KnownTypes known, HashSet<IMethodSymbol> path, Dictionary<IMethodSymbol, List<IInvocationOperation>?[]> read, CancellationToken token)
    {
        // The forwarder's own returns: not a lambda's or local function's in it (a local function forwarder's body is its own).
        var home = body as ILocalFunctionOperation;
        var forwarded = new List<IInvocationOperation>();
        foreach (var returned in body.Descendants().OfType<IReturnOperation>())
        {
            if (returned.Kind != OperationKind.Return || OperationFacts.EnclosingFunction(returned) != home)
            {
                continue;
            }

            if (!CallsPicked(returned.ReturnedValue, forwarded))
            {
                return null;
            }
        }

        // Another claim in it (a Begin around the call, an acquisition before it) may make the helper's locks the caller's.
        if (forwarded.Count == 0 ||
            body.Descendants().OfType<IInvocationOperation>().Any(other =>
                !forwarded.Contains(other) && (known.IsBegin(other.TargetMethod) || known.ClaimsAFlowHold(other))))
        {
            return null;
        }

        var helpers = new List<IInvocationOperation>();
        foreach (var inner in forwarded)
        {
            if (HelpersUnder(inner, known, path, read, token) is not { } under)
            {
                return null;
            }

            // Each once: forwarders picking the same ones would otherwise list them once per path.
            foreach (var helper in under)
            {
                if (!helpers.Contains(helper))
                {
                    helpers.Add(helper);
                }
            }
        }

        return helpers;
    }

    /// <summary>
    /// Whether <paramref name="value"/> is a call, or picks one of calls (each branch of a conditional or arm of a switch
    /// expression, nested or not, that does not throw), adding them to <paramref name="calls"/>; false for any other value in it.
    /// </summary>
    private static bool CallsPicked(IOperation? value, List<IInvocationOperation> calls)
    {
        switch (OperationFacts.Unwrap(value))
        {
            case IInvocationOperation call:
                calls.Add(call);
                return true;
            case IConditionalOperation { WhenFalse: { } whenFalse } picked:
                return CallsPicked(picked.WhenTrue, calls) && CallsPicked(whenFalse, calls);
            case ISwitchExpressionOperation switched:
                return !switched.Arms.IsEmpty && switched.Arms.All(arm => CallsPicked(arm.Value, calls));
            case IThrowOperation:
                // Picks nothing, as a guard that throws before the return does (one that only throws gives no call).
                return true;
            default:
                return false;
        }
    }

    /// <summary>
    /// Whether the helper's body, in source, takes only a <c>CountingSemaphore</c>'s permits: a permit has no owner (no
    /// query, no recursion), so its caller has no ownership to miss. Its calls giving a flow's scope are all the semaphore's.
    /// </summary>
    private static bool OnlyTakesPermits(IOperation body, KnownTypes known)
    {
        bool any = false;
        foreach (var invocation in body.Descendants().OfType<IInvocationOperation>())
        {
            if (known.ClaimsAFlowHold(invocation))
            {
                if (!known.IsSemaphore(invocation.TargetMethod.ContainingType))
                {
                    return false;
                }

                any = true;
            }
        }

        return any;
    }

    private static bool InsideAFunction(IOperation operation) => OperationFacts.EnclosingFunction(operation) is not null;

    /// <summary>
    /// Whether the awaited scope is returned by this method (<c>return await Inner();</c>, also as a branch of a conditional
    /// or switch expression, or kept in a local that is returned): this method is a helper too, and the report belongs where it is awaited.
    /// </summary>
    private static bool ReturnedOnward(IOperation awaited)
    {
        IOperation value = awaited;
        while (value.Parent is IConversionOperation or IParenthesizedOperation ||
               (value.Parent is IConditionalOperation conditional && (conditional.WhenTrue == value || conditional.WhenFalse == value)) ||
               (value.Parent is ICoalesceOperation coalesce && coalesce.WhenNull == value) ||
               (value.Parent is ISwitchExpressionArmOperation { Parent: ISwitchExpressionOperation } arm && arm.Value == value))
        {
            value = value.Parent is ISwitchExpressionArmOperation { Parent: { } switched } ? switched : value.Parent;
        }

        if (value.Parent is IReturnOperation)
        {
            return true;
        }

        ILocalSymbol? local = value.Parent switch
        {
            IVariableInitializerOperation { Parent: IVariableDeclaratorOperation declarator } => declarator.Symbol,
            ISimpleAssignmentOperation { Target: ILocalReferenceOperation target } assignment when assignment.Value == value => target.Local,
            _ => null,
        };
        return local is not null && OperationFacts.Root(awaited).Descendants().OfType<IReturnOperation>().Any(returned =>
            OperationFacts.Unwrap(returned.ReturnedValue) is ILocalReferenceOperation reference &&
            SymbolEqualityComparer.Default.Equals(reference.Local, local) &&
            !InsideAFunction(returned));
    }

    /// <summary>
    /// Whether the awaited scope is used in this method's frame: a <c>using</c> resource, a local, or dropped as a
    /// statement. One stored in a field or property, passed on, or wrapped (<c>new Lease(await TakeAsync())</c>) outlives
    /// the frame, where a <c>Begin</c> would end too soon: its users are elsewhere, and the advice would not help here.
    /// </summary>
    private static bool UsedInThisFrame(IOperation awaited)
    {
        IOperation value = awaited;
        while (value.Parent is IConversionOperation or IParenthesizedOperation)
        {
            value = value.Parent;
        }

        return value.Parent switch
        {
            IVariableInitializerOperation { Parent: IVariableDeclaratorOperation } => true,
            ISimpleAssignmentOperation { Target: ILocalReferenceOperation } assignment => assignment.Value == value,
            IUsingOperation usingStatement => usingStatement.Resources == value,
            IExpressionStatementOperation => true,
            _ => false,
        };
    }

    /// <summary>
    /// Whether the method's flow owns its holds at <paramref name="awaited"/>: a call made before it in the method's own
    /// code (not a lambda's) begins the flow or acquires a flow's scope, and what it claims lasts to here.
    /// </summary>
    private static bool OwnedAt(IOperation awaited, KnownTypes known)
    {
        int at = awaited.Syntax.SpanStart;
        foreach (var operation in OperationFacts.Root(awaited).Descendants())
        {
            if (operation is IInvocationOperation invocation &&
                invocation.Syntax.SpanStart < at &&
                (known.IsBegin(invocation.TargetMethod) || known.ClaimsAFlowHold(invocation)) &&
                !InsideAFunction(invocation) &&
                LastsTo(invocation, awaited))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Whether what <paramref name="made"/> claims lasts to <paramref name="at"/>: a <c>using</c> statement's resource
    /// lasts through its body, a <c>using</c> declaration to the end of its block; a scope kept otherwise (a local disposed
    /// by hand, in a <c>finally</c>) is taken to last, since where it ends is not followed.
    /// </summary>
    private static bool LastsTo(IOperation made, IOperation at)
    {
        IOperation child = made;
        for (var parent = made.Parent; parent is not null; child = parent, parent = parent.Parent)
        {
            switch (parent)
            {
                case IUsingOperation usingStatement when child == usingStatement.Resources:
                    return Encloses(usingStatement.Body, at);
                case IUsingDeclarationOperation declaration:
                    return declaration.Parent is { } block && Encloses(block, at);
                case IBlockOperation:
                    return true;
            }
        }

        return true;
    }

    private static bool Encloses(IOperation outer, IOperation inner)
    {
        for (var parent = inner.Parent; parent is not null; parent = parent.Parent)
        {
            if (parent == outer)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The runtime and framework types the analysis compares with, looked up once per compilation.</summary>
    private sealed class KnownTypes
    {
        private readonly INamedTypeSymbol _flow;
        private readonly ImmutableHashSet<INamedTypeSymbol> _scopes;
        private readonly INamedTypeSymbol? _asyncStateMachine;
        private readonly INamedTypeSymbol? _semaphore;
        private readonly INamedTypeSymbol? _flowScope;

        private KnownTypes(INamedTypeSymbol flow, ImmutableHashSet<INamedTypeSymbol> scopes, INamedTypeSymbol? asyncStateMachine, INamedTypeSymbol? semaphore, INamedTypeSymbol? flowScope)
        {
            _flow = flow;
            _flowScope = flowScope;
            _scopes = scopes;
            _asyncStateMachine = asyncStateMachine;
            _semaphore = semaphore;
        }

        /// <summary>The types of the compilation, or null when it has no <c>AsyncLockFlow</c>.</summary>
        public static KnownTypes? Resolve(Compilation compilation)
        {
            if (compilation.GetTypeByMetadataName(KnownNames.AsyncLockFlow) is not { } flow)
            {
                return null;
            }

            // The scopes of holds an async flow owns (Locksmith.Postgres's too: its locks keep flow ownership the same way).
            var scopes = ImmutableHashSet.CreateBuilder<INamedTypeSymbol>(SymbolEqualityComparer.Default);
            foreach (string name in new[]
            {
                KnownNames.RuntimeNamespace + "." + KnownNames.AsyncLockScope,
                KnownNames.RuntimeNamespace + "." + KnownNames.AsyncLockSetScope,
                KnownNames.DistributedNamespace + "." + KnownNames.PostgresLockScope,
                KnownNames.DistributedNamespace + "." + KnownNames.PostgresLockSetScope,
            })
            {
                if (compilation.GetTypeByMetadataName(name) is { } scope)
                {
                    scopes.Add(scope);
                }
            }

            return new KnownTypes(
                flow,
                scopes.ToImmutable(),
                compilation.GetTypeByMetadataName("System.Runtime.CompilerServices.AsyncStateMachineAttribute"),
                compilation.GetTypeByMetadataName(KnownNames.CountingSemaphore),
                compilation.GetTypeByMetadataName(KnownNames.AsyncLockFlow + "Scope"));
        }

        public bool IsSemaphore(ITypeSymbol? type) => _semaphore is not null && SymbolEqualityComparer.Default.Equals(type?.OriginalDefinition, _semaphore);

        public bool IsScopeTask(ITypeSymbol? type) => AsyncWrappers.IsTaskType(type, out var result) && IsScope(result);

        /// <summary>Whether the call begins a flow: <c>AsyncLockFlow.Begin()</c>, or a method of the user's that returns its claim.</summary>
        public bool IsBegin(IMethodSymbol method) =>
            (method.Name == "Begin" && SymbolEqualityComparer.Default.Equals(method.ContainingType, _flow)) ||
            (_flowScope is not null && SymbolEqualityComparer.Default.Equals(method.ReturnType, _flowScope));

        /// <summary>Whether the call gives a flow's scope: returns one or a task of one, or sets one in an <c>out</c> argument.</summary>
        public bool ClaimsAFlowHold(IInvocationOperation invocation)
        {
            var method = invocation.TargetMethod;
            return IsScope(method.ReturnType) || IsScopeTask(method.ReturnType) ||
                method.Parameters.Any(parameter => parameter.RefKind == RefKind.Out && IsScope(parameter.Type));
        }

        /// <summary>
        /// Whether the method is async: declared <c>async</c> in source (its implementing part for a partial method), or
        /// compiled from such a method (it carries <c>[AsyncStateMachine]</c>). Abstract, interface and delegate methods are not.
        /// </summary>
        public bool IsAsyncMethod(IMethodSymbol method)
        {
            var definition = (method.ReducedFrom ?? method).OriginalDefinition;
            definition = definition.PartialImplementationPart ?? definition;
            if (definition.IsAsync)
            {
                return true;
            }

            if (_asyncStateMachine is null || !definition.DeclaringSyntaxReferences.IsEmpty)
            {
                return false;
            }

            foreach (var attribute in definition.GetAttributes())
            {
                if (SymbolEqualityComparer.Default.Equals(attribute.AttributeClass, _asyncStateMachine))
                {
                    return true;
                }
            }

            return false;
        }

        private bool IsScope(ITypeSymbol? type) => type is INamedTypeSymbol named && _scopes.Contains(named.OriginalDefinition);
    }
}
