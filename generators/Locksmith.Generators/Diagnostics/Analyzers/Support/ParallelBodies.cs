using System;
using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Operations;

namespace Locksmith.Generators.Diagnostics.Analyzers.Support;

/// <summary>
/// Bodies of <c>Parallel.For</c>, <c>ForEach</c>, <c>ForAsync</c>, <c>ForEachAsync</c> and <c>Invoke</c>, which run on several threads at
/// once, and the writes of guarded state in them that race each other: LSM0056 under a caller's hold, LSM0020 in a
/// constructor (which holds the object's state only for its own thread). Also the work a hold does not wait for (a task,
/// thread, timer, continuation or cancellation callback started and dropped, <see cref="DroppedStartOf"/>), whose code runs after the release:
/// LSM0020 for state touched in it, or in a parallel loop in it (<see cref="StartedUnwaited"/>).
/// </summary>
internal static class ParallelBodies
{
    // What changes a System.Collections.Generic collection in place: such calls from several bodies at once corrupt it.
    private static readonly ImmutableHashSet<string> s_collectionChanges = ImmutableHashSet.Create(
        "Add", "AddRange", "Insert", "InsertRange", "Remove", "RemoveAt", "RemoveAll", "RemoveRange", "RemoveWhere", "Clear",
        "Enqueue", "Dequeue", "TryDequeue", "Push", "Pop", "TryPop", "TryAdd", "Sort", "Reverse", "UnionWith", "IntersectWith",
        "ExceptWith", "SymmetricExceptWith", "AddFirst", "AddLast", "AddBefore", "AddAfter", "RemoveFirst", "RemoveLast");

    /// <summary>
    /// How the access writes the member, as the message says it: "written" (<see cref="OperationFacts.IsWriteOrMutation"/>),
    /// "changed by 'Add'" (the receiver of a call that changes a System.Collections.Generic collection; concurrent
    /// collections, their calls and slots, are made for this), or null when it only reads.
    /// </summary>
    public static string? WriteOf(IMemberReferenceOperation access)
    {
        if (OperationFacts.IsWriteOrMutation(access))
        {
            // A slot of a concurrent collection (`_hits[key] = n`) takes writes from several threads at once, as its calls do.
            return access.Parent is IPropertyReferenceOperation { Property.IsIndexer: true } slot && slot.Instance == access &&
                slot.Property.ContainingType?.ContainingNamespace?.ToDisplayString() == KnownNames.ConcurrentCollectionsNamespace
                ? null
                : "written";
        }

        var receiver = access.Parent is IConversionOperation { IsImplicit: true } conversion ? conversion : (IOperation)access;
        return receiver.Parent is IInvocationOperation call && call.Instance == receiver &&
            s_collectionChanges.Contains(call.TargetMethod.Name) &&
            call.TargetMethod.ContainingType.ContainingNamespace?.ToDisplayString() == "System.Collections.Generic"
            ? "changed by '" + call.TargetMethod.Name + "'"
            : null;
    }

    /// <summary>
    /// An element of an array indexed by the run's own index (<c>Parallel.For(0, n, i =&gt; _slots[i] = …)</c>, the
    /// lambda's first parameter, never assigned): each run writes a slot no other run writes, so the runs do not race.
    /// </summary>
    public static bool IsOwnSlot(IMemberReferenceOperation access)
    {
        if (access.Parent is not IArrayElementReferenceOperation { Indices.Length: 1 } element || element.ArrayReference != access)
        {
            return false;
        }

        var index = element.Indices[0];
        while (index is IConversionOperation { IsImplicit: true } conversion)
        {
            index = conversion.Operand;
        }

        if (index is not IParameterReferenceOperation { Parameter: { Ordinal: 0, ContainingSymbol: IMethodSymbol { MethodKind: MethodKind.AnonymousFunction } } parameter })
        {
            return false;
        }

        IOperation? node = access;
        while (node is not null && !(node is IAnonymousFunctionOperation lambda && SymbolEqualityComparer.Default.Equals(lambda.Symbol, parameter.ContainingSymbol)))
        {
            node = node.Parent;
        }

        if (node is not IAnonymousFunctionOperation body ||
            body.Body.Descendants().OfType<IParameterReferenceOperation>().Any(r => SymbolEqualityComparer.Default.Equals(r.Parameter, parameter) && OperationFacts.IsWrite(r)))
        {
            return false;
        }

        IOperation argument = body;
        while (argument.Parent is IDelegateCreationOperation or IConversionOperation or IParenthesizedOperation)
        {
            argument = argument.Parent;
        }

        // Only For and ForAsync give each run a distinct index; ForEach's first parameter is an element, which may repeat.
        return argument.Parent is IArgumentOperation { Parent: IInvocationOperation loop } &&
            loop.TargetMethod.Name is "For" or "ForAsync" &&
            InlineDelegates.IsType(loop.TargetMethod.ContainingType, KnownNames.ParallelType);
    }

    // Interlocked.Increment(ref _n), Volatile.Write(ref _n, v): atomic, so bodies do not lose each other's updates.
    public static bool IsAtomic(IOperation access)
    {
        IOperation node = access;
        while (node.Parent is IArrayElementReferenceOperation or IFieldReferenceOperation or IConversionOperation or IParenthesizedOperation)
        {
            node = node.Parent;
        }

        return node.Parent is IArgumentOperation { Parent: IInvocationOperation call } &&
            call.TargetMethod.ContainingType is { ContainingNamespace: { } ns } type &&
            ns.ToDisplayString() == "System.Threading" && type.Name is "Interlocked" or "Volatile";
    }

    /// <summary>
    /// The parallel loop whose body runs <paramref name="at"/>, whoever holds what: a lambda or anonymous method given to it
    /// (also through lambdas run inline in it), or a local function given to it by name or called from such a body (a few
    /// deep: it may call itself); null past a lambda that may run elsewhere.
    /// </summary>
    public static IInvocationOperation? LoopAround(IOperation at, int depth = 0)
    {
        for (var parent = at.Parent; parent is not null; parent = parent.Parent)
        {
            if (parent is ILocalFunctionOperation local)
            {
                if (depth >= 3)
                {
                    return null;
                }

                foreach (var use in OperationFacts.Root(local).Descendants())
                {
                    if (local.Syntax.Span.Contains(use.Syntax.Span))
                    {
                        continue;
                    }

                    if (use is IMethodReferenceOperation reference && SymbolEqualityComparer.Default.Equals(reference.Method.OriginalDefinition, local.Symbol.OriginalDefinition) &&
                        (InlineDelegates.ParallelCallOf(reference) ?? ParallelCallThroughLocal(reference, out _)) is { } loop)
                    {
                        return loop;
                    }

                    if (use is IInvocationOperation call && SymbolEqualityComparer.Default.Equals(call.TargetMethod.OriginalDefinition, local.Symbol.OriginalDefinition) &&
                        LoopAround(call, depth + 1) is { } around)
                    {
                        return around;
                    }
                }

                return null;
            }

            if (parent is not IAnonymousFunctionOperation function)
            {
                continue;
            }

            if ((InlineDelegates.ParallelCallOf(function) ?? ParallelCallThroughLocal(function, out _)) is { } parallel)
            {
                return parallel;
            }

            if (InlineDelegates.RunOf(function, out _) != DelegateRun.Inline)
            {
                return null;
            }
        }

        return null;
    }

    /// <summary>
    /// The parallel loop a delegate kept in a local is given to (<c>Action&lt;int&gt; body = i =&gt; _n++; Parallel.For(0, n, body);</c>):
    /// <paramref name="function"/> (a lambda, anonymous method or method group) is the local's one value, from its
    /// declaration or from the one assignment that keeps it, and the local is passed directly to the loop
    /// (<paramref name="site"/>, where the holds around the loop are judged); the first such loop, or null.
    /// </summary>
    public static IInvocationOperation? ParallelCallThroughLocal(IOperation function, out IOperation? site)
    {
        site = null;
        if (InlineDelegates.KeptIn(function) is not ILocalSymbol local || local.RefKind != RefKind.None)
        {
            return null;
        }

        // Kept by its declaration: no assignment after it; kept by an assignment: that one only.
        IOperation node = function;
        while (node.Parent is IDelegateCreationOperation or IConversionOperation or IParenthesizedOperation)
        {
            node = node.Parent;
        }

        int writes = node.Parent is IVariableInitializerOperation ? 1 : 0;
        IInvocationOperation? loop = null;
        foreach (var reference in OperationFacts.Root(function).Descendants().OfType<ILocalReferenceOperation>())
        {
            if (!SymbolEqualityComparer.Default.Equals(reference.Local, local))
            {
                continue;
            }

            if (OperationFacts.IsWrite(reference) || reference.Parent is IArgumentOperation { Parameter.RefKind: not RefKind.None })
            {
                writes++;
            }
            else if (loop is null && InlineDelegates.ParallelCallOf(reference) is { } call)
            {
                loop = call;
                site = reference;
            }
        }

        if (writes != 1)
        {
            site = null;
            return null;
        }

        return loop;
    }

    /// <summary>
    /// What starts <paramref name="loop"/> as work that the hold around it does not wait for, so its bodies may run after
    /// the hold is released, with no lock held: the loop itself, a <c>ForAsync</c> or <c>ForEachAsync</c> whose task is
    /// dropped, or what starts a lambda around it as <see cref="DroppedStartOf"/> finds it (the one list of starters both
    /// checks of such work use), and also a <c>Task.Run</c> or <c>TaskFactory.StartNew</c> whose task is assigned to a
    /// field or a property, where the method does not see it again to wait for it (a task kept in a local is not judged:
    /// the hold may wait for it). A thread kept in a local is not such work where <paramref name="heldAt"/> says the hold is
    /// still taken at one of its joins (<see cref="JoinsOf"/>). Only lambdas between the loop and the hold count: past one
    /// whose own code takes the lock around the loop, or a local function, it is null. A task awaited or waited for in the
    /// hold runs in it.
    /// </summary>
    public static IOperation? StartedUnwaited(IInvocationOperation loop, ISymbol lockMember, IOperation? instance, Func<IOperation, bool> heldAt, LockFacts facts)
    {
        if (loop.TargetMethod.Name is "ForAsync" or "ForEachAsync" && IsDropped(loop))
        {
            return loop;
        }

        for (var parent = loop.Parent; parent is not null; parent = parent.Parent)
        {
            if (parent is ILocalFunctionOperation)
            {
                return null;
            }

            if (parent is not IAnonymousFunctionOperation function)
            {
                continue;
            }

            if (HeldLocks.HeldByScopeInside(loop, lockMember, instance, function, facts))
            {
                return null;
            }

            if (DroppedStartOf(function) is { } dropped)
            {
                return JoinsOf(dropped).Any(join => heldAt(join)) ? null : dropped;
            }

            IOperation node = function;
            while (node.Parent is IDelegateCreationOperation or IConversionOperation or IParenthesizedOperation)
            {
                node = node.Parent;
            }

            if (node.Parent is IArgumentOperation { Parent: IInvocationOperation start } && StartsWork(start.TargetMethod, out _) && IsDropped(start))
            {
                return start;
            }
        }

        return null;
    }

    /// <summary>
    /// What starts the work <paramref name="at"/> runs in as work the code around it does not wait for, as
    /// <see cref="DroppedStartOf"/> finds it for the function that work is given (a call such as <c>Task.Run</c> or a
    /// thread's <c>Start</c>, a <c>new Timer(…)</c>, an <c>Elapsed +=</c>), or null. <paramref name="at"/> is in a lambda or
    /// anonymous method given to it, directly or through lambdas the work runs inline (<c>items.ForEach(x =&gt; _n += x)</c>,
    /// <see cref="InlineDelegates.RunOf"/>), which run on its thread too; or in a local function given to it by name
    /// (<c>_ = Task.Run(Step)</c>, <c>new Thread(Step)</c>), or to a method it runs inline (<c>items.ForEach(Step)</c> in it),
    /// or called from such work, followed through at most three local
    /// functions (it may call itself). Past a lambda that may run elsewhere (kept, or given to a method not known to run it
    /// inline) it is null, and so where <paramref name="takesTheLockIn"/> says the code at a point takes the lock itself
    /// inside the lambda or local function the work runs (the work holds it there). A thread kept in a local is returned
    /// joined or not: the caller asks <see cref="JoinsOf"/> whether the hold joins it. Stricter than
    /// <see cref="StartedUnwaited"/>, which also counts a <c>Task.Run</c> or <c>StartNew</c> task stored in a field or a
    /// property: here a task kept anywhere may be waited for, so only the clearly dropped forms count.
    /// </summary>
    public static IOperation? DroppedWorkAround(IOperation at, Func<IOperation, IOperation, bool> takesTheLockIn, int depth = 0)
    {
        for (var parent = at.Parent; parent is not null; parent = parent.Parent)
        {
            if (parent is ILocalFunctionOperation local)
            {
                return depth < 3 && !takesTheLockIn(at, local) ? DroppedWorkRunning(local, takesTheLockIn, depth) : null;
            }

            if (parent is not IAnonymousFunctionOperation function)
            {
                continue;
            }

            if (DroppedStartOf(function) is { } start)
            {
                return takesTheLockIn(at, function) ? null : start;
            }

            if (InlineDelegates.RunOf(function, out _) != DelegateRun.Inline)
            {
                return null;
            }
        }

        return null;
    }

    // The first dropped work that runs the local function: given to it by name, or to a method it runs inline
    // (`items.ForEach(Step)` in it), or called from it.
    private static IOperation? DroppedWorkRunning(ILocalFunctionOperation local, Func<IOperation, IOperation, bool> takesTheLockIn, int depth)
    {
        foreach (var use in OperationFacts.Root(local).Descendants())
        {
            if (local.Syntax.Span.Contains(use.Syntax.Span))
            {
                continue;
            }

            if (use is IMethodReferenceOperation reference && SymbolEqualityComparer.Default.Equals(reference.Method.OriginalDefinition, local.Symbol.OriginalDefinition) &&
                (DroppedStartOf(reference) ??
                    (InlineDelegates.RunOf(reference, out _) == DelegateRun.Inline ? DroppedWorkAround(reference, takesTheLockIn, depth + 1) : null)) is { } start)
            {
                return start;
            }

            if (use is IInvocationOperation call && SymbolEqualityComparer.Default.Equals(call.TargetMethod.OriginalDefinition, local.Symbol.OriginalDefinition) &&
                DroppedWorkAround(call, takesTheLockIn, depth + 1) is { } around)
            {
                return around;
            }
        }

        return null;
    }

    /// <summary>
    /// What starts <paramref name="function"/> (a lambda, anonymous method or method group given to it directly) as work the
    /// code around it does not wait for, or null: <c>Task.Run</c>, <c>TaskFactory.StartNew</c>, a task's
    /// <c>ContinueWith</c> or a <c>TaskFactory</c>'s <c>ContinueWhenAll</c> or <c>ContinueWhenAny</c> whose task is a
    /// statement of its own or assigned to a discard; <c>ThreadPool.QueueUserWorkItem</c>;
    /// the <c>Start</c> call of a <c>new Thread(…)</c> started at once, or of one kept in a local the method does not pass on
    /// (the caller then asks <see cref="JoinsOf"/> whether the hold joins it); the <c>Start</c> call of a <c>new Task(…)</c>
    /// started at once; or a
    /// <c>new System.Threading.Timer(…)</c>, kept or not (nothing waits for a timer's callback); or the <c>+=</c> that
    /// subscribes it to a <c>System.Timers.Timer</c>'s <c>Elapsed</c> (a handler run on a pool thread at each tick); or a
    /// <c>CancellationToken</c>'s <c>Register</c> or <c>UnsafeRegister</c> (the callback runs at cancellation, on the
    /// cancelling thread; the caller asks <see cref="JoinsOf"/> whether the hold disposes the registration).
    /// </summary>
    public static IOperation? DroppedStartOf(IOperation function)
    {
        IOperation node = function;
        while (node.Parent is IDelegateCreationOperation or IConversionOperation or IParenthesizedOperation)
        {
            node = node.Parent;
        }

        switch (node.Parent)
        {
            case IArgumentOperation { Parent: IInvocationOperation registration, Parameter.Ordinal: 0 } when IsRegistration(registration.TargetMethod):
                // Kept or not: the caller asks JoinsOf whether the hold disposes the registration.
                return registration;
            case IArgumentOperation { Parent: IInvocationOperation start }:
                bool starts = StartsWork(start.TargetMethod, out bool dropsItself) || IsContinuation(start.TargetMethod);
                return starts && (dropsItself || IsDropped(start, discardedOnly: true)) ? start : null;
            case IArgumentOperation { Parent: IObjectCreationOperation { Type: INamedTypeSymbol type } creation }:
                if (InlineDelegates.IsType(type, KnownNames.TimerType))
                {
                    return creation;
                }

                IOperation thread = creation;
                while (thread.Parent is IConversionOperation or IParenthesizedOperation)
                {
                    thread = thread.Parent;
                }

                bool isThread = InlineDelegates.IsType(type, KnownNames.ThreadType);
                if (!isThread && !InlineDelegates.IsType(type, KnownNames.TaskType) && !InlineDelegates.IsType(type, KnownNames.TaskOfTType))
                {
                    return null;
                }

                // A task kept may be waited for or awaited in many ways, so only one started at once counts, as for Task.Run.
                return thread.Parent is IInvocationOperation { TargetMethod.Name: KnownNames.ThreadStart } started && started.Instance == thread
                    ? started
                    : isThread ? KeptThreadStart(thread) : null;
            case IEventAssignmentOperation { Adds: true, EventReference: IEventReferenceOperation { Event: { Name: KnownNames.TimerElapsed } elapsed } } subscription
                when subscription.HandlerValue == node && InlineDelegates.IsType(elapsed.ContainingType, KnownNames.TimersTimerType):
                return subscription;
            default:
                return null;
        }
    }

    // ct.Register(…), ct.UnsafeRegister(…): a callback run when the token is cancelled, by whoever cancels it.
    private static bool IsRegistration(IMethodSymbol method) =>
        method is { Name: KnownNames.CancellationTokenRegister or KnownNames.CancellationTokenUnsafeRegister, IsStatic: false } &&
        InlineDelegates.IsType(method.ContainingType, KnownNames.CancellationTokenType);

    // A task's ContinueWith, or a TaskFactory's ContinueWhenAll or ContinueWhenAny: a continuation run on the pool once the
    // tasks complete.
    private static bool IsContinuation(IMethodSymbol method)
    {
        var type = method.ContainingType;
        return method.Name == KnownNames.TaskContinueWith
            ? InlineDelegates.IsType(type, KnownNames.TaskType) || InlineDelegates.IsType(type, KnownNames.TaskOfTType)
            : method.Name is KnownNames.TaskFactoryContinueWhenAll or KnownNames.TaskFactoryContinueWhenAny &&
              (InlineDelegates.IsType(type, KnownNames.TaskFactoryType) || InlineDelegates.IsType(type, KnownNames.TaskFactoryOfTType));
    }

    // A thread kept in a local assigned once (`var t = new Thread(…);`, or `t = new Thread(…);`) and started through it: its
    // first Start. Null when the method uses the local otherwise than through the thread's own members (stores it, passes
    // it on, captures it in a lambda or local function), since it may then be joined elsewhere.
    private static IInvocationOperation? KeptThreadStart(IOperation thread)
    {
        ILocalSymbol? local = thread.Parent switch
        {
            IVariableInitializerOperation { Parent: IVariableDeclaratorOperation declarator } => declarator.Symbol,
            ISimpleAssignmentOperation { Target: ILocalReferenceOperation target } assignment when assignment.Value == thread => target.Local,
            _ => null,
        };
        if (local is null || local.RefKind != RefKind.None)
        {
            return null;
        }

        var function = EnclosingFunction(thread);
        int writes = thread.Parent is IVariableInitializerOperation ? 1 : 0;
        IInvocationOperation? start = null;
        foreach (var reference in OperationFacts.Root(thread).Descendants().OfType<ILocalReferenceOperation>())
        {
            if (!SymbolEqualityComparer.Default.Equals(reference.Local, local))
            {
                continue;
            }

            if (reference.Parent is ISimpleAssignmentOperation assignment && assignment.Target == reference)
            {
                writes++;
            }
            else if (EnclosingFunction(reference) != function ||
                reference.Parent is not (IInvocationOperation or IPropertyReferenceOperation) ||
                (reference.Parent is IInvocationOperation { Instance: var callee } && callee != reference) ||
                (reference.Parent is IPropertyReferenceOperation { Instance: var owner } && owner != reference))
            {
                return null;
            }
            else if (start is null && reference.Parent is IInvocationOperation { TargetMethod.Name: KnownNames.ThreadStart } call)
            {
                start = call;
            }
        }

        return writes == 1 ? start : null;
    }

    /// <summary>
    /// The <c>Join</c> calls, after it, on the thread a <c>Start</c> that <see cref="DroppedStartOf"/> found starts through
    /// the local it is kept in (<c>t.Start(); … t.Join();</c>); for a cancellation registration, what disposes it
    /// (<see cref="DisposalsOf"/>); none for other work. The caller judges whether the hold is still taken there: a thread
    /// joined in the hold runs in it, and a registration disposed in it runs no callback after it.
    /// </summary>
    public static ImmutableArray<IInvocationOperation> JoinsOf(IOperation start)
    {
        if (start is IInvocationOperation registration && IsRegistration(registration.TargetMethod))
        {
            return DisposalsOf(registration);
        }

        if (start is not IInvocationOperation { TargetMethod.Name: KnownNames.ThreadStart, Instance: ILocalReferenceOperation kept } call ||
            !InlineDelegates.IsType(call.TargetMethod.ContainingType, KnownNames.ThreadType))
        {
            return ImmutableArray<IInvocationOperation>.Empty;
        }

        return OperationFacts.Root(call).Descendants().OfType<IInvocationOperation>()
            .Where(join => join.TargetMethod.Name == KnownNames.ThreadJoin && join.Syntax.SpanStart >= call.Syntax.Span.End &&
                join.Instance is ILocalReferenceOperation joined && SymbolEqualityComparer.Default.Equals(joined.Local, kept.Local))
            .ToImmutableArray();
    }

    // What disposes a cancellation registration: the registration itself when it is a using's resource (disposed where the
    // using ends, inside whatever holds it) or disposed at once (`ct.Register(…).Dispose()`); else the Dispose calls, and
    // awaited DisposeAsync calls, after it and in the same function (not a lambda, which may run later), on the local, or the
    // field or property of this object, it is kept in, while the place still holds it: before the place is next written
    // (in text order), and in every loop the registration is made in (a loop's registration disposed after the loop is
    // only the last pass's, unless the loop disposes the pass before's at its top). Those two wait for a callback that is
    // running; Unregister and an unawaited DisposeAsync do not.
    private static ImmutableArray<IInvocationOperation> DisposalsOf(IInvocationOperation registration)
    {
        IOperation value = registration;
        while (value.Parent is IConversionOperation or IParenthesizedOperation)
        {
            value = value.Parent;
        }

        if (value.Parent is IInvocationOperation { TargetMethod.Name: "Dispose" } disposedAtOnce && disposedAtOnce.Instance == value)
        {
            return ImmutableArray.Create(registration);
        }

        for (var parent = value.Parent;
             parent is IVariableInitializerOperation or IVariableDeclaratorOperation or IVariableDeclarationOperation or IVariableDeclarationGroupOperation or IUsingDeclarationOperation or IUsingOperation;
             parent = parent.Parent)
        {
            // Reached through the declarations only, so the registration is the using's resource, not in its body.
            if (parent is IUsingDeclarationOperation or IUsingOperation)
            {
                return ImmutableArray.Create(registration);
            }
        }

        ILocalSymbol? keptIn = null;
        IOperation? keptAt = null;
        switch (value.Parent)
        {
            case IVariableInitializerOperation { Parent: IVariableDeclaratorOperation declarator }:
                keptIn = declarator.Symbol;
                break;
            case ISimpleAssignmentOperation assignment when assignment.Value == value:
                var target = OperationFacts.Unwrap(assignment.Target);
                keptIn = (target as ILocalReferenceOperation)?.Local;
                keptAt = target is IFieldReferenceOperation { Field: var field } fieldTarget && (field.IsStatic || OperationFacts.IsThis(fieldTarget.Instance)) ||
                    target is IPropertyReferenceOperation { Arguments.Length: 0, Property: var property } propertyTarget && (property.IsStatic || OperationFacts.IsThis(propertyTarget.Instance))
                    ? target
                    : null;
                break;
        }

        if (keptIn is null && keptAt is null)
        {
            return ImmutableArray<IInvocationOperation>.Empty;
        }

        bool IsThePlace(IOperation? reference) =>
            OperationFacts.Unwrap(reference) is { } instance &&
            (keptIn is not null
                ? instance is ILocalReferenceOperation local && SymbolEqualityComparer.Default.Equals(local.Local, keptIn)
                : instance is IMemberReferenceOperation && OperationFacts.SameInstance(instance, keptAt));

        bool Writes(IOperation operation) =>
            operation is ILocalReferenceOperation or IMemberReferenceOperation && OperationFacts.IsWrite(operation) && IsThePlace(operation);

        // The place is assigned again (anywhere, a lambda too) after the registration, not in the other branch of an `if`
        // it is made in: a disposal from there on is another's.
        var root = OperationFacts.Root(registration);
        int end = registration.Syntax.Span.End;
        int replaced = root.Descendants()
            .Where(operation => operation.Syntax.SpanStart >= end && Writes(operation) && !OperationFacts.InExclusiveBranches(registration, operation))
            .Select(static operation => operation.Syntax.SpanStart)
            .DefaultIfEmpty(int.MaxValue)
            .Min();
        var function = EnclosingFunction(registration);
        bool Disposes(IOperation operation) =>
            operation is IInvocationOperation call &&
            (call.TargetMethod.Name == "Dispose" || (call.TargetMethod.Name == "DisposeAsync" && OperationFacts.IsAwaited(call))) &&
            EnclosingFunction(call) == function && IsThePlace(call.Instance);

        return root.Descendants().OfType<IInvocationOperation>()
            .Where(call => Disposes(call) && call.Syntax.SpanStart >= end && call.Syntax.SpanStart < replaced &&
                OperationFacts.LoopsAroundAreAround(registration, call, Disposes, Writes))
            .ToImmutableArray();
    }

    // The lambda, anonymous method or local function around an operation, or null in the method's own body.
    private static IOperation? EnclosingFunction(IOperation operation) => OperationFacts.EnclosingFunction(operation);

    /// <summary>How a message names what <see cref="DroppedStartOf"/> found: 'Task.Run', 'Thread.Start', 'new Timer', 'Timer.Elapsed'.</summary>
    public static string StarterName(IOperation start) => start switch
    {
        IInvocationOperation call => call.TargetMethod.ContainingType.Name + "." + call.TargetMethod.Name,
        IObjectCreationOperation creation => "new " + creation.Type?.Name,
        IEventAssignmentOperation { EventReference: IEventReferenceOperation reference } => reference.Event.ContainingType.Name + "." + reference.Event.Name,
        _ => start.Syntax.ToString(),
    };

    /// <summary>Whether the work <see cref="DroppedStartOf"/> found is a timer's callback or handler, which nothing can wait for.</summary>
    public static bool IsTimer(IOperation start) => start is IObjectCreationOperation or IEventAssignmentOperation;

    /// <summary>
    /// How advice on work <see cref="DroppedStartOf"/> found ends, after "take the lock in the work": a timer cannot be
    /// waited for (nothing); a cancellation callback is kept from running after the hold by disposing its registration
    /// there; other work is waited for.
    /// </summary>
    public static string WaitAdvice(IOperation start) =>
        IsTimer(start) ? string.Empty
        : start is IInvocationOperation call && IsRegistration(call.TargetMethod)
            ? ", or dispose the registration before the hold ends ('using var registration = ct.Register(…);' in the scope)"
            : ", or wait for the work before the hold ends";

    // Task.Run, TaskFactory.StartNew (also TaskFactory<T>'s); ThreadPool.QueueUserWorkItem returns no task to wait for at all.
    public static bool StartsWork(IMethodSymbol method, out bool dropsItself)
    {
        var type = method.ContainingType;
        dropsItself = method.Name is KnownNames.QueueUserWorkItem or KnownNames.UnsafeQueueUserWorkItem &&
            InlineDelegates.IsType(type, KnownNames.ThreadPoolType);
        return dropsItself ||
            (method.Name == KnownNames.TaskRun && InlineDelegates.IsType(type, KnownNames.TaskType)) ||
            (method.Name == KnownNames.TaskFactoryStartNew &&
                (InlineDelegates.IsType(type, KnownNames.TaskFactoryType) || InlineDelegates.IsType(type, KnownNames.TaskFactoryOfTType)));
    }

    // The call's task is left where the method does not see it again: a statement, a discard, a field or a property (not
    // those two, discardedOnly).
    private static bool IsDropped(IOperation call, bool discardedOnly = false)
    {
        IOperation value = call;
        while (value.Parent is IConversionOperation or IParenthesizedOperation)
        {
            value = value.Parent;
        }

        return value.Parent is IExpressionStatementOperation ||
            (value.Parent is ISimpleAssignmentOperation assignment && assignment.Value == value &&
                (assignment.Target is IDiscardOperation || (!discardedOnly && assignment.Target is IFieldReferenceOperation or IPropertyReferenceOperation)));
    }

    /// <summary>
    /// The first write in <paramref name="body"/> (a method's, read as a parallel body) of a guarded member of its object or
    /// type that races: not atomic, run with the body (not in a local function or a lambda of its own that may run
    /// elsewhere), not under a scope the body takes itself, and with the lock held where the body is named (<paramref name="heldThere"/>).
    /// </summary>
    public static (IMemberReferenceOperation Access, Guard Guard, string Written)? FirstRacingWrite(
        IOperation body, Func<IMemberReferenceOperation, Guard, bool> heldThere, LockFacts facts)
    {
        foreach (var access in body.Descendants().OfType<IMemberReferenceOperation>())
        {
            if (facts.GuardOf(access.Member) is not { } guard ||
                !(access.Member.IsStatic || OperationFacts.IsThis(access.Instance)) ||
                ParallelBodies.WriteOf(access) is not { } written ||
                ParallelBodies.IsAtomic(access) ||
                !InlineDelegates.RunsWithItsBody(access) ||
                HeldLocks.HeldByScopeInside(access, guard.LockMember, access.Instance, body, facts) ||
                !heldThere(access, guard))
            {
                continue;
            }

            return (access, guard, written);
        }

        return null;
    }

    /// <summary>
    /// The parallel loop whose bodies race each other over <paramref name="access"/> while a constructor or initializer
    /// builds the object: a write as <see cref="WriteOf"/> counts it, not atomic, in a body of one (<see cref="LoopAround"/>).
    /// An element of an array written (<c>_slots[i] = …</c>) is left out: bodies usually fill their own.
    /// </summary>
    public static IInvocationOperation? RacingInConstruction(IMemberReferenceOperation access) =>
        (access.Parent is IArrayElementReferenceOperation element && element.ArrayReference == access) ||
        WriteOf(access) is null || IsAtomic(access)
            ? null
            : LoopAround(access);
}
