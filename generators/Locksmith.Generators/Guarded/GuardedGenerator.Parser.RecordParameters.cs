using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Locksmith.Generators.Guarded.Models;
using Locksmith.Generators.Helpers;
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
        /// only at the parameter's own attributes (Roslyn 4.14), so <c>[property: LockOrder(n)]</c> and
        /// <c>[property: Guarded(…)]</c> need their own look.
        /// </summary>
        public static bool IsRecordParameterWithPropertyAttributes(SyntaxNode node, CancellationToken token) =>
            node is ParameterSyntax { Parent: ParameterListSyntax { Parent: RecordDeclarationSyntax } } parameter &&
            parameter.AttributeLists.Any(static list => list.Target?.Identifier.IsKind(SyntaxKind.PropertyKeyword) == true);

        /// <summary>
        /// The <c>[property: LockOrder]</c> and <c>[property: Guarded]</c> of a record's positional parameter, read from
        /// the property it becomes and checked as on a declared property: the level's entry and every diagnostic; null
        /// when there is neither (or no property was made: the record declares a member of that name itself, and the
        /// compiler reports the attribute as misplaced).
        /// </summary>
        public static ParsedLockOrder? ParseRecordParameter(GeneratorSyntaxContext context, CancellationToken token)
        {
            var syntax = (ParameterSyntax)context.Node;
            if (context.SemanticModel.GetDeclaredSymbol(syntax, token) is not IParameterSymbol parameter ||
                parameter.ContainingSymbol?.ContainingType is not { } type)
            {
                return null;
            }

            LockOrderEntry? entry = null;
            var diagnostics = new List<DiagnosticInfo>();
            foreach (var property in type.GetMembers(parameter.Name).OfType<IPropertySymbol>())
            {
                foreach (var attribute in property.GetAttributes())
                {
                    // Only this parameter's attributes: a property of that name declared elsewhere has its own pipeline.
                    if (attribute.ApplicationSyntaxReference is not { } reference ||
                        reference.SyntaxTree != syntax.SyntaxTree ||
                        !syntax.Span.Contains(reference.Span))
                    {
                        continue;
                    }

                    token.ThrowIfCancellationRequested();
                    if (RuntimeSymbols.IsAttribute(attribute, KnownNames.LockOrderAttribute))
                    {
                        var order = ParseLockOrder(property, attribute, syntax, token);
                        entry ??= order.Entry;
                        diagnostics.AddRange(order.Diagnostics);
                    }
                    else if (RuntimeSymbols.IsAttribute(attribute, KnownNames.GuardedAttribute))
                    {
                        try
                        {
                            var data = new GuardedAttributeData(attribute);
                            ReportUndefinedEnums(property, attribute, data.InvalidArguments, diagnostics, token);
                            CheckGuardedState(property, data, diagnostics, token);
                        }
                        catch (Exception exception) when (exception is not OperationCanceledException)
                        {
                            diagnostics.AddRange(Failure(property, syntax, exception).Diagnostics);
                        }
                    }
                }
            }

            return entry is null && diagnostics.Count == 0 ? null : new ParsedLockOrder(entry, diagnostics.ToEquatableArray());
        }
    }
}
