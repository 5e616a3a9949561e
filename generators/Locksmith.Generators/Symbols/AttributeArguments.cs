using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using Microsoft.CodeAnalysis;

namespace Locksmith.Generators.Symbols;

/// <summary>Reads named attribute arguments defensively: a missing or wrong-typed argument reads as unset.</summary>
internal static class AttributeArguments
{
    public static string? String(AttributeData attribute, string name) => Named(attribute, name) as string;

    /// <summary>
    /// A constructor argument's values: an array's items (none for a null array, <c>[AcquiresLocksOf(null)]</c>, whose
    /// <see cref="TypedConstant.Values"/> is a default array that throws when read), or the argument itself.
    /// </summary>
    public static IEnumerable<TypedConstant> Items(TypedConstant argument) =>
        argument.Kind != TypedConstantKind.Array ? new[] { argument } : argument.IsNull ? Array.Empty<TypedConstant>() : argument.Values;

    public static int Int(AttributeData attribute, string name) => Named(attribute, name) is int value ? value : 0;

    /// <summary>Whether the attribute sets <paramref name="name"/> explicitly (to a value of the right kind).</summary>
    public static bool IsSet(AttributeData attribute, string name) => Named(attribute, name) is not null;

    /// <summary>The enum argument <paramref name="name"/>, or null when it is not set (or not an enum constant).</summary>
    public static EnumArgument? Enum(AttributeData attribute, string name)
    {
        foreach (var argument in attribute.NamedArguments)
        {
            if (argument.Key == name && EnumArgument.From(argument.Key, argument.Value) is { } value)
            {
                return value;
            }
        }

        return null;
    }

    /// <summary>
    /// The enum arguments whose value is none of their enum's members (<c>Access = (LockAccess)99</c>). The compiler
    /// accepts such a cast, and the generator would otherwise quietly read it as some default.
    /// </summary>
    public static IReadOnlyList<EnumArgument> UndefinedEnumArguments(AttributeData attribute)
    {
        List<EnumArgument>? invalid = null;
        foreach (var argument in attribute.NamedArguments)
        {
            if (EnumArgument.From(argument.Key, argument.Value) is { IsDefined: false } value)
            {
                (invalid ??= []).Add(value);
            }
        }

        return invalid ?? (IReadOnlyList<EnumArgument>)Array.Empty<EnumArgument>();
    }

    private static object? Named(AttributeData attribute, string name)
    {
        foreach (var argument in attribute.NamedArguments)
        {
            if (argument.Key == name && argument.Value.Kind is TypedConstantKind.Primitive or TypedConstantKind.Enum)
            {
                return argument.Value.Value;
            }
        }

        return null;
    }
}

/// <summary>A named enum argument of an attribute, with the enum member its value stands for (if any).</summary>
internal sealed class EnumArgument
{
    private EnumArgument(string name, INamedTypeSymbol enumType, object value, IFieldSymbol? member)
    {
        Name = name;
        EnumType = enumType;
        Value = value;
        Member = member;
    }

    /// <summary>The argument's name, e.g. <c>Access</c>.</summary>
    public string Name { get; }

    public INamedTypeSymbol EnumType { get; }

    /// <summary>The value, boxed as the enum's underlying type.</summary>
    public object Value { get; }

    /// <summary>The enum member of that value, or null when the value is none of them.</summary>
    public IFieldSymbol? Member { get; }

    /// <summary>Whether the value is one of the enum's members ([Flags] enums: always).</summary>
    public bool IsDefined => Member is not null || IsFlags(EnumType);

    /// <summary>The value as a message shows it.</summary>
    public string ValueText => Convert.ToString(Value, CultureInfo.InvariantCulture) ?? string.Empty;

    /// <summary>The members a message offers instead: <c>LockAccess.Write, LockAccess.Read</c>.</summary>
    public string ValidMembers => string.Join(", ", Members(EnumType).Select(f => EnumType.Name + "." + f.Name));

    /// <summary>The argument as an enum argument, or null when it is not an enum constant.</summary>
    public static EnumArgument? From(string name, TypedConstant constant)
    {
        if (constant.Kind != TypedConstantKind.Enum || constant.Value is null || constant.Type is not INamedTypeSymbol { TypeKind: TypeKind.Enum } enumType)
        {
            return null;
        }

        var member = Members(enumType).FirstOrDefault(f => Equals(f.ConstantValue, constant.Value));
        return new EnumArgument(name, enumType, constant.Value, member);
    }

    private static IEnumerable<IFieldSymbol> Members(INamedTypeSymbol enumType) =>
        enumType.GetMembers().OfType<IFieldSymbol>().Where(static f => f.HasConstantValue);

    private static bool IsFlags(INamedTypeSymbol enumType) =>
        enumType.GetAttributes().Any(static a => a.AttributeClass is { Name: "FlagsAttribute" } flags && flags.ContainingNamespace?.ToDisplayString() == "System");
}
