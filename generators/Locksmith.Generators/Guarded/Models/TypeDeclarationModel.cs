namespace Locksmith.Generators.Guarded.Models;

/// <summary>One type of the chain that contains a guarded method, as the emitter re-declares it: <c>partial {Keyword} {Name}</c>.</summary>
/// <param name="Keyword">The declaration keyword(s) after <c>partial</c>: <c>class</c>, <c>struct</c>, <c>record</c>, <c>record struct</c>.</param>
/// <param name="Name">The name with its type parameter list, e.g. <c>Cache&lt;TKey&gt;</c>.</param>
/// <param name="Prefix">Modifiers written before <c>partial</c> (<c>ref</c> for a ref struct), or empty.</param>
/// <param name="HasLowerCaseName">
/// Whether the type's name or a type parameter's is lower-case ASCII letters only (CS8981, which the user's declaration
/// already carries and the re-declaration must not repeat).
/// </param>
internal sealed record TypeDeclarationModel(string Keyword, string Name, string Prefix, bool HasLowerCaseName);
