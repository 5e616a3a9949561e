using Microsoft.CodeAnalysis;

namespace Locksmith.Generators.Symbols;

/// <summary>Finds lock members by name and reads what is declared on them.</summary>
internal static class LockMembers
{
    private static readonly SymbolDisplayFormat s_declaredNameFormat =
        SymbolDisplayFormat.FullyQualifiedFormat.WithGlobalNamespaceStyle(SymbolDisplayGlobalNamespaceStyle.Omitted);

    /// <summary>
    /// The field or readable (non-indexer) property named <paramref name="name"/> in the type or a base type, or null: a
    /// base type's private member is not the type's to use (CS0122), nor is a property without a getter (CS0154).
    /// </summary>
    public static ISymbol? Find(ITypeSymbol? type, string? name)
    {
        if (string.IsNullOrEmpty(name))
        {
            return null;
        }

        bool inherited = false;
        for (var current = type; current is not null; current = current.BaseType, inherited = true)
        {
            foreach (var member in current.GetMembers(name!))
            {
                if (inherited && member.DeclaredAccessibility == Accessibility.Private)
                {
                    continue;
                }

                if (member is IFieldSymbol or IPropertySymbol { IsIndexer: false, GetMethod: not null })
                {
                    return member;
                }
            }
        }

        return null;
    }

    /// <summary>The type of a field or property, else null.</summary>
    public static ITypeSymbol? TypeOf(ISymbol? member) => member switch
    {
        IFieldSymbol field => field.Type,
        IPropertySymbol property => property.Type,
        _ => null,
    };

    /// <summary>The level of the member's <c>[LockOrder(level)]</c>, or null.</summary>
    public static int? LevelOf(ISymbol member) => LockOrderAttributeData.Of(member)?.Level;

    /// <summary>The name a generated wrapper declares the lock with: <c>Namespace.Type.member</c>.</summary>
    public static string DeclaredName(ISymbol member) =>
        member.ContainingType is { } type ? type.ToDisplayString(s_declaredNameFormat) + "." + member.Name : member.Name;
}
