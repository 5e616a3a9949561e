using System.Collections.Generic;
using Microsoft.CodeAnalysis;

namespace Locksmith.Generators.Symbols;

/// <summary>
/// The arguments of a <c>[Guarded]</c> attribute. An argument of the wrong type (half-typed code) reads as unset,
/// so later checks report it instead of the generator failing.
/// </summary>
internal readonly struct GuardedAttributeData
{
    private const string ReadAccess = "Read";

    public GuardedAttributeData(AttributeData attribute)
    {
        Attribute = attribute;
        Lock = AttributeArguments.String(attribute, KnownNames.LockProperty);
        Access = AttributeArguments.Enum(attribute, KnownNames.AccessProperty);
        IsRead = Access is { IsDefined: true, Member.Name: ReadAccess };
        StripeBy = AttributeArguments.String(attribute, KnownNames.StripeByProperty);
        TimeoutMilliseconds = AttributeArguments.Int(attribute, KnownNames.TimeoutProperty);
        WrapperName = AttributeArguments.String(attribute, KnownNames.WrapperNameProperty);
        Visibility = AttributeArguments.Int(attribute, KnownNames.VisibilityProperty);
        IsVisibilitySet = AttributeArguments.IsSet(attribute, KnownNames.VisibilityProperty);
        InvalidArguments = AttributeArguments.UndefinedEnumArguments(attribute);
    }

    public AttributeData Attribute { get; }

    public string? Lock { get; }

    /// <summary>The <c>LockAccess</c> set by <c>Access = …</c>, or null when it is not set (write access).</summary>
    public EnumArgument? Access { get; }

    /// <summary>Whether <c>Access = LockAccess.Read</c>.</summary>
    public bool IsRead { get; }

    public string? StripeBy { get; }

    public int TimeoutMilliseconds { get; }

    public string? WrapperName { get; }

    public int Visibility { get; }

    /// <summary>Whether <see cref="Visibility"/> is set explicitly; when it is not, the wrappers are clamped to their signature's accessibility.</summary>
    public bool IsVisibilitySet { get; }

    /// <summary>Enum arguments whose value is none of their enum's members (<c>Access = (LockAccess)99</c>).</summary>
    public IReadOnlyList<EnumArgument> InvalidArguments { get; }

    /// <summary>Reads the <c>[Guarded]</c> of <paramref name="symbol"/>, if it has one.</summary>
    public static GuardedAttributeData? Of(ISymbol symbol) =>
        RuntimeSymbols.FindAttribute(symbol, KnownNames.GuardedAttribute) is { } attribute ? new GuardedAttributeData(attribute) : null;
}
