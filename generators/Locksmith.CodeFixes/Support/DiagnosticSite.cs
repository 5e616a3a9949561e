using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.Text;

namespace Locksmith.CodeFixes.Support;

/// <summary>
/// Where a fix's first diagnostic points in its document: the root, the semantic model, the span and the innermost node
/// at it. Null when the document has no root or model, or no longer covers the span (it changed since the diagnostic).
/// </summary>
internal sealed class DiagnosticSite
{
    private DiagnosticSite(SyntaxNode root, SemanticModel model, TextSpan span, SyntaxNode node)
    {
        Root = root;
        Model = model;
        Span = span;
        Node = node;
    }

    public SyntaxNode Root { get; }

    public SemanticModel Model { get; }

    public TextSpan Span { get; }

    public SyntaxNode Node { get; }

    public static async Task<DiagnosticSite?> FindAsync(CodeFixContext context)
    {
        var span = context.Diagnostics[0].Location.SourceSpan;
        var root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        var model = await context.Document.GetSemanticModelAsync(context.CancellationToken).ConfigureAwait(false);
        return root is null || model is null || !root.FullSpan.Contains(span)
            ? null
            : new DiagnosticSite(root, model, span, root.FindNode(span, getInnermostNodeForTie: true));
    }

    public void Deconstruct(out SyntaxNode root, out SemanticModel model, out TextSpan span, out SyntaxNode node)
    {
        root = Root;
        model = Model;
        span = Span;
        node = Node;
    }
}
