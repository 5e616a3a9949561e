using System.Collections.Immutable;
using System.Linq;
using Locksmith.Generators.Diagnostics.Analyzers.Support;
using Locksmith.Generators.Symbols;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace Locksmith.Generators.Diagnostics.Analyzers;

/// <summary>
/// LSM0056: guarded state written (as LSM0021 counts writes, or changed by a call such as <c>_items.Add(i)</c> on a
/// System.Collections.Generic collection) in a lambda or anonymous method given to
/// <c>Parallel.For</c>, <c>ForEach</c>, <c>ForAsync</c>, <c>ForEachAsync</c> or <c>Invoke</c>, where the lock is held around the loop (a
/// scope, a guarded method): LSM0020 counts the body as holding it, but its runs race each other. A body given by name
/// is read as that lambda: a local function (given to the loop, or called from a body of it), or a method of this type
/// on <c>this</c>, whose one body is read from the method group (reported there). A body that takes the
/// lock itself, a write through <c>Interlocked</c> or <c>Volatile</c>, and a constructor's loop (which holds no lock: a
/// write in its bodies is LSM0020's, <see cref="ParallelBodies.RacingInConstruction"/>) are not reported.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class ParallelBodyWriteAnalyzer : DiagnosticAnalyzer
{
    /// <inheritdoc/>
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } =
        ImmutableArray.Create(DiagnosticDescriptors.GuardedStateWrittenInAParallelBody);

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
            start.RegisterOperationAction(operation => AnalyzeMethodGroup(operation, facts), OperationKind.MethodReference);
        });
    }

    private static void Analyze(OperationAnalysisContext context, LockFacts facts)
    {
        var access = (IMemberReferenceOperation)context.Operation;
        if (facts.GuardOf(access.Member) is not { } guard ||
            ParallelBodies.WriteOf(access) is not { } written ||
            ParallelBodies.IsAtomic(access) ||
            RacingLoop(access, access, guard, context.ContainingSymbol, facts, depth: 0) is not { } loop)
        {
            return;
        }

        Report(context, access.Syntax.GetLocation(), access.Member.Name, loop, guard, written);
    }

    /// <summary>
    /// A method of this type given by name as the body (<c>Parallel.For(0, n, BumpCore)</c>): its body runs as a
    /// lambda's there would, so the first guarded member of this object it writes where it does not take the lock itself
    /// is reported, at the method group. Only a method declared in this file is read (one body; no search).
    /// </summary>
    private static void AnalyzeMethodGroup(OperationAnalysisContext context, LockFacts facts)
    {
        var reference = (IMethodReferenceOperation)context.Operation;
        var method = reference.Method;
        if (method.MethodKind != MethodKind.Ordinary ||
            InlineDelegates.ParallelCallOf(reference) is not { } loop ||
            !SymbolEqualityComparer.Default.Equals(method.ContainingType?.OriginalDefinition, context.ContainingSymbol.ContainingType?.OriginalDefinition) ||
            !(method.IsStatic || OperationFacts.IsThis(reference.Instance)) ||
            reference.SemanticModel is not { } model)
        {
            return;
        }

        foreach (var declaration in method.OriginalDefinition.DeclaringSyntaxReferences)
        {
            if (declaration.SyntaxTree != model.SyntaxTree ||
                model.GetOperation(declaration.GetSyntax(context.CancellationToken), context.CancellationToken) is not { } body)
            {
                continue;
            }

            foreach (var access in body.Descendants().OfType<IMemberReferenceOperation>())
            {
                if (facts.GuardOf(access.Member) is not { } guard ||
                    !(access.Member.IsStatic || OperationFacts.IsThis(access.Instance)) ||
                    ParallelBodies.WriteOf(access) is not { } written ||
                    ParallelBodies.IsAtomic(access) ||
                    !InlineDelegates.RunsWithItsBody(access) ||
                    HeldLocks.HeldByScopeInside(access, guard.LockMember, access.Instance, body) ||
                    !HeldLocks.HeldByMethodOrScopeAt(reference, guard, access.Member.IsStatic ? null : reference.Instance, context.ContainingSymbol, facts))
                {
                    continue;
                }

                Report(context, reference.Syntax.GetLocation(), access.Member.Name, loop, guard, written + " (in '" + method.Name + "', given as the body)");
                return;
            }
        }
    }

    private static void Report(OperationAnalysisContext context, Location location, string member, IInvocationOperation loop, Guard guard, string written) =>
        context.ReportDiagnostic(Diagnostic.Create(
            DiagnosticDescriptors.GuardedStateWrittenInAParallelBody,
            location,
            member,
            loop.TargetMethod.ContainingType.Name + "." + loop.TargetMethod.Name,
            guard.LockMember.Name,
            guard.Capabilities.SuggestedAwait(),
            guard.Capabilities.SuggestedAcquire(),
            written));

    /// <summary>
    /// The <c>Parallel</c> call whose delegate runs <paramref name="at"/> (the access, or a call of the local function it
    /// is in) while the caller holds the lock <paramref name="access"/> needs around the loop, or null. The delegate is a
    /// lambda or anonymous method given to the call (also through lambdas run inline in it: <c>items.ForEach(…)</c> in the
    /// body), or a local function given to it by name (<c>Parallel.For(0, n, Step)</c>) or called from such a body; a
    /// body that takes the lock itself holds it for each run. Null past a lambda that may run elsewhere; a local function
    /// is followed to its uses, a few deep (it may call itself).
    /// </summary>
    private static IInvocationOperation? RacingLoop(IOperation at, IMemberReferenceOperation access, Guard guard, ISymbol containingSymbol, LockFacts facts, int depth)
    {
        for (var parent = at.Parent; parent is not null; parent = parent.Parent)
        {
            if (parent is ILocalFunctionOperation local)
            {
                return depth < 3 && !HeldLocks.HeldByScopeInside(at, guard.LockMember, access.Instance, local)
                    ? RacingLoopOfLocalFunction(local, access, guard, containingSymbol, facts, depth)
                    : null;
            }

            if (parent is not IAnonymousFunctionOperation function)
            {
                continue;
            }

            if (InlineDelegates.ParallelCallOf(function) is { } loop)
            {
                return !HeldLocks.HeldByScopeInside(at, guard.LockMember, access.Instance, function) &&
                    HeldLocks.HeldByMethodOrScopeAt(at, guard, access.Instance, containingSymbol, facts)
                    ? loop
                    : null;
            }

            if (InlineDelegates.RunOf(function, out _) != DelegateRun.Inline)
            {
                return null;
            }
        }

        return null;
    }

    /// <summary>The first parallel loop that runs <paramref name="local"/> under the hold: given to it by name, or called from a body of one.</summary>
    private static IInvocationOperation? RacingLoopOfLocalFunction(
        ILocalFunctionOperation local, IMemberReferenceOperation access, Guard guard, ISymbol containingSymbol, LockFacts facts, int depth)
    {
        foreach (var use in OperationFacts.Root(local).Descendants())
        {
            if (local.Syntax.Span.Contains(use.Syntax.Span))
            {
                continue;
            }

            if (use is IMethodReferenceOperation reference && SymbolEqualityComparer.Default.Equals(reference.Method.OriginalDefinition, local.Symbol.OriginalDefinition) &&
                InlineDelegates.ParallelCallOf(reference) is { } loop &&
                HeldLocks.HeldByMethodOrScopeAt(reference, guard, access.Instance, containingSymbol, facts))
            {
                return loop;
            }

            if (use is IInvocationOperation call && SymbolEqualityComparer.Default.Equals(call.TargetMethod.OriginalDefinition, local.Symbol.OriginalDefinition) &&
                RacingLoop(call, access, guard, containingSymbol, facts, depth + 1) is { } around)
            {
                return around;
            }
        }

        return null;
    }
}
