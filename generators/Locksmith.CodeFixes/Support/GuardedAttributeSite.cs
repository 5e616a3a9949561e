using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Locksmith.Generators;
using Locksmith.Generators.Symbols;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Locksmith.CodeFixes.Support;

/// <summary>
/// A <c>[Guarded]</c> attribute a diagnostic points at (LSM0031 and LSM0008 are reported on the attribute, LSM0042 on
/// the name of the method it is on), with the member it is on and the arguments the compiler bound.
/// </summary>
internal sealed class GuardedAttributeSite
{
    private GuardedAttributeSite(AttributeSyntax syntax, ISymbol guarded, AttributeData data, SemanticModel model)
    {
        Syntax = syntax;
        Guarded = guarded;
        Data = data;
        Model = model;
    }

    public AttributeSyntax Syntax { get; }

    /// <summary>The field (the first of its declaration), property (a record's positional one too) or method the attribute is on.</summary>
    public ISymbol Guarded { get; }

    public AttributeData Data { get; }

    public SemanticModel Model { get; }

    /// <summary>The value of a string argument (<c>Lock</c>, <c>StripeBy</c>), or null when it is not set or not a string.</summary>
    public string? StringArgument(string name) =>
        Data.NamedArguments.FirstOrDefault(a => a.Key == name).Value is { Kind: TypedConstantKind.Primitive, Value: string value } ? value : null;

    /// <summary>Whether <c>Access = LockAccess.Read</c>.</summary>
    public bool IsRead =>
        Data.NamedArguments.FirstOrDefault(static a => a.Key == KnownNames.AccessProperty).Value is { Kind: TypedConstantKind.Enum, Value: 1 };

    /// <summary>The site at the diagnostic's location, or null when the syntax there is not a bound <c>[Guarded]</c> on a member.</summary>
    public static async Task<GuardedAttributeSite?> FindAsync(Document document, Diagnostic diagnostic, CancellationToken cancellationToken)
    {
        var root = await document.GetSyntaxRootAsync(cancellationToken).ConfigureAwait(false);
        var model = await document.GetSemanticModelAsync(cancellationToken).ConfigureAwait(false);
        if (root is null || model is null || !root.FullSpan.Contains(diagnostic.Location.SourceSpan))
        {
            return null;
        }

        var attribute = root.FindNode(diagnostic.Location.SourceSpan, getInnermostNodeForTie: true).FirstAncestorOrSelf<AttributeSyntax>();
        if (attribute?.Parent?.Parent is not { } member || member is not (MemberDeclarationSyntax or ParameterSyntax))
        {
            return null;
        }

        ISymbol? guarded = member switch
        {
            // A record's positional parameter ([property: Guarded]): the property the compiler makes for it.
            ParameterSyntax { Parent.Parent: RecordDeclarationSyntax } parameter =>
                model.GetDeclaredSymbol(parameter, cancellationToken) is { ContainingSymbol.ContainingType: { } record } symbol
                    ? record.GetMembers(symbol.Name).OfType<IPropertySymbol>().FirstOrDefault()
                    : null,
            BaseFieldDeclarationSyntax field when field.Declaration.Variables.Count > 0 =>
                model.GetDeclaredSymbol(field.Declaration.Variables[0], cancellationToken),
            MethodDeclarationSyntax or PropertyDeclarationSyntax => model.GetDeclaredSymbol(member, cancellationToken),
            _ => null,
        };
        var data = guarded?.GetAttributes().FirstOrDefault(a =>
            a.ApplicationSyntaxReference is { } reference &&
            reference.SyntaxTree == attribute.SyntaxTree &&
            reference.Span == attribute.Span &&
            RuntimeSymbols.IsAttribute(a, KnownNames.GuardedAttribute));
        return guarded is null || data is null ? null : new GuardedAttributeSite(attribute, guarded, data, model);
    }

    /// <summary>
    /// The <c>[Guarded]</c> of the method whose name the diagnostic points at, or null when the name is not a method's
    /// or its <c>[Guarded]</c> is not in this document (a partial method's other part elsewhere): the fix edits this one.
    /// </summary>
    public static async Task<GuardedAttributeSite?> FindOnMethodNameAsync(Document document, Diagnostic diagnostic, CancellationToken cancellationToken)
    {
        var root = await document.GetSyntaxRootAsync(cancellationToken).ConfigureAwait(false);
        var model = await document.GetSemanticModelAsync(cancellationToken).ConfigureAwait(false);
        var span = diagnostic.Location.SourceSpan;
        if (root is null || model is null || !root.FullSpan.Contains(span) ||
            root.FindToken(span.Start).Parent is not MethodDeclarationSyntax method || method.Identifier.Span != span ||
            model.GetDeclaredSymbol(method, cancellationToken) is not { } guarded)
        {
            return null;
        }

        foreach (var data in guarded.GetAttributes())
        {
            if (RuntimeSymbols.IsAttribute(data, KnownNames.GuardedAttribute) &&
                data.ApplicationSyntaxReference is { } reference &&
                reference.SyntaxTree == root.SyntaxTree &&
                reference.GetSyntax(cancellationToken) is AttributeSyntax attribute)
            {
                return new GuardedAttributeSite(attribute, guarded, data, model);
            }
        }

        return null;
    }
}
