using System.Collections.Immutable;
using System.Linq;
using Locksmith.Generators.Diagnostics.Analyzers.Support;
using Locksmith.Generators.Symbols;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace Locksmith.Generators.Diagnostics.Analyzers;

/// <summary>
/// LSM0063: <c>.Result</c> or <c>.GetAwaiter().GetResult()</c> read straight off the <c>ValueTask&lt;AsyncLockScope&gt;</c>
/// of a Locksmith async lock's acquisition (<c>_lock.AcquireAsync().Result</c>), or off a local that keeps it and is
/// used no other way. That task is backed by a pooled wait node while the lock is contended, and a <c>ValueTask</c>'s
/// result may not be read before it completes: the runtime withdraws the wait and throws InvalidOperationException, so
/// the code works until the lock is contended. Not reported: an <c>await</c>; <c>.AsTask()</c> (or <c>.Preserve()</c>)
/// first, which blocks legally and is what the runtime's message advises where code must block; a local also read any
/// other way (<c>IsCompleted</c> tested first, awaited, passed on); the set acquisitions (<c>LockSet.AcquireAsync</c>,
/// <c>AcquireManyAsync</c>), whose pending task is a real task that a blocking read waits for.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class BlockingOnAsyncAcquisitionAnalyzer : DiagnosticAnalyzer
{
    /// <inheritdoc/>
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } =
        ImmutableArray.Create(DiagnosticDescriptors.BlockingReadOfAsyncAcquisition);

    /// <inheritdoc/>
    public override void Initialize(AnalysisContext context)
    {
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.EnableConcurrentExecution();
        context.RegisterOperationAction(Analyze, OperationKind.Invocation);
    }

    private static void Analyze(OperationAnalysisContext context)
    {
        var acquisition = (IInvocationOperation)context.Operation;
        if (!IsPooledAcquisition(acquisition.TargetMethod))
        {
            return;
        }

        var task = Outermost(acquisition);
        if (BlockingRead(task) is { } read)
        {
            Report(context, acquisition, read);
            return;
        }

        // var pending = _lock.AcquireAsync(); … pending.Result: reported when the local is never read another way.
        if (task.Parent is IVariableInitializerOperation { Parent: IVariableDeclaratorOperation declarator } &&
            References(declarator.Symbol, Root(acquisition)) is { Count: > 0 } references)
        {
            var reads = references.Select(static r => BlockingRead(Outermost(r))).ToList();
            if (reads.All(static r => r is not null))
            {
                foreach (var blocking in reads)
                {
                    Report(context, acquisition, blocking!);
                }
            }
        }
    }

    /// <summary>
    /// A method of a lock in the <c>Locksmith</c> namespace that returns <c>ValueTask&lt;AsyncLockScope&gt;</c>: one
    /// lock's acquisition (AsyncExclusiveLock, AsyncReadWriteLock's read and write, CountingSemaphore's async forms,
    /// AsyncStripedLock's one key), whose contended wait is a pooled <c>IValueTaskSource</c>.
    /// </summary>
    private static bool IsPooledAcquisition(IMethodSymbol method) =>
        !method.IsStatic &&
        method.Name.EndsWith("Async", System.StringComparison.Ordinal) &&
        method.ContainingType is { } type && RuntimeSymbols.IsRuntimeType(type.OriginalDefinition, type.MetadataName) &&
        method.ReturnType is INamedTypeSymbol { MetadataName: "ValueTask`1", TypeArguments: [var scope] } valueTask &&
        valueTask.ContainingNamespace?.ToDisplayString() == "System.Threading.Tasks" &&
        RuntimeSymbols.IsRuntimeType(scope, KnownNames.AsyncLockScope);

    private static IOperation Outermost(IOperation operation)
    {
        while (operation.Parent is IParenthesizedOperation or IConversionOperation { IsImplicit: true })
        {
            operation = operation.Parent;
        }

        return operation;
    }

    /// <summary>The <c>.Result</c> or <c>GetAwaiter().GetResult()</c> (<c>ConfigureAwait</c> between) read off <paramref name="task"/>, or null.</summary>
    private static IOperation? BlockingRead(IOperation task)
    {
        switch (task.Parent)
        {
            case IPropertyReferenceOperation { Property.Name: "Result" } result when result.Instance == task:
                return result;
            case IInvocationOperation { TargetMethod.Name: "GetAwaiter" } awaiter when awaiter.Instance == task:
                return GetResultOf(awaiter);
            case IInvocationOperation { TargetMethod.Name: "ConfigureAwait" } configured when configured.Instance == task &&
                configured.Parent is IInvocationOperation { TargetMethod.Name: "GetAwaiter" } awaiter && awaiter.Instance == configured:
                return GetResultOf(awaiter);
            default:
                return null;
        }
    }

    private static IOperation? GetResultOf(IInvocationOperation awaiter) =>
        awaiter.Parent is IInvocationOperation { TargetMethod: { Name: "GetResult", Parameters.IsEmpty: true } } result && result.Instance == awaiter ? result : null;

    private static IOperation Root(IOperation operation)
    {
        while (operation.Parent is not null)
        {
            operation = operation.Parent;
        }

        return operation;
    }

    private static System.Collections.Generic.List<IOperation> References(ILocalSymbol local, IOperation root) =>
        [.. root.Descendants().Where(o => o is ILocalReferenceOperation reference && SymbolEqualityComparer.Default.Equals(reference.Local, local))];

    private static void Report(OperationAnalysisContext context, IInvocationOperation acquisition, IOperation read)
    {
        string call = acquisition.Syntax.ToString();
        string what = read is IPropertyReferenceOperation ? "Result" : "GetAwaiter().GetResult()";
        string held = acquisition.Instance?.Syntax.ToString() ?? acquisition.TargetMethod.ContainingType.Name;
        string contended = acquisition.TargetMethod.ContainingType.MetadataName == "CountingSemaphore"
            ? $"while '{held}' has too few free permits"
            : $"while '{held}' is held elsewhere";
        string? synchronous = SynchronousCode.Where(read, context.ContainingSymbol, atTheSite: true);
        string advice = synchronous is null
            ? $"await it instead: 'using var scope = await {call};'"
            : $"await it in async code ('using var scope = await {call};'; {synchronous}); where the code must stay synchronous, {SynchronousForm(acquisition.TargetMethod)}, or block on '{call}.AsTask()', which waits for the lock (holding up this thread) instead of throwing";
        context.ReportDiagnostic(Diagnostic.Create(
            DiagnosticDescriptors.BlockingReadOfAsyncAcquisition, read.Syntax.GetLocation(), what, call, contended, advice));
    }

    /// <summary>The synchronous lock to take instead, by the async lock's type.</summary>
    private static string SynchronousForm(IMethodSymbol method)
    {
        string name = method.Name.Substring(0, method.Name.Length - "Async".Length);
        return method.ContainingType.MetadataName switch
        {
            "CountingSemaphore" => $"take the permits with the semaphore's synchronous '{name}'",
            "AsyncExclusiveLock" => "guard the state with an 'ExclusiveLock' instead",
            "AsyncReadWriteLock" => "guard the state with a 'ReadWriteLock' instead",
            "AsyncStripedLock`1" => "guard the state with a 'StripedLock<TKey>' instead",
            _ => "guard the state with a synchronous lock instead",
        };
    }
}
