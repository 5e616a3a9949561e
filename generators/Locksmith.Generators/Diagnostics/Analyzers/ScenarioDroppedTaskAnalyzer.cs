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
/// <c>Action</c> overload. The task is dropped, so the scenario passes whatever the awaited work does. Overloads taking
/// <c>Func&lt;ValueTask&gt;</c> cannot fix it: every <c>async () =&gt; { … }</c> would be ambiguous (CS0121), and
/// <c>[OverloadResolutionPriority]</c> is honoured from C# 13 only.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class ScenarioDroppedTaskAnalyzer : DiagnosticAnalyzer
{
    /// <inheritdoc/>
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } =
        ImmutableArray.Create(DiagnosticDescriptors.ScenarioLambdaDropsTask);

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
            start.RegisterOperationAction(operation => Analyze(operation, scenario, action), OperationKind.Invocation);
        });
    }

    private static void Analyze(OperationAnalysisContext context, INamedTypeSymbol scenario, INamedTypeSymbol? action)
    {
        var invocation = (IInvocationOperation)context.Operation;
        if (!SymbolEqualityComparer.Default.Equals(invocation.TargetMethod.ContainingType, scenario))
        {
            return;
        }

        foreach (var argument in invocation.Arguments)
        {
            if (!SymbolEqualityComparer.Default.Equals(argument.Parameter?.Type, action)
                || argument.Value is not IDelegateCreationOperation { Target: IAnonymousFunctionOperation lambda }
                || lambda.Symbol.IsAsync
                || lambda.Syntax is not LambdaExpressionSyntax { ExpressionBody: { } body }
                || context.Operation.SemanticModel?.GetTypeInfo(body, context.CancellationToken).Type is not { } type
                || !IsAwaitable(type))
            {
                continue;
            }

            var method = invocation.TargetMethod.Name;
            var fix = method == "Thread"
                ? "an async body is a flow: call Scenario.Flow(name, async () => await …)"
                : "write 'async () => await …', which binds to an overload that awaits it";
            context.ReportDiagnostic(Diagnostic.Create(
                DiagnosticDescriptors.ScenarioLambdaDropsTask,
                body.GetLocation(),
                body.ToString(),
                type.ToDisplayString(SymbolDisplayFormat.MinimallyQualifiedFormat),
                method,
                fix));
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
