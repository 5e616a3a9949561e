using System.Collections.Immutable;
using System.Composition;
using System.Threading;
using System.Threading.Tasks;
using Locksmith.CodeFixes.Support;
using Locksmith.Generators;
using Locksmith.Generators.Symbols;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;

namespace Locksmith.CodeFixes;

/// <summary>
/// LSM0008 (keyed lock without StripeBy): one fix per parameter of the method that can be the lock's key (an input
/// parameter whose type converts to the key type), setting <c>StripeBy = nameof(parameter)</c>.
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(StripeByCodeFixProvider))]
[Shared]
public sealed class StripeByCodeFixProvider : CodeFixProvider
{
    private const string DiagnosticId = "LSM0008";

    /// <inheritdoc/>
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create(DiagnosticId);

    /// <summary>Each fix edits the attribute of its own method.</summary>
    public override FixAllProvider GetFixAllProvider() => WellKnownFixAllProviders.BatchFixer;

    /// <inheritdoc/>
    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        var diagnostic = context.Diagnostics[0];
        if (await GuardedAttributeSite.FindAsync(context.Document, diagnostic, context.CancellationToken).ConfigureAwait(false) is not { } site ||
            site.Guarded is not IMethodSymbol { ContainingType: { } type } method ||
            LockCandidates.Find(type, site.StringArgument(KnownNames.LockProperty)) is not { } member ||
            (member switch { IFieldSymbol field => field.Type, IPropertySymbol property => property.Type, _ => null }) is not { } lockType ||
            (LockCapabilitiesReader.Of(lockType) & LockCapabilities.Keyed) == 0)
        {
            return;
        }

        foreach (var parameter in LockCandidates.KeyParameters(site.Model.Compilation, method, lockType))
        {
            string name = parameter.Name;
            context.RegisterCodeFix(
                CodeAction.Create($"Stripe by '{name}'", token => SetAsync(context.Document, site, name, token), DiagnosticId + ".StripeBy." + name),
                diagnostic);
        }
    }

    private static async Task<Document> SetAsync(Document document, GuardedAttributeSite site, string parameter, CancellationToken cancellationToken)
    {
        var root = await document.GetSyntaxRootAsync(cancellationToken).ConfigureAwait(false);
        if (root is null)
        {
            return document;
        }

        var attribute = AttributeArgumentEditor.Set(
            site.Syntax, KnownNames.StripeByProperty, AttributeArgumentEditor.NameOfParameter(parameter, site.Syntax.SyntaxTree), first: false);
        return document.WithSyntaxRoot(root.ReplaceNode(site.Syntax, attribute));
    }
}
