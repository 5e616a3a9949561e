using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Locksmith.Generators.Symbols;

/// <summary>
/// How messages name symbols: <c>Type.Member</c>, and never an empty name. Lambdas, local functions and the
/// (unnamed) types of C# 14 extension blocks get a name a reader can find in the source.
/// </summary>
internal static class SymbolNames
{
    /// <summary>
    /// <c>Type.Member</c>; a local function as <c>Type.Method.Local</c>, a lambda as <c>lambda in Type.Method</c>; the
    /// top-level statements as <c>top-level statements in Program.cs</c>.
    /// </summary>
    public static string Display(ISymbol symbol)
    {
        if (symbol is IMethodSymbol { MethodKind: MethodKind.AnonymousFunction or MethodKind.LambdaMethod } lambda)
        {
            return "lambda in " + (lambda.ContainingSymbol is { } owner && owner is not INamespaceSymbol ? Display(owner) : "an initializer");
        }

        // The compiler's method for top-level statements has a name no user wrote or can find ('Program.<Main>$').
        if (symbol is IMethodSymbol { Name: WellKnownMemberNames.TopLevelStatementsEntryPointMethodName } entry)
        {
            return entry.Locations.FirstOrDefault(static l => l.IsInSource)?.SourceTree?.FilePath is { Length: > 0 } path
                ? "top-level statements in " + path.Substring(path.LastIndexOfAny(['/', '\\']) + 1)
                : "top-level statements";
        }

        if (symbol is IMethodSymbol { MethodKind: MethodKind.LocalFunction } local && local.ContainingSymbol is IMethodSymbol outer)
        {
            return outer.Name == WellKnownMemberNames.TopLevelStatementsEntryPointMethodName
                ? NameOf(local) + " in " + Display(outer)
                : Display(outer) + "." + NameOf(local);
        }

        if (symbol is INamedTypeSymbol type)
        {
            return TypeName(type);
        }

        return symbol.ContainingType is { } containing ? TypeName(containing) + "." + NameOf(symbol) : NameOf(symbol);
    }

    /// <summary>The name as C# declares it: a constructor by its type's name (not <c>.ctor</c>), else the symbol's name.</summary>
    private static string NameOf(ISymbol symbol) => symbol switch
    {
        IMethodSymbol { MethodKind: MethodKind.Constructor or MethodKind.StaticConstructor or MethodKind.Destructor, ContainingType: { } type } method =>
            (method.MethodKind == MethodKind.Destructor ? "~" : string.Empty) + TypeName(type),
        _ when symbol.Name.Length > 0 => symbol.Name,
        _ => symbol.ToDisplayString(),
    };

    /// <summary>A type's simple name; an extension block as <c>Owner.extension(Receiver r)</c>.</summary>
    public static string TypeName(INamedTypeSymbol type)
    {
        if (IsExtensionBlock(type))
        {
            string owner = type.ContainingType is { } containing ? TypeName(containing) + "." : string.Empty;
            return owner + "extension" + ExtensionParameters(type);
        }

        return type.Name.Length > 0 ? type.Name : type.ToDisplayString();
    }

    /// <summary>The extension block <paramref name="symbol"/> is declared in (directly or through a local function or lambda), or null.</summary>
    public static INamedTypeSymbol? ExtensionBlockOf(ISymbol symbol)
    {
        for (var type = symbol as INamedTypeSymbol ?? symbol.ContainingType; type is not null; type = type.ContainingType)
        {
            if (IsExtensionBlock(type))
            {
                return type;
            }
        }

        return null;
    }

    private static bool IsExtensionBlock(INamedTypeSymbol type) => type.TypeKind == TypeKind.Extension;


    private static string ExtensionParameters(INamedTypeSymbol extension)
    {
        foreach (var reference in extension.DeclaringSyntaxReferences)
        {
            if (reference.GetSyntax(CancellationToken.None) is TypeDeclarationSyntax { ParameterList: { } parameters })
            {
                return parameters.ToString();
            }
        }

        return "(…)";
    }
}
