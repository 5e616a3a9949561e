using System.Collections.Immutable;
using Locksmith.Generators.Diagnostics.Analyzers.Support;
using Locksmith.Generators.Symbols;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace Locksmith.Generators.Diagnostics.Analyzers;

/// <summary>
/// LSM0024: the C# <c>lock</c> statement on a Locksmith lock. It binds to <c>EnterScope</c> only for
/// <c>System.Threading.Lock</c>; on our locks it takes a <c>Monitor</c> the lock never sees (compare CS9216).
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class LockStatementAnalyzer : DiagnosticAnalyzer
{
    /// <inheritdoc/>
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } =
        ImmutableArray.Create(DiagnosticDescriptors.LockStatementOnLocksmithLock);

    /// <inheritdoc/>
    public override void Initialize(AnalysisContext context)
    {
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.EnableConcurrentExecution();
        LockFacts.RegisterWhereLocksExist(context, static (start, facts) =>
        {
            start.RegisterOperationAction(operation => Analyze(operation, facts), OperationKind.Lock);
        });
    }

    private static void Analyze(OperationAnalysisContext context, LockFacts facts)
    {
        var statement = (ILockOperation)context.Operation;
        var locked = OperationFacts.Unwrap(statement.LockedValue);
        var type = locked?.Type;
        if (locked is null || type is null)
        {
            return;
        }

        var capabilities = facts.CapabilitiesOf(type);
        if (!capabilities.IsLock() && !RuntimeSymbols.DerivesFromLockPrimitive(type))
        {
            return;
        }

        context.ReportDiagnostic(Diagnostic.Create(
            DiagnosticDescriptors.LockStatementOnLocksmithLock,
            locked.Syntax.GetLocation(),
            locked.Syntax.ToString(),
            type.Name,
            capabilities.SuggestedAcquire(),
            capabilities.SuggestedAwait()));
    }
}
