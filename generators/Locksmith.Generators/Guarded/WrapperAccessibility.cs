using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;

namespace Locksmith.Generators.Guarded;

/// <summary>
/// Which accessibility a wrapper may have: no type in its signature (return type, parameter types, constraint types,
/// with their type arguments, element types and containing types) may be less accessible than the wrapper itself,
/// or the compiler reports CS0050/CS0051/CS0703 in the generated file. The test is the compiler's own (a type is at
/// least as accessible as a member when its declared accessibility is implied by the member's or by one of the
/// member's containing types').
/// </summary>
internal static class WrapperAccessibility
{
    /// <summary>The accessibilities a wrapper may get, widest first, each with its keyword and <c>WrapperVisibility</c> name.</summary>
    public static readonly (Accessibility Accessibility, string Keyword, string VisibilityName)[] Candidates =
    [
        (Accessibility.Public, "public", "Public"),
        (Accessibility.ProtectedOrInternal, "protected internal", "ProtectedInternal"),
        (Accessibility.Internal, "internal", "Internal"),
        (Accessibility.Protected, "protected", "Protected"),
        (Accessibility.ProtectedAndInternal, "private protected", "PrivateProtected"),
        (Accessibility.Private, "private", "Private"),
    ];

    /// <summary>Whether members of <paramref name="container"/> may be protected (it can have derived types).</summary>
    public static bool AllowsProtected(INamedTypeSymbol container) =>
        container.TypeKind != TypeKind.Struct && !container.IsStatic && !container.IsSealed;

    /// <summary>The types of the wrapper's signature that carry accessibility.</summary>
    public static List<ITypeSymbol> SignatureTypes(IMethodSymbol method)
    {
        var types = new List<ITypeSymbol>();
        if (!method.ReturnsVoid)
        {
            types.Add(method.ReturnType);
        }

        types.AddRange(method.Parameters.Select(static p => p.Type));
        types.AddRange(method.TypeParameters.SelectMany(static p => p.ConstraintTypes));
        return types;
    }

    /// <summary>The first named type in <paramref name="types"/> less accessible than a wrapper of <paramref name="accessibility"/>, or null.</summary>
    public static INamedTypeSymbol? FirstLessAccessible(Accessibility accessibility, INamedTypeSymbol container, IEnumerable<ITypeSymbol> types) =>
        NamedTypes(types).FirstOrDefault(t => !IsAtLeastAsAccessible(t, accessibility, container));

    /// <summary>Every named type in <paramref name="types"/>: themselves, their type arguments, element types and containing types.</summary>
    public static List<INamedTypeSymbol> NamedTypes(IEnumerable<ITypeSymbol> types)
    {
        var named = new List<INamedTypeSymbol>();
        foreach (var type in types)
        {
            Collect(type, named, depth: 0);
        }

        return named;
    }

    private static void Collect(ITypeSymbol? type, List<INamedTypeSymbol> named, int depth)
    {
        if (type is null || depth > 64)
        {
            return;
        }

        switch (type)
        {
            case IArrayTypeSymbol array:
                Collect(array.ElementType, named, depth + 1);
                break;
            case IPointerTypeSymbol pointer:
                Collect(pointer.PointedAtType, named, depth + 1);
                break;
            case IFunctionPointerTypeSymbol functionPointer:
                Collect(functionPointer.Signature.ReturnType, named, depth + 1);
                foreach (var parameter in functionPointer.Signature.Parameters)
                {
                    Collect(parameter.Type, named, depth + 1);
                }

                break;
            case INamedTypeSymbol namedType:
                // A tuple's underlying ValueTuple carries its element types as type arguments.
                named.Add(namedType);
                Collect(namedType.ContainingType, named, depth + 1);
                foreach (var argument in namedType.TypeArguments)
                {
                    Collect(argument, named, depth + 1);
                }

                break;
        }
    }

    /// <summary>
    /// Whether <paramref name="type"/> is at least as accessible as a member of <paramref name="container"/> declared
    /// <paramref name="accessibility"/>: Roslyn's <c>IsAsRestrictive</c>, walking the member and then its containing types.
    /// </summary>
    private static bool IsAtLeastAsAccessible(INamedTypeSymbol type, Accessibility accessibility, INamedTypeSymbol container)
    {
        var declared = type.DeclaredAccessibility;
        if (declared is Accessibility.Public or Accessibility.NotApplicable || type.TypeKind == TypeKind.Error)
        {
            return true;
        }

        var parent1 = type.ContainingType;
        Accessibility current = accessibility;
        INamedTypeSymbol? currentContainer = container;
        while (true)
        {
            if (Restricts(declared, type, parent1, current, currentContainer, container.ContainingAssembly))
            {
                return true;
            }

            if (currentContainer is null)
            {
                return false;
            }

            current = currentContainer.DeclaredAccessibility;
            currentContainer = currentContainer.ContainingType;
        }
    }

    /// <summary>Whether a symbol declared <paramref name="acc2"/> inside <paramref name="parent2"/> is at least as restricted as <paramref name="type"/>.</summary>
    private static bool Restricts(
        Accessibility acc1, INamedTypeSymbol type, INamedTypeSymbol? parent1, Accessibility acc2, INamedTypeSymbol? parent2, IAssemblySymbol assembly2)
    {
        bool sameAssembly = HasInternalAccess(assembly2, type.ContainingAssembly);
        bool narrowerThanInternal = acc2 is Accessibility.Private or Accessibility.Internal or Accessibility.ProtectedAndInternal;
        switch (acc1)
        {
            case Accessibility.Internal:
                return narrowerThanInternal && sameAssembly;
            case Accessibility.ProtectedAndInternal:
                return narrowerThanInternal && sameAssembly && RestrictsProtected(parent1, acc2, parent2);
            case Accessibility.Protected:
                return RestrictsProtected(parent1, acc2, parent2);
            case Accessibility.ProtectedOrInternal:
                if (parent1 is null)
                {
                    return false;
                }

                return acc2 switch
                {
                    Accessibility.Private => sameAssembly || AnyContainerDerivesFrom(parent2, parent1),
                    Accessibility.Internal => sameAssembly,
                    Accessibility.Protected => parent2 is not null && DerivesFrom(parent2, parent1),
                    Accessibility.ProtectedAndInternal => sameAssembly || (parent2 is not null && DerivesFrom(parent2, parent1)),
                    Accessibility.ProtectedOrInternal => sameAssembly && parent2 is not null && DerivesFrom(parent2, parent1),
                    _ => false,
                };
            case Accessibility.Private:
                return acc2 == Accessibility.Private && (parent1 is null || AnyContainerIs(parent2, parent1));
            default:
                return false;
        }
    }

    private static bool RestrictsProtected(INamedTypeSymbol? parent1, Accessibility acc2, INamedTypeSymbol? parent2)
    {
        if (parent1 is null)
        {
            return false;
        }

        return acc2 switch
        {
            Accessibility.Private => AnyContainerDerivesFrom(parent2, parent1),
            Accessibility.Protected or Accessibility.ProtectedAndInternal => parent2 is not null && DerivesFrom(parent2, parent1),
            _ => false,
        };
    }

    /// <summary>Whether <paramref name="type"/> or a type containing it derives from (or is) <paramref name="baseType"/>.</summary>
    private static bool AnyContainerDerivesFrom(INamedTypeSymbol? type, INamedTypeSymbol baseType)
    {
        for (var current = type; current is not null; current = current.ContainingType)
        {
            if (DerivesFrom(current, baseType))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Whether <paramref name="type"/> or a type containing it is <paramref name="target"/>.</summary>
    private static bool AnyContainerIs(INamedTypeSymbol? type, INamedTypeSymbol target)
    {
        for (var current = type; current is not null; current = current.ContainingType)
        {
            if (SymbolEqualityComparer.Default.Equals(current.OriginalDefinition, target.OriginalDefinition))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Whether <paramref name="derived"/> is <paramref name="baseType"/> or derives from it.</summary>
    private static bool DerivesFrom(INamedTypeSymbol derived, INamedTypeSymbol baseType)
    {
        for (var current = derived; current is not null; current = current.BaseType)
        {
            if (SymbolEqualityComparer.Default.Equals(current.OriginalDefinition, baseType.OriginalDefinition))
            {
                return true;
            }
        }

        return false;
    }

    private static bool HasInternalAccess(IAssemblySymbol from, IAssemblySymbol? to) =>
        to is null || SymbolEqualityComparer.Default.Equals(from, to) || to.GivesAccessTo(from);
}
