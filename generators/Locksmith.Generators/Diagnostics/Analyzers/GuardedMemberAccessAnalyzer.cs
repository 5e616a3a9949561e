using System.Collections.Immutable;
using Locksmith.Generators.Diagnostics.Analyzers.Support;
using Locksmith.Generators.Symbols;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace Locksmith.Generators.Diagnostics.Analyzers;

/// <summary>LSM0020: a <c>[Guarded]</c> field or property read or written by code that does not hold its lock.</summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class GuardedMemberAccessAnalyzer : DiagnosticAnalyzer
{
    /// <inheritdoc/>
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } =
        ImmutableArray.Create(DiagnosticDescriptors.GuardedMemberAccessedWithoutLock);

    /// <inheritdoc/>
    public override void Initialize(AnalysisContext context)
    {
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.EnableConcurrentExecution();
        LockFacts.RegisterWhereLocksExist(context, static (start, facts) =>
        {
            start.RegisterOperationAction(
                operation => Analyze(operation, facts),
                OperationKind.FieldReference,
                OperationKind.PropertyReference);
        });
    }

    private static void Analyze(OperationAnalysisContext context, LockFacts facts)
    {
        var access = (IMemberReferenceOperation)context.Operation;
        if (facts.GuardOf(access.Member) is not { } guard ||
            OperationFacts.IsInNameof(access) ||
            HeldLocks.IsHeld(access, guard, context.ContainingSymbol, facts, out var uncheckedTry))
        {
            return;
        }

        var (problem, fix) = uncheckedTry is null ? (string.Empty, string.Empty) : UncheckedTry(uncheckedTry);
        context.ReportDiagnostic(Diagnostic.Create(
            DiagnosticDescriptors.GuardedMemberAccessedWithoutLock,
            access.Syntax.GetLocation(),
            access.Member.Name,
            guard.LockMember.Name,
            OperationFacts.IsWrite(access) ? "written" : "read",
            guard.Capabilities.SuggestedAcquire(read: OnlyReads(access)),
            guard.Capabilities.SuggestedAwait(),
            problem,
            fix));
    }

    /// <summary>
    /// Whether the access only reads, so a read-write lock's read mode is enough: not written nor changed in place
    /// (<see cref="OperationFacts.IsWriteOrMutation"/>), and not the receiver of a method call, which may change it
    /// (<c>_items.Add(x)</c>).
    /// </summary>
    private static bool OnlyReads(IMemberReferenceOperation access) =>
        !OperationFacts.IsWriteOrMutation(access) &&
        !(access.Parent is IInvocationOperation call && call.Instance == access) &&
        !(access.Parent is IConversionOperation { IsImplicit: true, Parent: IInvocationOperation converted } && converted.Instance == access.Parent);

    /// <summary>What LSM0020 adds when the access is in the scope of a TryAcquire… whose success nothing checks there.</summary>
    private static (string Problem, string Fix) UncheckedTry(IInvocationOperation acquire)
    {
        string name = acquire.TargetMethod.Name;
        string problem = $" (the scope of '{name}' holds it only if the lock was taken, and this code also runs when it was not)";
        string call = acquire.Instance is { IsImplicit: false } receiver ? receiver.Syntax + "." + name : name;
        if (acquire.TargetMethod.ReturnType.SpecialType == SpecialType.System_Boolean)
        {
            return (problem, $"use it only where '{name}' returned true ('if ({call}(…, out var scope)) {{ using (scope) {{ … }} }}'), or ");
        }

        if (OperationFacts.LocalDeclaredBy(acquire) is { } local)
        {
            return (problem, $"check '{local.Name}.IsAcquired' first ('if (!{local.Name}.IsAcquired) return;'), or ");
        }

        string awaited = acquire.Parent is IAwaitOperation || acquire.Parent?.Parent is IAwaitOperation ? "await " : string.Empty;
        return (problem, $"keep the scope in a local and check it first ('using var scope = {awaited}{call}(…); if (!scope.IsAcquired) return;'), or ");
    }
}
