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
/// LSM0026: work started and left running while an async lock is held: <c>Task.Run</c>, <c>TaskFactory.StartNew</c>,
/// a task-returning call whose task is discarded, stored in a field, or kept in a local the hold never reads again,
/// <c>ThreadPool.QueueUserWorkItem</c>, <c>Thread.Start</c> and <c>Task.Start</c> (unless on a local the hold then
/// joins or awaits), a <c>System.Threading.Timer</c> created or a <c>System.Timers.Timer</c> started and not disposed or
/// stopped in the hold, a cancellation callback registered (<c>CancellationToken.Register</c>) and not disposed in the
/// hold (by <c>Dispose</c> or an awaited <c>DisposeAsync</c>; a dropped <c>DisposeAsync</c> of it is named in that one
/// report, not reported as work of its own), and a task's <c>ContinueWith</c> left running like a started task (one report for a chain, at the call that
/// starts it). Its execution context carries the flow's ownership claim
/// (README, "Known limitation").
/// </summary>
/// <remarks>
/// Held is decided syntactically and locally, like LSM0020's: in the body of a <c>using</c> whose resource is the scope
/// of an async flow's hold (<c>AsyncLockScope</c>, <c>AsyncLockSetScope</c>, Locksmith.Postgres's), after such a
/// <c>using</c> declaration in an enclosing block, in the <c>try</c> of a <c>try</c>/<c>finally</c> that disposes such a
/// scope declared before it, or in an async core guarded by an async lock. Unlike LSM0020, a
/// lambda or local function is a boundary (it runs when called, perhaps after the hold); so is
/// <c>ExecutionContext.SuppressFlow()</c> (the work then starts without the flow's context). A task passed on, returned
/// or awaited is taken for the flow's own work, and so is one kept in a local that the hold reads again after the call
/// (awaits it, passes it on, returns it): where that read leads is not followed.
/// </remarks>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class TaskStartedInAsyncHoldAnalyzer : DiagnosticAnalyzer
{
    /// <inheritdoc/>
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } =
        ImmutableArray.Create(DiagnosticDescriptors.TaskStartedWhileAsyncLockHeld);

    /// <inheritdoc/>
    public override void Initialize(AnalysisContext context)
    {
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.EnableConcurrentExecution();
        LockFacts.RegisterWhereLocksExist(context, static (start, facts) =>
        {
            var known = new KnownTypes(start.Compilation);
            start.RegisterOperationAction(operation => Analyze(operation, facts, known), OperationKind.Invocation);
            start.RegisterOperationAction(operation => AnalyzeTimer(operation, facts, known), OperationKind.ObjectCreation);
            start.RegisterOperationAction(operation => AnalyzeTimerEnabled(operation, facts, known), OperationKind.SimpleAssignment);
        });
    }

    /// <summary>
    /// A <c>System.Timers.Timer</c> started (<c>Start()</c>, here <paramref name="start"/>'s receiver is the timer) or
    /// enabled (<c>Enabled = true</c>, in an object initializer too) makes its inner <c>System.Threading.Timer</c> there,
    /// which captures the flow's context for every <c>Elapsed</c> handler; reported unless the hold stops it.
    /// </summary>
    private static void ReportTimersTimer(OperationAnalysisContext context, IOperation start, IOperation? timer, string started, LockFacts facts, KnownTypes known)
    {
        if (timer is null ||
            FindHold(start, context.ContainingSymbol, facts, known) is not { } hold ||
            IsFlowSuppressed(start, known) ||
            IsStoppedInTheHold(timer, hold.Region, known, waits: false, "Stop", "Close", "Dispose"))
        {
            return;
        }

        Report(context, start, started, hold.Held, Started.TimersTimer);
    }

    private static void AnalyzeTimerEnabled(OperationAnalysisContext context, LockFacts facts, KnownTypes known)
    {
        var assignment = (ISimpleAssignmentOperation)context.Operation;
        if (assignment.Target is not IPropertyReferenceOperation { Property.Name: "Enabled" } enabled ||
            !Same(enabled.Property.ContainingType, known.TimersTimer) ||
            assignment.Value.ConstantValue is { HasValue: true, Value: false })
        {
            return;
        }

        // In an object initializer (`new Timer(10) { Enabled = true }`) the timer is the object created.
        var timer = OperationFacts.Unwrap(enabled.Instance) is IInstanceReferenceOperation { ReferenceKind: InstanceReferenceKind.ImplicitReceiver }
            ? Creation(assignment)
            : enabled.Instance;
        ReportTimersTimer(context, assignment, timer, "Timer.Enabled", facts, known);
    }

    private static IObjectCreationOperation? Creation(IOperation initialized)
    {
        for (var parent = initialized.Parent; parent is not null; parent = parent.Parent)
        {
            if (parent is IObjectCreationOperation creation)
            {
                return creation;
            }
        }

        return null;
    }

    // A timer captures the creating flow's execution context for its callbacks, which run while the hold lasts and after.
    private static void AnalyzeTimer(OperationAnalysisContext context, LockFacts facts, KnownTypes known)
    {
        var creation = (IObjectCreationOperation)context.Operation;
        if (!Same(creation.Type, known.Timer) ||
            FindHold(creation, context.ContainingSymbol, facts, known) is not { } hold ||
            IsFlowSuppressed(creation, known) ||
            IsStoppedInTheHold(creation, hold.Region, known, waits: false, "Dispose", "DisposeAsync", "Change"))
        {
            return;
        }

        Report(context, creation, "new Timer", hold.Held, Started.Timer);
    }

    /// <summary>
    /// Whether the hold stops the timer (or cancellation registration) it starts at <paramref name="start"/> (its creation
    /// or the call that returns it, or the receiver of a call or assignment that starts it) before it ends, so no callback
    /// runs after it: the timer is the resource of a <c>using</c> there (declaration
    /// or statement, disposed where its block ends, inside the hold), or it is kept in a local, or a field or property of
    /// this object, on which the hold's own code (not a lambda or local function, which may run later) calls one of
    /// <paramref name="stops"/> after the start and before the place is assigned another value, and, for what a loop makes
    /// anew each pass, in that loop too (one made in a loop and stopped after it is only the last pass's). A <c>Change</c>
    /// among them stops a <c>System.Threading.Timer</c> only with both periods infinite (<see cref="StopsTheTimer"/>). Where
    /// the stop must wait for a callback already running (<paramref name="waits"/>, a cancellation registration's), a
    /// <c>DisposeAsync</c> counts only awaited (<c>Unregister</c>, which does not wait, is not among the stops).
    /// </summary>
    private static bool IsStoppedInTheHold(IOperation start, IEnumerable<IOperation> region, KnownTypes known, bool waits, params string[] stops)
    {
        ISymbol? keptIn = null;
        IOperation? keptAt = null;
        if (start is not (IObjectCreationOperation or IInvocationOperation))
        {
            // The receiver of a call or assignment that starts a timer made before (`_ticker.Start()`).
            keptAt = OperationFacts.Unwrap(start) is { } reference && IsPlace(reference) ? reference : null;
        }
        else
        {
            IOperation value = start;
            while (value.Parent is IConversionOperation or IParenthesizedOperation)
            {
                value = value.Parent;
            }

            for (var parent = value.Parent;
                 parent is IVariableInitializerOperation or IVariableDeclaratorOperation or IVariableDeclarationOperation or IVariableDeclarationGroupOperation or IUsingDeclarationOperation or IUsingOperation;
                 parent = parent.Parent)
            {
                // Reached through the declarations only, so the timer is the using's resource, not in its body.
                if (parent is IUsingDeclarationOperation or IUsingOperation)
                {
                    return true;
                }
            }

            switch (value.Parent)
            {
                case IVariableInitializerOperation { Parent: IVariableDeclaratorOperation declarator }:
                    keptIn = declarator.Symbol;
                    break;
                case ISimpleAssignmentOperation assignment when assignment.Value == value && IsPlace(assignment.Target):
                    keptAt = assignment.Target;
                    break;
            }
        }

        if (keptIn is null && keptAt is null)
        {
            return false;
        }

        bool IsTheTimer(IOperation? reference)
        {
            reference = OperationFacts.Unwrap(reference);
            if (reference is IConditionalAccessInstanceOperation)
            {
                // _timer?.Dispose(): the receiver is the conditional access's own operand.
                for (var parent = reference.Parent; parent is not null; parent = parent.Parent)
                {
                    if (parent is IConditionalAccessOperation conditional)
                    {
                        reference = OperationFacts.Unwrap(conditional.Operation);
                        break;
                    }
                }
            }

            return keptIn is not null
                ? reference is ILocalReferenceOperation local && SymbolEqualityComparer.Default.Equals(local.Local, keptIn)
                : IsPlace(reference) && OperationFacts.SameInstance(reference, keptAt);
        }

        var function = EnclosingFunction(start);

        // Written (another timer in its place), or stopped, by the hold's own code.
        bool Replaces(IOperation operation) => operation is ISimpleAssignmentOperation assignment && IsTheTimer(assignment.Target);

        bool Stops(IOperation operation) =>
            EnclosingFunction(operation) == function &&
            ((operation is IInvocationOperation call && stops.Contains(call.TargetMethod.Name) && IsTheTimer(call.Instance) &&
                (call.TargetMethod.Name != "Change" || StopsTheTimer(call, known)) &&
                (call.TargetMethod.Name != "DisposeAsync" || !waits || OperationFacts.IsAwaited(call))) ||
             (operation is ISimpleAssignmentOperation { Target: IPropertyReferenceOperation { Property.Name: "Enabled" } enabled, Value.ConstantValue: { HasValue: true, Value: false } } &&
                IsTheTimer(enabled.Instance)));

        int after = start.Syntax.Span.End;
        int replaced = int.MaxValue;
        int stopped = int.MaxValue;
        foreach (var operation in region.SelectMany(static root => root.DescendantsAndSelf()))
        {
            if (operation.Syntax.SpanStart < after || EnclosingFunction(operation) != function)
            {
                continue;
            }

            if (Replaces(operation))
            {
                // Not in the other branch of an `if` the timer is made in: only one of them runs.
                if (!OperationFacts.InExclusiveBranches(start, operation))
                {
                    replaced = System.Math.Min(replaced, operation.Syntax.SpanStart);
                }
            }
            else if (Stops(operation) &&
                     (start is not (IObjectCreationOperation or IInvocationOperation) || OperationFacts.LoopsAroundAreAround(start, operation, Stops, Replaces)))
            {
                // Stopped: disposed, or (a System.Timers.Timer) Stop(), Close() or Enabled = false, which dispose its inner timer.
                // What a loop makes anew each pass is stopped only in that pass; a timer started again is the same one.
                stopped = System.Math.Min(stopped, operation.Syntax.SpanStart);
            }
        }

        return stopped < replaced;
    }

    // timer.Change(Timeout.Infinite, …): an infinite due time disables the timer whatever the period (Timer.Change's
    // documentation), so no callback is scheduled after it, as after Dispose; a finite due time keeps it ticking.
    private static bool StopsTheTimer(IInvocationOperation change, KnownTypes known) =>
        change.Arguments.Length == 2 &&
        change.Arguments.FirstOrDefault(static argument => argument.Parameter?.Ordinal == 0) is { } dueTime &&
        IsInfinite(dueTime, known);

    /// <summary>
    /// Whether the argument is what <c>Timer.Change</c> takes as infinite for the parameter it binds to, read from the
    /// compiler's constant values (converted to that parameter's type), never from the text: -1 for an <c>int</c> or
    /// <c>long</c> (<c>Timeout.Infinite</c>, <c>-1L</c>, a constant equal to it), <c>uint.MaxValue</c> for a <c>uint</c>,
    /// and -1 ms for a <c>TimeSpan</c> (<see cref="IsInfiniteSpan"/>). <c>uint.MaxValue</c> given to a <c>long</c> is out
    /// of range, not infinite.
    /// </summary>
    private static bool IsInfinite(IArgumentOperation argument, KnownTypes known)
    {
        if (argument.Parameter?.Type is not { } type)
        {
            return false;
        }

        return type.SpecialType switch
        {
            SpecialType.System_Int32 or SpecialType.System_Int64 => argument.Value.ConstantValue is { HasValue: true, Value: -1 or -1L },
            SpecialType.System_UInt32 => argument.Value.ConstantValue is { HasValue: true, Value: uint.MaxValue },
            _ => Same(type, known.TimeSpan) && IsInfiniteSpan(argument.Value, known),
        };
    }

    /// <summary>
    /// Whether a <c>TimeSpan</c> is -1 ms, the infinite period: <c>Timeout.InfiniteTimeSpan</c>,
    /// <c>TimeSpan.FromMilliseconds(-1)</c> (any further arguments 0), or -10,000 ticks
    /// (<c>TimeSpan.FromTicks</c>, <c>new TimeSpan(ticks)</c>), each with constant arguments. A span kept elsewhere
    /// (a <c>static readonly</c> field) is not followed.
    /// </summary>
    private static bool IsInfiniteSpan(IOperation value, KnownTypes known)
    {
        const double InfiniteTicks = -10_000;
        return OperationFacts.Unwrap(value) switch
        {
            IFieldReferenceOperation { Field: { Name: "InfiniteTimeSpan", IsStatic: true } field } => Same(field.ContainingType, known.Timeout),
            IInvocationOperation { TargetMethod: { IsStatic: true, Name: "FromMilliseconds" or "FromTicks" } method } call when Same(method.ContainingType, known.TimeSpan) =>
                call.Arguments.Length >= 1 &&
                Number(call.Arguments[0].Value) == (method.Name == "FromTicks" ? InfiniteTicks : -1) &&
                call.Arguments.Skip(1).All(static rest => Number(rest.Value) == 0),
            IObjectCreationOperation { Arguments: [var ticks] } creation when Same(creation.Type, known.TimeSpan) => Number(ticks.Value) == InfiniteTicks,
            _ => false,
        };
    }

    // A numeric constant's value, or null.
    private static double? Number(IOperation? value) => value?.ConstantValue is { HasValue: true, Value: var constant } &&
        constant is sbyte or byte or short or ushort or int or uint or long or ulong or float or double or decimal
        ? System.Convert.ToDouble(constant, System.Globalization.CultureInfo.InvariantCulture)
        : null;

    // A local, or a field or property (not an indexer) of this object or type: where a timer is kept to be stopped.
    private static bool IsPlace(IOperation? reference) => OperationFacts.Unwrap(reference) switch
    {
        ILocalReferenceOperation => true,
        IFieldReferenceOperation field => field.Field.IsStatic || OperationFacts.IsThis(field.Instance),
        IPropertyReferenceOperation { Arguments.Length: 0 } property => property.Property.IsStatic || OperationFacts.IsThis(property.Instance),
        _ => false,
    };

    private static void Analyze(OperationAnalysisContext context, LockFacts facts, KnownTypes known)
    {
        var invocation = (IInvocationOperation)context.Operation;
        if (invocation.TargetMethod is { Name: "Start", IsStatic: false } startMethod && Same(startMethod.ContainingType, known.TimersTimer))
        {
            ReportTimersTimer(context, invocation, invocation.Instance, "Timer.Start", facts, known);
            return;
        }

        if (invocation.TargetMethod is { Name: "Register", IsStatic: false } register && Same(register.ContainingType, known.CancellationToken))
        {
            // The callback runs at cancellation, maybe after the hold, in the context captured here (UnsafeRegister captures none).
            if (FindHold(invocation, context.ContainingSymbol, facts, known) is { } held &&
                !IsFlowSuppressed(invocation, known) &&
                !IsStoppedInTheHold(invocation, held.Region, known, waits: true, "Dispose", "DisposeAsync"))
            {
                // Disposed there only by a DisposeAsync whose task is dropped, the message names it: awaiting it is the fix.
                var kind = IsStoppedInTheHold(invocation, held.Region, known, waits: false, "DisposeAsync") ? Started.RegistrationDisposedUnawaited : Started.Registration;
                Report(context, invocation, "CancellationToken.Register", held.Held, kind);
            }

            return;
        }

        if (invocation.TargetMethod is { Name: "DisposeAsync", IsStatic: false } dispose && Same(dispose.ContainingType, known.CancellationTokenRegistration))
        {
            // Its task only waits for a callback already running and runs none of the user's code: the callback is the
            // work, reported at its Register (one report for one mistake: the dispose not awaited).
            return;
        }

        if (!StartsDetachedWork(invocation, known, out var keptIn) ||
            FindHold(invocation, context.ContainingSymbol, facts, known) is not { } hold ||
            (keptIn is not null && IsReadAfter(keptIn, invocation, hold.Region)) ||
            IsFlowSuppressed(invocation, known))
        {
            return;
        }

        var target = invocation.TargetMethod;
        string started = target.MethodKind == MethodKind.DelegateInvoke ? DelegateName(invocation.Instance)
            : target.ContainingType is { } type ? type.Name + "." + target.Name
            : target.Name;
        Report(context, invocation, started, hold.Held, Started.Work);
    }

    /// <summary>What is left running, for the message: work to await, or a timer, which nothing awaits.</summary>
    private enum Started
    {
        Work,
        Timer,
        TimersTimer,
        Registration,
        RegistrationDisposedUnawaited,
    }

    private static void Report(OperationAnalysisContext context, IOperation at, string started, string held, Started kind)
    {
        var (what, why, fix) = kind switch
        {
            Started.Timer => (
                "starts a timer that is not disposed or stopped",
                "its callbacks run with this flow's execution context, which carries its lock ownership, so they share the flow's async locks while they are held and may later take another hold made from the same context for their own",
                "create the timer inside 'using (ExecutionContext.SuppressFlow())' or after the scope ends, or dispose it before the scope ends ('using var timer = new Timer(…);' in the scope) or stop it there ('timer.Change(Timeout.Infinite, Timeout.Infinite)')"),
            Started.TimersTimer => (
                "starts a timer that is not stopped",
                "its Elapsed handlers run with this flow's execution context, which carries its lock ownership, so they share the flow's async locks while they are held and may later take another hold made from the same context for their own",
                "start the timer inside 'using (ExecutionContext.SuppressFlow())' or after the scope ends, or stop it before the scope ends ('Stop()' or 'Dispose()' in the scope)"),
            Started.Registration => (
                "registers a callback whose registration is not disposed",
                "the callback runs at cancellation, maybe after the hold, with this flow's execution context, which carries its lock ownership, so it shares the flow's async locks while they are held and may later take another hold made from the same context for its own",
                "register it inside 'using (ExecutionContext.SuppressFlow())' or after the scope ends (or with 'UnsafeRegister', which does not capture the context), or dispose the registration before the scope ends ('using var registration = ct.Register(…);' in the scope)"),
            Started.RegistrationDisposedUnawaited => (
                "registers a callback whose registration's 'DisposeAsync()' is not awaited",
                "that dispose does not wait for a callback already running, which runs at cancellation, maybe after the hold, with this flow's execution context, which carries its lock ownership, so it shares the flow's async locks while they are held and may later take another hold made from the same context for its own",
                "await its 'DisposeAsync()' before the scope ends (it then waits for a running callback), or register it inside 'using (ExecutionContext.SuppressFlow())' or after the scope ends (or with 'UnsafeRegister', which does not capture the context)"),
            _ => (
                "starts work that is not awaited",
                "its execution context carries this flow's lock ownership, so it shares the flow's async locks while they are held and may later take another hold made from the same context for its own",
                "start it inside 'using (ExecutionContext.SuppressFlow())' or after the scope ends, or await it before the scope ends"),
        };
        context.ReportDiagnostic(Diagnostic.Create(
            DiagnosticDescriptors.TaskStartedWhileAsyncLockHeld,
            at.Syntax.GetLocation(),
            started,
            held,
            what,
            why,
            fix));
    }

    private static string DelegateName(IOperation? callee) => OperationFacts.Unwrap(callee) switch
    {
        ILocalReferenceOperation local => local.Local.Name,
        IParameterReferenceOperation parameter => parameter.Parameter.Name,
        IMemberReferenceOperation member => member.Member.Name,
        _ => "a delegate",
    };

    /// <summary>
    /// Whether the call starts work that runs on after it returns and is not the flow's to await; when the task is kept
    /// in a local, <paramref name="keptIn"/> is that local, and the work is the flow's if the hold reads it again.
    /// </summary>
    private static bool StartsDetachedWork(IInvocationOperation invocation, KnownTypes known, out ILocalSymbol? keptIn)
    {
        keptIn = null;
        var target = invocation.TargetMethod;
        if (target.Name == "QueueUserWorkItem" && Same(target.ContainingType, known.ThreadPool))
        {
            return true;
        }

        if (target.Name == "Start" && !target.IsStatic && (Same(target.ContainingType, known.Thread) || Same(target.ContainingType, known.Task)))
        {
            // A thread or task kept in a local is the flow's if the hold joins or awaits it after starting it.
            keptIn = OperationFacts.Unwrap(invocation.Instance) is ILocalReferenceOperation local ? local.Local : null;
            return true;
        }

        bool continues = target.Name == "ContinueWith" && known.IsTaskType(target.ContainingType);
        if (continues && OperationFacts.Unwrap(invocation.Instance) is IInvocationOperation head &&
            (head.TargetMethod.Name == "ContinueWith" || StartsTask(head.TargetMethod, known)))
        {
            // A continuation of a task started here or of another continuation: the chain's head reports it.
            return false;
        }

        if (!continues && !StartsTask(target, known))
        {
            // Of the task types' own methods only Run (and ContinueWith, above) starts work: Delay, FromResult, WhenAll... do not,
            // or schedule what was already started.
            return false;
        }

        // The task's value: kept (an argument, a return, an await) it is the flow's own work; dropped or stored where
        // the method no longer sees it, it runs on by itself; in a local, it depends on what the hold does with it
        // next. A continuation chained to it counts as it.
        IOperation value = invocation;
        while (value.Parent is IConversionOperation or IParenthesizedOperation ||
               (value.Parent is IInvocationOperation { TargetMethod.Name: "ContinueWith" } continuation && continuation.Instance == value))
        {
            value = value.Parent;
        }

        keptIn = value.Parent switch
        {
            IVariableInitializerOperation { Parent: IVariableDeclaratorOperation declarator } => declarator.Symbol,
            ISimpleAssignmentOperation { Target: ILocalReferenceOperation local } assignment when assignment.Value == value => local.Local,
            _ => null,
        };
        return keptIn is not null || value.Parent switch
        {
            IExpressionStatementOperation => true,
            ISimpleAssignmentOperation assignment when assignment.Value == value => IsOutOfTheMethod(assignment.Target),
            ICoalesceAssignmentOperation assignment when assignment.Value == value => IsOutOfTheMethod(assignment.Target),
            _ => false,
        };
    }

    private static bool StartsTask(IMethodSymbol target, KnownTypes known) =>
        known.IsTaskType(target.ReturnType) && !IsScopeTask(target.ReturnType) &&
        !(known.IsTaskType(target.ContainingType) && target.Name != "Run");

    /// <summary>
    /// Whether <paramref name="local"/> is read (not only assigned) in the hold's <paramref name="region"/> after
    /// <paramref name="start"/>: the hold awaits the task, passes it on or returns it (a read in a lambda counts too).
    /// </summary>
    private static bool IsReadAfter(ILocalSymbol local, IOperation start, IEnumerable<IOperation> region)
    {
        int after = start.Syntax.Span.End;
        return region.SelectMany(root => root.DescendantsAndSelf()).Any(operation =>
            operation is ILocalReferenceOperation reference &&
            SymbolEqualityComparer.Default.Equals(reference.Local, local) &&
            reference.Syntax.SpanStart >= after &&
            !(reference.Parent is ISimpleAssignmentOperation assignment && assignment.Target == reference));
    }

    // A discard, or a field, property or element: the method does not see the task again to await it.
    private static bool IsOutOfTheMethod(IOperation target) =>
        target is IDiscardOperation or IFieldReferenceOperation or IPropertyReferenceOperation or IArrayElementReferenceOperation;

    // An acquisition's own task (discarding one is how a test provokes a recursion error) starts nothing.
    private static bool IsScopeTask(ITypeSymbol? type) =>
        type is INamedTypeSymbol { TypeArguments: [var result] } && IsScopeType(result);

    private static bool IsScopeType(ITypeSymbol? type) =>
        type is INamedTypeSymbol { ContainingType: null } named &&
        (RuntimeSymbols.IsRuntimeType(named, KnownNames.AsyncLockScope) || RuntimeSymbols.IsRuntimeType(named, KnownNames.AsyncLockSetScope) ||
         (named.MetadataName is KnownNames.PostgresLockScope or KnownNames.PostgresLockSetScope &&
          named.ContainingNamespace.ToDisplayString() == KnownNames.DistributedNamespace));

    /// <summary>
    /// What async lock is held where <paramref name="operation"/> runs, described for the message, and the operations
    /// the hold covers (a <c>using</c>'s body, the statements after a <c>using</c> declaration, a guarded core's body);
    /// null if none.
    /// </summary>
    private static (string Held, IEnumerable<IOperation> Region)? FindHold(IOperation operation, ISymbol containingSymbol, LockFacts facts, KnownTypes known)
    {
        foreach (var (resource, region) in UsingsInForce(operation))
        {
            if (HeldBy(resource) is { } held)
            {
                return (held, region);
            }
        }

        // The whole body of an async core guarded by an async lock runs inside its wrapper's hold (not its lambdas).
        return !InsideLambda(operation) && containingSymbol is IMethodSymbol method && known.IsTaskType(method.ReturnType) &&
            facts.GuardOf(method) is { } guard && guard.Capabilities.IsAsync()
            ? (guard.LockMember.Name, new[] { Root(operation) })
            : null;
    }

    private static IOperation Root(IOperation operation)
    {
        while (operation.Parent is { } parent)
        {
            operation = parent;
        }

        return operation;
    }

    /// <summary>
    /// Whether <c>ExecutionContext.SuppressFlow()</c> is in force where <paramref name="operation"/> runs: work started
    /// there gets no context, so no claim.
    /// </summary>
    private static bool IsFlowSuppressed(IOperation operation, KnownTypes known) =>
        UsingsInForce(operation).Any(hold => SuppressesFlow(hold.Resource, known));

    /// <summary>
    /// The <c>using</c>s in force where <paramref name="operation"/> runs, innermost first, each as its resource and the
    /// operations it covers: those it is the body of, and <c>using</c> declarations before it in enclosing blocks (the
    /// rest of the block), up to the nearest lambda or local function (which runs when called, perhaps after them).
    /// </summary>
    private static IEnumerable<(IOperation Resource, IEnumerable<IOperation> Region)> UsingsInForce(IOperation operation)
    {
        IOperation child = operation;
        for (var parent = operation.Parent; parent is not null and not (IAnonymousFunctionOperation or ILocalFunctionOperation); child = parent, parent = parent.Parent)
        {
            if (parent is IUsingOperation usingStatement && child == usingStatement.Body)
            {
                yield return (usingStatement.Resources, new[] { usingStatement.Body });
            }
            else if (parent is IBlockOperation block)
            {
                foreach (var declaration in block.Operations.TakeWhile(statement => statement != child).OfType<IUsingDeclarationOperation>().Reverse())
                {
                    yield return (declaration.DeclarationGroup, block.Operations.SkipWhile(statement => statement != declaration).Skip(1));
                }
            }
            else if (parent is ITryOperation { Finally: { } cleanup } tryStatement && (child == tryStatement.Body || tryStatement.Catches.Contains(child)))
            {
                // var scope = await _lock.AcquireAsync(); try { … } finally { scope.Dispose(); }: the scope's declaration,
                // made before the try, is the resource; the try block and its catches are what it covers.
                foreach (var declarator in DisposedIn(cleanup, tryStatement))
                {
                    yield return (declarator, new IOperation[] { tryStatement.Body }.Concat(tryStatement.Catches));
                }
            }
        }
    }

    /// <summary>The declarations, made before the <c>try</c>, of the locals its <c>finally</c> disposes (<c>Dispose</c>, <c>DisposeAsync</c>).</summary>
    private static IEnumerable<IVariableDeclaratorOperation> DisposedIn(IBlockOperation cleanup, ITryOperation tryStatement)
    {
        var disposed = cleanup.Descendants().OfType<IInvocationOperation>()
            .Where(static call => call.TargetMethod.Name is "Dispose" or "DisposeAsync")
            .Select(static call => OperationFacts.Unwrap(call.Instance)).OfType<ILocalReferenceOperation>()
            .Select(static reference => reference.Local).ToList();
        if (disposed.Count == 0)
        {
            return Enumerable.Empty<IVariableDeclaratorOperation>();
        }

        return Root(tryStatement).Descendants().OfType<IVariableDeclaratorOperation>().Where(declarator =>
            declarator.Syntax.Span.End <= tryStatement.Syntax.SpanStart && disposed.Contains(declarator.Symbol, SymbolEqualityComparer.Default));
    }

    // The lambda, anonymous method or local function around an operation, or null in the method's own body.
    private static IOperation? EnclosingFunction(IOperation operation) => OperationFacts.EnclosingFunction(operation);

    private static bool InsideLambda(IOperation operation) => OperationFacts.EnclosingFunction(operation) is not null;

    private static bool SuppressesFlow(IOperation resource, KnownTypes known) =>
        resource.DescendantsAndSelf().Any(o =>
            o is IInvocationOperation { TargetMethod: { Name: "SuppressFlow" } target } && Same(target.ContainingType, known.ExecutionContext));

    /// <summary>The lock a using resource holds, when it is an async lock's scope: its receiver, or the scope's name.</summary>
    private static string? HeldBy(IOperation resource)
    {
        bool holds = false;
        string? name = null;
        foreach (var operation in resource.DescendantsAndSelf())
        {
            switch (operation)
            {
                case IVariableDeclaratorOperation declarator when IsScopeType(declarator.Symbol.Type):
                    holds = true;
                    name ??= declarator.Symbol.Name;
                    break;
                case IAwaitOperation awaited when IsScopeType(awaited.Type):
                    holds = true;
                    break;
                case ILocalReferenceOperation local when IsScopeType(local.Type):
                    holds = true;
                    name ??= local.Local.Name;
                    break;
                case IInvocationOperation invocation when IsScopeTask(invocation.Type) && RuntimeSymbols.IsInLocksmithNamespaces(invocation.TargetMethod.ContainingType):
                    // The acquisition names the lock best: its receiver, or the static type (LockSet).
                    return invocation.Instance?.Syntax.ToString() ?? invocation.TargetMethod.ContainingType?.Name ?? name;
            }
        }

        return holds ? name ?? "an async lock" : null;
    }

    private static bool Same(ITypeSymbol? type, ITypeSymbol? known) =>
        known is not null && SymbolEqualityComparer.Default.Equals(type?.OriginalDefinition, known);

    /// <summary>The framework types the analysis compares with, looked up once per compilation.</summary>
    private sealed class KnownTypes
    {
        private readonly INamedTypeSymbol? _taskOfT;
        private readonly INamedTypeSymbol? _valueTask;
        private readonly INamedTypeSymbol? _valueTaskOfT;

        public KnownTypes(Compilation compilation)
        {
            Task = compilation.GetTypeByMetadataName("System.Threading.Tasks.Task");
            _taskOfT = compilation.GetTypeByMetadataName("System.Threading.Tasks.Task`1");
            _valueTask = compilation.GetTypeByMetadataName("System.Threading.Tasks.ValueTask");
            _valueTaskOfT = compilation.GetTypeByMetadataName("System.Threading.Tasks.ValueTask`1");
            ThreadPool = compilation.GetTypeByMetadataName("System.Threading.ThreadPool");
            Thread = compilation.GetTypeByMetadataName("System.Threading.Thread");
            ExecutionContext = compilation.GetTypeByMetadataName("System.Threading.ExecutionContext");
            Timer = compilation.GetTypeByMetadataName("System.Threading.Timer");
            TimersTimer = compilation.GetTypeByMetadataName("System.Timers.Timer");
            CancellationToken = compilation.GetTypeByMetadataName("System.Threading.CancellationToken");
            CancellationTokenRegistration = compilation.GetTypeByMetadataName("System.Threading.CancellationTokenRegistration");
            Timeout = compilation.GetTypeByMetadataName("System.Threading.Timeout");
            TimeSpan = compilation.GetTypeByMetadataName("System.TimeSpan");
        }

        public INamedTypeSymbol? Task { get; }

        public INamedTypeSymbol? ThreadPool { get; }

        public INamedTypeSymbol? Thread { get; }

        public INamedTypeSymbol? ExecutionContext { get; }

        public INamedTypeSymbol? Timer { get; }

        public INamedTypeSymbol? TimersTimer { get; }

        public INamedTypeSymbol? CancellationToken { get; }

        public INamedTypeSymbol? CancellationTokenRegistration { get; }

        public INamedTypeSymbol? Timeout { get; }

        public INamedTypeSymbol? TimeSpan { get; }

        public bool IsTaskType(ITypeSymbol? type) =>
            Same(type, Task) || Same(type, _taskOfT) || Same(type, _valueTask) || Same(type, _valueTaskOfT);
    }
}
