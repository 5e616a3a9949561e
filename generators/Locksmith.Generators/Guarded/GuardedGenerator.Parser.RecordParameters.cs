using System.Linq;
using System.Threading;
using Locksmith.Generators.Guarded.Models;
using Locksmith.Generators.Symbols;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Locksmith.Generators.Guarded;

public sealed partial class GuardedGenerator
{
    internal static partial class Parser
    {
        /// <summary>
        /// The syntax filter of a record's positional parameter with a <c>property:</c> attribute list. Such an attribute
        /// belongs to the property the compiler makes from the parameter, and <c>ForAttributeWithMetadataName</c> looks
        /// only at the parameter's own attributes (Roslyn 4.14), so <c>[property: LockOrder(n)]</c> needs its own look.
        /// </summary>
        public static bool IsRecordParameterWithPropertyAttributes(SyntaxNode node, CancellationToken token) =>
            node is ParameterSyntax { Parent: ParameterListSyntax { Parent: RecordDeclarationSyntax } } parameter &&
            parameter.AttributeLists.Any(static list => list.Target?.Identifier.IsKind(SyntaxKind.PropertyKeyword) == true);

        /// <summary>
        /// The <c>[property: LockOrder]</c> of a record's positional parameter, read from the property it becomes, as a
        /// <c>[LockOrder]</c> on a declared property is; null when there is none (or no property was made: the record
        /// declares a member of that name itself, and the compiler reports the attribute as misplaced).
        /// </summary>
        public static ParsedLockOrder? ParseRecordParameterLockOrder(GeneratorSyntaxContext context, CancellationToken token)
        {
            var syntax = (ParameterSyntax)context.Node;
            if (context.SemanticModel.GetDeclaredSymbol(syntax, token) is not IParameterSymbol parameter ||
                parameter.ContainingSymbol?.ContainingType is not { } type)
            {
                return null;
            }

            foreach (var property in type.GetMembers(parameter.Name).OfType<IPropertySymbol>())
            {
                foreach (var attribute in property.GetAttributes())
                {
                    // Only this parameter's attribute: a property of that name declared elsewhere has its own pipeline.
                    if (RuntimeSymbols.IsAttribute(attribute, KnownNames.LockOrderAttribute) &&
                        attribute.ApplicationSyntaxReference is { } reference &&
                        reference.SyntaxTree == syntax.SyntaxTree &&
                        syntax.Span.Contains(reference.Span))
                    {
                        token.ThrowIfCancellationRequested();
                        return ParseLockOrder(property, attribute, syntax, token);
                    }
                }
            }

            return null;
        }
    }
}
