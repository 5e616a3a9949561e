using System;
using Locksmith.Generators.Symbols;
using Microsoft.CodeAnalysis;

namespace Locksmith.Generators.Guarded;

public sealed partial class GuardedGenerator
{
    internal static partial class Parser
    {
        /// <summary>
        /// LSM0014's reason and fix for a method that gets no wrapper name: the names to rename it to are built from its
        /// stem (the name without the <c>Core</c> and <c>Async</c> suffixes it already has), so <c>GetAsync</c> is told
        /// <c>GetCoreAsync</c>, not <c>GetAsyncCoreAsync</c>, and a name that is only suffixes (<c>CoreAsync</c>) is told so.
        /// </summary>
        private static string NamingProblem(IMethodSymbol method, string? explicitWrapperName, bool isAsync)
        {
            string name = method.Name;
            string stem = Stem(name);

            // A method that already has its wrapper's name is the natural case: callers call it, so it becomes the core
            // and the wrapper takes its name (and its callers), which only works when the core is no longer theirs to call.
            string privately = method.DeclaredAccessibility != Accessibility.Private && !method.IsAbstract && !method.IsVirtual && !method.IsOverride
                ? " and make it private"
                : string.Empty;
            if (!isAsync)
            {
                return name == KnownNames.BodySuffix
                    ? $"'{name}' is only the suffix 'Core', which leaves no name for the wrapper; set WrapperName = \"...\" or rename it to 'XxxCore' (the wrapper is then 'Xxx')"
                    : $"'{name}' does not end in 'Core'; rename it to '{name}{KnownNames.BodySuffix}'{privately} (the wrapper '{name}' then takes the lock for its callers), or set WrapperName = \"...\"";
            }

            string? unescaped = explicitWrapperName is { Length: > 0 } ? WrapperNaming.WrapperName(name, explicitWrapperName) : null;
            string suggested = WrapperNaming.AsyncWrapperName(name, null) ?? (stem.Length > 0 ? stem + KnownNames.AsyncSuffix : "XxxAsync");
            if (unescaped == KnownNames.AsyncSuffix)
            {
                return $"its async wrapper's name '{explicitWrapperName}' is only the suffix 'Async', which leaves no name; set WrapperName = \"{suggested}\" or another name ending in 'Async'";
            }

            if (explicitWrapperName is { Length: > 0 })
            {
                return $"its async wrapper's name '{explicitWrapperName}' does not end in 'Async'; set WrapperName = \"{explicitWrapperName}Async\"";
            }

            if (stem.Length == 0)
            {
                return $"'{name}' is only the suffixes of a core ('Core', 'Async'), which leave no name for the async wrapper; rename it to 'XxxCoreAsync' (the wrapper is then 'XxxAsync'), or set WrapperName = \"XxxAsync\"";
            }

            string wrapper = stem + KnownNames.AsyncSuffix;
            return name == wrapper
                ? $"'{name}' gets async wrappers, and '{wrapper}' is the name of its wrapper; rename it to '{stem}{KnownNames.AsyncBodySuffix}'{privately} (the wrapper '{wrapper}' then takes the lock for its callers)"
                : $"'{name}' gets async wrappers, whose names end in 'Async'; rename it to '{stem}{KnownNames.AsyncBodySuffix}' or '{stem}{KnownNames.AsyncSuffix}{KnownNames.BodySuffix}' (the wrapper is then '{wrapper}'), or set WrapperName = \"{wrapper}\"";
        }

        /// <summary>A method's name without the suffixes of a core: <c>Async</c>, then <c>Core</c>, then <c>Async</c> (<c>GetAsync</c>, <c>GetAsyncCore</c> → <c>Get</c>).</summary>
        private static string Stem(string name)
        {
            name = WithoutSuffix(name, KnownNames.AsyncSuffix);
            name = WithoutSuffix(name, KnownNames.BodySuffix);
            return WithoutSuffix(name, KnownNames.AsyncSuffix);
        }

        private static string WithoutSuffix(string name, string suffix) =>
            name.EndsWith(suffix, StringComparison.Ordinal) ? name.Substring(0, name.Length - suffix.Length) : name;
    }
}
