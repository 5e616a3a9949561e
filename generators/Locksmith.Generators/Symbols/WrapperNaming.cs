using Microsoft.CodeAnalysis.CSharp;

namespace Locksmith.Generators.Symbols;

/// <summary>
/// The naming rule of wrappers, shared by the generator and the analyzers: a method <c>XxxCore</c> gets <c>Xxx</c>
/// and <c>TryXxx</c>; <c>WrapperName = "Yyy"</c> gives <c>Yyy</c> and <c>TryYyy</c>.
/// </summary>
internal static class WrapperNaming
{
    /// <summary>The wrapper's name, or null when the method neither ends in Core nor sets a wrapper name.</summary>
    public static string? WrapperName(string bodyName, string? explicitName)
    {
        if (!string.IsNullOrEmpty(explicitName))
        {
            return explicitName;
        }

        if (bodyName.Length > KnownNames.BodySuffix.Length && bodyName.EndsWith(KnownNames.BodySuffix, System.StringComparison.Ordinal))
        {
            return bodyName.Substring(0, bodyName.Length - KnownNames.BodySuffix.Length);
        }

        return null;
    }

    /// <summary>The timed form's name.</summary>
    public static string TryName(string wrapperName) => KnownNames.TryPrefix + wrapperName;

    /// <summary>Whether <paramref name="name"/> is a plain identifier (keywords excluded).</summary>
    public static bool IsValidName(string name) =>
        SyntaxFacts.IsValidIdentifier(name) && SyntaxFacts.GetKeywordKind(name) == SyntaxKind.None;
}
