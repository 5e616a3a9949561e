using Microsoft.CodeAnalysis;

namespace Locksmith.Generators.Symbols;

/// <summary>The argument of a <c>[LockOrder(level)]</c> attribute; a wrong-typed argument reads as no level.</summary>
internal readonly struct LockOrderAttributeData
{
    public LockOrderAttributeData(AttributeData attribute)
    {
        Attribute = attribute;
        Level = attribute.ConstructorArguments.Length == 1 && attribute.ConstructorArguments[0].Value is int level ? level : null;
    }

    public AttributeData Attribute { get; }

    /// <summary>The declared level, or null when the argument is missing or not an int (half-typed code).</summary>
    public int? Level { get; }

    /// <summary>Reads the <c>[LockOrder]</c> of <paramref name="symbol"/>, if it has one.</summary>
    public static LockOrderAttributeData? Of(ISymbol symbol) =>
        RuntimeSymbols.FindAttribute(symbol, KnownNames.LockOrderAttribute) is { } attribute ? new LockOrderAttributeData(attribute) : null;
}
