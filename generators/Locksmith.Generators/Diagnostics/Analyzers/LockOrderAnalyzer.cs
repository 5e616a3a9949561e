using System.Collections.Immutable;
using System.Globalization;
using System.Linq;
using Locksmith.Generators.Diagnostics.Analyzers.Support;
using Locksmith.Generators.Symbols;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace Locksmith.Generators.Diagnostics.Analyzers;

/// <summary>
/// A guarded method that directly calls a generated wrapper: LSM0023 when the wrapper takes the caller's own
/// non-reentrant lock on the same object (a self-deadlock; call the body instead), LSM0022 when it takes a lock
/// whose <c>[LockOrder]</c> level is not above the caller's (the runtime would throw LockOrderViolationException).
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class LockOrderAnalyzer : DiagnosticAnalyzer
{
    /// <inheritdoc/>
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } =
        ImmutableArray.Create(DiagnosticDescriptors.LockOrderInversion, DiagnosticDescriptors.SelfDeadlock);

    /// <inheritdoc/>
    public override void Initialize(AnalysisContext context)
    {
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.EnableConcurrentExecution();
        context.RegisterCompilationStartAction(static start =>
        {
            if (start.Compilation.GetTypeByMetadataName(KnownNames.GuardedAttribute) is null)
            {
                return;
            }

            start.RegisterOperationAction(Analyze, OperationKind.Invocation);
        });
    }

    private static void Analyze(OperationAnalysisContext context)
    {
        if (context.ContainingSymbol is not IMethodSymbol caller)
        {
            return;
        }

        var invocation = (IInvocationOperation)context.Operation;
        var held = WrapperBodies.LocksOf(caller);
        if (held.Count == 0 || WrapperBodies.BodyOf(invocation.TargetMethod.OriginalDefinition) is not { } body)
        {
            return;
        }

        var taken = WrapperBodies.LocksOf(body);
        foreach (var use in taken)
        {
            bool sameObject = use.Member.IsStatic || invocation.Instance is null || OperationFacts.IsThis(invocation.Instance);
            bool reentrant = (use.Capabilities & (LockCapabilities.Reentrant | LockCapabilities.Keyed)) != 0;
            if (sameObject && !reentrant && held.Any(h => SymbolEqualityComparer.Default.Equals(h.Member.OriginalDefinition, use.Member.OriginalDefinition)))
            {
                context.ReportDiagnostic(Diagnostic.Create(
                    DiagnosticDescriptors.SelfDeadlock,
                    invocation.Syntax.GetLocation(),
                    SymbolNames.Display(caller),
                    use.Member.Name,
                    invocation.TargetMethod.Name,
                    body.Name));
                return;
            }
        }

        var highestHeld = held.Where(static h => h.Level.HasValue).OrderByDescending(static h => h.Level).FirstOrDefault();
        var lowestTaken = taken.Where(static t => t.Level.HasValue).OrderBy(static t => t.Level).FirstOrDefault();
        if (highestHeld is null || lowestTaken is null || lowestTaken.Level > highestHeld.Level)
        {
            return;
        }

        context.ReportDiagnostic(Diagnostic.Create(
            DiagnosticDescriptors.LockOrderInversion,
            invocation.Syntax.GetLocation(),
            SymbolNames.Display(caller),
            highestHeld.Member.Name,
            highestHeld.Level!.Value.ToString(CultureInfo.InvariantCulture),
            invocation.TargetMethod.Name,
            lowestTaken.Member.Name,
            lowestTaken.Level!.Value.ToString(CultureInfo.InvariantCulture)));
    }
}
