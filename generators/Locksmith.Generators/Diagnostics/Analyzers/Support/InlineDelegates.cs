using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Operations;

namespace Locksmith.Generators.Diagnostics.Analyzers.Support;

/// <summary>How a lambda or method group passed as a delegate runs, as far as the holds around it are concerned.</summary>
internal enum DelegateRun
{
    /// <summary>Anywhere, any time (<c>Task.Run</c>, a stored delegate): the thread's holds are not its own.</summary>
    Elsewhere,

    /// <summary>Inline: on the calling thread and flow, before the call that takes it returns, so under the caller's holds.</summary>
    Inline,

    /// <summary>Its deferred query is returned (<c>return xs.Select(x =&gt; Price(x));</c>): it runs where the caller enumerates it, after the hold.</summary>
    Returned,
}

/// <summary>
/// The known set of methods that run a delegate argument inline, synchronously, before they return (LSM0023, LSM0022):
/// every method of <c>List&lt;T&gt;</c> and <c>Array</c> that takes one (<c>ForEach</c>, <c>Sort</c> with a
/// <c>Comparison</c>, <c>Find…</c>, <c>Exists</c>, <c>TrueForAll</c>, <c>RemoveAll</c>, <c>ConvertAll</c>),
/// <c>Parallel.For</c>, <c>ForEach</c> and <c>Invoke</c> (on pool threads too, but all before they return), and the
/// immediate operators of <c>System.Linq.Enumerable</c> (those that return anything but a sequence: <c>Sum</c>,
/// <c>Count</c>, <c>Any</c>, <c>First</c>, <c>Aggregate</c>, <c>ToList</c>, <c>ToDictionary</c>, <c>ToLookup</c>, …). A
/// deferred operator (one returning <c>IEnumerable&lt;T&gt;</c> or <c>IOrderedEnumerable&lt;T&gt;</c>: <c>Select</c>,
/// <c>Where</c>, <c>OrderBy</c>, …) runs its delegate where its query is enumerated: inline when that query (through
/// further deferred operators, query syntax alike) is the source of an immediate operator, the collection of a
/// <c>foreach</c>, an argument of a <c>List&lt;T&gt;</c> constructor or method, the sequence of <c>string.Join</c> or
/// <c>string.Concat</c>, or a spread of a collection expression (<c>[.. query]</c>), in the same expression; when the
/// query is returned it is <see cref="DelegateRun.Returned"/> (enumerated after the hold); otherwise (kept in a local,
/// passed to another method: <c>Task.WhenAll(xs.Select(…))</c>) it is not known to run inline and counts as any other
/// lambda (<see cref="DelegateRun.Elsewhere"/>).
/// </summary>
/// <remarks>Purely syntactic, like the rest of the hold checks: it never follows a call or a local.</remarks>
internal static class InlineDelegates
{
    /// <summary>How <paramref name="function"/> (a lambda, or a method reference) runs; for an inline one, <paramref name="runner"/> names what runs it ('List.ForEach', 'Enumerable.Select, enumerated by foreach').</summary>
    public static DelegateRun RunOf(IOperation function, out string? runner)
    {
        runner = null;
        IOperation node = function;
        while (node.Parent is IDelegateCreationOperation or IConversionOperation or IParenthesizedOperation)
        {
            node = node.Parent;
        }

        // Parallel.Invoke takes its actions as a params array.
        if (node.Parent is IArrayInitializerOperation { Parent: IArrayCreationOperation { IsImplicit: true } array })
        {
            node = array;
        }

        if (node.Parent is not IArgumentOperation { Parent: IInvocationOperation call })
        {
            return DelegateRun.Elsewhere;
        }

        var method = call.TargetMethod;
        string name = method.ContainingType.Name + "." + method.Name;
        if (IsType(method.ContainingType, KnownNames.ListType) || IsType(method.ContainingType, KnownNames.ArrayType) ||
            IsParallelLoop(method))
        {
            runner = name;
            return DelegateRun.Inline;
        }

        if (!IsType(method.ContainingType, KnownNames.EnumerableType))
        {
            return DelegateRun.Elsewhere;
        }

        if (!IsDeferred(method))
        {
            runner = name;
            return DelegateRun.Inline;
        }

        var run = ConsumerOf(call, out var enumerator);
        runner = run == DelegateRun.Inline ? name + ", enumerated by " + enumerator : null;
        return run;
    }

    /// <summary>
    /// Whether <paramref name="operation"/> runs as part of its body's own run, before it returns: in its own code or a
    /// lambda run inline there (<see cref="RunOf"/>), not in a local function nor a lambda that may run elsewhere.
    /// </summary>
    public static bool RunsWithItsBody(IOperation operation)
    {
        for (var parent = operation.Parent; parent is not null; parent = parent.Parent)
        {
            if (parent is ILocalFunctionOperation ||
                (parent is IAnonymousFunctionOperation function && RunOf(function, out _) != DelegateRun.Inline))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// Where a lambda or method group kept in a local runs, when that is known: at the local's direct invocations
    /// (<c>later()</c>, <c>later.Invoke()</c>, awaited or not), inline, on the invoker's thread and flow, if they are its
    /// only uses (empty: never run). Default when it is not a local's value, or the local is used otherwise (passed on,
    /// returned, captured as a value, by ref), so it may run anywhere. A field of this object is answered the same way
    /// when all its uses can be read (<see cref="InvocationsOfField"/>); its invocations may be in other members.
    /// </summary>
    /// <remarks>Another value assigned to the local is that value's question; a stored delegate is not started work, so the flow it was made on is no hold of its own.</remarks>
    public static ImmutableArray<IInvocationOperation> InvocationsOfLocal(IOperation function)
    {
        IOperation node = function;
        while (node.Parent is IDelegateCreationOperation or IConversionOperation or IParenthesizedOperation)
        {
            node = node.Parent;
        }

        if (FieldKeeping(node) is { } field)
        {
            return InvocationsOfField(function, field);
        }

        ILocalSymbol? local = node.Parent switch
        {
            IVariableInitializerOperation { Parent: IVariableDeclaratorOperation declarator } => declarator.Symbol,
            ISimpleAssignmentOperation { Target: ILocalReferenceOperation target } assignment when assignment.Value == node => target.Local,
            _ => null,
        };
        if (local is null || local.RefKind != RefKind.None)
        {
            return default;
        }

        var sites = ImmutableArray.CreateBuilder<IInvocationOperation>();
        foreach (var reference in OperationFacts.Root(function).Descendants().OfType<ILocalReferenceOperation>())
        {
            if (!SymbolEqualityComparer.Default.Equals(reference.Local, local) ||
                (reference.Parent is ISimpleAssignmentOperation assigned && assigned.Target == reference))
            {
                continue;
            }

            if (reference.Parent is IInvocationOperation { TargetMethod.MethodKind: MethodKind.DelegateInvoke } call && call.Instance == reference)
            {
                sites.Add(call);
                continue;
            }

            return default;
        }

        return sites.ToImmutable();
    }

    /// <summary>The local or field a delegate is kept in (<see cref="InvocationsOfLocal"/>), or null.</summary>
    public static ISymbol? KeptIn(IOperation function)
    {
        IOperation node = function;
        while (node.Parent is IDelegateCreationOperation or IConversionOperation or IParenthesizedOperation)
        {
            node = node.Parent;
        }

        return (ISymbol?)FieldKeeping(node) ?? node.Parent switch
        {
            IVariableInitializerOperation { Parent: IVariableDeclaratorOperation declarator } => declarator.Symbol,
            ISimpleAssignmentOperation { Target: ILocalReferenceOperation target } assignment when assignment.Value == node => target.Local,
            _ => null,
        };
    }

    /// <summary>The field of this object a delegate is stored in by a statement of its own (<c>_kept = () =&gt; …;</c>, <c>this._kept = …;</c>), or null.</summary>
    private static IFieldSymbol? FieldKeeping(IOperation node) =>
        node.Parent is ISimpleAssignmentOperation { Target: IFieldReferenceOperation target, Parent: IExpressionStatementOperation } assignment &&
        assignment.Value == node && OperationFacts.IsThis(target.Instance)
            ? target.Field
            : null;

    /// <summary>
    /// Where a delegate kept in a field of this object runs, when every use of the field is known: a private instance
    /// field of the type, only assigned by statements and invoked directly (<c>_kept()</c>, <c>_kept.Invoke()</c>,
    /// <c>_kept?.Invoke()</c>), each through <c>this</c>, so that the object invoking it is the one that made it. Nothing
    /// outside the type can reach it, and its parts in this file are read here; a part in another file that names it is
    /// not, and gives default (as a field read any other way does), so the delegate counts as any lambda.
    /// </summary>
    /// <remarks>As everywhere in these checks, calls are not followed: a member that invokes it is not looked at from its callers.</remarks>
    private static ImmutableArray<IInvocationOperation> InvocationsOfField(IOperation function, IFieldSymbol field)
    {
        if (field.IsStatic || field.DeclaredAccessibility != Accessibility.Private || field.RefKind != RefKind.None ||
            function.SemanticModel is not { } model)
        {
            return default;
        }

        var sites = ImmutableArray.CreateBuilder<IInvocationOperation>();
        foreach (var reference in field.ContainingType.OriginalDefinition.DeclaringSyntaxReferences)
        {
            bool here = reference.SyntaxTree == model.SyntaxTree;
            foreach (var name in reference.GetSyntax().DescendantNodes().OfType<IdentifierNameSyntax>())
            {
                if (name.Identifier.ValueText != field.Name)
                {
                    continue;
                }

                if (!here)
                {
                    return default;
                }

                var info = model.GetSymbolInfo(name);
                if (!IsField(info.Symbol, field))
                {
                    // A name that may bind to the field but did not resolve (an error) is not known to be no use of it.
                    if (info.CandidateSymbols.Any(c => IsField(c, field)))
                    {
                        return default;
                    }

                    continue;
                }

                SyntaxNode expression = name.Parent is MemberAccessExpressionSyntax access && access.Name == name ? access : name;
                var use = model.GetOperation(expression) as IFieldReferenceOperation;
                switch (use)
                {
                    case null:
                        return default;
                    case { Parent: ISimpleAssignmentOperation { Parent: IExpressionStatementOperation } assignment } when assignment.Target == use && OperationFacts.IsThis(use.Instance):
                        continue;
                    case { Parent: IInvocationOperation { TargetMethod.MethodKind: MethodKind.DelegateInvoke } call } when call.Instance == use && OperationFacts.IsThis(use.Instance):
                        sites.Add(call);
                        continue;
                    case { Parent: IConditionalAccessOperation { WhenNotNull: IInvocationOperation { TargetMethod.MethodKind: MethodKind.DelegateInvoke, Instance: IConditionalAccessInstanceOperation } call } conditional }
                        when conditional.Operation == use && OperationFacts.IsThis(use.Instance):
                        sites.Add(call);
                        continue;
                    case var _ when OperationFacts.IsInNameof(use):
                        continue;
                    default:
                        return default;
                }
            }
        }

        return sites.ToImmutable();
    }

    private static bool IsField(ISymbol? symbol, IFieldSymbol field) =>
        symbol is IFieldSymbol candidate && SymbolEqualityComparer.Default.Equals(candidate.OriginalDefinition, field.OriginalDefinition);

    /// <summary>
    /// The local a deferred query that reads <paramref name="access"/> when it is enumerated is kept in, or null: the
    /// access is an argument of a deferred <c>Enumerable</c> operator (its source, <c>_items.Where(…)</c>, query syntax
    /// alike), or in a lambda given to one (<c>xs.Select(i =&gt; _limit + i)</c>), and that query, through further
    /// deferred operators, is the value of a local's declaration or of an assignment statement to a local.
    /// </summary>
    public static ILocalSymbol? LocalKeepingQueryOf(IOperation access)
    {
        IOperation node = access;
        for (var parent = access.Parent; parent is not null; parent = parent.Parent)
        {
            if (parent is ILocalFunctionOperation)
            {
                return null;
            }

            // Only the innermost lambda: the query is the operator it is given to.
            if (parent is IAnonymousFunctionOperation)
            {
                node = parent;
                while (node.Parent is IDelegateCreationOperation or IConversionOperation or IParenthesizedOperation)
                {
                    node = node.Parent;
                }

                break;
            }
        }

        // The Keys or Values of a System.Collections.Generic dictionary are live views of it, not copies: a query over
        // them reads the dictionary where it is enumerated.
        if (node == access && access.Parent is IPropertyReferenceOperation { Property.Name: "Keys" or "Values" } view && view.Instance == access &&
            view.Property.ContainingType?.ContainingNamespace?.ToDisplayString() == "System.Collections.Generic")
        {
            node = view;
        }

        bool inQuery = false;
        while (true)
        {
            while (node.Parent is IConversionOperation or IParenthesizedOperation or ITranslatedQueryOperation)
            {
                node = node.Parent;
            }

            if (node.Parent is IArgumentOperation { Parent: IInvocationOperation call } &&
                IsType(call.TargetMethod.ContainingType, KnownNames.EnumerableType) && IsDeferred(call.TargetMethod))
            {
                node = call;
                inQuery = true;
                continue;
            }

            break;
        }

        return !inQuery ? null : node.Parent switch
        {
            IVariableInitializerOperation { Parent: IVariableDeclaratorOperation declarator } => declarator.Symbol,
            ISimpleAssignmentOperation { Target: ILocalReferenceOperation target, Parent: IExpressionStatementOperation } assignment when assignment.Value == node => target.Local,
            _ => null,
        };
    }

    /// <summary>
    /// Where the deferred query <paramref name="query"/> makes goes, in the same expression: enumerated inline (by
    /// <paramref name="enumerator"/>: 'Enumerable.ToList', 'foreach'), returned, or elsewhere.
    /// </summary>
    private static DelegateRun ConsumerOf(IOperation query, out string? enumerator)
    {
        enumerator = null;
        IOperation node = query;
        while (true)
        {
            while (node.Parent is IConversionOperation or IParenthesizedOperation or ITranslatedQueryOperation)
            {
                node = node.Parent;
            }

            switch (node.Parent)
            {
                case IForEachLoopOperation loop when loop.Collection == node:
                    enumerator = "foreach";
                    return DelegateRun.Inline;
                case IReturnOperation { Kind: OperationKind.Return }:
                    return DelegateRun.Returned;
                case IArgumentOperation { Parent: IObjectCreationOperation creation } when creation.Type is INamedTypeSymbol created && IsType(created, KnownNames.ListType):
                    enumerator = created.Name + " constructor";
                    return DelegateRun.Inline;
                case ISpreadOperation { Parent: ICollectionExpressionOperation }:
                    // A collection expression builds its collection before it is assigned.
                    enumerator = "a collection expression's spread";
                    return DelegateRun.Inline;
                case IArgumentOperation { ArgumentKind: ArgumentKind.Explicit, Parameter.Type: INamedTypeSymbol sequence, Parent: IInvocationOperation joined }
                    when joined.TargetMethod.ContainingType.SpecialType == SpecialType.System_String && joined.TargetMethod.Name is "Join" or "Concat" &&
                        sequence.OriginalDefinition.SpecialType == SpecialType.System_Collections_Generic_IEnumerable_T:
                    // The sequence overloads enumerate it; the params object[] ones only format the query object.
                    enumerator = "String." + joined.TargetMethod.Name;
                    return DelegateRun.Inline;
                case IArgumentOperation { Parent: IInvocationOperation next }:
                    var method = next.TargetMethod;
                    bool list = IsType(method.ContainingType, KnownNames.ListType);
                    if (!list && !IsType(method.ContainingType, KnownNames.EnumerableType))
                    {
                        return DelegateRun.Elsewhere;
                    }

                    if (list || !IsDeferred(method))
                    {
                        enumerator = method.ContainingType.Name + "." + method.Name;
                        return DelegateRun.Inline;
                    }

                    node = next;
                    break;
                default:
                    return DelegateRun.Elsewhere;
            }
        }
    }

    /// <summary>
    /// The <c>Parallel.For</c>, <c>ForEach</c>, <c>ForAsync</c>, <c>ForEachAsync</c> or <c>Invoke</c> call that takes
    /// <paramref name="function"/> (a lambda or anonymous method) as the delegate it runs on several threads at once, or null.
    /// </summary>
    public static IInvocationOperation? ParallelCallOf(IOperation function)
    {
        IOperation node = function;
        while (node.Parent is IDelegateCreationOperation or IConversionOperation or IParenthesizedOperation)
        {
            node = node.Parent;
        }

        if (node.Parent is IArrayInitializerOperation { Parent: IArrayCreationOperation { IsImplicit: true } array })
        {
            node = array;
        }

        return node.Parent is IArgumentOperation { Parent: IInvocationOperation call } &&
            IsType(call.TargetMethod.ContainingType, KnownNames.ParallelType) && call.TargetMethod.Name is "For" or "ForEach" or "ForAsync" or "ForEachAsync" or "Invoke"
            ? call
            : null;
    }

    /// <summary>
    /// <c>Parallel.For</c>, <c>ForEach</c> or <c>Invoke</c>: they run the delegate on this thread and on pool threads,
    /// all before they return, so under the caller's holds. Not <c>ForAsync</c> nor <c>ForEachAsync</c>, whose task may outlive the hold.
    /// </summary>
    public static bool IsParallelLoop(IMethodSymbol method) =>
        IsType(method.ContainingType, KnownNames.ParallelType) && method.Name is "For" or "ForEach" or "Invoke";

    // A deferred operator returns a lazy sequence; every other Enumerable method enumerates its sources before it returns.
    private static bool IsDeferred(IMethodSymbol method) =>
        method.ReturnType is INamedTypeSymbol returned &&
        (IsType(returned, KnownNames.EnumerableInterface) || IsType(returned, KnownNames.OrderedEnumerableInterface));

    /// <summary>Whether <paramref name="type"/> (its definition, for a generic one) is the top-level type of that metadata name.</summary>
    internal static bool IsType(INamedTypeSymbol type, string metadataName)
    {
        var definition = type.OriginalDefinition;
        return definition.ContainingType is null && definition.ContainingNamespace is { } ns &&
            metadataName.Length == ns.ToDisplayString().Length + 1 + definition.MetadataName.Length &&
            metadataName.EndsWith("." + definition.MetadataName, System.StringComparison.Ordinal) &&
            metadataName.StartsWith(ns.ToDisplayString(), System.StringComparison.Ordinal);
    }
}
