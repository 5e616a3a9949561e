using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Locksmith.Generators.Symbols;

/// <summary>Finds lock members by name and reads what is declared on them.</summary>
internal static class LockMembers
{
    private static readonly SymbolDisplayFormat s_declaredNameFormat =
        SymbolDisplayFormat.FullyQualifiedFormat.WithGlobalNamespaceStyle(SymbolDisplayGlobalNamespaceStyle.Omitted);

    /// <summary>
    /// The field or readable (non-indexer) property named <paramref name="name"/> in the type or a base type (for a type
    /// parameter, in its constraint types), or null: a base type's member the type cannot reach is not the type's to use
    /// (CS0122: private, or internal or private protected in another assembly that gives it no access), nor is a
    /// property without a getter (CS0154).
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
            var found = LevelMember(type!, current, name!, inherited, out var other);
            if (other is not null)
            {
                // 'this.Gate' would be that member (or ambiguous), not a lock: a wrapper written with it would not compile.
                return null;
            }

            if (found is not null)
            {
                return found;
            }
        }

        return null;
    }

    /// <summary>
    /// The member named <paramref name="name"/> that hides a lock member the type could otherwise use (C# member lookup
    /// stops at the first type declaring the name, whatever the member's kind: a method, a nested type, a property without
    /// a getter; or a second member of the name beside the lock, CS0102), and that lock; null when none is hidden. For advice only.
    /// </summary>
    public static (ISymbol Hider, ISymbol Lock)? FindHidden(INamedTypeSymbol type, string name)
    {
        ISymbol? hider = null;
        bool inherited = false;
        for (ITypeSymbol? current = type; current is not null; current = current.BaseType, inherited = true)
        {
            var found = LevelMember(type, current, name, inherited, out var other);
            hider ??= other;
            if (found is not null)
            {
                return hider is null ? null : (hider, found);
            }
        }

        return null;
    }

    /// <summary>
    /// The field or readable property named <paramref name="name"/> that <paramref name="level"/>, the type or one of its
    /// base types, declares and the type reaches; <paramref name="other"/> is any other member of that name it declares
    /// (the compiler's own members, such as a field-like event's backing field, aside).
    /// </summary>
    private static ISymbol? LevelMember(ITypeSymbol type, ITypeSymbol level, string name, bool inherited, out ISymbol? other)
    {
        ISymbol? found = null;
        other = null;
        foreach (var member in level.GetMembers(name))
        {
            if (inherited && !InheritedReaches(type, member))
            {
                continue;
            }

            if (found is null && member is IFieldSymbol or IPropertySymbol { IsIndexer: false, GetMethod: not null })
            {
                found = member;
            }
            else if (!member.IsImplicitlyDeclared)
            {
                other ??= member;
            }
        }

        return found;
    }

    /// <summary>
    /// The lock-shaped member named <paramref name="name"/> of a base type that <paramref name="type"/> inherits but
    /// cannot reach (<see cref="Find"/> passes it by), when there is no member it can reach; else null. For advice only.
    /// </summary>
    public static ISymbol? FindUnreachable(INamedTypeSymbol type, string name)
    {
        for (var current = type.BaseType; current is not null; current = current.BaseType)
        {
            foreach (var member in current.GetMembers(name))
            {
                if (!InheritedReaches(type, member) && member is IFieldSymbol or IPropertySymbol { IsIndexer: false, GetMethod: not null })
                {
                    return member;
                }
            }
        }

        return null;
    }

    /// <summary>
    /// Whether code of <paramref name="type"/> reaches <paramref name="member"/> of a base type through <c>this</c>: not
    /// when it is private, nor when it is internal or private protected in another assembly that does not give the
    /// type's assembly access ([InternalsVisibleTo]). A member it cannot reach is neither its to use nor one it hides.
    /// </summary>
    public static bool InheritedReaches(ITypeSymbol type, ISymbol member) => member.DeclaredAccessibility switch
    {
        Accessibility.Private => false,
        Accessibility.Internal or Accessibility.ProtectedAndInternal =>
            type.ContainingAssembly is not { } own || member.ContainingAssembly is not { } other ||
            SymbolEqualityComparer.Default.Equals(own, other) || other.GivesAccessTo(own),
        _ => true,
    };

    /// <summary>
    /// The type, as C# writes it in the type's scope, of the parameter named <paramref name="name"/> of
    /// <paramref name="type"/>'s primary constructor (C# 12 classes and structs; a record's becomes a property), else null.
    /// </summary>
    public static string? PrimaryConstructorParameterType(INamedTypeSymbol type, string name)
    {
        foreach (var constructor in type.InstanceConstructors)
        {
            // A primary constructor is declared by the type declaration itself, not by a constructor declaration.
            if (constructor.DeclaringSyntaxReferences.Any(static r => r.GetSyntax() is TypeDeclarationSyntax) &&
                constructor.Parameters.FirstOrDefault(p => p.Name == name) is { } parameter)
            {
                return parameter.Type.ToDisplayString(SymbolDisplayFormat.MinimallyQualifiedFormat);
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
    /// overrides or implements (an interface or base property that declares one), or of the member it returns
    /// (<see cref="ForwardedTo"/>); for a member without one, the level of a property of its type that returns it. So
    /// a lock has one level whichever member a wrapper reaches it through; else null.
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

        if (ForwardedTo(member) is { } target)
        {
            return LevelOf(target);
        }

        foreach (var (_, level) in ForwardersWithLevels(member))
        {
            return level;
        }

        return null;
    }

    /// <summary>
    /// The lock member that <paramref name="member"/>, a property, merely returns (<c>Gate =&gt; _lock</c>,
    /// <c>get { return this._lock; }</c>, through further such properties), or null: then the lock is that member's,
    /// and wrappers declare it by that member's name and level. Read from syntax only, so it follows plain names of
    /// the property's own type (or its bases) and nothing an override could replace.
    /// </summary>
    public static ISymbol? ForwardedTo(ISymbol member)
    {
        ISymbol? target = null;
        for (int hops = 0; hops < 8 && member is IPropertySymbol property && ReturnedMember(property) is { } next; hops++)
        {
            target = member = next;
        }

        return target;
    }

    /// <summary>
    /// The properties of <paramref name="member"/>'s type that return it (<see cref="ForwardedTo"/>) and declare a
    /// <c>[LockOrder]</c> level, with it; a field's wrappers take that level, as the property's wrappers do.
    /// </summary>
    public static System.Collections.Generic.IEnumerable<(IPropertySymbol Member, int Level)> ForwardersWithLevels(ISymbol member)
    {
        if (member is not (IFieldSymbol or IPropertySymbol) || member.ContainingType is not { } type)
        {
            yield break;
        }

        foreach (var candidate in type.GetMembers())
        {
            if (candidate is IPropertySymbol property && !SymbolEqualityComparer.Default.Equals(property, member) &&
                LockOrderAttributeData.Of(property)?.Level is { } level &&
                SymbolEqualityComparer.Default.Equals(ForwardedTo(property), member))
            {
                yield return (property, level);
            }
        }
    }

    /// <summary>Whether a property computes its lock: it has a body (no backing field) that does not merely return a member.</summary>
    public static bool IsComputed(ISymbol member) =>
        member is IPropertySymbol property && !property.IsAbstract && ForwardedTo(property) is null && !HasBackingField(property) &&
        property.ContainingType?.TypeKind != TypeKind.Interface;

    private static bool HasBackingField(IPropertySymbol property)
    {
        foreach (var field in property.ContainingType.GetMembers())
        {
            if (field is IFieldSymbol { AssociatedSymbol: { } associated } && SymbolEqualityComparer.Default.Equals(associated, property))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The member a property's getter returns by a plain name (<c>_lock</c>, <c>this._lock</c>), or null.</summary>
    private static ISymbol? ReturnedMember(IPropertySymbol property)
    {
        // An implementation or override may return another lock than this body does. A partial property's body is on
        // its implementing declaration ('nameof' and the member lookup find the defining one).
        var body = property.PartialImplementationPart ?? property;
        if (MayBeSuppliedElsewhere(property) || body.DeclaringSyntaxReferences.Length != 1 ||
            body.DeclaringSyntaxReferences[0].GetSyntax() is not PropertyDeclarationSyntax declaration)
        {
            return null;
        }

        var getter = declaration.AccessorList?.Accessors.FirstOrDefault(static a => a.IsKind(SyntaxKind.GetAccessorDeclaration));
        var returned = declaration.ExpressionBody?.Expression
            ?? getter?.ExpressionBody?.Expression
            ?? (getter?.Body?.Statements is [ReturnStatementSyntax { Expression: { } expression }] ? expression : null);
        string? name = returned switch
        {
            IdentifierNameSyntax identifier => identifier.Identifier.ValueText,
            MemberAccessExpressionSyntax { Expression: ThisExpressionSyntax, Name: IdentifierNameSyntax identifier } => identifier.Identifier.ValueText,
            _ => null,
        };
        if (name is null || name == property.Name || Find(property.ContainingType, name) is not { } target ||
            target.IsStatic != property.IsStatic || !SymbolEqualityComparer.Default.Equals(TypeOf(target), property.Type))
        {
            return null;
        }

        return target;
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
    /// The source-declared members above <paramref name="member"/> that declare no level while nothing on their path
    /// does: the interface properties it implements and the root of the properties it overrides. Wrappers reaching the
    /// lock through them do not declare it (see <see cref="MayBeSuppliedElsewhere"/>).
    /// </summary>
    public static System.Collections.Generic.IEnumerable<IPropertySymbol> UndeclaredMembersAbove(ISymbol member)
    {
        if (member is not IPropertySymbol property)
        {
            yield break;
        }

        IPropertySymbol? root = null;
        for (var overridden = property.OverriddenProperty; overridden is not null; overridden = overridden.OverriddenProperty)
        {
            if (LockOrderAttributeData.Of(overridden)?.Level is not null)
            {
                root = null;
                break;
            }

            root = overridden;
        }

        if (root is not null && IsInSource(root))
        {
            yield return root;
        }

        foreach (var implemented in ImplementedProperties(property))
        {
            if (LockOrderAttributeData.Of(implemented)?.Level is null && IsInSource(implemented))
            {
                yield return implemented;
            }
        }
    }

    /// <summary>Whether a property implements an interface property or overrides a base one, so wrappers may reach its lock through that.</summary>
    public static bool IsReachableAbove(ISymbol member) =>
        member is IPropertySymbol property && (property.OverriddenProperty is not null || ImplementedProperties(property).Any());

    private static bool IsInSource(ISymbol symbol) => symbol.Locations.Any(static l => l.IsInSource);

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
