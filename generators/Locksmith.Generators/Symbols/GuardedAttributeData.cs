using Microsoft.CodeAnalysis;

namespace Locksmith.Generators.Symbols;

/// <summary>
/// The arguments of a <c>[Guarded]</c> attribute. An argument of the wrong type (half-typed code) reads as unset,
/// so later checks report it instead of the generator failing.
/// </summary>
internal readonly struct GuardedAttributeData
{
    public GuardedAttributeData(AttributeData attribute)
    {
        Attribute = attribute;
        Lock = AttributeArguments.String(attribute, KnownNames.LockProperty);
        IsRead = AttributeArguments.Int(attribute, KnownNames.AccessProperty) == 1;
        StripeBy = AttributeArguments.String(attribute, KnownNames.StripeByProperty);
        TimeoutMilliseconds = AttributeArguments.Int(attribute, KnownNames.TimeoutProperty);
        WrapperName = AttributeArguments.String(attribute, KnownNames.WrapperNameProperty);
        Visibility = AttributeArguments.Int(attribute, KnownNames.VisibilityProperty);
        IsVisibilitySet = AttributeArguments.IsSet(attribute, KnownNames.VisibilityProperty);
    }

    public AttributeData Attribute { get; }

    public string? Lock { get; }

    public bool IsRead { get; }

    public string? StripeBy { get; }

    public int TimeoutMilliseconds { get; }

    public string? WrapperName { get; }

    public int Visibility { get; }

    /// <summary>Whether <see cref="Visibility"/> is set explicitly; when it is not, the wrappers are clamped to their signature's accessibility.</summary>
    public bool IsVisibilitySet { get; }

    /// <summary>Reads the <c>[Guarded]</c> of <paramref name="symbol"/>, if it has one.</summary>
    public static GuardedAttributeData? Of(ISymbol symbol) =>
        RuntimeSymbols.FindAttribute(symbol, KnownNames.GuardedAttribute) is { } attribute ? new GuardedAttributeData(attribute) : null;
}
