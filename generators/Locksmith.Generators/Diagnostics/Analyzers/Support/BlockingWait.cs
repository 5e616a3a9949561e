using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Operations;

namespace Locksmith.Generators.Diagnostics.Analyzers.Support;

/// <summary>
/// A synchronous, untimed wait for the task that runs a lambda or method group: <c>Task.Run(() =&gt; …).Wait()</c>, <c>.Result</c>,
/// <c>.GetAwaiter().GetResult()</c> (<c>ConfigureAwait</c> between), <c>Task.WaitAll(…)</c>, directly or through a
/// local the task is kept in (<c>var t = Task.Run(…); … t.Wait();</c>).
/// </summary>
internal sealed class BlockingWait
{
    private BlockingWait(IInvocationOperation started, IOperation wait)
    {
        Started = started;
        Wait = wait;
    }

    /// <summary>The call that takes the lambda and returns its task (<c>Task.Run</c>, <c>TaskFactory.StartNew</c>, …).</summary>
    public IInvocationOperation Started { get; }

    /// <summary>The operation that blocks until the task completes.</summary>
    public IOperation Wait { get; }

    /// <summary>The wait for the task that runs <paramref name="work"/> (a lambda or a method group), or null when nothing waits for it that way.</summary>
    public static BlockingWait? On(IOperation work)
    {
        IOperation current = work;
        while (current.Parent is IDelegateCreationOperation or IConversionOperation)
        {
            current = current.Parent;
        }

        if (current.Parent is not IArgumentOperation { Parent: IInvocationOperation started } || !IsTask(started.Type))
        {
            return null;
        }

        return WaitFor(started, depth: 0) is { } wait ? new BlockingWait(started, wait) : null;
    }

    // depth bounds a chain of locals the task is copied through (t = u; u = t; would loop).
    private static IOperation? WaitFor(IOperation task, int depth)
    {
        var current = task;
        while (current.Parent is IConversionOperation { IsImplicit: true } or IParenthesizedOperation)
        {
            current = current.Parent;
        }

        switch (current.Parent)
        {
            case IInvocationOperation call when call.Instance == current:
                return call.TargetMethod.Name switch
                {
                    "Wait" when call.Arguments.All(static a => a.Value.Type?.Name == "CancellationToken") => call,
                    "GetAwaiter" => GetResultOf(call),
                    "ConfigureAwait" when call.Parent is IInvocationOperation { TargetMethod.Name: "GetAwaiter" } awaiter && awaiter.Instance == call => GetResultOf(awaiter),
                    _ => null,
                };
            case IPropertyReferenceOperation { Property.Name: "Result" } result when result.Instance == current:
                return result;
            case IArrayInitializerOperation or ICollectionExpressionOperation:
                return WaitAll(current.Parent);
            case IVariableInitializerOperation { Parent: IVariableDeclaratorOperation declarator }:
                return depth < 4 ? WaitForLocal(declarator.Symbol, current, depth + 1) : null;
            case ISimpleAssignmentOperation { Target: ILocalReferenceOperation local } assignment when assignment.Value == current:
                return depth < 4 ? WaitForLocal(local.Local, current, depth + 1) : null;
            default:
                return null;
        }
    }

    private static IOperation? GetResultOf(IInvocationOperation awaiter) =>
        awaiter.Parent is IInvocationOperation { TargetMethod.Name: "GetResult" } result && result.Instance == awaiter ? result : null;

    // Task.WaitAll(params Task[]), (params ReadOnlySpan<Task>) and (Task[], CancellationToken); the timed overloads
    // (an int or TimeSpan) return in time.
    private static IOperation? WaitAll(IOperation elements)
    {
        var current = elements;
        while (current.Parent is IArrayInitializerOperation or IArrayCreationOperation or ICollectionExpressionOperation or IConversionOperation)
        {
            current = current.Parent;
        }

        return current.Parent is IArgumentOperation { Parent: IInvocationOperation { TargetMethod: { Name: "WaitAll", ContainingType: var type } method } call } &&
            IsTask(type) && !method.Parameters.Any(static p => p.Type.SpecialType == SpecialType.System_Int32 || p.Type.Name == "TimeSpan")
            ? call
            : null;
    }

    private static IOperation? WaitForLocal(ILocalSymbol local, IOperation from, int depth)
    {
        foreach (var reference in OperationFacts.Root(from).Descendants().OfType<ILocalReferenceOperation>())
        {
            if (SymbolEqualityComparer.Default.Equals(reference.Local, local) && !reference.IsDeclaration && WaitFor(reference, depth) is { } wait)
            {
                return wait;
            }
        }

        return null;
    }

    private static bool IsTask(ITypeSymbol? type) =>
        type is INamedTypeSymbol { Name: "Task" or "ValueTask" } named &&
        named.ContainingNamespace?.ToDisplayString() == "System.Threading.Tasks";
}
