using System.Collections.Immutable;
using System.Linq;
using Locksmith.Generators.Diagnostics.Analyzers.Support;
using Locksmith.Generators.Symbols;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace Locksmith.Generators.Diagnostics.Analyzers;

/// <summary>
/// LSM0024: the C# <c>lock</c> statement on a Locksmith lock. It binds to <c>EnterScope</c> only for
/// <c>System.Threading.Lock</c>; on our locks it takes a <c>Monitor</c> the lock never sees (compare CS9216). The
/// <c>Monitor</c> methods that take the object (<c>Enter</c>, <c>TryEnter</c>, <c>Exit</c>, <c>Wait</c>,
/// <c>Pulse</c>, <c>PulseAll</c>, <c>IsEntered</c>) do the same by hand, and are reported alike, each with its own advice.
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
            start.RegisterOperationAction(operation => AnalyzeLock(operation, facts), OperationKind.Lock);
            start.RegisterOperationAction(operation => AnalyzeMonitorCall(operation, facts), OperationKind.Invocation);
        });
    }

    private static void AnalyzeLock(OperationAnalysisContext context, LockFacts facts)
    {
        var statement = (ILockOperation)context.Operation;
        Report(context, facts, "lock", statement.LockedValue, static (locked, capabilities, _, synchronous) => Acquire(locked, capabilities, synchronous));
    }

    private static void AnalyzeMonitorCall(OperationAnalysisContext context, LockFacts facts)
    {
        var call = (IInvocationOperation)context.Operation;
        var method = call.TargetMethod;
        if (method.ContainingType is not { Name: "Monitor", ContainingType: null } monitor ||
            monitor.ContainingNamespace?.ToDisplayString() != "System.Threading" ||
            call.Arguments.FirstOrDefault(static a => a.Parameter?.Ordinal == 0) is not { } argument)
        {
            return;
        }

        Report(context, facts, "Monitor." + method.Name, argument.Value, AdviceFor);

        string AdviceFor(string locked, LockCapabilities capabilities, ITypeSymbol type, string? synchronous) => method.Name switch
        {
            "Enter" => Acquire(locked, capabilities, synchronous),
            "TryEnter" => "use 'using var scope = " + capabilities.SuggestedAwait() + locked + "." + capabilities.SuggestedAcquire() +
                ";'" + InAsyncCode(synchronous) + " instead, or its TryAcquire form with a timeout, checking the scope's IsAcquired" + Why(locked, synchronous),
            "Exit" => "release the lock by disposing the scope that '" + locked + "." + capabilities.SuggestedAcquire() + "' returned",
            "Wait" or "Pulse" or "PulseAll" =>
                "to wait and notify under a lock, use a ConditionVariable over an ExclusiveLock ('new ConditionVariable(lock)': Wait, Notify, NotifyAll)",
            "IsEntered" => HeldQuery(type) is { } held
                ? "ask the lock: '" + locked + "." + held + "'"
                : "a Monitor held on it says nothing about the lock",
            _ => "use the lock's own members instead",
        };
    }

    private static string Acquire(string locked, LockCapabilities capabilities, string? synchronous) =>
        "use 'using var scope = " + capabilities.SuggestedAwait() + locked + "." + capabilities.SuggestedAcquire() + ";'" + InAsyncCode(synchronous) + " instead" + Why(locked, synchronous);

    // An async lock is taken by awaiting, which the synchronous code of the report cannot write (SynchronousCode.Where).
    private static string InAsyncCode(string? synchronous) => synchronous is null ? "" : " in async code";

    private static string Why(string locked, string? synchronous) =>
        synchronous is null ? "" : " ('" + locked + "' is an async lock, taken by awaiting, and " + synchronous + ")";

    // IsHeldByCurrentThread, or an async lock's IsHeldByCurrentFlow, where the type has one (a property, or a keyed method).
    private static string? HeldQuery(ITypeSymbol type)
    {
        for (var current = type; current is not null; current = current.BaseType)
        {
            foreach (var member in current.GetMembers())
            {
                if (member.DeclaredAccessibility == Accessibility.Public && member.Name is "IsHeldByCurrentThread" or "IsHeldByCurrentFlow")
                {
                    return member is IMethodSymbol ? member.Name + "(key)" : member.Name;
                }
            }
        }

        return null;
    }

    private static void Report(
        OperationAnalysisContext context, LockFacts facts, string what, IOperation value, System.Func<string, LockCapabilities, ITypeSymbol, string?, string> advice)
    {
        // Monitor's parameter is object: the lock arrives converted, implicitly or by a cast.
        var locked = OperationFacts.Unwrap(value);
        while (locked is IConversionOperation { Conversion.IsReference: true } conversion)
        {
            locked = OperationFacts.Unwrap(conversion.Operand);
        }

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

        string name = locked.Syntax.ToString();
        // The replacement goes where the lock statement or Monitor call is: a lambda run inline there is code of its own.
        string? synchronous = capabilities.IsAsync() ? SynchronousCode.Where(value, context.ContainingSymbol, atTheSite: true) : null;
        context.ReportDiagnostic(Diagnostic.Create(
            DiagnosticDescriptors.LockStatementOnLocksmithLock,
            locked.Syntax.GetLocation(),
            what,
            name,
            type.Name,
            advice(name, capabilities, type, synchronous)));
    }
}
