using System.Collections.Generic;
using System.Collections.Immutable;
using System.Composition;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Locksmith.CodeFixes.Support;
using Locksmith.Generators;
using Locksmith.Generators.Symbols;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Locksmith.CodeFixes;

/// <summary>
/// LSM0031 ([Guarded] without a Lock) and LSM0042 (a synchronous core guarded by an async lock): one fix per lock member
/// of the type (or an accessible one of a base type) that the generator would accept there, setting
/// <c>Lock = nameof(member)</c>. A method is offered the locks that fit it: async locks for async code, synchronous ones
/// otherwise (so LSM0042 gets only synchronous ones), static ones for a static member, read-write ones for
/// <c>Access = LockAccess.Read</c>; a keyed lock with <c>StripeBy</c> too, one fix per parameter that can be its key.
/// LSM0042 gets no fix that would make the core async: an <c>async</c> body without an await is CS1998.
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(GuardWithLockCodeFixProvider))]
[Shared]
public sealed class GuardWithLockCodeFixProvider : CodeFixProvider
{
    private const string DiagnosticId = "LSM0031";

    private const string SynchronousCoreId = "LSM0042";

    /// <inheritdoc/>
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create(DiagnosticId, SynchronousCoreId);

    /// <summary>Each fix edits its own attribute; one attribute with two diagnostics (a field declaring two variables) gets the same edit twice, which merges.</summary>
    public override FixAllProvider GetFixAllProvider() => WellKnownFixAllProviders.BatchFixer;

    /// <inheritdoc/>
    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        var diagnostic = context.Diagnostics[0];
        bool synchronousCore = diagnostic.Id == SynchronousCoreId;
        var found = synchronousCore
            ? await GuardedAttributeSite.FindOnMethodNameAsync(context.Document, diagnostic, context.CancellationToken).ConfigureAwait(false)
            : await GuardedAttributeSite.FindAsync(context.Document, diagnostic, context.CancellationToken).ConfigureAwait(false);
        if (found is not { } site || site.Guarded.ContainingType is not { } type)
        {
            return;
        }

        // LSM0042's core keeps its name, so its synchronous wrapper needs one by the synchronous rule ('PeekCore', or
        // WrapperName set): for 'Load' or 'PeekCoreAsync' a new lock would only trade LSM0042 for LSM0014.
        if (synchronousCore && WrapperNaming.WrapperName(site.Guarded.Name, site.StringArgument(KnownNames.WrapperNameProperty)) is null)
        {
            return;
        }

        foreach (var (lockName, stripeBy) in Choices(site, type))
        {
            string title = stripeBy is null ? $"Guard with '{lockName}'" : $"Guard with '{lockName}', striped by '{stripeBy}'";
            context.RegisterCodeFix(
                CodeAction.Create(
                    title,
                    token => SetAsync(context.Document, site, lockName, stripeBy, token),
                    diagnostic.Id + ".Lock." + lockName + (stripeBy is null ? string.Empty : ".StripeBy." + stripeBy)),
                diagnostic);
        }
    }

    /// <summary>The lock names (and, for a keyed lock the method names no key for, the key parameter) to offer.</summary>
    private static IEnumerable<(string Lock, string? StripeBy)> Choices(GuardedAttributeSite site, INamedTypeSymbol type)
    {
        var compilation = site.Model.Compilation;
        string? stripeBy = site.StringArgument(KnownNames.StripeByProperty);
        bool stripeBySet = !string.IsNullOrEmpty(stripeBy);
        string? baseLock = site.Guarded is IMethodSymbol overriding ? GuardedBaseLock(overriding) : null;
        foreach (var candidate in LockCandidates.Of(type, compilation))
        {
            var member = candidate.Member;
            if ((site.Guarded.IsStatic && !member.IsStatic) ||
                (site.IsRead && !candidate.IsReadWrite) ||
                (baseLock is not null && member.Name != baseLock))
            {
                continue;
            }

            if (site.Guarded is not IMethodSymbol method)
            {
                yield return (member.Name, null);
                continue;
            }

            // The wrapper's shape must fit: an async lock for async code (which must return a task type), a synchronous
            // lock for synchronous code, a lock that is not nullable.
            bool asyncCode = LockCandidates.IsAsyncCode(method);
            if (asyncCode != candidate.Capabilities.IsAsync() ||
                (asyncCode && !LockCandidates.ReturnsTaskType(method)) ||
                candidate.Type.NullableAnnotation == NullableAnnotation.Annotated)
            {
                continue;
            }

            if (!candidate.IsKeyed)
            {
                if (!stripeBySet)
                {
                    yield return (member.Name, null);
                }
            }
            else if (stripeBySet)
            {
                if (LockCandidates.IsKeyParameter(compilation, method, candidate.Type, stripeBy!))
                {
                    yield return (member.Name, null);
                }
            }
            else
            {
                foreach (var parameter in LockCandidates.KeyParameters(compilation, method, candidate.Type))
                {
                    yield return (member.Name, parameter.Name);
                }
            }
        }
    }

    /// <summary>The lock an overridden guarded method names: its override may name only that one (LSM0043).</summary>
    private static string? GuardedBaseLock(IMethodSymbol method)
    {
        for (var overridden = method.OverriddenMethod; overridden is not null; overridden = overridden.OverriddenMethod)
        {
            if (RuntimeSymbols.FindAttribute(overridden, KnownNames.GuardedAttribute) is { } attribute)
            {
                return attribute.NamedArguments.FirstOrDefault(static a => a.Key == KnownNames.LockProperty).Value.Value as string;
            }
        }

        return null;
    }

    private static async Task<Document> SetAsync(Document document, GuardedAttributeSite site, string lockName, string? stripeBy, CancellationToken cancellationToken)
    {
        var root = await document.GetSyntaxRootAsync(cancellationToken).ConfigureAwait(false);
        if (root is null)
        {
            return document;
        }

        // The type's members are not in scope in a record's parameter list: nameof names the lock through the type there.
        string lockArgument = site.Syntax.Parent?.Parent is ParameterSyntax { Parent.Parent: TypeDeclarationSyntax owner }
            ? "nameof(" + AttributeArgumentEditor.Identifier(owner.Identifier.ValueText) + owner.TypeParameterList?.WithoutTrivia().ToString() + "." +
              AttributeArgumentEditor.Identifier(lockName) + ")"
            : AttributeArgumentEditor.NameOf(lockName);
        var attribute = AttributeArgumentEditor.Set(site.Syntax, KnownNames.LockProperty, lockArgument, first: true);
        if (stripeBy is not null)
        {
            attribute = AttributeArgumentEditor.Set(
                attribute, KnownNames.StripeByProperty, AttributeArgumentEditor.NameOfParameter(stripeBy, site.Syntax.SyntaxTree), first: false);
        }

        return document.WithSyntaxRoot(root.ReplaceNode(site.Syntax, attribute));
    }
}
