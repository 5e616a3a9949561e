using Microsoft.CodeAnalysis;

namespace Locksmith.Generators.Symbols;

/// <summary>Reads named attribute arguments defensively: a missing or wrong-typed argument reads as unset.</summary>
internal static class AttributeArguments
{
    public static string? String(AttributeData attribute, string name) => Named(attribute, name) as string;

    public static int Int(AttributeData attribute, string name) => Named(attribute, name) is int value ? value : 0;

    /// <summary>Whether the attribute sets <paramref name="name"/> explicitly (to a value of the right kind).</summary>
    public static bool IsSet(AttributeData attribute, string name) => Named(attribute, name) is not null;

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
