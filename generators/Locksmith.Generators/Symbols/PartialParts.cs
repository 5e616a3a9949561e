using Microsoft.CodeAnalysis;

namespace Locksmith.Generators.Symbols;

/// <summary>
/// The two declarations of a partial method are one method to its callers: the defining one. They may name their
/// parameters differently (CS8826); the attributes' <c>nameof</c> names the defining declaration's, and the body's
/// operations refer to the implementing declaration's, so names are compared through the defining declaration.
/// </summary>
internal static class PartialParts
{
    /// <summary>The method as its callers see it: a partial method's defining declaration, else the method.</summary>
    public static IMethodSymbol Definition(IMethodSymbol method) => method.PartialDefinitionPart ?? method;

    /// <summary>The parameter of the defining declaration at the same position (itself for any other method).</summary>
    public static IParameterSymbol Definition(IParameterSymbol parameter) =>
        parameter.ContainingSymbol is IMethodSymbol { PartialDefinitionPart: { } definition } && parameter.Ordinal < definition.Parameters.Length
            ? definition.Parameters[parameter.Ordinal]
            : parameter;
}
