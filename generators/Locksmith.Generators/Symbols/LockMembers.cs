using Microsoft.CodeAnalysis;

namespace Locksmith.Generators.Symbols;

/// <summary>Finds lock members by name and reads what is declared on them.</summary>
internal static class LockMembers
{
    private static readonly SymbolDisplayFormat s_declaredNameFormat =
        SymbolDisplayFormat.FullyQualifiedFormat.WithGlobalNamespaceStyle(SymbolDisplayGlobalNamespaceStyle.Omitted);

    /// <summary>
    /// The field or readable (non-indexer) property named <paramref name="name"/> in the type or a base type (for a type
    /// parameter, in its constraint types), or null: a base type's private member is not the type's to use (CS0122), nor
    /// is a property without a getter (CS0154).
    /// </summary>
    public static ISymbol? Find(ITypeSymbol? type, string? name)
    {
        if (string.IsNullOrEmpty(name))
        {
            return null;
        }

        // A type parameter has the members of its constraints ('T x' where T : Account has x._lock).
        if (type is ITypeParameterSymbol parameter)
        {
            foreach (var constraint in parameter.ConstraintTypes)
            {
                if (Find(constraint, name) is { } constrained)
                {
                    return constrained;
                }
            }

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

    /// <summary>
    /// The level of the member's <c>[LockOrder(level)]</c>; for a property without one, the level of the member it
    /// overrides or implements (an interface or base property that declares one), which is the lock's level whichever
    /// of them a wrapper reaches it through; else null.
    /// </summary>
    public static int? LevelOf(ISymbol member)
    {
        if (LockOrderAttributeData.Of(member) is { } own)
        {
            return own.Level;
        }

        foreach (var (_, level) in DeclaredLevelsAbove(member))
        {
            return level;
        }

        return null;
    }

    /// <summary>
    /// The members above <paramref name="member"/> that declare a <c>[LockOrder]</c> level, with it: the properties it
    /// overrides (nearest first) and the interface properties it implements, explicitly or implicitly.
    /// </summary>
    public static System.Collections.Generic.IEnumerable<(IPropertySymbol Member, int Level)> DeclaredLevelsAbove(ISymbol member)
    {
        if (member is not IPropertySymbol property)
        {
            yield break;
        }

        for (var overridden = property.OverriddenProperty; overridden is not null; overridden = overridden.OverriddenProperty)
        {
            if (LockOrderAttributeData.Of(overridden)?.Level is { } level)
            {
                yield return (overridden, level);
                break;
            }
        }

        foreach (var implemented in ImplementedProperties(property))
        {
            if (LockOrderAttributeData.Of(implemented)?.Level is { } level)
            {
                yield return (implemented, level);
            }
        }
    }

    /// <summary>
    /// Whether the lock a member gives may be another member's: an interface member, or an abstract, virtual or
    /// (unsealed) override property, whose implementation or override supplies the lock and may declare its level.
    /// </summary>
    public static bool MayBeSuppliedElsewhere(ISymbol member) =>
        member is IPropertySymbol property &&
        (property.ContainingType?.TypeKind == TypeKind.Interface || property.IsAbstract || property.IsVirtual ||
         (property.IsOverride && !property.IsSealed && property.ContainingType?.IsSealed == false));

    private static System.Collections.Generic.IEnumerable<IPropertySymbol> ImplementedProperties(IPropertySymbol property)
    {
        foreach (var explicitly in property.ExplicitInterfaceImplementations)
        {
            yield return explicitly;
        }

        if (property.ContainingType is not { } type || property.IsStatic || property.ExplicitInterfaceImplementations.Length > 0)
        {
            yield break;
        }

        foreach (var @interface in type.AllInterfaces)
        {
            foreach (var candidate in @interface.GetMembers(property.Name))
            {
                if (candidate is IPropertySymbol { IsStatic: false } interfaceProperty &&
                    SymbolEqualityComparer.Default.Equals(type.FindImplementationForInterfaceMember(interfaceProperty), property))
                {
                    yield return interfaceProperty;
                }
            }
        }
    }

    /// <summary>The name a generated wrapper declares the lock with: <c>Namespace.Type.member</c>.</summary>
    public static string DeclaredName(ISymbol member) =>
        member.ContainingType is { } type ? type.ToDisplayString(s_declaredNameFormat) + "." + member.Name : member.Name;
}
