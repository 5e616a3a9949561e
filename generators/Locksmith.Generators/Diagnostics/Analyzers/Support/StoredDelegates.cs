using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Operations;

namespace Locksmith.Generators.Diagnostics.Analyzers.Support;

/// <summary>
/// A lambda made under a hold and stored to run later: the value of an assignment to a field, property, indexer slot
/// or array element (<c>_onChange = () =&gt; _count++;</c>), a handler subscribed to an event (<c>source.Changed += …</c>),
/// or a lambda the member returns (<c>return () =&gt; _count;</c>; not one a lambda or local function returns).
/// It runs when it is invoked, maybe after the hold and on another thread or flow, so the hold around the place it is
/// made (a using scope, a guarded method) does not hold in it; a scope it takes itself does. A lambda run inline
/// (<c>items.ForEach(…)</c>), kept in a local or in an object a local holds (<c>parser.Found += …</c>), or given to a method or constructor is not one of these (where a method
/// keeps it is not known; a thread, task or timer made with it, or an <c>Elapsed</c> handler, is work the hold may
/// wait for or stop, which <see cref="ParallelBodies"/> judges), and neither is one kept in a private field that the type only assigns and invokes through <c>this</c>
/// (<see cref="InlineDelegates.InvocationsOfLocal"/>), which is judged where it is invoked (<see cref="HeldLocks.KeptAndInvoked(IMemberReferenceOperation)"/>).
/// </summary>
internal static class StoredDelegates
{
    /// <summary>
    /// The innermost lambda around <paramref name="access"/> that is stored to run later and does not take
    /// <paramref name="guard"/>'s lock itself around the access, and how it is stored, for the message; null otherwise,
    /// and in an initializer, whose own rule for kept lambdas applies. In a constructor, only where a scope it takes holds
    /// the access and the constructor itself would not (a lambda it surely keeps to run later,
    /// <see cref="HeldLocks.InALambdaKeptToRunLater"/>): where the constructor holds, as for a delegate it keeps in a field, so does its scope.
    /// </summary>
    public static (IAnonymousFunctionOperation Lambda, string How)? StoredAround(IMemberReferenceOperation access, Guard guard, ISymbol containingSymbol, LockFacts facts)
    {
        if (containingSymbol is IFieldSymbol or IPropertySymbol ||
            (containingSymbol is IMethodSymbol { MethodKind: MethodKind.Constructor or MethodKind.StaticConstructor } && !HeldLocks.InALambdaKeptToRunLater(access)))
        {
            return null;
        }

        for (var parent = access.Parent; parent is not null; parent = parent.Parent)
        {
            if (parent is IAnonymousFunctionOperation lambda && HowStored(lambda) is { } how)
            {
                return HeldLocks.HeldByScopeInside(access, guard.LockMember, access.Instance, lambda, facts) ? null : (lambda, how);
            }
        }

        return null;
    }

    /// <summary>How a lambda is stored to run later ("stored in '_onChange'", "returned"), or null when it is not.</summary>
    private static string? HowStored(IAnonymousFunctionOperation lambda)
    {
        if (ParallelBodies.DroppedStartOf(lambda) is not null)
        {
            // Work started (a System.Timers.Timer's Elapsed handler among it), which the dropped-work rules judge.
            return null;
        }

        IOperation node = lambda;
        while (node.Parent is IDelegateCreationOperation or IConversionOperation or IParenthesizedOperation)
        {
            node = node.Parent;
        }

        switch (node.Parent)
        {
            case IAssignmentOperation { Target: IFieldReferenceOperation or IPropertyReferenceOperation or IArrayElementReferenceOperation } assignment
                when assignment.Value == node && assignment is ISimpleAssignmentOperation or ICoalesceAssignmentOperation && !InAnObjectALocalHolds(assignment.Target):
                // A private field the type only invokes through `this` is judged where it is invoked (HeldLocks.KeptAndInvoked); left here.
                return !InlineDelegates.InvocationsOfLocal(lambda).IsDefault ? null
                    : AliasAt(assignment.Target) is { } alias ? $"stored in '{assignment.Target.Syntax}', of the object '{alias.Local.Name}' holds ('{alias.Value.Syntax}'),"
                    : $"stored in '{assignment.Target.Syntax}'";
            case IEventAssignmentOperation { Adds: true, EventReference: IEventReferenceOperation subscribed } subscription
                when subscription.HandlerValue == node && !InAnObjectALocalHolds(subscribed):
                return $"subscribed to '{subscribed.Event.Name}'";
            case IReturnOperation returned when returned.ReturnedValue == node && !ReturnedByANestedFunction(returned):
                return "returned";
            default:
                return null;
        }
    }

    // A member or slot of an object a local holds (parser.Found += …, p.Map = …, new Parser { Map = … } in a local's
    // initializer): kept in a local, as a lambda kept in the local itself is, so the holds where it is made count. Not a
    // local that only holds an object from outside (AliasOf): that object keeps it.
    private static bool InAnObjectALocalHolds(IOperation target)
    {
        for (var instance = InstanceOf(target); ; instance = InstanceOf(instance))
        {
            switch (instance)
            {
                case ILocalReferenceOperation { Local.RefKind: RefKind.None } local:
                    return AliasOf(local.Local, local) is null;
                case IInstanceReferenceOperation { ReferenceKind: InstanceReferenceKind.ImplicitReceiver } receiver:
                    return CreatedIntoALocal(receiver);
                case IMemberReferenceOperation or IArrayElementReferenceOperation:
                    continue;
                default:
                    return false;
            }
        }


        // The implicit receiver of an object initializer: the object made by the `new` it belongs to, if that initializes a local.
        static bool CreatedIntoALocal(IOperation receiver)
        {
            IOperation? node = receiver;
            while (node is not null and not IObjectOrCollectionInitializerOperation)
            {
                node = node.Parent;
            }

            if (node?.Parent is not IObjectCreationOperation created)
            {
                return false;
            }

            node = created;
            while (node.Parent is IConversionOperation or IParenthesizedOperation)
            {
                node = node.Parent;
            }

            return node.Parent is IVariableInitializerOperation { Parent: IVariableDeclaratorOperation { Symbol.RefKind: RefKind.None } };
        }
    }

    private static IOperation? InstanceOf(IOperation? operation) => operation switch
    {
        IMemberReferenceOperation member => member.Instance,
        IArrayElementReferenceOperation element => element.ArrayReference,
        _ => null,
    };

    // The local at the root of a stored-to target (h in h["x"], s in s.Inner.Map) when it only holds an object from outside, for the message.
    private static (ILocalSymbol Local, IOperation Value)? AliasAt(IOperation target)
    {
        var instance = InstanceOf(target);
        while (instance is IMemberReferenceOperation or IArrayElementReferenceOperation)
        {
            instance = InstanceOf(instance);
        }

        return instance is ILocalReferenceOperation { Local.RefKind: RefKind.None } local && AliasOf(local.Local, local) is { } value ? (local.Local, value) : null;
    }

    /// <summary>
    /// The value a local of a reference type only holds when that is an object from outside the member: its declaration's
    /// initializer reads a field or a parameter, or is <c>this</c> (<c>var h = _handlers;</c>), and nothing else writes it (no
    /// assignment, <c>ref</c> or <c>out</c>, deconstruction, anywhere in the body). A lambda stored in that object is kept
    /// where the object keeps it, which outlives the member. Null otherwise: an object the member makes (or a call returns)
    /// may die with it (a computed property's too), and a struct is copied into the local.
    /// </summary>
    private static IOperation? AliasOf(ILocalSymbol local, IOperation at)
    {
        if (local.Type is not { IsReferenceType: true })
        {
            return null;
        }

        IOperation? value = null;
        foreach (var operation in OperationFacts.Root(at).Descendants())
        {
            if (operation is IVariableDeclaratorOperation declarator && SymbolEqualityComparer.Default.Equals(declarator.Symbol, local))
            {
                value = declarator.Initializer?.Value;
            }
            else if (operation is ILocalReferenceOperation reference && SymbolEqualityComparer.Default.Equals(reference.Local, local) &&
                (OperationFacts.IsWrite(reference) || reference.Parent is IAddressOfOperation))
            {
                return null;
            }
        }

        // Not a property's value: a computed one may make a new object each time.
        return OperationFacts.Unwrap(value) is IFieldReferenceOperation or IParameterReferenceOperation or IInstanceReferenceOperation { ReferenceKind: InstanceReferenceKind.ContainingTypeInstance }
            ? value
            : null;
    }

    // A lambda returned by a lambda or local function goes to the code that invokes that function (run in the hold, or
    // itself stored, which is judged there), not out of the member like one the member returns.
    private static bool ReturnedByANestedFunction(IReturnOperation returned) => OperationFacts.EnclosingFunction(returned) is not null;
}
