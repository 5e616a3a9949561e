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
/// used no other way (or only copied to another such local, <c>var u = t;</c>), or off a call of a method of this
/// compilation that only returns one and is not async (<c>TakeAsync().Result</c>, <see cref="JudgeForwarder"/>). That task is backed by a pooled wait node while the lock is contended, and a <c>ValueTask</c>'s
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

        // A forwarder's body (in another file too) is read once per compilation, not at each call of it.
        context.RegisterCompilationStartAction(static start =>
        {
            var forwarders = Forwarders();
            start.RegisterOperationAction(c => Analyze(c, forwarders), OperationKind.Invocation);
        });
    }

    /// <summary>A compilation's judgements of its forwarders of a pooled acquisition (<see cref="JudgeForwarder"/>).</summary>
    internal static HelperJudgements<PooledAcquisition> Forwarders() => new(MayForward, JudgeForwarder);

    private static void Analyze(OperationAnalysisContext context, HelperJudgements<PooledAcquisition> forwarders)
    {
        var acquisition = (IInvocationOperation)context.Operation;
        var pooled = IsPooledAcquisition(acquisition.TargetMethod)
            ? PooledAcquisition.Of(acquisition)
            : forwarders.Of(acquisition.TargetMethod, acquisition.SemanticModel, context.CancellationToken);
        if (pooled is null)
        {
            return;
        }

        var task = Outermost(acquisition);
        if (BlockingRead(task) is { } read)
        {
            Report(context, acquisition, pooled, read);
            return;
        }

        // var pending = _lock.AcquireAsync(); … pending.Result (or a copy's, var copy = pending;): reported when the
        // local is never read another way.
        if (task.Parent is IVariableInitializerOperation { Parent: IVariableDeclaratorOperation declarator } &&
            BlockingReadsOnly(declarator.Symbol, Root(acquisition), depth: 0) is { Count: > 0 } reads)
        {
            foreach (var blocking in reads)
            {
                Report(context, acquisition, pooled, blocking);
            }
        }
    }

    /// <summary>
    /// The blocking reads of the task a local keeps, when every use of it is one, or is the initializer of another local
    /// (<c>var copy = pending;</c>) whose uses are all such reads alike, a few copies deep; null when any use is another
    /// (awaited, tested, passed on, written, copied by assignment).
    /// </summary>
    private static System.Collections.Generic.List<IOperation>? BlockingReadsOnly(ILocalSymbol local, IOperation root, int depth)
    {
        if (depth > 4 || local.RefKind != RefKind.None)
        {
            return null;
        }

        var reads = new System.Collections.Generic.List<IOperation>();
        foreach (var reference in References(local, root))
        {
            var use = Outermost(reference);
            if (BlockingRead(use) is { } read)
            {
                reads.Add(read);
            }
            else if (use.Parent is IVariableInitializerOperation { Parent: IVariableDeclaratorOperation copy } &&
                BlockingReadsOnly(copy.Symbol, root, depth + 1) is { Count: > 0 } copied)
            {
                reads.AddRange(copied);
            }
            else
            {
                return null;
            }
        }

        return reads;
    }

    /// <summary>
    /// Whether a method may only forward a pooled acquisition, before its body is read: an ordinary method of this
    /// compilation, not <c>async</c> (an async method's own task is no pooled wait), returning
    /// <c>ValueTask&lt;AsyncLockScope&gt;</c>, that no override can replace.
    /// </summary>
    private static bool MayForward(IMethodSymbol method) =>
        !method.IsAsync && method.MethodKind == MethodKind.Ordinary && !method.IsExtern &&
        !method.DeclaringSyntaxReferences.IsEmpty &&
        method.ReturnType is INamedTypeSymbol { MetadataName: "ValueTask`1", TypeArguments: [var scope] } valueTask &&
        valueTask.ContainingNamespace?.ToDisplayString() == "System.Threading.Tasks" &&
        RuntimeSymbols.IsRuntimeType(scope, KnownNames.AsyncLockScope) &&
        !((method.IsVirtual || method.IsAbstract || method.IsOverride) && !method.IsSealed && method.ContainingType?.IsSealed != true);

    /// <summary>
    /// For a forwarder of a pooled acquisition (<c>ValueTask&lt;AsyncLockScope&gt; TakeAsync() =&gt; _lock.AcquireAsync();</c>),
    /// the acquisition one of its returns makes, when every return is one (or a call of another such forwarder,
    /// <paramref name="forwarderOf"/>); null otherwise.
    /// </summary>
    private static PooledAcquisition? JudgeForwarder(IOperation body, System.Func<IMethodSymbol, PooledAcquisition?> forwarderOf)
    {
        PooledAcquisition? first = null;
        foreach (var returned in body.Descendants().OfType<IReturnOperation>())
        {
            if (OperationFacts.EnclosingFunction(returned) is { } function && body.Syntax.Span.Contains(function.Syntax.Span))
            {
                continue; // a lambda's or local function's own return
            }

            if (OperationFacts.Unwrap(returned.ReturnedValue) is not IInvocationOperation call ||
                (IsPooledAcquisition(call.TargetMethod) ? PooledAcquisition.Of(call) : forwarderOf(call.TargetMethod)) is not { } acquisition)
            {
                return null;
            }

            first ??= acquisition;
        }

        return first;
    }

    /// <summary>A pooled acquisition as a report names it: the lock's method, and the lock as the code that calls it writes it.</summary>
    internal sealed class PooledAcquisition
    {
        private PooledAcquisition(IMethodSymbol method, string held)
        {
            Method = method;
            Held = held;
        }

        /// <summary>The lock's acquisition method (<c>AcquireAsync</c>).</summary>
        public IMethodSymbol Method { get; }

        /// <summary>The lock, as written where it is acquired (<c>_lock</c>), or its type's name.</summary>
        public string Held { get; }

        public static PooledAcquisition Of(IInvocationOperation call) =>
            new(call.TargetMethod, call.Instance?.Syntax.ToString() ?? call.TargetMethod.ContainingType.Name);
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

    private static void Report(OperationAnalysisContext context, IInvocationOperation acquisition, PooledAcquisition pooled, IOperation read)
    {
        // The call as written (a forwarder's too) and the lock whose acquisition it is (the forwarder's own, named in its body).
        string call = acquisition.Syntax.ToString();
        string what = read is IPropertyReferenceOperation ? "Result" : "GetAwaiter().GetResult()";
        string held = pooled.Held;
        string contended = pooled.Method.ContainingType.MetadataName == "CountingSemaphore"
            ? $"while '{held}' has too few free permits"
            : $"while '{held}' is held elsewhere";
        string? synchronous = SynchronousCode.Where(read, context.ContainingSymbol, atTheSite: true);
        string advice = synchronous is null
            ? $"await it instead: 'using var scope = await {call};'"
            : $"await it in async code ('using var scope = await {call};'; {synchronous}); where the code must stay synchronous, {SynchronousForm(pooled.Method)}, or block on '{call}.AsTask()', which waits for the lock (holding up this thread) instead of throwing";
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
