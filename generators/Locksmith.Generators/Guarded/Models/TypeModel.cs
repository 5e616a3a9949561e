using Locksmith.Generators.Helpers;

namespace Locksmith.Generators.Guarded.Models;

/// <summary>One generated file: a type and the wrappers of all its guarded methods, in declaration order.</summary>
internal sealed record TypeModel(string HintName, string? Namespace, EquatableArray<TypeDeclarationModel> Declarations, EquatableArray<WrapperModel> Wrappers);
