using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace Locksmith.Generators.Diagnostics.Analyzers;

/// <summary>
/// LSM0052: <c>scenario.Thread("x", () =&gt; FooAsync())</c> or <c>scenario.Finally(() =&gt; x.VerifyAsync())</c> with a
/// <c>ValueTask</c>: a lambda that is not async, whose expression body returns an awaitable, converted to the
/// <c>Action</c> overload; or such a lambda's block body calling an awaitable and moving on (<c>() =&gt; { FooAsync(); }</c>). The task is dropped, so the scenario passes whatever the awaited work does. Overloads taking
/// <c>Func&lt;ValueTask&gt;</c> cannot fix it: every <c>async () =&gt; { … }</c> would be ambiguous (CS0121), and
/// <c>[OverloadResolutionPriority]</c> is honoured from C# 13 only.
/// LSM0061: an async lambda or async method given to <c>Scenario.Thread</c>, which runs it as <c>async void</c> and so
/// refuses it at run time.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class ScenarioDroppedTaskAnalyzer : DiagnosticAnalyzer
{
    /// <inheritdoc/>
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } =
        ImmutableArray.Create(DiagnosticDescriptors.ScenarioLambdaDropsTask, DiagnosticDescriptors.ScenarioThreadBodyIsAsync);

    /// <inheritdoc/>
    public override void Initialize(AnalysisContext context)
    {
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.EnableConcurrentExecution();
        context.RegisterCompilationStartAction(static start =>
        {
            // Only compilations that reference Locksmith.Testing have anything to report.
            if (start.Compilation.GetTypeByMetadataName(KnownNames.Scenario) is not { } scenario)
            {
                return;
            }

            var action = start.Compilation.GetTypeByMetadataName("System.Action");
            var stateMachine = start.Compilation.GetTypeByMetadataName("System.Runtime.CompilerServices.AsyncStateMachineAttribute");
            start.RegisterOperationAction(operation => Analyze(operation, scenario, action, stateMachine), OperationKind.Invocation);
        });
    }

    private static void Analyze(OperationAnalysisContext context, INamedTypeSymbol scenario, INamedTypeSymbol? action, INamedTypeSymbol? stateMachine)
    {
        var invocation = (IInvocationOperation)context.Operation;
        if (!SymbolEqualityComparer.Default.Equals(invocation.TargetMethod.ContainingType, scenario))
        {
            return;
        }

        foreach (var argument in invocation.Arguments)
        {
            if (invocation.TargetMethod.Name == "Thread" && AsyncBody(argument, stateMachine) is { } asyncBody)
            {
                // LSM0061: Thread refuses it at run time; the name argument is quoted as written.
                var name = invocation.Arguments.FirstOrDefault(static a => a.Parameter?.Name == "name")?.Value.Syntax.ToString() ?? "name";
                context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.ScenarioThreadBodyIsAsync, asyncBody, name));
                continue;
            }

            if (!SymbolEqualityComparer.Default.Equals(argument.Parameter?.Type, action)
                || argument.Value is not IDelegateCreationOperation { Target: IAnonymousFunctionOperation lambda }
                || lambda.Symbol.IsAsync)
            {
                continue;
            }

            var method = invocation.TargetMethod.Name;
            if (lambda.Syntax is LambdaExpressionSyntax { ExpressionBody: { } body })
            {
                if (context.Operation.SemanticModel?.GetTypeInfo(body, context.CancellationToken).Type is { } type && IsAwaitable(type))
                {
                    Report(context, body, type, method);
                }

                continue;
            }

            // A block body drops a task in any statement that calls and moves on (`() => { Warm(); VerifyAsync(); }`); an
            // explicit discard (`_ = WorkAsync();`) is a choice, and a nested lambda is judged where it is converted.
            foreach (var dropped in DroppedAwaitables(lambda.Body))
            {
                Report(context, dropped.Syntax, dropped.Type!, method);
            }
        }
    }

    /// <summary>
    /// Where an async lambda (its <c>async</c> keyword) or an async method (its name) is given as the body, else null.
    /// </summary>
    private static Location? AsyncBody(IArgumentOperation argument, INamedTypeSymbol? stateMachine) => argument.Value switch
    {
        IDelegateCreationOperation { Target: IAnonymousFunctionOperation { Symbol.IsAsync: true } lambda } =>
            lambda.Syntax is AnonymousFunctionExpressionSyntax { AsyncKeyword.RawKind: not 0 } function ? function.AsyncKeyword.GetLocation() : lambda.Syntax.GetLocation(),
        IDelegateCreationOperation { Target: IMethodReferenceOperation reference } when IsAsync(reference.Method, stateMachine) => reference.Syntax.GetLocation(),
        _ => null,
    };

    /// <summary>
    /// Whether the method is async: declared <c>async</c>, or carrying <c>[AsyncStateMachine]</c>, which is what
    /// Scenario.Thread checks at run time and all a method read from another assembly keeps of it (its <c>IsAsync</c> is false).
    /// </summary>
    private static bool IsAsync(IMethodSymbol method, INamedTypeSymbol? stateMachine)
    {
        var definition = (method.ReducedFrom ?? method).OriginalDefinition;
        definition = definition.PartialImplementationPart ?? definition;
        return definition.IsAsync ||
            (stateMachine is not null && definition.GetAttributes().Any(attribute => SymbolEqualityComparer.Default.Equals(attribute.AttributeClass, stateMachine)));
    }

    private static void Report(OperationAnalysisContext context, SyntaxNode dropped, ITypeSymbol type, string method)
    {
        var fix = method == "Thread"
            ? "an async body is a flow: call Scenario.Flow(name, async () => await …)"
            : "write 'async () => await …', which binds to an overload that awaits it";
        context.ReportDiagnostic(Diagnostic.Create(
            DiagnosticDescriptors.ScenarioLambdaDropsTask,
            dropped.GetLocation(),
            dropped.ToString(),
            type.ToDisplayString(SymbolDisplayFormat.MinimallyQualifiedFormat),
            method,
            fix));
    }

    /// <summary>The expression statements of a block body (not of lambdas or local functions in it) whose value is awaitable.</summary>
    private static System.Collections.Generic.IEnumerable<IOperation> DroppedAwaitables(IOperation operation)
    {
        foreach (var child in operation.ChildOperations)
        {
            if (child is IAnonymousFunctionOperation or ILocalFunctionOperation)
            {
                continue;
            }

            if (child is IExpressionStatementOperation { Operation: { Type: { } type } expression }
                && expression is not ISimpleAssignmentOperation
                && IsAwaitable(type))
            {
                yield return expression;
                continue;
            }

            foreach (var nested in DroppedAwaitables(child))
            {
                yield return nested;
            }
        }
    }

    /// <summary>Has a parameterless instance <c>GetAwaiter()</c>, as <c>Task</c>, <c>ValueTask</c> and every custom awaitable do.</summary>
    private static bool IsAwaitable(ITypeSymbol type)
    {
        for (var current = type; current is not null; current = current.BaseType)
        {
            if (current.GetMembers("GetAwaiter").OfType<IMethodSymbol>().Any(static m => !m.IsStatic && m.Parameters.IsEmpty && !m.ReturnsVoid))
            {
                return true;
            }
        }

        return false;
    }
}
