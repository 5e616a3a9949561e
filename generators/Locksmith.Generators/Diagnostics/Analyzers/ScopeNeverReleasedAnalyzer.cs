using System.Collections.Immutable;
using Locksmith.Generators.Diagnostics.Analyzers.Support;
using Locksmith.Generators.Symbols;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace Locksmith.Generators.Diagnostics.Analyzers;

/// <summary>
/// LSM0053: the scope of a Locksmith acquisition that is never disposed, so the lock stays held for good:
/// <c>_lock.Acquire();</c>, <c>await _lock.AcquireAsync();</c>, <c>_ = _lock.Acquire();</c>, or a local (<c>var scope = …</c>,
/// <c>out var scope</c>, or one declared before: <c>scope = …</c>, <c>out scope</c>, or a part of a deconstructed tuple
/// literal: <c>var (scope, n) = (…, 1)</c>) not declared with <c>using</c> that is then never used, or only has its
/// properties read or is written over; or a tuple part deconstructed into a discard.
/// </summary>
/// <remarks>
/// An acquisition is a call to a method of a type in <c>Locksmith</c> or <c>Locksmith.Postgres</c> that returns one of
/// <see cref="KnownNames.ScopeTypes"/> (or a <c>Task</c>/<c>ValueTask</c> of one), or gives one in an <c>out</c>
/// parameter. It errs on the side of silence: any other use of the local (disposed, in a <c>using</c>, passed on,
/// returned, assigned, captured by a lambda or local function, matched by a pattern) is taken to release the scope, and
/// <c>out _</c> is not reported, since <c>Assert.False(gate.TryAcquire(out _))</c> takes nothing.
/// </remarks>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class ScopeNeverReleasedAnalyzer : DiagnosticAnalyzer
{
    private const string SyncFix = "write 'using var scope = …' (or 'using (…) { … }'), or dispose it when the work is done";
    private const string AsyncFix = "write 'using var scope = await …' (or 'await using'), or dispose it when the work is done";

    /// <inheritdoc/>
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } =
        ImmutableArray.Create(DiagnosticDescriptors.ScopeNeverReleased);

    /// <inheritdoc/>
    public override void Initialize(AnalysisContext context)
    {
        // Generated wrappers take their scopes in 'using' declarations; they are not the user's to fix either way.
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.EnableConcurrentExecution();
        context.RegisterCompilationStartAction(static start =>
        {
            var known = KnownScopes.Resolve(start.Compilation);
            if (known is null)
            {
                // No Locksmith reference: no acquisition to check.
                return;
            }

            start.RegisterOperationAction(operation => Analyze(operation, known), OperationKind.Invocation);
        });
    }

    private static void Analyze(OperationAnalysisContext context, KnownScopes known)
    {
        var invocation = (IInvocationOperation)context.Operation;
        var method = invocation.TargetMethod;

        // The cheap test first: nearly every call in a project is to a type outside Locksmith's namespaces.
        if (!RuntimeSymbols.IsInLocksmithNamespaces(method.ContainingType))
        {
            return;
        }

        if (known.IsScope(method.ReturnType))
        {
            CheckValue(context, invocation, invocation, SyncFix);
        }
        else if (known.IsScopeTask(method.ReturnType))
        {
            var task = OperationFacts.Outer(invocation);
            if (Awaited(task) is { } awaited)
            {
                CheckValue(context, invocation, awaited, AsyncFix);
            }
            else if (IsDiscarded(task) && !IsWholeLambdaBody(task))
            {
                // The task dropped unawaited: the acquisition still completes, and its scope is lost with the task.
                Report(context, invocation, AsyncFix);
            }
        }

        foreach (var argument in invocation.Arguments)
        {
            // out var s, or out s to a local declared before.
            var declared = argument.Value switch
            {
                IDeclarationExpressionOperation { Expression: ILocalReferenceOperation local } => local,
                ILocalReferenceOperation { Local.RefKind: RefKind.None } local => local,
                _ => null,
            };
            if (argument.Parameter is { RefKind: RefKind.Out } parameter &&
                known.IsScope(parameter.Type) &&
                declared is not null &&
                IsOnlyReadOrUnused(declared.Local, declared))
            {
                string name = declared.Local.Name;
                Report(
                    context,
                    invocation,
                    $"dispose '{name}' once it is acquired ('using ({name}) {{ … }}', or {name}.Dispose() in a finally)",
                    $"'{name}' from '{invocation.Syntax}'");
            }
        }
    }

    /// <summary>Reports <paramref name="value"/> (the scope, or the await of its task) when it is discarded or kept in a local that never releases it.</summary>
    private static void CheckValue(OperationAnalysisContext context, IInvocationOperation invocation, IOperation value, string fix)
    {
        var outer = OperationFacts.Outer(value);

        // _lock.TryAcquire…().IsAcquired, (await _lock.TryAcquireAsync(…)).IsAcquired: the scope is read and dropped.
        if (IsDiscarded(outer) || outer.Parent is IPropertyReferenceOperation { Instance: var read } && read == outer)
        {
            if (!IsWholeLambdaBody(outer))
            {
                Report(context, invocation, fix);
            }

            return;
        }

        if (outer.Parent is IVariableInitializerOperation { Parent: IVariableDeclaratorOperation declarator } &&
            declarator.Parent?.Parent is IVariableDeclarationGroupOperation group &&
            group.Parent is not (IUsingDeclarationOperation or IUsingOperation) &&
            IsOnlyReadOrUnused(declarator.Symbol, declarator))
        {
            Report(context, invocation, fix);
        }

        // s = _lock.Acquire(); to a local declared before (a using local cannot be assigned).
        if (outer.Parent is ISimpleAssignmentOperation { Target: ILocalReferenceOperation { Local.RefKind: RefKind.None } target, Parent: IExpressionStatementOperation } assignment &&
            assignment.Value == outer &&
            IsOnlyReadOrUnused(target.Local, assignment))
        {
            Report(context, invocation, fix);
        }

        // var (s, n) = (await _lock.AcquireAsync(), 1); (s, n) = …; (_, n) = …: the part lands in a local, or is dropped.
        if (outer.Parent is ITupleOperation tuple && DeconstructedInto(tuple, outer) is { } part &&
            (part is IDiscardOperation || (part is ILocalReferenceOperation { Local.RefKind: RefKind.None } local && IsOnlyReadOrUnused(local.Local, local, local))))
        {
            Report(context, invocation, fix);
        }
    }

    /// <summary>The target part a top-level element of a deconstructed tuple literal is assigned to, or null.</summary>
    private static IOperation? DeconstructedInto(ITupleOperation tuple, IOperation element)
    {
        var value = OperationFacts.Outer(tuple);
        if (value.Parent is not IDeconstructionAssignmentOperation deconstruction || deconstruction.Value != value)
        {
            return null;
        }

        var target = deconstruction.Target is IDeclarationExpressionOperation { Expression: var declared } ? declared : deconstruction.Target;
        int index = tuple.Elements.IndexOf(element);
        if (target is not ITupleOperation { Elements: var parts } || index < 0 || index >= parts.Length || parts.Length != tuple.Elements.Length)
        {
            return null;
        }

        return parts[index] is IDeclarationExpressionOperation { Expression: var part } ? part : parts[index];
    }

    /// <summary>Whether the value is an expression statement of its own, or assigned to the discard <c>_</c>.</summary>
    private static bool IsDiscarded(IOperation outer) =>
        outer.Parent is IExpressionStatementOperation ||
        (outer.Parent is ISimpleAssignmentOperation { Target: IDiscardOperation } discard && discard.Value == outer);

    /// <summary>
    /// Whether the discarded value is all a lambda does (<c>() =&gt; gate.Acquire()</c>, <c>async () =&gt; await gate.AcquireAsync()</c>,
    /// <c>() =&gt; { gate.Acquire(); }</c>): whoever runs the lambda decides, and it is the shape of
    /// <c>Assert.Throws&lt;LockTimeoutException&gt;(() =&gt; gate.Acquire(TimeSpan.Zero))</c>, where the acquisition fails.
    /// </summary>
    private static bool IsWholeLambdaBody(IOperation outer)
    {
        var statement = outer.Parent is ISimpleAssignmentOperation assignment ? assignment.Parent : outer.Parent;
        if (statement is not IExpressionStatementOperation { Parent: IBlockOperation { Parent: IAnonymousFunctionOperation } body })
        {
            return false;
        }

        foreach (var other in body.Operations)
        {
            if (other != statement && other is not IReturnOperation { IsImplicit: true, ReturnedValue: null })
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The await of a task, directly or through <c>ConfigureAwait(…)</c>, or null when it is not awaited there.</summary>
    private static IAwaitOperation? Awaited(IOperation task)
    {
        if (task.Parent is IInvocationOperation { TargetMethod.Name: "ConfigureAwait" } configured && configured.Instance == task)
        {
            task = OperationFacts.Outer(configured);
        }

        return task.Parent as IAwaitOperation;
    }

    /// <summary>
    /// Whether every reference to the local, after its declaration, is a read of one of the scope's own properties (or
    /// inside <c>nameof</c>), or a write of it (an assignment's target, an <c>out</c> argument: the value it held is
    /// dropped, not released), in the function that declares it: such a scope never reaches a Dispose. Anything else might.
    /// </summary>
    private static bool IsOnlyReadOrUnused(ILocalSymbol local, IOperation declaration, ILocalReferenceOperation? assigned = null)
    {
        foreach (var (reference, inItsFunction) in OperationFacts.ReferencesOf(local, declaration))
        {
            // A lambda or local function may run after the scope is disposed, or dispose it: not followed.
            if (!inItsFunction)
            {
                return false;
            }

            // The deconstruction's own target part (assigned) gets the scope; it does not release it.
            bool harmless = reference == assigned || OperationFacts.IsInNameof(reference) ||
                (reference.Parent is ISimpleAssignmentOperation written && written.Target == reference) ||
                reference.Parent is IArgumentOperation { Parameter.RefKind: RefKind.Out } ||
                (reference.Parent is IPropertyReferenceOperation property &&
                 property.Instance == reference &&
                 SymbolEqualityComparer.Default.Equals(property.Property.ContainingType?.OriginalDefinition, local.Type.OriginalDefinition) &&
                 !OperationFacts.IsWrite(property));
            if (!harmless)
            {
                return false;
            }
        }

        return true;
    }

    private static void Report(OperationAnalysisContext context, IInvocationOperation invocation, string fix, string? scope = null)
    {
        if (CanReleaseByHand(invocation.TargetMethod.ContainingType) &&
            ReleasesByHand(context.ContainingSymbol, ReceiverName(invocation.Instance), context.CancellationToken))
        {
            return;
        }

        // A static acquisition (LockSet.Acquire, PostgresLockSet.AcquireAsync) has no lock of its own to name.
        string held = invocation.Instance is { IsImplicit: false } instance ? $"'{instance.Syntax}'" : "each lock it takes";
        context.ReportDiagnostic(Diagnostic.Create(
            DiagnosticDescriptors.ScopeNeverReleased,
            invocation.Syntax.GetLocation(),
            scope ?? $"that '{invocation.Syntax}' returns",
            held,
            fix));
    }

    /// <summary>
    /// Whether the lock also has a release without its scope (<c>ExclusiveLock.Release()</c>, <c>ReadWriteLock.ReleaseRead()</c>,
    /// <c>CountingSemaphore.Release(n)</c>, …): then a dropped scope may be deliberate, the lock released by that call.
    /// </summary>
    private static bool CanReleaseByHand(INamedTypeSymbol? type)
    {
        for (var current = type; current is not null; current = current.BaseType)
        {
            foreach (var member in current.GetMembers())
            {
                if (member is IMethodSymbol { IsStatic: false, DeclaredAccessibility: Accessibility.Public } method && IsReleaseName(method.Name))
                {
                    return true;
                }
            }
        }

        return false;
    }

    /// <summary>The name of the lock the call is made on (a field, property, local or parameter), or null for anything else.</summary>
    private static string? ReceiverName(IOperation? instance)
    {
        while (instance is IConversionOperation { Operand: var converted })
        {
            instance = converted;
        }

        return instance switch
        {
            IFieldReferenceOperation field => field.Field.Name,
            IPropertyReferenceOperation { Property.IsIndexer: false } property => property.Property.Name,
            ILocalReferenceOperation local => local.Local.Name,
            IParameterReferenceOperation parameter => parameter.Parameter.Name,
            _ => null,
        };
    }

    /// <summary>
    /// Whether the outermost type around the call releases that lock by hand somewhere (<c>_lock.Release()</c> in an Exit
    /// method, <c>finally { gate.Release(); }</c>, <c>undo.Add(gate.Release)</c>): a release named on a receiver of the
    /// same name, by syntax, not by what it binds to, so any release the type might make of it keeps the call silent. A
    /// lock reached another way (<c>Pick().Acquire()</c>) is silent if the type names any release. Only read when there is
    /// something to report.
    /// </summary>
    private static bool ReleasesByHand(ISymbol? symbol, string? receiver, System.Threading.CancellationToken cancellationToken)
    {
        var type = symbol as INamedTypeSymbol ?? symbol?.ContainingType;
        while (type?.ContainingType is { } outer)
        {
            type = outer;
        }

        if (type is null)
        {
            // No type to look through: stay silent rather than guess.
            return true;
        }

        foreach (var reference in type.DeclaringSyntaxReferences)
        {
            foreach (var token in reference.GetSyntax(cancellationToken).DescendantTokens())
            {
                if (token.IsKind(SyntaxKind.IdentifierToken) && IsReleaseName(token.ValueText) &&
                    (receiver is null || ReceiverOf(token) == receiver))
                {
                    return true;
                }
            }
        }

        return false;
    }

    /// <summary>The last name of what a member-access release is made on: <c>_lock</c> in <c>this._lock.Release</c>.</summary>
    private static string? ReceiverOf(SyntaxToken releaseName) => releaseName.Parent?.Parent switch
    {
        Microsoft.CodeAnalysis.CSharp.Syntax.MemberAccessExpressionSyntax access when access.Name == releaseName.Parent => LastName(access.Expression),

        // _lock?.Release(): the receiver is the conditional access's expression.
        Microsoft.CodeAnalysis.CSharp.Syntax.MemberBindingExpressionSyntax binding when binding.Name == releaseName.Parent =>
            binding.FirstAncestorOrSelf<Microsoft.CodeAnalysis.CSharp.Syntax.ConditionalAccessExpressionSyntax>() is { } conditional
                ? LastName(conditional.Expression)
                : null,
        _ => null,
    };

    private static string? LastName(Microsoft.CodeAnalysis.CSharp.Syntax.ExpressionSyntax expression) => expression switch
    {
        Microsoft.CodeAnalysis.CSharp.Syntax.IdentifierNameSyntax name => name.Identifier.ValueText,
        Microsoft.CodeAnalysis.CSharp.Syntax.MemberAccessExpressionSyntax inner => inner.Name.Identifier.ValueText,
        Microsoft.CodeAnalysis.CSharp.Syntax.PostfixUnaryExpressionSyntax { Operand: var operand } => LastName(operand), // _lock!.Release()
        _ => null,
    };

    private static bool IsReleaseName(string name) => name is "Release" or "ReleaseRead" or "ReleaseWrite";

    /// <summary>The scope types and task types of one compilation, resolved once when it starts.</summary>
    private sealed class KnownScopes
    {
        private readonly ImmutableHashSet<INamedTypeSymbol> _scopes;
        private readonly INamedTypeSymbol? _task;
        private readonly INamedTypeSymbol? _valueTask;

        private KnownScopes(ImmutableHashSet<INamedTypeSymbol> scopes, INamedTypeSymbol? task, INamedTypeSymbol? valueTask)
        {
            _scopes = scopes;
            _task = task;
            _valueTask = valueTask;
        }

        /// <summary>The scopes the compilation can see, or null when it references no Locksmith runtime.</summary>
        public static KnownScopes? Resolve(Compilation compilation)
        {
            var scopes = ImmutableHashSet.CreateBuilder<INamedTypeSymbol>(SymbolEqualityComparer.Default);
            foreach (string name in KnownNames.ScopeTypes)
            {
                if (compilation.GetTypeByMetadataName(name) is { } type)
                {
                    scopes.Add(type);
                }
            }

            return scopes.Count == 0
                ? null
                : new KnownScopes(
                    scopes.ToImmutable(),
                    compilation.GetTypeByMetadataName("System.Threading.Tasks.Task`1"),
                    compilation.GetTypeByMetadataName("System.Threading.Tasks.ValueTask`1"));
        }

        public bool IsScope(ITypeSymbol? type) => type is INamedTypeSymbol named && _scopes.Contains(named.OriginalDefinition);

        /// <summary>Whether the type is <c>Task&lt;S&gt;</c> or <c>ValueTask&lt;S&gt;</c> of a scope <c>S</c>.</summary>
        public bool IsScopeTask(ITypeSymbol? type) =>
            type is INamedTypeSymbol { IsGenericType: true, TypeArguments.Length: 1 } named &&
            (SymbolEqualityComparer.Default.Equals(named.OriginalDefinition, _valueTask) || SymbolEqualityComparer.Default.Equals(named.OriginalDefinition, _task)) &&
            IsScope(named.TypeArguments[0]);
    }
}
