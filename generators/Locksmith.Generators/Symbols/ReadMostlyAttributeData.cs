using System.Collections.Generic;
using Microsoft.CodeAnalysis;

namespace Locksmith.Generators.Symbols;

/// <summary>The arguments of a <c>[ReadMostly]</c> attribute; a wrong-typed argument reads as unset.</summary>
internal readonly struct ReadMostlyAttributeData
{
    public ReadMostlyAttributeData(AttributeData attribute)
    {
        Attribute = attribute;
        Policy = AttributeArguments.Enum(attribute, KnownNames.PolicyProperty);
        InvalidArguments = AttributeArguments.UndefinedEnumArguments(attribute);
    }

    public AttributeData Attribute { get; }

    /// <summary>The <c>ReadWritePolicy</c> set by <c>Policy = …</c>, or null when it is not set (the attribute's default applies).</summary>
    public EnumArgument? Policy { get; }

    /// <summary>Enum arguments whose value is none of their enum's members (<c>Policy = (ReadWritePolicy)9</c>).</summary>
    public IReadOnlyList<EnumArgument> InvalidArguments { get; }

    /// <summary>Reads the <c>[ReadMostly]</c> of <paramref name="symbol"/>, if it has one.</summary>
    public static ReadMostlyAttributeData? Of(ISymbol symbol) =>
        RuntimeSymbols.FindAttribute(symbol, KnownNames.ReadMostlyAttribute) is { } attribute ? new ReadMostlyAttributeData(attribute) : null;
}
