using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Threading;
using Locksmith.Generators.Guarded.Models;
using Locksmith.Generators.Helpers;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Locksmith.Generators.Guarded;

public sealed partial class GuardedGenerator
{
    internal static partial class Parser
    {
        private static readonly SymbolDisplayFormat s_typeFormat = SymbolDisplayFormat.FullyQualifiedFormat
            .AddMiscellaneousOptions(SymbolDisplayMiscellaneousOptions.IncludeNullableReferenceTypeModifier);

        private static readonly SymbolDisplayFormat s_namespaceFormat = SymbolDisplayFormat.FullyQualifiedFormat
            .WithGlobalNamespaceStyle(SymbolDisplayGlobalNamespaceStyle.Omitted);

        /// <summary>Builds the wrapper model: the method's signature and docs as text.</summary>
        private static WrapperModel BuildWrapper(
            GeneratorAttributeSyntaxContext context, IMethodSymbol method, MethodFacts facts, AcquisitionModel acquisition, CancellationToken token)
        {
            var parameters = method.Parameters.Select(p => ParameterOf(method, p, token)).ToEquatableArray();
            var typeParameters = method.TypeParameters.Select(static p => Escape(p.Name)).ToEquatableArray();
            var constraints = method.TypeParameters.Select(ConstraintClause).Where(static c => c is not null).Select(static c => c!).ToEquatableArray();
            string modifiers = (method.IsStatic ? "static " : string.Empty) + (UsesPointers(method) ? "unsafe " : string.Empty);
            string returnType = method.ReturnsVoid ? "void" : method.ReturnType.ToDisplayString(s_typeFormat);
            var methodAttributes = method.GetAttributes().Where(IsCarriedMethodAttribute).Select(Render).ToEquatableArray();
            var returnAttributes = method.GetReturnTypeAttributes().Where(static a => IsInNamespace(a, "System.Diagnostics.CodeAnalysis")).Select(Render).ToEquatableArray();
            token.ThrowIfCancellationRequested();
            return new WrapperModel(
                facts.Type,
                Escape(method.Name),
                facts.WrapperName,
                facts.TryName,
                facts.Accessibility,
                modifiers,
                returnType,
                typeParameters,
                constraints,
                parameters,
                methodAttributes,
                returnAttributes,
                DocLines(context.TargetNode),
                acquisition);
        }

        private static ParameterModel ParameterOf(IMethodSymbol method, IParameterSymbol parameter, CancellationToken token)
        {
            string modifiers = string.Empty;
            if (method.IsExtensionMethod && parameter.Ordinal == 0)
            {
                modifiers += "this ";
            }

            if (HasScopedKeyword(parameter, token))
            {
                modifiers += "scoped ";
            }

            modifiers += parameter.RefKind switch
            {
                RefKind.Ref => "ref ",
                RefKind.Out => "out ",
                RefKind.In => "in ",
                RefKind.RefReadOnlyParameter => "ref readonly ",
                _ => string.Empty,
            };
            string argumentPrefix = parameter.RefKind switch
            {
                RefKind.Ref => "ref ",
                RefKind.Out => "out ",
                RefKind.In or RefKind.RefReadOnlyParameter => "in ",
                _ => string.Empty,
            };
            var attributes = parameter.GetAttributes().Where(IsCarriedParameterAttribute).ToList();
            return new ParameterModel(
                Escape(parameter.Name),
                parameter.Type.ToDisplayString(s_typeFormat),
                modifiers,
                argumentPrefix,
                parameter.RefKind == RefKind.Out,
                parameter.IsParams,
                DefaultValueOf(parameter),
                string.Concat(attributes.Select(a => Render(a) + " ")),
                attributes.Any(static a => a.AttributeClass?.Name.StartsWith("Caller", StringComparison.Ordinal) == true));
        }

        private static bool HasScopedKeyword(IParameterSymbol parameter, CancellationToken token) =>
            parameter.DeclaringSyntaxReferences.Any(r => r.GetSyntax(token) is ParameterSyntax syntax && syntax.Modifiers.Any(SyntaxKind.ScopedKeyword));

        private static string? ConstraintClause(ITypeParameterSymbol parameter)
        {
            var parts = new List<string>();
            if (parameter.HasReferenceTypeConstraint)
            {
                parts.Add(parameter.ReferenceTypeConstraintNullableAnnotation == NullableAnnotation.Annotated ? "class?" : "class");
            }
            else if (parameter.HasUnmanagedTypeConstraint)
            {
                parts.Add("unmanaged");
            }
            else if (parameter.HasValueTypeConstraint)
            {
                parts.Add("struct");
            }
            else if (parameter.HasNotNullConstraint)
            {
                parts.Add("notnull");
            }

            parts.AddRange(parameter.ConstraintTypes.Select(static t => t.ToDisplayString(s_typeFormat)));
            if (parameter.HasConstructorConstraint && !parameter.HasValueTypeConstraint)
            {
                parts.Add("new()");
            }

            if (parameter.AllowsRefLikeType)
            {
                parts.Add("allows ref struct");
            }

            return parts.Count == 0 ? null : "where " + Escape(parameter.Name) + " : " + string.Join(", ", parts);
        }

        private static bool UsesPointers(IMethodSymbol method) =>
            IsPointerLike(method.ReturnType) || method.Parameters.Any(static p => IsPointerLike(p.Type));

        private static bool IsPointerLike(ITypeSymbol type) => type switch
        {
            IPointerTypeSymbol or IFunctionPointerTypeSymbol => true,
            IArrayTypeSymbol array => IsPointerLike(array.ElementType),
            _ => false,
        };

        private static bool IsCarriedMethodAttribute(AttributeData attribute) =>
            IsInNamespace(attribute, "System.Diagnostics.CodeAnalysis") ||
            (attribute.AttributeClass is { Name: "ObsoleteAttribute" } && IsInNamespace(attribute, "System"));

        private static bool IsCarriedParameterAttribute(AttributeData attribute) =>
            IsInNamespace(attribute, "System.Diagnostics.CodeAnalysis") ||
            (attribute.AttributeClass?.Name.StartsWith("Caller", StringComparison.Ordinal) == true &&
             IsInNamespace(attribute, "System.Runtime.CompilerServices"));

        private static bool IsInNamespace(AttributeData attribute, string ns) =>
            attribute.AttributeClass is { TypeKind: not TypeKind.Error } type && type.ContainingNamespace?.ToDisplayString() == ns;

        private static string Render(AttributeData attribute)
        {
            var arguments = attribute.ConstructorArguments.Select(Constant)
                .Concat(attribute.NamedArguments.Select(static n => n.Key + " = " + Constant(n.Value)))
                .ToList();
            string name = attribute.AttributeClass!.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat);
            if (name.EndsWith("Attribute", StringComparison.Ordinal))
            {
                name = name.Substring(0, name.Length - "Attribute".Length);
            }

            return arguments.Count == 0 ? "[" + name + "]" : "[" + name + "(" + string.Join(", ", arguments) + ")]";
        }

        private static string Constant(TypedConstant constant) => constant.Kind switch
        {
            _ when constant.IsNull => "null",
            TypedConstantKind.Array => "new " + constant.Type!.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat) + " { " + string.Join(", ", constant.Values.Select(Constant)) + " }",
            TypedConstantKind.Type => "typeof(" + ((ITypeSymbol)constant.Value!).ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat) + ")",
            _ => Literal(constant.Value, constant.Type) ?? "default",
        };

        private static string? DefaultValueOf(IParameterSymbol parameter)
        {
            if (!parameter.HasExplicitDefaultValue)
            {
                return null;
            }

            object? value = parameter.ExplicitDefaultValue;
            if (value is null)
            {
                // `= null!` keeps a non-nullable reference parameter warning-free; `default` fits every other type.
                return parameter.Type.IsReferenceType && parameter.Type.NullableAnnotation != NullableAnnotation.Annotated ? "null!" : "default";
            }

            return Literal(value, parameter.Type) ?? "default";
        }

        /// <summary>A constant as C# text of the given type (enums cast, suffixes for float, double, decimal and the wide integers).</summary>
        private static string? Literal(object? value, ITypeSymbol? type)
        {
            if (value is null)
            {
                return "null";
            }

            if (type is INamedTypeSymbol { OriginalDefinition.SpecialType: SpecialType.System_Nullable_T } nullable)
            {
                type = nullable.TypeArguments[0];
            }

            if (type is { TypeKind: TypeKind.Enum })
            {
                string enumType = type.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat);
                var member = type.GetMembers().OfType<IFieldSymbol>().FirstOrDefault(f => f.HasConstantValue && Equals(f.ConstantValue, value));
                return member is not null ? enumType + "." + Escape(member.Name) : "(" + enumType + ")(" + Literal(value, null) + ")";
            }

            return value switch
            {
                string text => SymbolDisplay.FormatLiteral(text, quote: true),
                char character => SymbolDisplay.FormatLiteral(character, quote: true),
                bool flag => flag ? "true" : "false",
                float single => float.IsNaN(single) ? "float.NaN"
                    : float.IsPositiveInfinity(single) ? "float.PositiveInfinity"
                    : float.IsNegativeInfinity(single) ? "float.NegativeInfinity"
                    : single.ToString("R", CultureInfo.InvariantCulture) + "F",
                double number => double.IsNaN(number) ? "double.NaN"
                    : double.IsPositiveInfinity(number) ? "double.PositiveInfinity"
                    : double.IsNegativeInfinity(number) ? "double.NegativeInfinity"
                    : number.ToString("R", CultureInfo.InvariantCulture) + "D",
                decimal money => money.ToString(CultureInfo.InvariantCulture) + "M",
                long wide => wide.ToString(CultureInfo.InvariantCulture) + "L",
                ulong wide => wide.ToString(CultureInfo.InvariantCulture) + "UL",
                uint unsigned => unsigned.ToString(CultureInfo.InvariantCulture) + "U",
                IFormattable formattable => formattable.ToString(null, CultureInfo.InvariantCulture),
                _ => null,
            };
        }

        /// <summary>The lines of the doc comment above <paramref name="node"/>, without their <c>///</c>.</summary>
        private static EquatableArray<string> DocLines(SyntaxNode node)
        {
            var lines = new List<string>();
            foreach (var trivia in node.GetLeadingTrivia())
            {
                bool isDoc = trivia.IsKind(SyntaxKind.SingleLineDocumentationCommentTrivia) ||
                    (trivia.IsKind(SyntaxKind.SingleLineCommentTrivia) && trivia.ToString().StartsWith("///", StringComparison.Ordinal));
                if (!isDoc)
                {
                    continue;
                }

                foreach (string raw in trivia.ToFullString().Split('\n'))
                {
                    string line = raw.Trim();
                    if (line.StartsWith("///", StringComparison.Ordinal))
                    {
                        lines.Add(line.Substring(3));
                    }
                }
            }

            return lines.ToEquatableArray();
        }

        private static string DisplayName(ISymbol symbol) => Symbols.SymbolNames.Display(symbol);

        private static string QualifiedName(INamedTypeSymbol type) => type.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat);

        private static string Escape(string name) =>
            SyntaxFacts.GetKeywordKind(name) != SyntaxKind.None ? "@" + name : name;

        private static Location? AttributeLocation(AttributeData attribute, CancellationToken token) =>
            attribute.ApplicationSyntaxReference?.GetSyntax(token).GetLocation();

        /// <summary>The named argument <c>name = …</c> of the attribute, else the whole attribute.</summary>
        private static Location? ArgumentLocation(AttributeData attribute, string name, CancellationToken token)
        {
            if (attribute.ApplicationSyntaxReference?.GetSyntax(token) is not AttributeSyntax syntax)
            {
                return null;
            }

            foreach (var argument in syntax.ArgumentList?.Arguments ?? default)
            {
                if (argument.NameEquals?.Name.Identifier.ValueText == name)
                {
                    return argument.GetLocation();
                }
            }

            return syntax.GetLocation();
        }

        private static Location NameLocation(SyntaxNode node, ISymbol symbol) => node switch
        {
            MethodDeclarationSyntax method => method.Identifier.GetLocation(),
            LocalFunctionStatementSyntax local => local.Identifier.GetLocation(),
            VariableDeclaratorSyntax variable => variable.Identifier.GetLocation(),
            PropertyDeclarationSyntax property => property.Identifier.GetLocation(),
            _ => symbol.Locations.FirstOrDefault() ?? node.GetLocation(),
        };
    }
}
