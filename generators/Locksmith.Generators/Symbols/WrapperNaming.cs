using Microsoft.CodeAnalysis.CSharp;

namespace Locksmith.Generators.Symbols;

/// <summary>
/// The naming rule of wrappers, shared by the generator and the analyzers: a method <c>XxxCore</c> gets <c>Xxx</c>
/// and <c>TryXxx</c>; <c>WrapperName = "Yyy"</c> gives <c>Yyy</c> and <c>TryYyy</c>. A wrapper whose name already
/// starts with <c>Try</c> (<c>TryFind</c>) gets its timed form by suffix, <c>TryFindWithin</c>, not <c>TryTryFind</c>.
/// </summary>
internal static class WrapperNaming
{
    /// <summary>
    /// The wrapper's name, unescaped (a leading <c>@</c> of an explicit name is dropped), or null when the method
    /// neither ends in Core nor sets a wrapper name.
    /// </summary>
    public static string? WrapperName(string bodyName, string? explicitName)
    {
        if (explicitName is { Length: > 0 } name)
        {
            return name.Length > 1 && name[0] == '@' ? name.Substring(1) : name;
        }

        if (bodyName.Length > KnownNames.BodySuffix.Length && bodyName.EndsWith(KnownNames.BodySuffix, System.StringComparison.Ordinal))
        {
            return bodyName.Substring(0, bodyName.Length - KnownNames.BodySuffix.Length);
        }

        return null;
    }

    /// <summary>
    /// The async wrapper's name, unescaped: <c>XxxCoreAsync</c> and <c>XxxAsyncCore</c> give <c>XxxAsync</c>; an explicit
    /// name must end in <c>Async</c>. Null otherwise.
    /// </summary>
    public static string? AsyncWrapperName(string bodyName, string? explicitName)
    {
        if (explicitName is { Length: > 0 })
        {
            string? name = WrapperName(bodyName, explicitName);
            return name is not null && IsAsyncName(name) ? name : null;
        }

        if (bodyName.Length > KnownNames.AsyncBodySuffix.Length && bodyName.EndsWith(KnownNames.AsyncBodySuffix, System.StringComparison.Ordinal))
        {
            return bodyName.Substring(0, bodyName.Length - KnownNames.AsyncBodySuffix.Length) + KnownNames.AsyncSuffix;
        }

        return WrapperName(bodyName, null) is { } plain && IsAsyncName(plain) ? plain : null;
    }

    /// <summary>The wrapper name of a method, by the async rule when it gets async wrappers.</summary>
    public static string? WrapperName(string bodyName, string? explicitName, bool isAsync) =>
        isAsync ? AsyncWrapperName(bodyName, explicitName) : WrapperName(bodyName, explicitName);

    private static bool IsAsyncName(string name) =>
        name.Length > KnownNames.AsyncSuffix.Length && name.EndsWith(KnownNames.AsyncSuffix, System.StringComparison.Ordinal);

    /// <summary>
    /// The timed form's name: <c>Try</c> + the wrapper's name, or the wrapper's name + <c>Within</c> when it already
    /// starts with <c>Try</c> followed by anything but a lower-case letter (<c>TryFind</c>, <c>Try</c>; not <c>Trying</c>),
    /// before a final <c>Async</c>, which stays last as .NET names async methods (<c>TryFindWithinAsync</c>).
    /// </summary>
    public static string TryName(string wrapperName) =>
        !StartsWithTry(wrapperName) ? KnownNames.TryPrefix + wrapperName
        : IsAsyncName(wrapperName) ? wrapperName.Substring(0, wrapperName.Length - KnownNames.AsyncSuffix.Length) + KnownNames.TimedSuffix + KnownNames.AsyncSuffix
        : wrapperName + KnownNames.TimedSuffix;

    /// <summary>Whether <paramref name="name"/> is an identifier, keywords included (the emitter escapes them: <c>@event</c>).</summary>
    public static bool IsValidName(string name) => SyntaxFacts.IsValidIdentifier(name);

    /// <summary>A name the compiler warns may become a keyword (CS8981): lower-case ASCII letters only.</summary>
    public static bool IsLowerCaseName(string name)
    {
        foreach (char c in name)
        {
            if (c is < 'a' or > 'z')
            {
                return false;
            }
        }

        return name.Length > 0;
    }

    /// <summary>
    /// <paramref name="name"/> as C# text: <c>@</c> before a keyword, and before <c>await</c>, which the body may use as a
    /// name but an async wrapper may not (CS4003): there it is the operator. <c>@await</c> means the same name anywhere.
    /// </summary>
    public static string Escape(string name) =>
        SyntaxFacts.GetKeywordKind(name) != SyntaxKind.None || name == "await" ? "@" + name : name;

    private static bool StartsWithTry(string name) =>
        name.StartsWith(KnownNames.TryPrefix, System.StringComparison.Ordinal) &&
        (name.Length == KnownNames.TryPrefix.Length || !char.IsLower(name[KnownNames.TryPrefix.Length]));
}
