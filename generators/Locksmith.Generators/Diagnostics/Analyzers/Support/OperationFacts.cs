using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Operations;

namespace Locksmith.Generators.Diagnostics.Analyzers.Support;

/// <summary>Small questions about operations the analyzers share.</summary>
internal static class OperationFacts
{
    /// <summary>Whether the reference is written: assigned, incremented, passed by ref or out, or deconstructed into.</summary>
    public static bool IsWrite(IOperation reference)
    {
        var parent = reference.Parent;
        return parent switch
        {
            IAssignmentOperation assignment => assignment.Target == reference,
            IIncrementOrDecrementOperation => true,
            IArgumentOperation argument => argument.Parameter?.RefKind is RefKind.Ref or RefKind.Out,
            ITupleOperation tuple => IsDeconstructedInto(tuple),
            _ => false,
        };
    }

    // A tuple that is the target of a deconstruction, or an element of one that is (((_a, _b), _c) = …), nested or not.
    private static bool IsDeconstructedInto(ITupleOperation tuple)
    {
        IOperation current = tuple;
        while (current.Parent is ITupleOperation outer)
        {
            current = outer;
        }

        return current.Parent is IDeconstructionAssignmentOperation deconstruction && deconstruction.Target == current;
    }

    /// <summary>
    /// Whether the reference is written or changed in place: <see cref="IsWrite"/>, or an element, indexer slot or
    /// field of a value it holds is written (<c>_prices[key] = p</c>, <c>_point.X = 1</c>).
    /// </summary>
    public static bool IsWriteOrMutation(IOperation reference)
    {
        if (IsWrite(reference))
        {
            return true;
        }

        return reference.Parent switch
        {
            IArrayElementReferenceOperation element when element.ArrayReference == reference => IsWrite(element),
            IPropertyReferenceOperation { Property.IsIndexer: true } indexer when indexer.Instance == reference => IsWrite(indexer),
            IMemberReferenceOperation member when member.Instance == reference && reference.Type?.IsValueType == true => IsWriteOrMutation(member),
            _ => false,
        };
    }

    /// <summary>Whether the operation is inside <c>nameof(...)</c>, which reads nothing.</summary>
    public static bool IsInNameof(IOperation operation)
    {
        for (var current = operation.Parent; current is not null; current = current.Parent)
        {
            if (current is INameOfOperation)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// The operation without implicit conversions and parentheses, and for the input of a property pattern
    /// (<c>a is { _balance: > 0 }</c>, whose member's receiver is only "the pattern's input"), the value matched.
    /// </summary>
    public static IOperation? Unwrap(IOperation? operation)
    {
        while (true)
        {
            if (operation is IConversionOperation { IsImplicit: true } conversion)
            {
                operation = conversion.Operand;
            }
            else if (operation is IParenthesizedOperation parenthesized)
            {
                operation = parenthesized.Operand;
            }
            else if (operation is IInstanceReferenceOperation { ReferenceKind: InstanceReferenceKind.PatternInput } input &&
                MatchedValue(input) is { } matched)
            {
                operation = matched;
            }
            else
            {
                return operation;
            }
        }
    }

    /// <summary>
    /// The value a property subpattern's receiver stands for: what the <c>is</c>, <c>switch</c> or enclosing property
    /// subpattern matches (<c>{ Owner: { _lock: … } }</c> gives the <c>Owner</c> reference); null for other patterns
    /// (list, positional), whose input is an element or a deconstructed part.
    /// </summary>
    private static IOperation? MatchedValue(IInstanceReferenceOperation input)
    {
        if (input.Parent is not IMemberReferenceOperation member || member.Instance != input ||
            member.Parent is not IPropertySubpatternOperation subpattern || subpattern.Member != member ||
            subpattern.Parent is not IRecursivePatternOperation pattern)
        {
            return null;
        }

        IOperation current = pattern;
        while (current.Parent is IBinaryPatternOperation or INegatedPatternOperation)
        {
            current = current.Parent;
        }

        return current.Parent switch
        {
            IIsPatternOperation isPattern when isPattern.Pattern == current => isPattern.Value,
            ISwitchExpressionArmOperation { Parent: ISwitchExpressionOperation switchExpression } arm when arm.Pattern == current => switchExpression.Value,
            IPatternCaseClauseOperation { Parent: ISwitchCaseOperation { Parent: ISwitchOperation switchStatement } } clause when clause.Pattern == current => switchStatement.Value,
            IPropertySubpatternOperation outer when outer.Pattern == current => outer.Member,
            _ => null,
        };
    }

    /// <summary>Whether two receivers denote the same object: both <c>this</c>, the same local or parameter, or the same field of the same object.</summary>
    public static bool SameInstance(IOperation? left, IOperation? right)
    {
        left = Unwrap(TestedValue(left));
        right = Unwrap(TestedValue(right));
        return (left, right) switch
        {
            (null, null) => true,
            (IArrayElementReferenceOperation a, IArrayElementReferenceOperation b) =>
                SameInstance(a.ArrayReference, b.ArrayReference) && SameIndices(a.Indices, b.Indices),
            (IInstanceReferenceOperation a, IInstanceReferenceOperation b) => a.ReferenceKind == b.ReferenceKind,
            (ILocalReferenceOperation a, IInstanceReferenceOperation { ReferenceKind: InstanceReferenceKind.ContainingTypeInstance }) => IsThisAlias(a.Local),
            (IInstanceReferenceOperation { ReferenceKind: InstanceReferenceKind.ContainingTypeInstance }, ILocalReferenceOperation b) => IsThisAlias(b.Local),
            (ILocalReferenceOperation a, ILocalReferenceOperation b) => SymbolEqualityComparer.Default.Equals(a.Local, b.Local),
            (IParameterReferenceOperation a, IParameterReferenceOperation b) => SymbolEqualityComparer.Default.Equals(a.Parameter, b.Parameter),
            (IMemberReferenceOperation a, IMemberReferenceOperation b) =>
                SymbolEqualityComparer.Default.Equals(a.Member.OriginalDefinition, b.Member.OriginalDefinition) &&
                (a.Member.IsStatic || SameInstance(a.Instance, b.Instance)) &&
                SameIndex(a, b),
            _ => false,
        };
    }

    /// <summary>The object a conditional access tests, for the receiver inside it (<c>other?.Deposit()</c>: <c>other</c>).</summary>
    private static IOperation? TestedValue(IOperation? operation)
    {
        if (Unwrap(operation) is not IConditionalAccessInstanceOperation instance)
        {
            return operation;
        }

        // The innermost conditional access whose WhenNotNull part holds it (a?.b?.c: each '?.' has its own).
        IOperation child = instance;
        for (var parent = instance.Parent; parent is not null; child = parent, parent = parent.Parent)
        {
            if (parent is IConditionalAccessOperation access && access.WhenNotNull == child)
            {
                return access.Operation;
            }
        }

        return operation;
    }

    // An array element's indices, as an indexer's arguments are compared (SameIndex).
    private static bool SameIndices(System.Collections.Immutable.ImmutableArray<IOperation> a, System.Collections.Immutable.ImmutableArray<IOperation> b)
    {
        if (a.Length != b.Length)
        {
            return false;
        }

        for (int i = 0; i < a.Length; i++)
        {
            bool same = a[i].ConstantValue.HasValue
                ? b[i].ConstantValue.HasValue && Equals(a[i].ConstantValue.Value, b[i].ConstantValue.Value)
                : !b[i].ConstantValue.HasValue && SameInstance(a[i], b[i]);
            if (!same)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// Whether two references of one member use the same index: none (a field or plain property), or an indexer's
    /// arguments that are the same constants or denote the same values (<c>all[0]</c> and <c>all[0]</c>, not <c>all[1]</c>).
    /// </summary>
    private static bool SameIndex(IMemberReferenceOperation left, IMemberReferenceOperation right)
    {
        if (left is not IPropertyReferenceOperation { Arguments.Length: > 0 } a || right is not IPropertyReferenceOperation b)
        {
            return true;
        }

        if (a.Arguments.Length != b.Arguments.Length)
        {
            return false;
        }

        for (int i = 0; i < a.Arguments.Length; i++)
        {
            var x = a.Arguments[i].Value;
            var y = b.Arguments[i].Value;
            bool same = x.ConstantValue.HasValue
                ? y.ConstantValue.HasValue && Equals(x.ConstantValue.Value, y.ConstantValue.Value)
                : !y.ConstantValue.HasValue && SameInstance(x, y);
            if (!same)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Whether the receiver is <c>this</c> (explicit or implicit), or a local alias of it (<see cref="IsThisAlias"/>).</summary>
    public static bool IsThis(IOperation? instance) =>
        Unwrap(instance) switch
        {
            IInstanceReferenceOperation { ReferenceKind: InstanceReferenceKind.ContainingTypeInstance } => true,
            ILocalReferenceOperation local => IsThisAlias(local.Local),
            _ => false,
        };

    /// <summary>
    /// Whether a local is <c>this</c> under another name: declared with <c>this</c> as its initializer (<c>var self =
    /// this;</c>) in a class, so it is the same object rather than a copy, and never written again anywhere in the
    /// member (no assignment, deconstruction, <c>ref</c>/<c>out</c> or <c>ref</c> alias of it, counted by name, so a
    /// write to any variable of that name rules it out). Only such a local is looked at further, so this stays cheap.
    /// </summary>
    private static bool IsThisAlias(ILocalSymbol local)
    {
        if (local.RefKind != RefKind.None || local.IsConst || local.Type is not { IsReferenceType: true } ||
            local.DeclaringSyntaxReferences.Length != 1 ||
            local.DeclaringSyntaxReferences[0].GetSyntax() is not VariableDeclaratorSyntax { Initializer.Value: var value } declarator ||
            Strip(value) is not ThisExpressionSyntax ||
            declarator.FirstAncestorOrSelf<MemberDeclarationSyntax>() is not { } member)
        {
            return false;
        }

        foreach (var name in member.DescendantNodes().OfType<IdentifierNameSyntax>())
        {
            if (name.Identifier.ValueText == local.Name && IsWritten(name))
            {
                return false;
            }
        }

        return true;

        static ExpressionSyntax Strip(ExpressionSyntax expression) =>
            expression is ParenthesizedExpressionSyntax parenthesized ? Strip(parenthesized.Expression) : expression;
    }

    // A write to the name: assigned (alone or in a deconstruction), incremented, passed by ref or out, or made a ref.
    private static bool IsWritten(IdentifierNameSyntax name)
    {
        SyntaxNode node = name;
        while (node.Parent is ParenthesizedExpressionSyntax)
        {
            node = node.Parent;
        }

        switch (node.Parent)
        {
            case AssignmentExpressionSyntax assignment when assignment.Left == node:
            case PrefixUnaryExpressionSyntax or PostfixUnaryExpressionSyntax:
            case RefExpressionSyntax:
            case ArgumentSyntax { RefKindKeyword.RawKind: not 0 } argument when !argument.RefKindKeyword.IsKind(SyntaxKind.InKeyword):
                return true;
            case ArgumentSyntax { Parent: TupleExpressionSyntax }:
                // (self, x) = …: the tuple is somewhere on the left of an assignment.
                return node.Ancestors().OfType<AssignmentExpressionSyntax>().Any(a => a.Left.Span.Contains(node.Span));
            default:
                return false;
        }
    }

    /// <summary>Whether the receiver is the object an object or <c>with</c> initializer is building, not yet shared.</summary>
    public static bool IsObjectUnderConstruction(IOperation? instance) =>
        Unwrap(instance) is IInstanceReferenceOperation { ReferenceKind: InstanceReferenceKind.ImplicitReceiver };

    /// <summary>The local whose initializer <paramref name="operation"/> is in (<c>using var scope = await x.TryAcquireAsync(…)</c>), or null.</summary>
    public static ILocalSymbol? LocalDeclaredBy(IOperation operation)
    {
        for (var current = operation.Parent; current is not null and not IBlockOperation; current = current.Parent)
        {
            if (current is IVariableDeclaratorOperation declarator)
            {
                return declarator.Symbol;
            }
        }

        return null;
    }

    /// <summary>The lambda, anonymous method or local function around <paramref name="operation"/>, or null in the member's own body.</summary>
    public static IOperation? EnclosingFunction(IOperation operation)
    {
        for (var parent = operation.Parent; parent is not null; parent = parent.Parent)
        {
            if (parent is IAnonymousFunctionOperation or ILocalFunctionOperation)
            {
                return parent;
            }
        }

        return null;
    }

    /// <summary>
    /// The references to <paramref name="local"/> (not its declaration) in the body <paramref name="declaration"/> is in,
    /// each with whether it is in the same function as the declaration (not in a lambda or local function of its own).
    /// </summary>
    public static IEnumerable<(ILocalReferenceOperation Reference, bool InItsFunction)> ReferencesOf(ILocalSymbol local, IOperation declaration)
    {
        var home = EnclosingFunction(declaration);
        foreach (var operation in Root(declaration).Descendants())
        {
            if (operation is ILocalReferenceOperation { IsDeclaration: false } reference &&
                SymbolEqualityComparer.Default.Equals(reference.Local, local))
            {
                yield return (reference, EnclosingFunction(reference) == home);
            }
        }
    }

    /// <summary><paramref name="operation"/> with the parentheses and conversions around it.</summary>
    public static IOperation Outer(IOperation operation)
    {
        while (operation.Parent is IParenthesizedOperation or IConversionOperation)
        {
            operation = operation.Parent;
        }

        return operation;
    }

    /// <summary>The outermost operation above <paramref name="operation"/>: the body being analyzed.</summary>
    public static IOperation Root(IOperation operation)
    {
        var current = operation;
        while (current.Parent is not null)
        {
            current = current.Parent;
        }

        return current;
    }

    /// <summary>Whether a <c>using</c> of <c>ExecutionContext.SuppressFlow()</c> encloses <paramref name="function"/> (its body, or a declaration before it).</summary>
    public static bool FlowSuppressedAround(IOperation function)
    {
        IOperation child = function;
        for (var parent = function.Parent; parent is not null; child = parent, parent = parent.Parent)
        {
            if ((parent is IUsingOperation usingStatement && child == usingStatement.Body && SuppressesFlow(usingStatement.Resources)) ||
                (parent is IBlockOperation block && block.Operations.TakeWhile(statement => statement != child)
                    .Any(static statement => statement is IUsingDeclarationOperation declaration && SuppressesFlow(declaration.DeclarationGroup))))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Whether the task a call returns is awaited where the call is made (<c>await r.DisposeAsync()</c>, through parentheses
    /// and <c>.ConfigureAwait(…)</c>), so the code after it runs only once the task is done.
    /// </summary>
    public static bool IsAwaited(IOperation call)
    {
        IOperation value = call;
        while (value.Parent is IConversionOperation or IParenthesizedOperation ||
               (value.Parent is IInvocationOperation { TargetMethod.Name: "ConfigureAwait" } configured && configured.Instance == value))
        {
            value = value.Parent;
        }

        return value.Parent is IAwaitOperation;
    }

    /// <summary>
    /// Whether every loop around <paramref name="made"/> (up to the lambda or local function it is in) is around
    /// <paramref name="later"/> too: if not, each pass makes another object where <paramref name="later"/> sees only the last
    /// (<c>for (…) { r = ct.Register(…); } r.Dispose();</c>). A loop that ends the pass before's object at the top of each
    /// pass, before the place is written again (<paramref name="ends"/> before any <paramref name="writes"/> in its body, in
    /// text order: <c>r.Dispose(); r = ct.Register(…);</c>), leaves only the last pass's to <paramref name="later"/>, so counts.
    /// </summary>
    public static bool LoopsAroundAreAround(IOperation made, IOperation later, Func<IOperation, bool> ends, Func<IOperation, bool> writes)
    {
        for (var parent = made.Parent; parent is not null and not (IAnonymousFunctionOperation or ILocalFunctionOperation); parent = parent.Parent)
        {
            if (parent is ILoopOperation loop && !loop.Syntax.Span.Contains(later.Syntax.Span) && !EndsThePassBefore(loop, ends, writes))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// Whether <paramref name="first"/> and <paramref name="second"/> are in the two branches of one <c>if</c> (or
    /// conditional expression), so that a run passes only one of them: a write in the other branch replaces nothing the
    /// first made (<c>if (c) r = ct.Register(A); else r = ct.Register(B); r.Dispose();</c>). A loop around both is the
    /// caller's to judge.
    /// </summary>
    public static bool InExclusiveBranches(IOperation first, IOperation second)
    {
        for (var parent = first.Parent; parent is not null; parent = parent.Parent)
        {
            if (parent is IConditionalOperation conditional && conditional.Syntax.Span.Contains(second.Syntax.Span))
            {
                return conditional.WhenFalse is { } whenFalse &&
                    ((conditional.WhenTrue.Syntax.Span.Contains(first.Syntax.Span) && whenFalse.Syntax.Span.Contains(second.Syntax.Span)) ||
                     (whenFalse.Syntax.Span.Contains(first.Syntax.Span) && conditional.WhenTrue.Syntax.Span.Contains(second.Syntax.Span)));
            }
        }

        return false;
    }

    private static bool EndsThePassBefore(ILoopOperation loop, Func<IOperation, bool> ends, Func<IOperation, bool> writes)
    {
        int firstEnd = int.MaxValue;
        int firstWrite = int.MaxValue;
        foreach (var operation in loop.Body.DescendantsAndSelf())
        {
            if (writes(operation))
            {
                firstWrite = Math.Min(firstWrite, operation.Syntax.SpanStart);
            }
            else if (ends(operation))
            {
                firstEnd = Math.Min(firstEnd, operation.Syntax.SpanStart);
            }
        }

        return firstEnd < firstWrite;
    }

    private static bool SuppressesFlow(IOperation resource) =>
        resource.DescendantsAndSelf().Any(static o =>
            o is IInvocationOperation { TargetMethod: { Name: "SuppressFlow", ContainingType: { Name: "ExecutionContext" } type } } &&
            type.ContainingNamespace?.ToDisplayString() == "System.Threading");
}
