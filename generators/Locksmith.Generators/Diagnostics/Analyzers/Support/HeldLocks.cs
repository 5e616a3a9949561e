using System;
using System.Linq;
using Locksmith.Generators.Symbols;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Operations;

namespace Locksmith.Generators.Diagnostics.Analyzers.Support;

/// <summary>
/// Decides whether code holds a lock where it touches guarded state. Held means: inside a constructor or
/// initializer of the same object; inside a method (or property accessor) guarded by the same lock, on the same
/// object; inside an <c>[AcquiresLocksOf]</c> method for a named parameter; or after a <c>using</c> of an
/// <c>Acquire…</c>/<c>TryAcquire…</c> call that takes that lock of that object, in an enclosing block (an awaited
/// <c>AcquireAsync</c> of an async lock, with or without <c>ConfigureAwait</c>, and <c>await using</c> alike: the call
/// is found among the resource's operations).
/// </summary>
/// <remarks>
/// The check is syntactic and local, like Clang's thread-safety analysis: it does not follow calls, and a lambda
/// inside a scope that holds the lock counts as holding it.
/// </remarks>
internal static class HeldLocks
{
    public static bool IsHeld(IMemberReferenceOperation access, Guard guard, ISymbol containingSymbol, LockFacts facts)
    {
        var member = access.Member;
        var instance = access.Instance;

        if (containingSymbol is IFieldSymbol or IPropertySymbol || OperationFacts.IsObjectUnderConstruction(instance))
        {
            // Initializers (of members, or of an object being created) run before the object is shared.
            return true;
        }

        if (containingSymbol is IMethodSymbol method)
        {
            if (IsOwnConstructor(method, member, instance) || HeldByMethod(method, guard, instance, facts))
            {
                return true;
            }
        }

        return HeldByScope(access, guard, instance);
    }

    /// <summary>Whether a method (or the property whose accessor it is) is guarded by the lock, on the same object.</summary>
    public static bool HeldByMethod(IMethodSymbol method, Guard guard, IOperation? instance, LockFacts facts)
    {
        if (HeldByHolder(method, guard, instance, facts) ||
            (method.AssociatedSymbol is { } property && HeldByHolder(property, guard, instance, facts)))
        {
            return true;
        }

        if (facts.LockSetOf(method) is { } set &&
            set.Lock == guard.LockMember.Name &&
            OperationFacts.Unwrap(instance) is IParameterReferenceOperation parameter &&
            set.ParameterNames.Contains(parameter.Parameter.Name))
        {
            return true;
        }

        return false;
    }

    private static bool HeldByHolder(ISymbol holder, Guard guard, IOperation? instance, LockFacts facts) =>
        facts.GuardOf(holder) is { } held &&
        SymbolEqualityComparer.Default.Equals(held.LockMember.OriginalDefinition, guard.LockMember.OriginalDefinition) &&
        (guard.LockMember.IsStatic || instance is null || OperationFacts.IsThis(instance));

    private static bool IsOwnConstructor(IMethodSymbol method, ISymbol member, IOperation? instance)
    {
        if (!SymbolEqualityComparer.Default.Equals(method.ContainingType.OriginalDefinition, member.ContainingType?.OriginalDefinition))
        {
            return false;
        }

        return member.IsStatic
            ? method.MethodKind == MethodKind.StaticConstructor
            : method.MethodKind == MethodKind.Constructor && OperationFacts.IsThis(instance);
    }

    private static bool HeldByScope(IOperation access, Guard guard, IOperation? instance)
    {
        IOperation child = access;
        for (var parent = access.Parent; parent is not null; child = parent, parent = parent.Parent)
        {
            if (parent is IUsingOperation usingStatement && child == usingStatement.Body &&
                Takes(usingStatement.Resources, guard, instance))
            {
                return true;
            }

            if (parent is IBlockOperation block)
            {
                foreach (var statement in block.Operations)
                {
                    if (statement == child)
                    {
                        break;
                    }

                    if (statement is IUsingDeclarationOperation declaration && Takes(declaration.DeclarationGroup, guard, instance))
                    {
                        return true;
                    }
                }
            }
        }

        return false;
    }

    /// <summary>Whether a using resource takes the lock: an acquire call on it, or a scope local that one produced.</summary>
    private static bool Takes(IOperation resource, Guard guard, IOperation? instance)
    {
        foreach (var operation in resource.DescendantsAndSelf())
        {
            if (operation is IInvocationOperation invocation && IsAcquire(invocation, guard, instance))
            {
                return true;
            }

            if (operation is ILocalReferenceOperation local && ScopeOf(local.Local, OperationFacts.Root(resource), guard, instance))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Whether a local was given its scope by an acquire call of the lock (an <c>out</c> argument or the initializer).</summary>
    private static bool ScopeOf(ILocalSymbol local, IOperation root, Guard guard, IOperation? instance)
    {
        foreach (var operation in root.Descendants())
        {
            if (operation is IInvocationOperation invocation && IsAcquire(invocation, guard, instance) &&
                invocation.Arguments.Any(a => a.Parameter?.RefKind == RefKind.Out && a.Value.DescendantsAndSelf().Any(v => v is ILocalReferenceOperation r && SymbolEqualityComparer.Default.Equals(r.Local, local))))
            {
                return true;
            }

            if (operation is IVariableDeclaratorOperation declarator && SymbolEqualityComparer.Default.Equals(declarator.Symbol, local) &&
                declarator.Initializer is { } initializer &&
                initializer.Value.DescendantsAndSelf().Any(v => v is IInvocationOperation i && IsAcquire(i, guard, instance)))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>An <c>Acquire…</c>/<c>TryAcquire…</c> call whose receiver or arguments name the lock of the same object.</summary>
    private static bool IsAcquire(IInvocationOperation invocation, Guard guard, IOperation? instance)
    {
        string name = invocation.TargetMethod.Name;
        if (!name.StartsWith(KnownNames.Acquire, StringComparison.Ordinal) && !name.StartsWith(KnownNames.TryAcquire, StringComparison.Ordinal))
        {
            return false;
        }

        if (IsLockReference(invocation.Instance, guard, instance))
        {
            return true;
        }

        return invocation.Arguments.Any(argument => argument.Value.DescendantsAndSelf().Any(v => IsLockReference(v, guard, instance)));
    }

    private static bool IsLockReference(IOperation? operation, Guard guard, IOperation? instance) =>
        OperationFacts.Unwrap(operation) is IMemberReferenceOperation reference &&
        SymbolEqualityComparer.Default.Equals(reference.Member.OriginalDefinition, guard.LockMember.OriginalDefinition) &&
        (guard.LockMember.IsStatic || OperationFacts.SameInstance(reference.Instance, instance));
}
