using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Text;
using Locksmith.Generators.Diagnostics.Analyzers.Support;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;
using Microsoft.CodeAnalysis.Text;

namespace Locksmith.Generators.Diagnostics.Analyzers;

/// <summary>
/// LSM0059: a claim <c>AsyncLockFlow.Begin()</c> makes (or a method of the user's returning its <c>AsyncLockFlowScope</c>)
/// that is never ended: the scope dropped (<c>AsyncLockFlow.Begin();</c>, <c>_ = …</c>, only its <c>FlowId</c> read), or
/// kept in a local not declared with <c>using</c> that is never disposed, or disposed only outside a <c>finally</c> or only
/// in a <c>catch</c>. The claim's hold on the flow's record is then never given back: the frame's context stays claimed (a
/// synchronous method's is its caller's), what it starts later is one flow, and the record never returns to the thread's
/// cache.
/// </summary>
/// <remarks>
/// The scope-tracking analyzers leave <c>AsyncLockFlowScope</c> out (it is a claim, not a hold); this one reads only it.
/// Like LSM0053 it errs on the side of silence: a local disposed in a <c>finally</c>, or both in a <c>catch</c> and outside
/// one, used in a <c>using</c>, returned, stored, passed on, captured by a lambda or local function, or used any other way,
/// is taken to be ended by whoever receives it. A local disposed by hand outside a <c>finally</c> is reported: an exception
/// before the Dispose leaves the claim unended, and <c>using</c> costs nothing; so is one disposed only in a <c>catch</c>,
/// which the path that throws nothing never reaches. Where the claim is ended, nothing is reported, even in a synchronous
/// method (its claim ends before an awaiting caller could use it, but what it calls meanwhile shares it), an
/// <c>async void</c> method (its builder restores the context as an <c>async Task</c> one does) or a lambda. A call given
/// a scope (a parameter holding one), or returning one through a type parameter (<c>First()</c>,
/// <c>GetValueOrDefault()</c>), is taken to hand back a scope it was given: it makes no claim, for LSM0059 or LSM0062.
/// </remarks>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class FlowClaimNeverEndedAnalyzer : DiagnosticAnalyzer
{
    /// <inheritdoc/>
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } =
        ImmutableArray.Create(DiagnosticDescriptors.FlowClaimNeverEnded, DiagnosticDescriptors.FlowClaimReturnedByAsyncMethod);

    /// <inheritdoc/>
    public override void Initialize(AnalysisContext context)
    {
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.EnableConcurrentExecution();
        context.RegisterCompilationStartAction(static start =>
        {
            // A runtime without AsyncLockFlow has no claim to end.
            if (start.Compilation.GetTypeByMetadataName(KnownNames.AsyncLockFlow + "Scope") is { } scope)
            {
                start.RegisterOperationAction(operation => Analyze(operation, scope), OperationKind.Invocation);
            }
        });
    }

    private static void Analyze(OperationAnalysisContext context, INamedTypeSymbol scope)
    {
        var invocation = (IInvocationOperation)context.Operation;
        if (!MakesAClaim(invocation.TargetMethod, scope))
        {
            return;
        }

        var outer = OuterOfClaim(invocation);
        if (IsAsync(context, invocation) && ReturnedFromItsFunction(outer))
        {
            // LSM0062: the claim stays in the async function's own frame; the caller gets a scope of nothing it carries.
            context.ReportDiagnostic(Diagnostic.Create(
                DiagnosticDescriptors.FlowClaimReturnedByAsyncMethod,
                ClaimLocation(invocation),
                FunctionName(context, invocation),
                ClaimText(invocation)));
            return;
        }

        if (IsDropped(outer, scope))
        {
            Report(context, invocation, "is dropped", ClaimFix(invocation, context));
            return;
        }

        ILocalSymbol? local = outer.Parent switch
        {
            IVariableInitializerOperation { Parent: IVariableDeclaratorOperation declarator }
                when declarator.Parent?.Parent is IVariableDeclarationGroupOperation group &&
                     group.Parent is not (IUsingDeclarationOperation or IUsingOperation) => declarator.Symbol,

            // flow = AsyncLockFlow.Begin(); to a local declared before (a using local cannot be assigned).
            ISimpleAssignmentOperation { Target: ILocalReferenceOperation { Local.RefKind: RefKind.None } target, Parent: IExpressionStatementOperation } assignment
                when assignment.Value == outer => target.Local,
            _ => null,
        };
        if (local is null)
        {
            return;
        }

        var ending = Ending(local, outer, scope, out var dispose, out bool writtenAgain);

        // Half-typed code: a declarator whose name is not typed yet has none to show.
        string name = local.Name.Length > 0 ? local.Name : "…";
        string claim = ClaimText(invocation);
        string disposeText = dispose is null ? string.Empty : Written(dispose.Syntax) ?? name + ".Dispose()";

        // A using local cannot be assigned again nor passed as out (CS1656, CS1657): there a finally is the fix.
        string fix = writtenAgain
            ? $"dispose it in a 'finally' (try {{ … }} finally {{ {name}.Dispose(); }}): a 'using' local cannot be assigned again" + OrReturn(context, invocation)
            : ending == End.Never
                ? $"declare it 'using var {name} = {claim};'" + OrReturn(context, invocation)
                : $"declare it 'using var {name} = {claim};' and drop the Dispose (or dispose it in a 'finally')";
        switch (ending)
        {
            case End.Never:
                Report(
                    context,
                    invocation,
                    local.Name.Length > 0 ? $"is kept in '{name}', which is never disposed" : "is kept in a local with no name yet, which is never disposed",
                    fix);
                break;
            case End.OutsideAFinally:
                Report(
                    context,
                    invocation,
                    $"is ended only by '{disposeText}' outside a 'finally', which an exception before it skips",
                    fix);
                break;
            case End.OnlyInACatch:
                // A using beside the catch's Dispose would end the claim twice, which throws: the catch's goes.
                Report(
                    context,
                    invocation,
                    $"is ended only by '{disposeText}' in a 'catch', which the path that throws nothing never reaches",
                    writtenAgain
                        ? fix
                        : $"dispose it in a 'finally' in place of the 'catch' (try {{ … }} finally {{ {name}.Dispose(); }}), or declare it " +
                          $"'using var {name} = {claim};' and drop the Dispose" + OrReturn(context, invocation));
                break;
        }
    }

    /// <summary>
    /// Whether a call to <paramref name="method"/> is taken to make a claim: it returns <c>AsyncLockFlowScope</c> by its
    /// own declaration (not a type parameter: <c>First()</c>, <c>Pop()</c>, <c>GetValueOrDefault()</c>) and is given no
    /// scope (a parameter holding one) that it could be handing back, as <c>Same(given)</c> does.
    /// </summary>
    private static bool MakesAClaim(IMethodSymbol method, INamedTypeSymbol scope)
    {
        if (!SymbolEqualityComparer.Default.Equals(method.OriginalDefinition.ReturnType, scope))
        {
            return false;
        }

        foreach (var parameter in method.Parameters)
        {
            if (Holds(parameter.Type, scope))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Whether a value of <paramref name="type"/> is or can carry a scope: the scope, an array or a generic type of one.</summary>
    private static bool Holds(ITypeSymbol type, INamedTypeSymbol scope) => type switch
    {
        IArrayTypeSymbol array => Holds(array.ElementType, scope),
        INamedTypeSymbol named => SymbolEqualityComparer.Default.Equals(named, scope) || named.TypeArguments.Any(argument => Holds(argument, scope)),
        _ => false,
    };

    /// <summary>The fix for a dropped claim: keep it in a <c>using</c> where the flow's work begins.</summary>
    private static string ClaimFix(IInvocationOperation invocation, OperationAnalysisContext context) =>
        $"write 'using var flow = {ClaimText(invocation)};' (or 'using ({ClaimText(invocation)}) {{ … }}') where the flow's work begins" +
        OrReturn(context, invocation);

    /// <summary>
    /// The claim's value with what only wraps it: parentheses, conversions, and a <c>?.</c> whose call it is
    /// (<c>maker?.BeginFlow();</c> drops the claim as <c>maker.BeginFlow();</c> does).
    /// </summary>
    private static IOperation OuterOfClaim(IOperation invocation)
    {
        var outer = OperationFacts.Outer(invocation);
        while (outer.Parent is IConditionalAccessOperation access && access.WhenNotNull == outer)
        {
            outer = OperationFacts.Outer(access);
        }

        return outer;
    }

    /// <summary>
    /// How a message names the claim: its call as written (with the receivers of a <c>?.</c> it is made through), or,
    /// where that is half-typed, the method it calls (<c>AsyncLockFlow.Begin()</c>, <c>Ledger.BeginFor(…)</c>).
    /// </summary>
    private static string ClaimText(IInvocationOperation invocation)
    {
        var syntax = invocation.Syntax;
        if (Written(syntax, ConditionalStart(syntax)) is { } written)
        {
            return written;
        }

        var method = invocation.TargetMethod;
        string owner = method.MethodKind == MethodKind.LocalFunction ? string.Empty : method.ContainingType.Name + ".";
        return owner + method.Name + (method.Parameters.IsEmpty ? "()" : "(…)");
    }

    /// <summary>Where the claim is reported: its call, with the receivers of a <c>?.</c> it is made through (<c>maker?.BeginFlow()</c>).</summary>
    private static Location ClaimLocation(IInvocationOperation invocation)
    {
        var syntax = invocation.Syntax;
        int start = ConditionalStart(syntax);
        return start < syntax.SpanStart ? Location.Create(syntax.SyntaxTree, TextSpan.FromBounds(start, syntax.Span.End)) : syntax.GetLocation();
    }

    /// <summary>
    /// Where the text naming a call made through <c>?.</c> starts: the call's syntax is only what follows the
    /// <c>?</c> (<c>.BeginFlow()</c>), so the receivers of each <c>?.</c> on its leftmost spine are added
    /// (<c>maker?.Next?.Next.BeginFlow()</c>); the call's own start otherwise.
    /// </summary>
    private static int ConditionalStart(SyntaxNode call)
    {
        int start = call.SpanStart;
        for (SyntaxNode? node = call; node is not null;)
        {
            switch (node)
            {
                case InvocationExpressionSyntax invoked:
                    node = invoked.Expression;
                    break;
                case MemberAccessExpressionSyntax member:
                    node = member.Expression;
                    break;
                case ElementAccessExpressionSyntax element:
                    node = element.Expression;
                    break;
                case PostfixUnaryExpressionSyntax postfix:
                    node = postfix.Operand;
                    break;
                case ConditionalAccessExpressionSyntax access:
                    node = access.Expression;
                    break;
                case MemberBindingExpressionSyntax or ElementBindingExpressionSyntax:
                    // A binding belongs to the nearest ?. whose right side holds it; its receiver comes before.
                    var owner = node.Ancestors().OfType<ConditionalAccessExpressionSyntax>().FirstOrDefault(a => a.WhenNotNull.Span.Contains(node.Span));
                    start = owner?.SpanStart ?? start;
                    node = owner?.Expression;
                    break;
                default:
                    node = null;
                    break;
            }
        }

        return start;
    }

    /// <summary>
    /// The node's text on one line (from <paramref name="start"/> when given), or null where it is half-typed: a missing
    /// or skipped token would print as garbage, or as nothing at all (<c>'AsyncLockFlow.Begin('</c>).
    /// </summary>
    private static string? Written(SyntaxNode node, int start = -1)
    {
        var span = start < 0 || start >= node.SpanStart ? node.Span : TextSpan.FromBounds(start, node.Span.End);
        var whole = span == node.Span ? node : node.SyntaxTree.GetRoot().FindNode(span);
        var tokens = whole.DescendantTokens(span).Where(token => span.Contains(token.Span)).ToList();
        return whole.ContainsDiagnostics || tokens.Any(static token => token.IsMissing) ? null : OneLine(tokens);
    }

    /// <summary>
    /// The tokens' text without comments or line breaks: one space where the code has whitespace between two tokens on
    /// one line, or a break or comment between tokens that read apart (none after <c>(</c>, <c>[</c> or <c>.</c>, nor before
    /// <c>)</c>, <c>]</c>, <c>.</c>, <c>,</c>, <c>;</c> or a <c>?.</c>'s <c>?</c>).
    /// </summary>
    private static string OneLine(IEnumerable<SyntaxToken> tokens)
    {
        var text = new StringBuilder();
        SyntaxToken previous = default;
        foreach (var token in tokens)
        {
            if (text.Length > 0 && (previous.HasTrailingTrivia || token.HasLeadingTrivia))
            {
                bool plain = previous.TrailingTrivia.Concat(token.LeadingTrivia).All(static trivia => trivia.IsKind(SyntaxKind.WhitespaceTrivia));
                bool tight = previous.Kind() is SyntaxKind.OpenParenToken or SyntaxKind.OpenBracketToken or SyntaxKind.DotToken ||
                    token.Kind() is SyntaxKind.CloseParenToken or SyntaxKind.CloseBracketToken or SyntaxKind.DotToken or SyntaxKind.CommaToken or SyntaxKind.SemicolonToken ||
                    (token.IsKind(SyntaxKind.QuestionToken) && token.Parent is ConditionalAccessExpressionSyntax);
                if (plain || !tight)
                {
                    text.Append(' ');
                }
            }

            text.Append(token.Text);
            previous = token;
        }

        return text.ToString();
    }

    /// <summary>A synchronous method can also hand its claim to its caller (its frame is the caller's); an async one cannot.</summary>
    private static string OrReturn(OperationAnalysisContext context, IInvocationOperation invocation) =>
        IsAsync(context, invocation) ? string.Empty : ", or return the scope to a caller that does";

    /// <summary>Whether the value is a statement of its own, assigned to <c>_</c>, or only has one of the scope's properties read.</summary>
    private static bool IsDropped(IOperation outer, INamedTypeSymbol scope) =>
        outer.Parent is IExpressionStatementOperation ||
        (outer.Parent is ISimpleAssignmentOperation { Target: IDiscardOperation } discard && discard.Value == outer) ||
        (outer.Parent is IPropertyReferenceOperation property && property.Instance == outer &&
         SymbolEqualityComparer.Default.Equals(property.Property.ContainingType, scope));

    private enum End
    {
        Never,
        OutsideAFinally,
        OnlyInACatch,
        Elsewhere,
    }

    /// <summary>
    /// How the local's claim ends, from its references after <paramref name="declaration"/> in the function that declares
    /// it: <see cref="End.Never"/> when each is a read of the scope's own property, a write (the value held is dropped), or
    /// in <c>nameof</c>; <see cref="End.OutsideAFinally"/> when besides those it is only disposed (<c>flow.Dispose()</c>)
    /// outside a <c>finally</c> or <c>catch</c>; <see cref="End.OnlyInACatch"/> when it is disposed only in a <c>catch</c>
    /// (<paramref name="dispose"/> is the first such call); else <see cref="End.Elsewhere"/>: disposed in a <c>finally</c>,
    /// both in a <c>catch</c> and outside one, or used in a way this does not follow. A <c>catch</c> or <c>finally</c> the
    /// claim is made in counts as no other code: an exception there before the Dispose skips it.
    /// <paramref name="writtenAgain"/>: the local is assigned (the claim's own <c>flow = …</c> too) or passed as <c>out</c>.
    /// </summary>
    private static End Ending(ILocalSymbol local, IOperation declaration, INamedTypeSymbol scope, out IOperation? dispose, out bool writtenAgain)
    {
        IOperation? outside = null, inACatch = null;
        dispose = null;
        writtenAgain = false;
        foreach (var (reference, inItsFunction) in OperationFacts.ReferencesOf(local, declaration))
        {
            // A lambda or local function may end it, or run after it ended: not followed.
            if (!inItsFunction)
            {
                return End.Elsewhere;
            }

            if (reference.Parent is IInvocationOperation { TargetMethod: { Name: "Dispose", Parameters.IsEmpty: true } } call && call.Instance == reference)
            {
                switch (HandlerAround(call, declaration))
                {
                    case Handler.Finally:
                        return End.Elsewhere;
                    case Handler.Catch:
                        inACatch ??= call;
                        break;
                    default:
                        outside ??= call;
                        break;
                }

                continue;
            }

            bool write = (reference.Parent is ISimpleAssignmentOperation written && written.Target == reference) ||
                reference.Parent is IArgumentOperation { Parameter.RefKind: RefKind.Out };
            writtenAgain |= write;
            bool harmless = write || OperationFacts.IsInNameof(reference) ||
                (reference.Parent is IPropertyReferenceOperation property &&
                 property.Instance == reference &&
                 SymbolEqualityComparer.Default.Equals(property.Property.ContainingType, scope));
            if (!harmless)
            {
                return End.Elsewhere;
            }
        }

        // A catch's Dispose beside one on the path without an exception: taken to end it on both.
        dispose = outside ?? inACatch;
        return (outside, inACatch) switch
        {
            (null, null) => End.Never,
            (null, _) => End.OnlyInACatch,
            (_, null) => End.OutsideAFinally,
            _ => End.Elsewhere,
        };
    }

    private enum Handler
    {
        None,
        Catch,
        Finally,
    }

    /// <summary>
    /// Whether the call is in a <c>catch</c> (so it runs only when an exception is thrown), else in a <c>finally</c> (on
    /// every path), of its function and after the claim's <paramref name="declaration"/>: one the claim is made in counts
    /// as no other code.
    /// </summary>
    private static Handler HandlerAround(IOperation call, IOperation declaration)
    {
        var found = Handler.None;
        IOperation child = call;
        for (var parent = call.Parent; parent is not null and not (IAnonymousFunctionOperation or ILocalFunctionOperation); child = parent, parent = parent.Parent)
        {
            // Before the stop below: a claim made in the try is still protected by its finally.
            if (parent is ITryOperation tryOperation && tryOperation.Finally == child)
            {
                found = Handler.Finally;
            }

            if (parent.Syntax.Span.Contains(declaration.Syntax.Span))
            {
                break;
            }

            if (parent is ICatchClauseOperation)
            {
                return Handler.Catch;
            }
        }

        return found;
    }

    /// <summary>Whether the function the claim is made in (a lambda, local function, or the member) is async.</summary>
    private static bool IsAsync(OperationAnalysisContext context, IOperation operation) => OperationFacts.EnclosingFunction(operation) switch
    {
        IAnonymousFunctionOperation lambda => lambda.Symbol.IsAsync,
        ILocalFunctionOperation function => function.Symbol.IsAsync,
        _ => context.ContainingSymbol is IMethodSymbol { IsAsync: true },
    };

    /// <summary>What runs the function the claim is made in: a lambda, a local function, or a method.</summary>
    private static string FunctionKind(IOperation operation) => OperationFacts.EnclosingFunction(operation) switch
    {
        IAnonymousFunctionOperation => "lambda",
        ILocalFunctionOperation => "local function",
        _ => "method",
    };

    /// <summary>
    /// Whether the claim is what its function returns: <c>return AsyncLockFlow.Begin();</c> (an expression body too), or a
    /// local it initializes, not a <c>using</c> one, that a <c>return</c> of the same function gives back.
    /// </summary>
    private static bool ReturnedFromItsFunction(IOperation outer)
    {
        if (outer.Parent is IReturnOperation { Kind: OperationKind.Return })
        {
            return true;
        }

        // A using local is ended here, before the caller gets it: that claim is not handed over.
        if (outer.Parent is not IVariableInitializerOperation { Parent: IVariableDeclaratorOperation declarator } ||
            declarator.Parent?.Parent is IVariableDeclarationGroupOperation { Parent: IUsingDeclarationOperation or IUsingOperation })
        {
            return false;
        }

        var home = OperationFacts.EnclosingFunction(outer);
        foreach (var operation in OperationFacts.Root(outer).Descendants())
        {
            if (operation is IReturnOperation { Kind: OperationKind.Return, ReturnedValue: { } value } returned &&
                OperationFacts.Unwrap(value) is ILocalReferenceOperation reference &&
                SymbolEqualityComparer.Default.Equals(reference.Local, declarator.Symbol) &&
                OperationFacts.EnclosingFunction(returned) == home)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// How the message names the function the claim is made in: the method's or local function's name, or "the lambda";
    /// "the method" or "the local function" for one with no name a user could write (the top-level statements' method).
    /// </summary>
    private static string FunctionName(OperationAnalysisContext context, IOperation operation) => OperationFacts.EnclosingFunction(operation) switch
    {
        IAnonymousFunctionOperation => "the lambda",
        ILocalFunctionOperation function => function.Symbol.CanBeReferencedByName ? function.Symbol.Name : "the local function",
        _ => context.ContainingSymbol.CanBeReferencedByName ? context.ContainingSymbol.Name : "the method",
    };

    private static void Report(OperationAnalysisContext context, IInvocationOperation invocation, string how, string fix)
    {
        string kind = FunctionKind(invocation);
        string consequence = IsAsync(context, invocation)
            ? $"the flow stays claimed while anything this {kind} started lives: tasks it started stay one flow after it returns " +
              "(a lock one takes is held by all, and another asking for it throws LockRecursionException), and the flow's record is " +
              "never reused, so each call allocates a new one"
            : $"the flow stays claimed in the caller's frame after this {kind} returns (a synchronous {kind}'s context is its " +
              "caller's): everything that frame starts later is one flow (a lock one task takes is held by all, and another " +
              "asking for it throws LockRecursionException)";
        context.ReportDiagnostic(Diagnostic.Create(
            DiagnosticDescriptors.FlowClaimNeverEnded,
            ClaimLocation(invocation),
            ClaimText(invocation),
            how,
            consequence,
            fix));
    }
}
