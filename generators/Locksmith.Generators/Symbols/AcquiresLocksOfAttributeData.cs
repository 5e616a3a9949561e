using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;

namespace Locksmith.Generators.Symbols;

/// <summary>The arguments of an <c>[AcquiresLocksOf]</c> attribute; wrong-typed arguments read as unset.</summary>
internal readonly struct AcquiresLocksOfAttributeData
{
    public AcquiresLocksOfAttributeData(AttributeData attribute)
    {
        Attribute = attribute;
        var names = new List<string>();
        foreach (var item in attribute.ConstructorArguments.SelectMany(AttributeArguments.Items))
        {
            if (item.Value is string name)
            {
                names.Add(name);
            }
        }

        ParameterNames = names;
        Lock = AttributeArguments.String(attribute, KnownNames.LockProperty);
        TimeoutMilliseconds = AttributeArguments.Int(attribute, KnownNames.TimeoutProperty);
        WrapperName = AttributeArguments.String(attribute, KnownNames.WrapperNameProperty);
        Visibility = AttributeArguments.Int(attribute, KnownNames.VisibilityProperty);
        IsVisibilitySet = AttributeArguments.IsSet(attribute, KnownNames.VisibilityProperty);
        InvalidArguments = AttributeArguments.UndefinedEnumArguments(attribute);
    }

    public AttributeData Attribute { get; }

    public IReadOnlyList<string> ParameterNames { get; }

    public string? Lock { get; }

    public int TimeoutMilliseconds { get; }

    public string? WrapperName { get; }

    public int Visibility { get; }

    /// <summary>Whether <see cref="Visibility"/> is set explicitly; when it is not, the wrappers are clamped to their signature's accessibility.</summary>
    public bool IsVisibilitySet { get; }

    /// <summary>Enum arguments whose value is none of their enum's members (<c>Visibility = (WrapperVisibility)42</c>).</summary>
    public IReadOnlyList<EnumArgument> InvalidArguments { get; }

    /// <summary>Reads the <c>[AcquiresLocksOf]</c> of <paramref name="symbol"/>, if it has one.</summary>
    public static AcquiresLocksOfAttributeData? Of(ISymbol symbol) =>
        RuntimeSymbols.FindAttribute(symbol, KnownNames.AcquiresLocksOfAttribute) is { } attribute ? new AcquiresLocksOfAttributeData(attribute) : null;
}
