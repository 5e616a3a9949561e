using Locksmith.Generators.Helpers;

namespace Locksmith.Generators.Guarded.Models;

/// <summary>The type that receives wrappers: where it lives and how to re-declare it and its containing types.</summary>
/// <param name="HintName">The generated file's hint name, <c>Namespace.Type.Locksmith.g.cs</c>.</param>
/// <param name="Namespace">The namespace, or null for the global namespace.</param>
/// <param name="Declarations">The type and its containing types, outermost first.</param>
/// <param name="QualifiedName">The type as fully qualified C# text, for calls to static members.</param>
internal sealed record TypeModelKey(string HintName, string? Namespace, EquatableArray<TypeDeclarationModel> Declarations, string QualifiedName);
