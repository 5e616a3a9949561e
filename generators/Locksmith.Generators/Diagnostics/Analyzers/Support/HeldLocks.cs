using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using Locksmith.Generators.Symbols;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Operations;

namespace Locksmith.Generators.Diagnostics.Analyzers.Support;

/// <summary>
/// Decides whether code holds a lock where it touches guarded state. Held means: inside a constructor or
/// initializer of the same object (not in a lambda it keeps to run later, nor for a write in a body of a parallel loop
/// it runs, <see cref="ParallelBodies.RacingInConstruction"/>); inside a method (or property accessor) guarded by the same lock, on the same
/// object; inside an <c>[AcquiresLocksOf]</c> method for a named parameter (for its own object, when the parameters are
/// keys of its keyed lock); or after a <c>using</c> of an
/// <c>Acquire…</c>/<c>TryAcquire…</c> call that takes that lock of that object, in an enclosing block (an awaited
/// <c>AcquireAsync</c> of an async lock, with or without <c>ConfigureAwait</c>, and <c>await using</c> alike: the call
/// is found among the resource's operations). A <c>TryAcquire…</c> may fail and leave an empty scope, so its scope holds
/// the lock only where its success is checked: inside <c>if (lock.TryAcquire(…, out scope))</c> or
/// <c>if (scope.IsAcquired)</c> (also through <c>&amp;&amp;</c>, <c>!</c>, <c>== false</c>, <c>is true</c> and
/// <c>is { IsAcquired: true }</c>), in the
/// <c>else</c> of the negated test, or after <c>if (!scope.IsAcquired) return;</c> (any branch that leaves: return,
/// throw, break, continue) in an enclosing block; a switch on the same tests alike (a section or arm only success reaches,
/// or after <c>switch (scope.IsAcquired) { case false: return; }</c>), and a using whose value throws unless it succeeded
/// (<c>using var s = lock.TryAcquire(t, out var x) ? x : throw …;</c>). A <c>try</c>/<c>finally</c> that releases an acquisition made before it
/// (<c>var scope = _lock.Acquire(); try { … } finally { scope.Dispose(); }</c>, or <c>_lock.Acquire(); try { … } finally
/// { _lock.Release(); }</c>) is such a scope for its <c>try</c> block (<see cref="ReleasedInFinally"/>). For LSM0020 (and the
/// rules that ask its holds) a scope a helper of the type returns (<c>using var s = TakeLedger();</c>, <c>await
/// TakeLedgerAsync()</c>) is one too, when its body surely returns the lock's exclusive acquisition (<see cref="IsHelperAcquire"/>).
/// </summary>
/// <remarks>
/// The check is syntactic and local, like Clang's thread-safety analysis: it does not follow calls, and a lambda
/// inside a scope that holds the lock counts as holding it (LSM0020 then leaves out one stored to run later,
/// <see cref="StoredDelegates"/>).
/// </remarks>
internal static class HeldLocks
{
    public static bool IsHeld(IMemberReferenceOperation access, Guard guard, ISymbol containingSymbol, LockFacts facts) =>
        IsHeld(access, guard, containingSymbol, facts, out _);

    /// <param name="uncheckedTry">
    /// When it is not held but a using scope of a <c>TryAcquire…</c> of the lock encloses it, that call: it would hold
    /// the lock had its success been checked (LSM0020 then says so); else null.
    /// </param>
    public static bool IsHeld(IMemberReferenceOperation access, Guard guard, ISymbol containingSymbol, LockFacts facts, out IInvocationOperation? uncheckedTry)
    {
        uncheckedTry = null;
        var member = access.Member;
        var instance = access.Instance;

        // A constructor holds its object's state for its own thread only: not in a lambda it keeps to run later, nor for
        // a write in a parallel loop's body, whose runs race each other (asked only where a constructor is).
        // An init accessor runs only while an object initializer (or `with`) builds its object: a constructor's part.
        bool constructing = containingSymbol is IFieldSymbol or IPropertySymbol or IMethodSymbol { MethodKind: MethodKind.Constructor or MethodKind.StaticConstructor } or IMethodSymbol { MethodKind: MethodKind.PropertySet, IsInitOnly: true } &&
            !InALambdaKeptToRunLater(access) && ParallelBodies.RacingInConstruction(access) is null;
        if ((containingSymbol is IFieldSymbol or IPropertySymbol && constructing) || OperationFacts.IsObjectUnderConstruction(instance))
        {
            // Initializers (of members, or of an object being created) run before the object is shared.
            return true;
        }

        if (containingSymbol is IMethodSymbol method)
        {
            if ((constructing && IsOwnConstructor(method, member, instance)) || HeldByMethod(method, guard, instance, facts))
            {
                return true;
            }
        }

        return HeldByScope(access, guard.LockMember, instance, facts, out uncheckedTry);
    }

    /// <summary>
    /// Where <paramref name="access"/> runs when the innermost lambda around it that is not run inline is a delegate kept in
    /// a local, or in a private field of this object, that is only invoked (<see cref="InlineDelegates.InvocationsOfLocal"/>):
    /// that lambda and those invocations outside it (empty: it never runs). Null otherwise, and for a field's lambda that touches state
    /// of another object than this (a local it captured is not in scope where another member invokes it), and for an object
    /// being initialized there (<c>new Counter { _count = 1 }</c>), which holds its state.
    /// </summary>
    internal static (IAnonymousFunctionOperation Lambda, ImmutableArray<IInvocationOperation> Sites)? KeptAndInvoked(IMemberReferenceOperation access) =>
        OperationFacts.IsObjectUnderConstruction(access.Instance) ? null : KeptAndInvoked(access, access.Member.IsStatic || OperationFacts.IsThis(access.Instance));

    private static (IAnonymousFunctionOperation Lambda, ImmutableArray<IInvocationOperation> Sites)? KeptAndInvoked(IOperation operation, bool thisObject)
    {
        for (var parent = operation.Parent; parent is not null; parent = parent.Parent)
        {
            if (parent is ILocalFunctionOperation)
            {
                return null;
            }

            if (parent is not IAnonymousFunctionOperation lambda || InlineDelegates.RunOf(lambda, out _) == DelegateRun.Inline)
            {
                continue;
            }

            // An invocation inside the lambda itself (a recursion) runs only once another one has.
            return InlineDelegates.InvocationsOfLocal(lambda) is { IsDefault: false } sites && (thisObject || InlineDelegates.KeptIn(lambda) is ILocalSymbol)
                ? (lambda, sites.RemoveAll(site => lambda.Syntax.Span.Contains(site.Syntax.Span)))
                : null;
        }

        return null;
    }

    /// <summary>
    /// Whether the lock <paramref name="access"/> needs is held at <paramref name="site"/>, an invocation of the delegate it
    /// runs in (<see cref="KeptAndInvoked(IMemberReferenceOperation)"/>), by the rules of
    /// <see cref="IsHeld(IMemberReferenceOperation, Guard, ISymbol, LockFacts)"/> applied there: its object's constructor
    /// (or an initializer), a guarded method of the lock, or a scope around it; a site that is itself in such a delegate,
    /// where that one is invoked (a bounded depth: a delegate may invoke itself).
    /// </summary>
    internal static bool HeldAtInvocation(IInvocationOperation site, IMemberReferenceOperation access, Guard guard, LockFacts facts, int depth = 0)
    {
        if (depth < 4 && KeptAndInvoked(site, thisObject: true) is { } outer)
        {
            return HeldByScopeInside(site, guard.LockMember, access.Instance, outer.Lambda, facts) ||
                outer.Sites.All(next => HeldAtInvocation(next, access, guard, facts, depth + 1));
        }

        if (MemberAt(site) is not { } member)
        {
            // An initializer's (it runs before the object is shared): when unsure, it holds.
            return true;
        }

        return (!InALambdaKeptToRunLater(site) && IsOwnConstructor(member, access.Member, access.Instance)) ||
            HeldByMethod(member, guard, access.Instance, facts) ||
            HeldByScope(site, guard.LockMember, access.Instance, facts, out _);
    }

    /// <summary>The method (or accessor) whose body holds <paramref name="operation"/>, past lambdas and local functions; null in an initializer.</summary>
    internal static IMethodSymbol? MemberAt(IOperation operation)
    {
        for (var symbol = operation.SemanticModel?.GetEnclosingSymbol(operation.Syntax.SpanStart); symbol is IMethodSymbol method; symbol = symbol.ContainingSymbol)
        {
            if (method.MethodKind is not (MethodKind.AnonymousFunction or MethodKind.LambdaMethod or MethodKind.LocalFunction))
            {
                return method;
            }
        }

        return null;
    }

    /// <summary>
    /// Whether code at <paramref name="at"/>, in the same body as <paramref name="access"/>, holds the lock the access
    /// needs, by the rules of <see cref="IsHeld(IMemberReferenceOperation, Guard, ISymbol, LockFacts)"/>: for a read
    /// that happens there on the access's behalf (a deferred query kept in a local, enumerated at <paramref name="at"/>).
    /// </summary>
    public static bool IsHeldAt(IOperation at, IMemberReferenceOperation access, Guard guard, ISymbol containingSymbol, LockFacts facts)
    {
        bool constructing = !InALambdaKeptToRunLater(access);
        if ((containingSymbol is IFieldSymbol or IPropertySymbol && constructing) || OperationFacts.IsObjectUnderConstruction(access.Instance) ||
            (containingSymbol is IMethodSymbol method &&
                ((constructing && IsOwnConstructor(method, access.Member, access.Instance)) || HeldByMethod(method, guard, access.Instance, facts))))
        {
            return true;
        }

        return HeldByScope(at, guard.LockMember, access.Instance, facts, out _);
    }

    /// <summary>
    /// The acquire call of the innermost scope that holds <paramref name="lockMember"/> of the object <paramref name="instance"/>
    /// denotes at <paramref name="access"/>, by the rules of <see cref="IsHeld(IMemberReferenceOperation, Guard, ISymbol, LockFacts)"/>
    /// (a using, or a try/finally that releases it; a <c>TryAcquire…</c> only where its success is checked), or null.
    /// </summary>
    /// <remarks>
    /// Null too when that scope's local is used (disposed, passed on) before the access, or another acquisition of the
    /// lock comes between (<c>read.Dispose(); using var write = _lock.AcquireWrite();</c>): the mode held there is not known.
    /// </remarks>
    public static IInvocationOperation? ScopeAcquisition(IOperation access, ISymbol lockMember, IOperation? instance)
    {
        IInvocationOperation? uncheckedTry = null;
        if (EnclosingScope(access, lockMember, instance, crossFunctions: true, ref uncheckedTry) is not { } scope ||
            Takes(scope.Resource, lockMember, instance) is not { } taken ||
            (scope.Local is { } local && UsedBetween(local, scope.Resource, access)))
        {
            return null;
        }

        int after = taken.Acquire.Syntax.Span.End;
        int before = access.Syntax.SpanStart;
        bool another = OperationFacts.Root(access).Descendants().OfType<IInvocationOperation>().Any(other =>
            other.Syntax.SpanStart >= after && other.Syntax.SpanStart < before && IsAcquire(other, lockMember, instance));
        return another ? null : taken.Acquire;
    }

    /// <summary>Whether a method (or the property whose accessor it is) is guarded by the lock, on the same object.</summary>
    public static bool HeldByMethod(IMethodSymbol method, Guard guard, IOperation? instance, LockFacts facts)
    {
        if (HeldByHolder(method, guard, instance, facts) ||
            (method.AssociatedSymbol is { } property && HeldByHolder(property, guard, instance, facts)))
        {
            return true;
        }

        if (facts.LockSetOf(method) is not { } set || set.Lock != guard.LockMember.Name)
        {
            return false;
        }

        // A partial body's parameters are named by its defining declaration, as the attribute's nameof names them.
        if (OperationFacts.Unwrap(instance) is IParameterReferenceOperation parameter &&
            set.ParameterNames.Contains(PartialParts.Definition(parameter.Parameter).Name))
        {
            return true;
        }

        // The parameters are keys of the method's own keyed lock (AcquireManyAsync): it holds that lock, as a [Guarded]
        // method with StripeBy holds its striped lock, for its own object's state.
        return (guard.LockMember.IsStatic || instance is null || OperationFacts.IsThis(instance)) &&
            AsyncWrappers.KeyedSetLock(PartialParts.Definition(method), set) is { } keyed &&
            SymbolEqualityComparer.Default.Equals(keyed.OriginalDefinition, guard.LockMember.OriginalDefinition);
    }

    // A property that merely returns a lock member (Gate => _lock) holds that member's lock.
    private static bool HeldByHolder(ISymbol holder, Guard guard, IOperation? instance, LockFacts facts) =>
        facts.GuardOf(holder) is { } held &&
        SymbolEqualityComparer.Default.Equals(
            (LockMembers.ForwardedTo(held.LockMember) ?? held.LockMember).OriginalDefinition,
            (LockMembers.ForwardedTo(guard.LockMember) ?? guard.LockMember).OriginalDefinition) &&
        (guard.LockMember.IsStatic || instance is null || OperationFacts.IsThis(instance));

    /// <summary>
    /// Whether <paramref name="access"/> is in a lambda that is surely kept to run later, after a constructor or
    /// initializer around it has shared the object: an event handler subscribed (<c>x.Changed += (s, e) =&gt; …</c>), a
    /// delegate given directly to a constructor (<c>new
    /// Timer(…)</c>, <c>new Thread(…)</c>, <c>new Lazy&lt;T&gt;(…)</c>), or work started with <c>Task.Run</c>,
    /// <c>TaskFactory.StartNew</c> or <c>ThreadPool.QueueUserWorkItem</c>. Then the constructor does not hold the state
    /// for it. Any other lambda (run inline, given to another method) and a local function are left to the constructor:
    /// when unsure, it holds.
    /// </summary>
    internal static bool InALambdaKeptToRunLater(IOperation access)
    {
        for (var parent = access.Parent; parent is not null; parent = parent.Parent)
        {
            if (parent is IAnonymousFunctionOperation lambda && KeptToRunLater(lambda))
            {
                return true;
            }
        }

        return false;
    }

    private static bool KeptToRunLater(IAnonymousFunctionOperation lambda)
    {
        IOperation node = lambda;
        while (node.Parent is IDelegateCreationOperation or IConversionOperation or IParenthesizedOperation)
        {
            node = node.Parent;
        }

        switch (node.Parent)
        {
            // Not a delegate stored in a field or property: such a one is as often run under the lock later (a condition's
            // predicate cached in the constructor), so the constructor holds for it, as for any lambda it is unsure of.
            case IEventAssignmentOperation { Adds: true } subscription when subscription.HandlerValue == node:
            case IArgumentOperation { Parent: IObjectCreationOperation }:
                return true;
            case IArgumentOperation { Parent: IInvocationOperation call }:
                // Known by the BCL's own top-level types, not by simple names a user's type may share.
                return ParallelBodies.StartsWork(call.TargetMethod, out _);
            default:
                return false;
        }
    }

    private static bool IsOwnConstructor(IMethodSymbol method, ISymbol member, IOperation? instance)
    {
        if (!SymbolEqualityComparer.Default.Equals(method.ContainingType.OriginalDefinition, member.ContainingType?.OriginalDefinition))
        {
            return false;
        }

        return member.IsStatic
            ? method.MethodKind == MethodKind.StaticConstructor
            : (method.MethodKind == MethodKind.Constructor || method is { MethodKind: MethodKind.PropertySet, IsInitOnly: true }) && OperationFacts.IsThis(instance);
    }

    private static bool HeldByScope(IOperation access, ISymbol lockMember, IOperation? instance, LockFacts facts, out IInvocationOperation? uncheckedTry) =>
        HeldByScope(access, lockMember, instance, facts, depth: 0, out uncheckedTry);

    private static bool HeldByScope(IOperation access, ISymbol lockMember, IOperation? instance, LockFacts facts, int depth, out IInvocationOperation? uncheckedTry)
    {
        uncheckedTry = null;
        return EnclosingScope(access, lockMember, instance, crossFunctions: true, ref uncheckedTry, new HelperScopes(facts.HelperAcquisitions, reads: false)) is not null ||
            HeldAtEveryCallOfItsLocalFunction(access, lockMember, instance, facts, depth);
    }

    /// <summary>
    /// A local function declared outside the scope (<c>void Add() =&gt; _n++;</c> before <c>using var s = _lock.Acquire();</c>)
    /// runs only where it is called: it holds the lock when it is only called, never made a delegate nor called from a
    /// lambda, and every call is in a scope of the lock (or in such a local function, a few deep).
    /// </summary>
    private static bool HeldAtEveryCallOfItsLocalFunction(IOperation access, ISymbol lockMember, IOperation? instance, LockFacts facts, int depth)
    {
        if (OperationFacts.EnclosingFunction(access) is not ILocalFunctionOperation local ||
            UsesOfLocalFunction(local, depth) is not { Length: > 0 } uses ||
            uses.Any(static use => use is not IInvocationOperation || OperationFacts.EnclosingFunction(use) is IAnonymousFunctionOperation))
        {
            return false;
        }

        return uses.All(use => HeldByScope(use, lockMember, instance, facts, depth + 1, out _));
    }

    /// <summary>
    /// Whether a guarded method of the lock or a scope of it holds it at <paramref name="access"/>, as
    /// <see cref="IsHeld(IMemberReferenceOperation, Guard, ISymbol, LockFacts)"/> finds them: a hold the code takes, not
    /// an object still under construction.
    /// </summary>
    public static bool HeldByMethodOrScope(IMemberReferenceOperation access, Guard guard, ISymbol containingSymbol, LockFacts facts) =>
        HeldByMethodOrScopeAt(access, guard, access.Instance, containingSymbol, facts);

    /// <summary>
    /// Whether a guarded method of the lock or a scope of it holds it, for the object <paramref name="instance"/> denotes,
    /// at <paramref name="at"/>: where a body given by name to a parallel loop is passed or called, as
    /// <see cref="HeldByMethodOrScope"/> judges the access in a lambda there.
    /// </summary>
    public static bool HeldByMethodOrScopeAt(IOperation at, Guard guard, IOperation? instance, ISymbol containingSymbol, LockFacts facts) =>
        (containingSymbol is IMethodSymbol method && HeldByMethod(method, guard, instance, facts)) ||
        HeldByScope(at, guard.LockMember, instance, facts, out _);

    /// <summary>Whether the innermost scope that holds the lock at <paramref name="access"/> is taken inside <paramref name="function"/> (its body takes the lock itself).</summary>
    public static bool HeldByScopeInside(IOperation access, ISymbol lockMember, IOperation? instance, IOperation function, LockFacts facts)
    {
        IInvocationOperation? uncheckedTry = null;
        return EnclosingScope(access, lockMember, instance, crossFunctions: true, ref uncheckedTry, new HelperScopes(facts.HelperAcquisitions, reads: false)) is { } scope &&
            function.Syntax.Span.Contains(scope.Resource.Syntax.Span);
    }

    /// <summary>
    /// Whether a using scope of a helper of the type that returns the lock's acquisition, a read one (<c>AcquireRead…</c>)
    /// included, holds it at <paramref name="at"/>, outside any lambda or local function there: for a use that only
    /// reads (a read core called, guarded state read), which a read scope holds as a write one does. A write there is not
    /// asked, since LSM0021 does not see such a scope.
    /// </summary>
    public static bool HeldForReadingByAHelpersScope(IOperation at, ISymbol lockMember, IOperation? instance, LockFacts facts)
    {
        IInvocationOperation? uncheckedTry = null;
        return EnclosingScope(at, lockMember, instance, crossFunctions: false, ref uncheckedTry, new HelperScopes(facts.HelperAcquisitions, reads: true)) is not null;
    }

    /// <summary>
    /// Which scopes of the type's own helpers count as holding (<see cref="IsHelperAcquire"/>): none (default: the rules
    /// that are not LSM0020's), those returning an exclusive or write acquisition, or, for a use that only reads, a read
    /// one too. The helpers' bodies are judged once per compilation, in <see cref="LockFacts.HelperAcquisitions"/>.
    /// </summary>
    private readonly struct HelperScopes
    {
        public HelperScopes(HelperJudgements<HelperAcquisitions> judged, bool reads)
        {
            Judged = judged;
            Reads = reads;
        }

        public HelperJudgements<HelperAcquisitions>? Judged { get; }

        public bool Reads { get; }
    }

    /// <summary>
    /// Whether the scope local is surely disposed between its acquisition and <paramref name="access"/>: a statement
    /// <c>scope.Dispose();</c> or <c>await scope.DisposeAsync();</c> of a block around the access, before it (a using, or a
    /// scope a <c>finally</c> disposes, released early: it holds nothing after that, and a scope after it may), also through
    /// a local that only copies the scope (<c>var t = scope; t.Dispose();</c>, <see cref="IsCopyOf"/>). One in a branch
    /// (<c>if (…) { scope.Dispose(); return; }</c>) is not sure, and is left.
    /// </summary>
    private static bool DisposedBefore(ILocalSymbol local, IOperation resource, IOperation access)
    {
        int after = resource.Syntax.Span.End;
        IOperation child = access;
        for (var parent = access.Parent; parent is not null; child = parent, parent = parent.Parent)
        {
            if (parent is not IBlockOperation block)
            {
                continue;
            }

            foreach (var statement in block.Operations)
            {
                if (statement == child)
                {
                    break;
                }

                var call = statement is IExpressionStatementOperation { Operation: var expression }
                    ? OperationFacts.Unwrap(expression is IAwaitOperation awaited ? awaited.Operation : expression)
                    : null;
                if (call is IInvocationOperation { TargetMethod.Name: "ConfigureAwait", Instance: { } configured })
                {
                    call = configured;
                }

                if (statement.Syntax.SpanStart >= after && call is IInvocationOperation
                    {
                        TargetMethod.Name: "Dispose" or "DisposeAsync",
                        Instance: ILocalReferenceOperation disposed,
                    } &&
                    (SymbolEqualityComparer.Default.Equals(disposed.Local, local) || IsCopyOf(disposed.Local, local, statement)))
                {
                    return true;
                }
            }
        }

        return false;
    }

    /// <summary>
    /// Whether <paramref name="copy"/> only ever holds the scope in <paramref name="scope"/>: its one write is its
    /// declaration's initializer or an assignment statement whose value is that local (<c>var t = scope;</c>,
    /// <c>t = scope;</c>), and nothing else writes it nor takes it by reference. Disposing it disposes that scope.
    /// </summary>
    /// <remarks>Looked for only when a dispose statement of another local comes before a use of guarded state.</remarks>
    private static bool IsCopyOf(ILocalSymbol copy, ILocalSymbol scope, IOperation at)
    {
        if (copy.RefKind != RefKind.None || SymbolEqualityComparer.Default.Equals(copy, scope))
        {
            return false;
        }

        int writes = 0;
        bool copied = false;
        foreach (var operation in OperationFacts.Root(at).Descendants())
        {
            if (operation is IVariableDeclaratorOperation declarator && SymbolEqualityComparer.Default.Equals(declarator.Symbol, copy) &&
                declarator.Initializer is { } initializer)
            {
                writes++;
                copied = IsLocal(initializer.Value, scope);
            }
            else if (operation is ILocalReferenceOperation reference && SymbolEqualityComparer.Default.Equals(reference.Local, copy) &&
                (OperationFacts.IsWrite(reference) || reference.Parent is IAddressOfOperation))
            {
                writes++;
                copied = reference.Parent is ISimpleAssignmentOperation { Parent: IExpressionStatementOperation } assignment &&
                    assignment.Target == reference && IsLocal(assignment.Value, scope);
            }
        }

        return writes == 1 && copied;

        static bool IsLocal(IOperation value, ILocalSymbol local) =>
            OperationFacts.Unwrap(value) is ILocalReferenceOperation read && SymbolEqualityComparer.Default.Equals(read.Local, local);
    }

    /// <summary>
    /// Whether the code at <paramref name="call"/> surely holds <paramref name="lockMember"/> of the object
    /// <paramref name="instance"/> denotes (null for a static lock, or the same object as the lock reference's) through a
    /// using scope, as <see cref="IsHeld(IMemberReferenceOperation, Guard, ISymbol, LockFacts)"/> finds one, for LSM0023,
    /// an error, so stricter: a call in a lambda or local function, which may run elsewhere or after the scope, is not in
    /// it, and neither is one after the scope's local was used other than to read <c>IsAcquired</c> (disposed early,
    /// passed on, reassigned). With <paramref name="acrossLambdas"/> (an async lock, whose hold is the flow's, which work
    /// started inside it shares), a scope around a lambda counts too, unless <c>ExecutionContext.SuppressFlow()</c> is in
    /// force there; a local function stays a boundary, since it may be called before the scope begins. A lambda run
    /// inline (<see cref="InlineDelegates"/>: <c>items.ForEach(x =&gt; Deposit(x))</c>) is in the scope for any lock,
    /// and one of a deferred query returned out of it for none. A method group made a delegate
    /// (<c>items.ForEach(Deposit)</c>) is its own lambda: <paramref name="call"/> may be one. A lambda (or method group)
    /// kept in a local that is only invoked (<c>later()</c>) runs where it is invoked, inline, for any lock
    /// (<see cref="InlineDelegates.InvocationsOfLocal"/>): the scopes around those invocations count, not the ones around it.
    /// </summary>
    public static bool HeldByScopeAt(IOperation call, ISymbol lockMember, IOperation? instance, bool acrossLambdas = false) =>
        HeldByScopeAt(call, lockMember, instance, acrossLambdas, depth: 0);

    private static bool HeldByScopeAt(IOperation call, ISymbol lockMember, IOperation? instance, bool acrossLambdas, int depth)
    {
        if (InvokedAt(call as IMethodReferenceOperation, depth) is { IsDefault: false } sites)
        {
            return sites.Any(site => HeldByScopeAt(site, lockMember, instance, acrossLambdas, depth + 1));
        }

        for (IOperation? from = StartOf(call, acrossLambdas, out _); from is not null;)
        {
            IInvocationOperation? uncheckedTry = null;
            if (EnclosingScope(from, lockMember, instance, crossFunctions: false, ref uncheckedTry) is { } scope &&
                (scope.Local is null || !UsedBetween(scope.Local, scope.Resource, call)))
            {
                return true;
            }

            if (InvokedAt(InnermostFunction(from) as IAnonymousFunctionOperation, depth) is { IsDefault: false } invoked)
            {
                return invoked.Any(site => HeldByScopeAt(site, lockMember, instance, acrossLambdas, depth + 1));
            }

            var next = EnclosingLambdaInScope(from, acrossLambdas, out _);
            if (next is null && UsesOfLocalFunction(InnermostFunction(from), depth) is { Length: > 0 } uses)
            {
                return uses.All(use => HeldByScopeAt(use, lockMember, instance, acrossLambdas, depth + 1));
            }

            from = next;
        }

        return false;
    }

    /// <summary>
    /// Where a local function is used, when <paramref name="function"/> is one: its calls and method groups outside its
    /// own body (a call inside it runs only once an outer use has). Its body runs only from these, so a scope holds in it
    /// when it holds at every one of them (a method group at one runs inline there, or is work that may run elsewhere,
    /// as <see cref="StartOf"/> decides). Empty otherwise, or past a bounded depth (local functions may call each other).
    /// </summary>
    /// <remarks>A walk of the one body the call is in, made only for a wrapper call in a local function.</remarks>
    private static ImmutableArray<IOperation> UsesOfLocalFunction(IOperation? function, int depth)
    {
        if (function is not ILocalFunctionOperation local || depth >= 4)
        {
            return ImmutableArray<IOperation>.Empty;
        }

        var uses = ImmutableArray.CreateBuilder<IOperation>();
        foreach (var use in OperationFacts.Root(local).Descendants())
        {
            var target = use switch
            {
                IInvocationOperation invocation => invocation.TargetMethod,
                IMethodReferenceOperation reference => reference.Method,
                _ => null,
            };
            if (target is not null && SymbolEqualityComparer.Default.Equals(target.OriginalDefinition, local.Symbol.OriginalDefinition) &&
                !local.Syntax.Span.Contains(use.Syntax.Span))
            {
                uses.Add(use);
            }
        }

        return uses.ToImmutable();
    }

    /// <summary>Where a delegate kept in a local is invoked (<see cref="InlineDelegates.InvocationsOfLocal"/>), or default; a bounded depth (a delegate may invoke itself).</summary>
    private static ImmutableArray<IInvocationOperation> InvokedAt(IOperation? function, int depth) =>
        function is null || depth >= 4 ? default : InlineDelegates.InvocationsOfLocal(function);

    private static IOperation? InnermostFunction(IOperation operation) => OperationFacts.EnclosingFunction(operation);

    /// <summary>
    /// The innermost lambda around <paramref name="operation"/> if the scopes around it hold their locks in it: it runs
    /// inline (<paramref name="inline"/>), or, <paramref name="withFlow"/>, it is started with the flow (an async lock's
    /// hold); null at a local function, a lambda of a deferred query returned (it runs after the hold), or under SuppressFlow.
    /// </summary>
    private static IOperation? EnclosingLambdaInScope(IOperation operation, bool withFlow, out bool inline)
    {
        inline = false;
        for (var parent = operation.Parent; parent is not null; parent = parent.Parent)
        {
            if (parent is ILocalFunctionOperation)
            {
                return null;
            }

            if (parent is IAnonymousFunctionOperation lambda)
            {
                return InScope(lambda, withFlow, out inline);
            }
        }

        return null;
    }

    /// <summary>Where a call's scopes are looked for: from the call; from a method group made a delegate only if the scopes around it hold there (<see cref="InScope"/>).</summary>
    private static IOperation? StartOf(IOperation call, bool withFlow, out bool inline)
    {
        inline = true;
        return call is IMethodReferenceOperation reference ? InScope(reference, withFlow, out inline) : call;
    }

    /// <summary>The delegate (a lambda or method group) if the scopes around it hold their locks in it, else null; see <see cref="EnclosingLambdaInScope"/>.</summary>
    private static IOperation? InScope(IOperation function, bool withFlow, out bool inline)
    {
        inline = false;
        switch (InlineDelegates.RunOf(function, out _))
        {
            case DelegateRun.Inline:
                inline = true;
                return function;
            case DelegateRun.Returned:
                return null;
            default:
                return withFlow && !OperationFacts.FlowSuppressedAround(function) ? function : null;
        }
    }

    /// <summary>
    /// The locks that using scopes enclosing <paramref name="call"/> surely hold there, by the rules of
    /// <see cref="HeldByScopeAt"/> (past a lambda that may run elsewhere, an async lock's scope only), each as the lock reference its acquisition names (<c>_audit</c>, <c>other._lock</c>;
    /// every member of a <c>LockSet</c>): the receiver or arguments of an <c>Acquire…</c>/<c>TryAcquire…</c> call in the
    /// resource.
    /// </summary>
    public static ImmutableArray<IMemberReferenceOperation> ScopeLocksAt(IOperation call, LockFacts facts)
    {
        var found = ImmutableArray.CreateBuilder<IMemberReferenceOperation>();
        CollectScopesAt(call, facts, found, depth: 0);
        return found.ToImmutable();
    }

    // A delegate kept in a local and only invoked runs inline where it is invoked: each invocation's scopes, all locks.
    private static void CollectScopesAt(IOperation call, LockFacts facts, ImmutableArray<IMemberReferenceOperation>.Builder found, int depth)
    {
        if (InvokedAt(call as IMethodReferenceOperation, depth) is { IsDefault: false } sites)
        {
            foreach (var site in sites)
            {
                CollectScopesAt(site, facts, found, depth + 1);
            }

            return;
        }

        IOperation? from = StartOf(call, withFlow: true, out bool direct);
        bool asyncOnly = !direct;
        while (from is not null)
        {
            CollectScopes(from, call, facts, asyncOnly, found);
            if (InvokedAt(InnermostFunction(from) as IAnonymousFunctionOperation, depth) is { IsDefault: false } invoked)
            {
                foreach (var site in invoked)
                {
                    CollectScopesAt(site, facts, found, depth + 1);
                }

                return;
            }

            var next = EnclosingLambdaInScope(from, withFlow: true, out bool inline);
            if (next is null && UsesOfLocalFunction(InnermostFunction(from), depth) is { Length: > 0 } uses)
            {
                // A local function's body holds the locks held at every one of its uses (past a lambda that may run
                // elsewhere, the async ones only).
                List<IMemberReferenceOperation>? common = null;
                foreach (var use in uses)
                {
                    var there = ImmutableArray.CreateBuilder<IMemberReferenceOperation>();
                    CollectScopesAt(use, facts, there, depth + 1);
                    common = common is null
                        ? there.Where(held => !asyncOnly || facts.CapabilitiesOf(LockMembers.TypeOf(held.Member)).IsAsync()).ToList()
                        : common.Where(held => there.Any(other => SymbolEqualityComparer.Default.Equals(held.Member.OriginalDefinition, other.Member.OriginalDefinition))).ToList();
                }

                found.AddRange(common!);
                return;
            }

            from = next;
            asyncOnly |= !inline;
        }
    }

    /// <summary>The locks of the using scopes around <paramref name="from"/> up to the innermost function boundary (only async ones past a lambda).</summary>
    private static void CollectScopes(IOperation from, IOperation call, LockFacts facts, bool asyncOnly, ImmutableArray<IMemberReferenceOperation>.Builder found)
    {
        IOperation child = from;
        for (var parent = from.Parent; parent is not null and not (IAnonymousFunctionOperation or ILocalFunctionOperation); child = parent, parent = parent.Parent)
        {
            if (parent is IUsingOperation usingStatement && child == usingStatement.Body)
            {
                Collect(call, usingStatement.Resources, facts, asyncOnly, found);
            }

            if (parent is ITryOperation tryStatement)
            {
                foreach (var (_, acquisition) in ReleasedInFinally(tryStatement, child, call))
                {
                    Collect(call, acquisition, facts, asyncOnly, found);
                }
            }

            if (parent is IBlockOperation block)
            {
                foreach (var statement in block.Operations)
                {
                    if (statement == child)
                    {
                        break;
                    }

                    if (statement is IUsingDeclarationOperation declaration)
                    {
                        Collect(call, declaration.DeclarationGroup, facts, asyncOnly, found);
                    }
                }
            }
        }
    }

    private static void Collect(IOperation call, IOperation resource, LockFacts facts, bool asyncOnly, ImmutableArray<IMemberReferenceOperation>.Builder found)
    {
        // The acquisitions in the resource, and those that gave a scope local it disposes ('using (scope)' after
        // 'TryAcquire(…, out var scope)'); Holds says whether each holds its lock at the call.
        var locals = resource.DescendantsAndSelf().OfType<ILocalReferenceOperation>().Select(static r => r.Local).ToList();
        var acquisitions = resource.DescendantsAndSelf().OfType<IInvocationOperation>();
        if (locals.Count > 0)
        {
            acquisitions = acquisitions.Concat(OperationFacts.Root(resource).Descendants().OfType<IInvocationOperation>().Where(i =>
                i.Arguments.Any(a => a.Parameter?.RefKind == RefKind.Out &&
                    a.Value.DescendantsAndSelf().Any(v => v is ILocalReferenceOperation r && locals.Contains(r.Local, SymbolEqualityComparer.Default)))));
        }

        foreach (var invocation in acquisitions)
        {
            string name = invocation.TargetMethod.Name;
            if (!name.StartsWith(KnownNames.Acquire, StringComparison.Ordinal) && !name.StartsWith(KnownNames.TryAcquire, StringComparison.Ordinal))
            {
                continue;
            }

            var candidates = new[] { invocation.Instance }.Concat(invocation.Arguments.Where(static a => a.Parameter?.RefKind != RefKind.Out).SelectMany(static a => a.Value.DescendantsAndSelf()));
            foreach (var candidate in candidates)
            {
                IInvocationOperation? uncheckedTry = null;
                if (OperationFacts.Unwrap(candidate) is IMemberReferenceOperation reference &&
                    facts.CapabilitiesOf(LockMembers.TypeOf(reference.Member)) is var capabilities && capabilities.IsLock() &&
                    (!asyncOnly || capabilities.IsAsync()) &&
                    Holds(call, resource, reference.Member, reference.Instance, ref uncheckedTry, out var local) &&
                    (local is null || !UsedBetween(local, resource, call)))
                {
                    found.Add(reference);
                }
            }
        }
    }

    /// <summary>The innermost using scope enclosing <paramref name="access"/> that holds the lock there, with its resource and scope local; or null.</summary>
    /// <param name="helpers">Which scopes a helper of the type returns (<see cref="IsHelperAcquire"/>) count: for LSM0020's holds only.</param>
    private static (IOperation Resource, ILocalSymbol? Local)? EnclosingScope(
        IOperation access, ISymbol lockMember, IOperation? instance, bool crossFunctions, ref IInvocationOperation? uncheckedTry, HelperScopes helpers = default)
    {
        IOperation child = access;
        for (var parent = access.Parent; parent is not null; child = parent, parent = parent.Parent)
        {
            if (!crossFunctions && parent is IAnonymousFunctionOperation or ILocalFunctionOperation)
            {
                return null;
            }

            if (parent is IUsingOperation usingStatement && child == usingStatement.Body &&
                Holds(access, usingStatement.Resources, lockMember, instance, ref uncheckedTry, out var local, helpers) &&
                (local is null || !DisposedBefore(local, usingStatement.Resources, access)))
            {
                return (usingStatement.Resources, local);
            }

            if (parent is ITryOperation tryStatement)
            {
                foreach (var (resource, acquisition) in ReleasedInFinally(tryStatement, child, access))
                {
                    // Disposed early in the try (scope.Dispose(); before the access): released there, not only in the finally.
                    if (Holds(access, resource, lockMember, instance, ref uncheckedTry, out var scope, helpers) &&
                        (scope is null || !DisposedBefore(scope, acquisition, access)))
                    {
                        return (acquisition, scope);
                    }
                }
            }

            if (parent is IBlockOperation block)
            {
                foreach (var statement in block.Operations)
                {
                    if (statement == child)
                    {
                        break;
                    }

                    if (statement is IUsingDeclarationOperation declaration &&
                        Holds(access, declaration.DeclarationGroup, lockMember, instance, ref uncheckedTry, out var declared, helpers) &&
                        (declared is null || !DisposedBefore(declared, declaration, access)))
                    {
                        return (declaration, declared);
                    }
                }
            }
        }

        return null;
    }

    /// <summary>
    /// The acquisitions that a <c>try</c>/<c>finally</c> holds where <paramref name="child"/> (its <c>try</c> block, a
    /// <c>catch</c>, or its <c>finally</c> up to the release) runs, as a <c>using</c> would: the acquire call made before the
    /// <c>try</c> whose scope local the <c>finally</c> disposes (<c>var scope = _lock.Acquire(); try { … } finally {
    /// scope.Dispose(); }</c>, the shape of a generated wrapper; <c>await scope.DisposeAsync()</c>; a scope from
    /// <c>TryAcquire(…, out var scope)</c>, whose check <see cref="Holds"/> still asks for), and an <c>Acquire…</c>
    /// call made as a statement of the block just around the <c>try</c>, before it, of a lock the <c>finally</c> releases by
    /// hand on the same receiver (<c>_lock.Acquire(); try { … } finally { _lock.Release(); }</c>). Each comes as a
    /// resource for <see cref="Holds"/> (the disposed local, whose acquisition and checks it finds, or the statement) and
    /// the acquisition itself, where the hold begins (for <see cref="UsedBetween"/> and <see cref="Collect"/>).
    /// </summary>
    private static System.Collections.Generic.IEnumerable<(IOperation Resource, IOperation Acquisition)> ReleasedInFinally(ITryOperation tryStatement, IOperation child, IOperation at)
    {
        if (tryStatement.Finally is not { } cleanup ||
            (child != tryStatement.Body && child != cleanup && !tryStatement.Catches.Contains(child)))
        {
            yield break;
        }

        int tryStart = tryStatement.Syntax.SpanStart;
        foreach (var release in cleanup.Descendants().OfType<IInvocationOperation>())
        {
            if (child == cleanup && release.Syntax.SpanStart <= at.Syntax.SpanStart)
            {
                continue;
            }

            string name = release.TargetMethod.Name;
            var receiver = OperationFacts.Unwrap(release.Instance);
            if (name is "Dispose" or "DisposeAsync" && receiver is ILocalReferenceOperation disposed)
            {
                foreach (var acquire in AcquisitionsOf(disposed.Local, OperationFacts.Root(tryStatement)))
                {
                    if (acquire.Syntax.Span.End <= tryStart)
                    {
                        yield return (disposed, acquire);
                    }
                }

                // Acquired as the try's statement (`Scope s = default; try { s = _lock.Acquire(); … } finally { s.Dispose(); }`):
                // held after it in the try; a default scope's Dispose does nothing if the acquisition threw.
                if (child == tryStatement.Body && tryStatement.Body is IBlockOperation body)
                {
                    foreach (var statement in body.Operations)
                    {
                        if (statement.Syntax.Span.End > at.Syntax.SpanStart)
                        {
                            break;
                        }

                        if (statement is IExpressionStatementOperation { Operation: ISimpleAssignmentOperation { Target: ILocalReferenceOperation target } assignment } &&
                            SymbolEqualityComparer.Default.Equals(target.Local, disposed.Local) &&
                            !DisposedBefore(disposed.Local, statement, at))
                        {
                            yield return (assignment.Value, statement);
                        }
                    }
                }
            }
            else if (name is "Release" or "ReleaseRead" or "ReleaseWrite" && receiver is IMemberReferenceOperation released &&
                tryStatement.Parent is IBlockOperation block)
            {
                foreach (var statement in block.Operations.TakeWhile(statement => statement != tryStatement))
                {
                    if (statement is IExpressionStatementOperation { Operation: IInvocationOperation acquire } &&
                        acquire.TargetMethod.Name.StartsWith(KnownNames.Acquire, StringComparison.Ordinal) &&
                        OperationFacts.Unwrap(acquire.Instance) is IMemberReferenceOperation acquired &&
                        SameLock(acquired.Member, released.Member) &&
                        (acquired.Member.IsStatic || OperationFacts.SameInstance(acquired.Instance, released.Instance)))
                    {
                        yield return (statement, statement);
                    }
                }
            }
        }
    }

    /// <summary>The <c>Acquire…</c>/<c>TryAcquire…</c> calls that give a local its value: its initializer's, or one it is an <c>out</c> argument of.</summary>
    private static System.Collections.Generic.IEnumerable<IInvocationOperation> AcquisitionsOf(ILocalSymbol local, IOperation root)
    {
        foreach (var invocation in root.Descendants().OfType<IInvocationOperation>())
        {
            // A helper's scope too (var s = TakeLedger();): Holds then asks whether it takes the lock (IsHelperAcquire).
            string name = invocation.TargetMethod.Name;
            if (!name.StartsWith(KnownNames.Acquire, StringComparison.Ordinal) && !name.StartsWith(KnownNames.TryAcquire, StringComparison.Ordinal) &&
                !IsScopeOrTaskOfOne(invocation.TargetMethod.ReturnType))
            {
                continue;
            }

            bool outArgument = invocation.Arguments.Any(a => a.Parameter?.RefKind == RefKind.Out &&
                a.Value.DescendantsAndSelf().Any(v => v is ILocalReferenceOperation r && SymbolEqualityComparer.Default.Equals(r.Local, local)));
            if (outArgument || SymbolEqualityComparer.Default.Equals(OperationFacts.LocalDeclaredBy(invocation), local))
            {
                yield return invocation;
            }
        }
    }

    /// <summary>
    /// Whether the scope local is used after its using resource and before <paramref name="call"/> (in the text),
    /// other than to read its <c>IsAcquired</c>: an explicit <c>Dispose</c>, or a use that may dispose it.
    /// </summary>
    private static bool UsedBetween(ILocalSymbol local, IOperation resource, IOperation call)
    {
        int after = resource.Syntax.Span.End;
        int before = call.Syntax.SpanStart;
        foreach (var operation in OperationFacts.Root(call).Descendants())
        {
            if (operation is ILocalReferenceOperation reference &&
                SymbolEqualityComparer.Default.Equals(reference.Local, local) &&
                reference.Syntax.SpanStart >= after && reference.Syntax.SpanStart < before &&
                reference.Parent is not IPropertyReferenceOperation { Property.Name: "IsAcquired" })
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Whether a using resource holds the lock at <paramref name="access"/>: it takes it (an acquire call, or a scope
    /// local that one produced), and, for a <c>TryAcquire…</c>, its success is checked there; an unchecked one is
    /// kept in <paramref name="uncheckedTry"/>.
    /// </summary>
    private static bool Holds(
        IOperation access, IOperation resource, ISymbol lockMember, IOperation? instance, ref IInvocationOperation? uncheckedTry, out ILocalSymbol? scope, HelperScopes helpers = default)
    {
        scope = null;
        if (Takes(resource, lockMember, instance, helpers) is not { } taken)
        {
            return false;
        }

        IInvocationOperation acquire;
        (acquire, scope) = taken;

        if (!acquire.TargetMethod.Name.StartsWith(KnownNames.TryAcquire, StringComparison.Ordinal) || IsChecked(access, acquire, scope) ||
            ThrowsUnlessTaken(resource, acquire, scope))
        {
            return true;
        }

        uncheckedTry ??= acquire;
        return false;
    }

    /// <summary>The acquire call a using resource makes or whose scope it disposes, and the scope's local if it has one; null when it takes no such lock.</summary>
    private static (IInvocationOperation Acquire, ILocalSymbol? Scope)? Takes(IOperation resource, ISymbol lockMember, IOperation? instance, HelperScopes helpers = default)
    {
        foreach (var operation in resource.DescendantsAndSelf())
        {
            // A task of a scope that is not awaited there holds nothing: a using of it disposes the task, and the lock
            // may not even be taken yet (using var t = TakeLedgerAsync();).
            if (operation is IInvocationOperation invocation &&
                (!IsTaskOfAScope(invocation.TargetMethod.ReturnType) || IsAwaited(invocation)) &&
                (IsAcquire(invocation, lockMember, instance) || IsHelperAcquire(invocation, lockMember, instance, helpers)))
            {
                return (invocation, OperationFacts.LocalDeclaredBy(invocation));
            }

            if (operation is ILocalReferenceOperation local &&
                (!IsTaskOfAScope(local.Local.Type) || IsAwaited(local)) &&
                ScopeOf(local.Local, OperationFacts.Root(resource), lockMember, instance, helpers) is { } acquire)
            {
                return (acquire, local.Local);
            }
        }

        return null;
    }

    /// <summary>The acquire call of the lock that gave a local its scope (an <c>out</c> argument or the initializer), or null.</summary>
    private static IInvocationOperation? ScopeOf(ILocalSymbol local, IOperation root, ISymbol lockMember, IOperation? instance, HelperScopes helpers = default)
    {
        foreach (var operation in root.Descendants())
        {
            if (operation is IInvocationOperation invocation && IsAcquire(invocation, lockMember, instance) &&
                invocation.Arguments.Any(a => a.Parameter?.RefKind == RefKind.Out && a.Value.DescendantsAndSelf().Any(v => v is ILocalReferenceOperation r && SymbolEqualityComparer.Default.Equals(r.Local, local))))
            {
                return invocation;
            }

            if (operation is IVariableDeclaratorOperation declarator && SymbolEqualityComparer.Default.Equals(declarator.Symbol, local) &&
                declarator.Initializer is { } initializer &&
                initializer.Value.DescendantsAndSelf().OfType<IInvocationOperation>().FirstOrDefault(i =>
                    IsAcquire(i, lockMember, instance) || IsHelperAcquire(i, lockMember, instance, helpers)) is { } acquire)
            {
                return acquire;
            }

            // var (scope, n) = (await _lock.AcquireAsync(), 1); the tuple part deconstructed into the local.
            if (operation is IDeconstructionAssignmentOperation deconstruction && DeconstructedPart(deconstruction, local) is { } part &&
                part.DescendantsAndSelf().OfType<IInvocationOperation>().FirstOrDefault(i =>
                    IsAcquire(i, lockMember, instance) || IsHelperAcquire(i, lockMember, instance, helpers)) is { } deconstructed)
            {
                return deconstructed;
            }

            // scope = await _lock.TryAcquireAsync(…); in a retry loop, the local declared before it.
            if (operation is ISimpleAssignmentOperation { Target: ILocalReferenceOperation target } assignment &&
                SymbolEqualityComparer.Default.Equals(target.Local, local) &&
                assignment.Value.DescendantsAndSelf().OfType<IInvocationOperation>().FirstOrDefault(i =>
                    IsAcquire(i, lockMember, instance) || IsHelperAcquire(i, lockMember, instance, helpers)) is { } assigned)
            {
                return assigned;
            }
        }

        return null;
    }

    /// <summary>The element of a deconstructed tuple literal that lands in <paramref name="local"/>, or null.</summary>
    private static IOperation? DeconstructedPart(IDeconstructionAssignmentOperation deconstruction, ILocalSymbol local)
    {
        var target = deconstruction.Target is IDeclarationExpressionOperation { Expression: var declared } ? declared : deconstruction.Target;
        if (target is not ITupleOperation { Elements: var parts } || OperationFacts.Unwrap(deconstruction.Value) is not ITupleOperation { Elements: var values } ||
            parts.Length != values.Length)
        {
            return null;
        }

        for (int i = 0; i < parts.Length; i++)
        {
            var part = parts[i] is IDeclarationExpressionOperation { Expression: var inner } ? inner : parts[i];
            if (part is ILocalReferenceOperation reference && SymbolEqualityComparer.Default.Equals(reference.Local, local))
            {
                return values[i];
            }
        }

        return null;
    }

    /// <summary>
    /// Whether code at <paramref name="access"/> runs only when the try-acquisition succeeded: in the branch of a test of
    /// its result (the call's <c>bool</c>, or the scope's <c>IsAcquired</c>) that means success, or after a test of
    /// failure whose branch leaves, in an enclosing block.
    /// </summary>
    private static bool IsChecked(IOperation access, IInvocationOperation acquire, ILocalSymbol? scope)
    {
        IOperation child = access;
        for (var parent = access.Parent; parent is not null; child = parent, parent = parent.Parent)
        {
            switch (parent)
            {
                case IConditionalOperation conditional when
                    (child == conditional.WhenTrue && Proves(conditional.Condition, true, acquire, scope)) ||
                    (child == conditional.WhenFalse && Proves(conditional.Condition, false, acquire, scope)):
                case IBinaryOperation { OperatorKind: BinaryOperatorKind.ConditionalAnd } both when child == both.RightOperand && Proves(both.LeftOperand, true, acquire, scope):
                case IBinaryOperation { OperatorKind: BinaryOperatorKind.ConditionalOr } either when child == either.RightOperand && Proves(either.LeftOperand, false, acquire, scope):
                case ISwitchCaseOperation { Parent: ISwitchOperation switchStatement } section when
                    section.Body.Contains(child) && SectionProves(switchStatement, section, acquire, scope):
                case ISwitchExpressionArmOperation { Parent: ISwitchExpressionOperation switchExpression } arm when
                    child == arm.Value && ArmProves(switchExpression, arm, acquire, scope):
                    return true;
                case IBlockOperation block:
                    foreach (var statement in block.Operations)
                    {
                        if (statement == child)
                        {
                            break;
                        }

                        if (statement is IConditionalOperation { WhenTrue: { } leaving } test && Proves(test.Condition, false, acquire, scope) && Leaves(leaving))
                        {
                            return true;
                        }

                        // switch (scope.IsAcquired) { case false: return; }: the code after it runs only on success.
                        if (statement is ISwitchOperation switchStatement && LeavesUnlessTaken(switchStatement, acquire, scope))
                        {
                            return true;
                        }

                        // A retry loop (while (!_lock.TryAcquire(slice, out scope)) { … }, do { … } while (!scope.IsAcquired))
                        // ends only once the lock is taken, unless a break or goto may leave it first.
                        if (statement is IWhileLoopOperation { ConditionIsUntil: false, Condition: { } condition } loop &&
                            Proves(condition, false, acquire, scope) && !MayLeaveEarly(loop))
                        {
                            return true;
                        }
                    }

                    break;
            }
        }

        return false;
    }

    /// <summary>
    /// Whether the using resource's value throws unless the try-acquisition succeeded, so nothing in its scope runs
    /// otherwise: <c>using var s = _lock.TryAcquire(t, out var x) ? x : throw …;</c>, <c>x.IsAcquired ? x : throw …</c>,
    /// <c>await l.TryAcquireAsync(t) is { IsAcquired: true } x ? x : throw …</c> (or the negated test with the throw first).
    /// </summary>
    private static bool ThrowsUnlessTaken(IOperation resource, IInvocationOperation acquire, ILocalSymbol? scope)
    {
        var values = resource is IVariableDeclarationGroupOperation group
            ? group.Declarations.SelectMany(static d => d.Declarators).Select(static d => d.Initializer?.Value)
            : new[] { resource };
        foreach (var value in values)
        {
            if (OperationFacts.Unwrap(value) is not IConditionalOperation { WhenFalse: { } whenFalse } conditional)
            {
                continue;
            }

            // The kept branch's local is the scope the condition tests (x.IsAcquired ? x : throw …).
            bool throwsOnFalse = OperationFacts.Unwrap(whenFalse) is IThrowOperation;
            var kept = OperationFacts.Unwrap(throwsOnFalse ? conditional.WhenTrue : whenFalse);
            if (throwsOnFalse == (OperationFacts.Unwrap(conditional.WhenTrue) is IThrowOperation))
            {
                continue;
            }

            var tested = kept is ILocalReferenceOperation local ? local.Local : scope;
            if (Proves(conditional.Condition, throwsOnFalse, acquire, tested))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Whether <paramref name="condition"/> having the value <paramref name="value"/> means the try-acquisition succeeded.</summary>
    private static bool Proves(IOperation condition, bool value, IInvocationOperation acquire, ILocalSymbol? scope)
    {
        condition = OperationFacts.Unwrap(condition)!;
        switch (condition)
        {
            case IInvocationOperation call when call.Syntax == acquire.Syntax:
                return value;
            case IAwaitOperation:
                return false;
            case IMemberReferenceOperation { Member.Name: "IsAcquired" } isAcquired when
                scope is not null && OperationFacts.Unwrap(isAcquired.Instance) is ILocalReferenceOperation local &&
                SymbolEqualityComparer.Default.Equals(local.Local, scope):
                return value;
            case IMemberReferenceOperation { Member.Name: "IsAcquired" } isAcquired when IsAwaitOf(OperationFacts.Unwrap(isAcquired.Instance), acquire):
                // (await _lock.TryAcquireAsync(t)) is { IsAcquired: true } x: the awaited scope itself.
                return value;
            case IUnaryOperation { OperatorKind: UnaryOperatorKind.Not } negation:
                return Proves(negation.Operand, !value, acquire, scope);
            case IBinaryOperation { OperatorKind: BinaryOperatorKind.ConditionalAnd } both when value:
                return Proves(both.LeftOperand, true, acquire, scope) || Proves(both.RightOperand, true, acquire, scope);
            case IBinaryOperation { OperatorKind: BinaryOperatorKind.ConditionalOr } either when !value:
                return Proves(either.LeftOperand, false, acquire, scope) || Proves(either.RightOperand, false, acquire, scope);
            case IBinaryOperation { OperatorKind: BinaryOperatorKind.Equals or BinaryOperatorKind.NotEquals } comparison:
                bool equals = comparison.OperatorKind == BinaryOperatorKind.Equals;
                return (comparison.RightOperand.ConstantValue is { HasValue: true, Value: bool right } && Proves(comparison.LeftOperand, value == (right == equals), acquire, scope)) ||
                    (comparison.LeftOperand.ConstantValue is { HasValue: true, Value: bool left } && Proves(comparison.RightOperand, value == (left == equals), acquire, scope));
            case IIsPatternOperation pattern:
                return ProvesPattern(pattern.Value, pattern.Pattern, value, acquire, scope);
            case ILocalReferenceOperation kept when KeepsResultOf(kept.Local, acquire):
                return value;
            default:
                return false;
        }
    }

    /// <summary>Whether <paramref name="operation"/> awaits <paramref name="acquire"/>'s task, with or without <c>ConfigureAwait</c>.</summary>
    private static bool IsAwaitOf(IOperation? operation, IInvocationOperation acquire)
    {
        if (operation is not IAwaitOperation awaited)
        {
            return false;
        }

        var task = OperationFacts.Unwrap(awaited.Operation);
        if (task is IInvocationOperation { TargetMethod.Name: "ConfigureAwait", Instance: { } configured })
        {
            task = OperationFacts.Unwrap(configured);
        }

        return task?.Syntax == acquire.Syntax;
    }

    /// <summary>
    /// Whether <paramref name="local"/> is a <c>bool</c> that only ever holds the result of <paramref name="acquire"/>
    /// (<c>bool taken = _lock.TryAcquire(…, out var scope);</c>, never assigned again): testing it tests the acquisition.
    /// </summary>
    private static bool KeepsResultOf(ILocalSymbol local, IInvocationOperation acquire)
    {
        if (local.Type.SpecialType != SpecialType.System_Boolean || local.RefKind != RefKind.None)
        {
            return false;
        }

        bool initialized = false;
        foreach (var operation in OperationFacts.Root(acquire).Descendants())
        {
            if (operation is IVariableDeclaratorOperation declarator && SymbolEqualityComparer.Default.Equals(declarator.Symbol, local))
            {
                initialized = declarator.Initializer is { } initializer && OperationFacts.Unwrap(initializer.Value)?.Syntax == acquire.Syntax;
                if (!initialized)
                {
                    return false;
                }
            }
            else if (operation is ILocalReferenceOperation reference && SymbolEqualityComparer.Default.Equals(reference.Local, local) &&
                (OperationFacts.IsWrite(reference) || reference.Parent is IAddressOfOperation))
            {
                return false;
            }
        }

        return initialized;
    }

    /// <summary>Whether a loop may end other than by its condition: a <c>break</c> out of it, or any <c>goto</c> in it.</summary>
    private static bool MayLeaveEarly(ILoopOperation loop) =>
        loop.Body.DescendantsAndSelf().OfType<IBranchOperation>().Any(branch =>
            branch.BranchKind == BranchKind.GoTo ||
            (branch.BranchKind == BranchKind.Break && SymbolEqualityComparer.Default.Equals(branch.Target, loop.ExitLabel)));

    /// <summary>
    /// Whether <paramref name="input"/> matching <paramref name="pattern"/> (or not, for a false <paramref name="value"/>)
    /// means success: <c>is true</c>, <c>is not false</c>, and a property pattern on the scope (<c>scope is { IsAcquired: true }</c>,
    /// <c>is not { IsAcquired: true }</c>), whose member reads through the matched value.
    /// </summary>
    private static bool ProvesPattern(IOperation input, IPatternOperation pattern, bool value, IInvocationOperation acquire, ILocalSymbol? scope) =>
        pattern switch
        {
            IConstantPatternOperation { Value.ConstantValue: { HasValue: true, Value: bool constant } } => Proves(input, value == constant, acquire, scope),
            INegatedPatternOperation negated => ProvesPattern(input, negated.Pattern, !value, acquire, scope),
            IRecursivePatternOperation { PropertySubpatterns.Length: 1, DeconstructionSubpatterns.Length: 0 } recursive =>
                ProvesPattern(recursive.PropertySubpatterns[0].Member, recursive.PropertySubpatterns[0].Pattern, value, acquire, scope),
            _ => false,
        };

    /// <summary>
    /// Whether a switch section runs only when the try-acquisition succeeded: each of its labels matches only then
    /// (<c>case true:</c>, <c>case { IsAcquired: true }:</c>), or is reached only when a label before it without
    /// <c>when</c> did not match on failure (<c>case false: …; default:</c>). Not where a <c>goto</c> may jump in.
    /// </summary>
    private static bool SectionProves(ISwitchOperation switchStatement, ISwitchCaseOperation section, IInvocationOperation acquire, ILocalSymbol? scope)
    {
        if (HasGoto(switchStatement))
        {
            return false;
        }

        var clauses = switchStatement.Cases.SelectMany(static c => c.Clauses).ToList();
        return section.Clauses.All(clause =>
        {
            // A default label is tried last, after every other one.
            var before = clause is IDefaultCaseClauseOperation
                ? clauses.Where(c => c != clause)
                : clauses.TakeWhile(c => c != clause).Where(static c => c is not IDefaultCaseClauseOperation);
            return ClauseProves(switchStatement.Value, clause, true, acquire, scope) ||
                before.Any(c => ClauseProves(switchStatement.Value, c, false, acquire, scope));
        });
    }

    /// <summary>
    /// Whether the code after a switch statement runs only when the try-acquisition succeeded: on failure a section
    /// surely matches (a <c>default</c>, or a label without <c>when</c> that only success fails to match) and every
    /// section that may run then leaves (return, throw, continue; not a <c>break</c> out of the switch).
    /// </summary>
    private static bool LeavesUnlessTaken(ISwitchOperation switchStatement, IInvocationOperation acquire, ILocalSymbol? scope)
    {
        if (HasGoto(switchStatement))
        {
            return false;
        }

        bool failureMatched = false;
        foreach (var section in switchStatement.Cases)
        {
            bool leaves = section.Body.Length > 0 && LeavesSwitch(section.Body[section.Body.Length - 1], switchStatement);
            if (!leaves && !SectionProves(switchStatement, section, acquire, scope))
            {
                return false;
            }

            failureMatched |= leaves && section.Clauses.Any(c => c is IDefaultCaseClauseOperation || ClauseProves(switchStatement.Value, c, false, acquire, scope));
        }

        return failureMatched;
    }

    /// <summary>Whether a switch arm is chosen only when the try-acquisition succeeded (its pattern, or one before it without <c>when</c> not matched).</summary>
    private static bool ArmProves(ISwitchExpressionOperation switchExpression, ISwitchExpressionArmOperation arm, IInvocationOperation acquire, ILocalSymbol? scope) =>
        ProvesPattern(switchExpression.Value, arm.Pattern, true, acquire, scope) ||
        switchExpression.Arms.TakeWhile(a => a != arm).Any(a => a.Guard is null && ProvesPattern(switchExpression.Value, a.Pattern, false, acquire, scope));

    /// <summary>Whether a case label matching <paramref name="value"/> (or, for false, not matching) means success; a <c>when</c> only narrows a match.</summary>
    private static bool ClauseProves(IOperation input, ICaseClauseOperation clause, bool value, IInvocationOperation acquire, ILocalSymbol? scope) => clause switch
    {
        ISingleValueCaseClauseOperation { Value.ConstantValue: { HasValue: true, Value: bool constant } } => Proves(input, value == constant, acquire, scope),
        IPatternCaseClauseOperation pattern when value || pattern.Guard is null => ProvesPattern(input, pattern.Pattern, value, acquire, scope),
        _ => false,
    };

    private static bool HasGoto(ISwitchOperation switchStatement) =>
        switchStatement.Cases.Any(static c => c.Descendants().OfType<IBranchOperation>().Any(static b => b.BranchKind == BranchKind.GoTo));

    /// <summary>Whether a switch section's last statement leaves the code after the switch: as <see cref="Leaves"/>, but a <c>break</c> of the switch does not.</summary>
    private static bool LeavesSwitch(IOperation last, ISwitchOperation switchStatement) => last switch
    {
        IBlockOperation block => block.Operations.Length > 0 && LeavesSwitch(block.Operations[block.Operations.Length - 1], switchStatement),
        IBranchOperation { BranchKind: BranchKind.Break } exit when SymbolEqualityComparer.Default.Equals(exit.Target, switchStatement.ExitLabel) => false,
        _ => Leaves(last),
    };

    /// <summary>Whether a branch always leaves the code after it: it ends in return, throw, break, continue or goto.</summary>
    private static bool Leaves(IOperation branch) => branch switch
    {
        IBlockOperation block => block.Operations.Length > 0 && Leaves(block.Operations[block.Operations.Length - 1]),
        IReturnOperation or IBranchOperation or IThrowOperation => true,
        IExpressionStatementOperation { Operation: IThrowOperation } => true,
        _ => false,
    };

    /// <summary>An <c>Acquire…</c>/<c>TryAcquire…</c> call whose receiver or arguments name the lock of the same object.</summary>
    private static bool IsAcquire(IInvocationOperation invocation, ISymbol lockMember, IOperation? instance)
    {
        string name = invocation.TargetMethod.Name;
        if (!name.StartsWith(KnownNames.Acquire, StringComparison.Ordinal) && !name.StartsWith(KnownNames.TryAcquire, StringComparison.Ordinal))
        {
            return false;
        }

        if (IsLockReference(invocation.Instance, lockMember, instance))
        {
            return true;
        }

        return invocation.Arguments.Any(argument => argument.Value.DescendantsAndSelf().Any(v => IsLockReference(v, lockMember, instance)));
    }

    /// <summary>
    /// Whether <paramref name="invocation"/> calls a helper that surely returns an exclusive (or write) acquisition of the
    /// lock of the object <paramref name="instance"/> denotes (<c>ExclusiveLock.Scope TakeLedger() =&gt; _lock.Acquire();</c>,
    /// <c>async Task&lt;AsyncLockScope&gt; TakeLedgerAsync() =&gt; await _async.AcquireAsync();</c>), so a using scope of its
    /// result holds the lock as one of the acquisition would (<see cref="JudgeHelper"/> says which helpers). A helper's
    /// task holds only where it is awaited: <c>using var t = TakeLedgerAsync();</c> disposes the task, and the lock may not
    /// even be taken yet.
    /// </summary>
    /// <remarks>
    /// For LSM0020's holds only: a read scope's helper, a <c>TryAcquire…</c>'s, one an override may replace, or one whose
    /// body is not in this compilation stays unknown, so such a use is still reported; an async helper's scope excludes
    /// other holders even when the caller's flow does not own it (LSM0058 says that). Each helper's body is judged once
    /// per compilation (<see cref="LockFacts.HelperAcquisitions"/>), however many scopes use it.
    /// </remarks>
    private static bool IsHelperAcquire(IInvocationOperation invocation, ISymbol lockMember, IOperation? instance, HelperScopes helpers) =>
        helpers.Judged is { } judged &&
        (lockMember.IsStatic || (!invocation.TargetMethod.IsStatic && OperationFacts.SameInstance(invocation.Instance, instance))) &&
        judged.Of(invocation.TargetMethod, invocation.SemanticModel, System.Threading.CancellationToken.None) is { } returned &&
        returned.Hold(lockMember, helpers.Reads);

    /// <summary>
    /// Whether a method may be a helper whose scope holds a lock, before its body is read: an ordinary method of this
    /// compilation returning a scope (or a task of one) that no override can replace.
    /// </summary>
    internal static bool MayReturnAnAcquisition(IMethodSymbol method) =>
        method.MethodKind == MethodKind.Ordinary &&
        !method.IsExtern &&
        !method.DeclaringSyntaxReferences.IsEmpty &&
        !((method.IsVirtual || method.IsAbstract || method.IsOverride) && !method.IsSealed && method.ContainingType?.IsSealed != true) &&
        IsScopeOrTaskOfOne(method.ReturnType);

    /// <summary>
    /// What a helper's body surely returns: every return of it (at least one, none in a <c>try</c> with a <c>finally</c>)
    /// is an <c>Acquire…</c> of a Locksmith lock (not a try) naming a lock member on <c>this</c> or a static one, awaited
    /// or not, or a call on <c>this</c> (or static) of another such helper (<paramref name="helperOf"/>); null otherwise.
    /// An <c>Acquire…</c>-named method of the project is judged as a helper by its own body, whatever its arguments name.
    /// </summary>
    internal static HelperAcquisitions? JudgeHelper(IOperation body, Func<IMethodSymbol, HelperAcquisitions?> helperOf)
    {
        var taken = ImmutableArray.CreateBuilder<(ImmutableArray<ISymbol> Locks, bool Read)>();
        int returns = 0;
        foreach (var returned in body.Descendants().OfType<IReturnOperation>())
        {
            if (OperationFacts.EnclosingFunction(returned) is { } function && body.Syntax.Span.Contains(function.Syntax.Span))
            {
                continue; // a lambda's or local function's own return
            }

            returns++;
            if (InTryWithFinally(returned, body) || ReturnedCall(returned.ReturnedValue) is not { } call)
            {
                return null;
            }

            string name = call.TargetMethod.Name;
            if (name.StartsWith(KnownNames.Acquire, StringComparison.Ordinal) && RuntimeSymbols.IsInLocksmithNamespaces(call.TargetMethod.ContainingType))
            {
                var locks = OwnLockReferences(call);
                if (locks.IsEmpty)
                {
                    return null;
                }

                taken.Add((locks, name.StartsWith(KnownNames.Acquire + "Read", StringComparison.Ordinal)));
            }
            else if ((call.TargetMethod.IsStatic || OperationFacts.IsThis(call.Instance)) && helperOf(call.TargetMethod) is { } nested)
            {
                taken.AddRange(nested.Taken);
            }
            else
            {
                return null;
            }
        }

        return returns > 0 ? new HelperAcquisitions(taken.ToImmutable()) : null;

        static IInvocationOperation? ReturnedCall(IOperation? value)
        {
            value = OperationFacts.Unwrap(value);
            if (value is IAwaitOperation awaited)
            {
                value = OperationFacts.Unwrap(awaited.Operation);
            }

            if (value is IInvocationOperation { TargetMethod.Name: "ConfigureAwait", Instance: { } configured })
            {
                value = OperationFacts.Unwrap(configured);
            }

            return value as IInvocationOperation;
        }

        static bool InTryWithFinally(IOperation operation, IOperation body)
        {
            for (var parent = operation.Parent; parent is not null && parent != body; parent = parent.Parent)
            {
                if (parent is ITryOperation { Finally: not null })
                {
                    return true;
                }
            }

            return false;
        }

        // The members an acquisition takes on this object (or static ones): its receiver, or an argument that is a
        // member itself or a list of them (LockSet.Acquire(_a, _b)); not one only used in an argument (_lock.OwnerThreadId).
        static ImmutableArray<ISymbol> OwnLockReferences(IInvocationOperation call) =>
            [.. Named(call.Instance).Concat(call.Arguments.SelectMany(static a => Named(a.Value)))
                .Where(static r => r.Member.IsStatic || OperationFacts.IsThis(r.Instance))
                .Select(static r => r.Member)];

        static IEnumerable<IMemberReferenceOperation> Named(IOperation? value) => OperationFacts.Unwrap(value) switch
        {
            IMemberReferenceOperation reference => [reference],
            IArrayCreationOperation { Initializer: { } elements } => elements.ElementValues.SelectMany(static e => Named(e)),
            ICollectionExpressionOperation collection => collection.Elements.SelectMany(static e => Named(e)),
            _ => [],
        };
    }

    /// <summary>
    /// Whether <paramref name="operation"/>'s task is awaited where it is made (<c>await TakeAsync()</c>, also through
    /// <c>ConfigureAwait</c>, <c>AsTask</c> or <c>Preserve</c>): only then does a using of it dispose the scope.
    /// </summary>
    private static bool IsAwaited(IOperation operation)
    {
        for (var node = operation; node.Parent is { } parent; node = parent)
        {
            switch (parent)
            {
                case IAwaitOperation:
                    return true;
                case IConversionOperation or IParenthesizedOperation:
                case IInvocationOperation { TargetMethod.Name: "ConfigureAwait" or "AsTask" or "Preserve" } continued when continued.Instance == node:
                    continue;
                default:
                    return false;
            }
        }

        return false;
    }

    /// <summary>A <c>Task</c> or <c>ValueTask</c> of a Locksmith scope (<see cref="IsScopeOrTaskOfOne"/>), not a scope itself.</summary>
    private static bool IsTaskOfAScope(ITypeSymbol? type) =>
        type is INamedTypeSymbol { IsGenericType: true, TypeArguments: [_], Name: "Task" or "ValueTask" } && IsScopeOrTaskOfOne(type);

    /// <summary>A Locksmith scope type (<see cref="KnownNames.ScopeTypes"/>), or a <c>Task</c>/<c>ValueTask</c> of one.</summary>
    private static bool IsScopeOrTaskOfOne(ITypeSymbol? type)
    {
        if (type is INamedTypeSymbol { IsGenericType: true, TypeArguments: [var result], Name: "Task" or "ValueTask" } task &&
            task.ContainingNamespace.ToDisplayString() == "System.Threading.Tasks")
        {
            type = result;
        }

        return type is INamedTypeSymbol named && named.Name.EndsWith("Scope", StringComparison.Ordinal) &&
            KnownNames.ScopeTypes.Contains(MetadataName(named.OriginalDefinition));

        static string MetadataName(INamedTypeSymbol named) => named.ContainingType is { } outer
            ? MetadataName(outer) + "+" + named.MetadataName
            : named.ContainingNamespace.ToDisplayString() + "." + named.MetadataName;
    }

    private static bool IsLockReference(IOperation? operation, ISymbol lockMember, IOperation? instance) =>
        OperationFacts.Unwrap(operation) is IMemberReferenceOperation reference &&
        SameLock(reference.Member, lockMember) &&
        (lockMember.IsStatic || OperationFacts.SameInstance(reference.Instance, instance));

    /// <summary>Whether two members are one lock: the same member, or a property that merely returns the other (<c>Gate =&gt; _lock</c>), or both such properties of one member.</summary>
    internal static bool SameLock(ISymbol referenced, ISymbol lockMember) =>
        SymbolEqualityComparer.Default.Equals(referenced.OriginalDefinition, lockMember.OriginalDefinition) ||
        ((referenced is IPropertySymbol || lockMember is IPropertySymbol) &&
            SymbolEqualityComparer.Default.Equals(
                (LockMembers.ForwardedTo(referenced) ?? referenced).OriginalDefinition, (LockMembers.ForwardedTo(lockMember) ?? lockMember).OriginalDefinition));
}

/// <summary>
/// What a helper surely returns (<see cref="HeldLocks.JudgeHelper"/>): for each acquisition one of its returns may be,
/// the lock members it names on the helper's own object (or static ones) and whether it is a read.
/// </summary>
internal sealed class HelperAcquisitions
{
    public HelperAcquisitions(ImmutableArray<(ImmutableArray<ISymbol> Locks, bool Read)> taken) => Taken = taken;

    /// <summary>One entry per acquisition a return may be.</summary>
    public ImmutableArray<(ImmutableArray<ISymbol> Locks, bool Read)> Taken { get; }

    /// <summary>Whether every return takes <paramref name="lockMember"/>, and none only for reading unless <paramref name="reads"/>.</summary>
    public bool Hold(ISymbol lockMember, bool reads) =>
        Taken.All(t => (reads || !t.Read) && t.Locks.Any(l => HeldLocks.SameLock(l, lockMember)));
}
