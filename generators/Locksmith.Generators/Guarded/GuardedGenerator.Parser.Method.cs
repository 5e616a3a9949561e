using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Locksmith.Generators.Diagnostics;
using Locksmith.Generators.Diagnostics.Analyzers.Support;
using Locksmith.Generators.Guarded.Models;
using Locksmith.Generators.Helpers;
using Locksmith.Generators.Symbols;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Operations;
using Microsoft.CodeAnalysis.Text;

namespace Locksmith.Generators.Guarded;

public sealed partial class GuardedGenerator
{
    internal static partial class Parser
    {
        /// <summary>
        /// The checks every wrapped method shares (shape, containing types, naming, collisions, visibility, timeout).
        /// Returns null when one failed; the diagnostics say which.
        /// </summary>
        private static MethodFacts? CheckMethod(
            GeneratorAttributeSyntaxContext context,
            IMethodSymbol method,
            string? explicitWrapperName,
            int visibility,
            bool visibilitySet,
            int timeoutMilliseconds,
            bool isAsync,
            Location? attributeLocation,
            List<DiagnosticInfo> diagnostics,
            CancellationToken token,
            bool checkName = true)
        {
            int errorsBefore = diagnostics.Count;
            string display = DisplayName(method);
            var nameLocation = NameLocation(context.TargetNode, method);

            string? shapeProblem = ShapeProblem(context.TargetNode, method);
            if (shapeProblem is not null)
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.UnsupportedGuardedMethod, nameLocation, display, shapeProblem));
                return null;
            }

            var declarations = new List<TypeDeclarationModel>();
            for (var type = method.ContainingType; type is not null; type = type.ContainingType)
            {
                token.ThrowIfCancellationRequested();
                string? typeProblem = type.TypeKind switch
                {
                    // A type nested in a partial interface is an ordinary type: only the method's own type must not be one.
                    TypeKind.Interface when !SymbolEqualityComparer.Default.Equals(type, method.ContainingType) => null,
                    TypeKind.Interface => "an interface",
                    TypeKind.Class or TypeKind.Struct when type.IsFileLocal => "a file-local type",
                    TypeKind.Class or TypeKind.Struct => null,
                    _ => "a " + type.TypeKind.ToString().ToLowerInvariant(),
                };
                if (typeProblem is not null)
                {
                    diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.UnsupportedContainingType, nameLocation, display, SymbolNames.TypeName(type), typeProblem));
                }
                else if (!IsPartial(type, token))
                {
                    diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.TypeNotPartial, nameLocation, display, SymbolNames.TypeName(type)));
                }

                declarations.Insert(0, DeclarationOf(type));
            }

            string? timeout = timeoutMilliseconds switch
            {
                0 => null,
                -1 => "global::System.Threading.Timeout.InfiniteTimeSpan",
                > 0 => "global::System.TimeSpan.FromMilliseconds(" + timeoutMilliseconds.ToString(System.Globalization.CultureInfo.InvariantCulture) + ")",
                _ => string.Empty,
            };
            if (timeout == string.Empty)
            {
                diagnostics.Add(DiagnosticInfo.Create(
                    DiagnosticDescriptors.InvalidTimeout, attributeLocation, display, timeoutMilliseconds.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            }

            string? accessibility = AccessibilityOf(method.ContainingType, visibility, out string? visibilityProblem);
            if (visibilityProblem is not null)
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.UnsupportedGuardedMethod, attributeLocation, display, visibilityProblem));
            }
            else if (accessibility is not null)
            {
                accessibility = ClampAccessibility(method, accessibility, visibilitySet, attributeLocation ?? nameLocation, display, diagnostics);
            }

            string? wrapperName = WrapperNaming.WrapperName(method.Name, explicitWrapperName, isAsync);
            var compilation = context.SemanticModel.Compilation;
            if (!checkName)
            {
                // No wrapper: the caller reports why. Nothing to name, nothing to collide with.
                return null;
            }

            if (wrapperName is null)
            {
                diagnostics.Add(DiagnosticInfo.Create(
                    DiagnosticDescriptors.MissingWrapperName,
                    isAsync && explicitWrapperName is { Length: > 0 } ? attributeLocation : nameLocation,
                    display,
                    NamingProblem(method, explicitWrapperName, isAsync)));
            }
            else if (!WrapperNaming.IsValidName(wrapperName))
            {
                diagnostics.Add(DiagnosticInfo.Create(
                    DiagnosticDescriptors.MissingWrapperName, attributeLocation, display, $"'{wrapperName}' is not a valid identifier; set WrapperName to a plain name"));
                wrapperName = null;
            }
            else if (wrapperName.TrimStart('@') == "nameof")
            {
                // A method named nameof turns every nameof(…) in the type into a call to it, the attributes' own too.
                diagnostics.Add(DiagnosticInfo.Create(
                    DiagnosticDescriptors.MissingWrapperName,
                    explicitWrapperName is null ? nameLocation : attributeLocation,
                    display,
                    "a wrapper named 'nameof' would turn every nameof(…) in the type into a call to it; set WrapperName to another name"));
                wrapperName = null;
            }
            else if (wrapperName.FirstOrDefault(static c => char.GetUnicodeCategory(c) == System.Globalization.UnicodeCategory.Format) is var format && format != default)
            {
                // C# ignores formatting characters in names: 'Ab\u200Bc' is 'Abc', and would clash unseen with another 'Abc'.
                diagnostics.Add(DiagnosticInfo.Create(
                    DiagnosticDescriptors.MissingWrapperName,
                    attributeLocation,
                    display,
                    $"'{wrapperName}' contains the invisible formatting character U+{(int)format:X4}, which C# ignores in names; set WrapperName to a plain name"));
                wrapperName = null;
            }
            else
            {
                var (plain, timed) = WrapperSignatures(compilation, method, isAsync);
                bool addsToken = isAsync && AsyncWrappers.AddsToken(method);
                foreach (var (name, signature) in new[] { (wrapperName, plain), (WrapperNaming.TryName(wrapperName), timed) })
                {
                    var (collides, existing, generatedFor, declarer) = Clash(compilation, method, name, signature, addsToken, token);
                    if (collides)
                    {
                        // The type that declares the member hit, a base type for an inherited one: where the user must look.
                        diagnostics.Add(DiagnosticInfo.Create(
                            DiagnosticDescriptors.WrapperNameCollision,
                            nameLocation,
                            name,
                            display,
                            SymbolNames.TypeName(declarer),
                            IsOwnOutputCompiled(existing) ? OwnOutputCompiled
                                : generatedFor is { } other ? CollisionWithGeneratedWrapper(method, other, addsToken)
                                : "set WrapperName to another name"));
                    }
                    else if (existing is not null)
                    {
                        diagnostics.Add(DiagnosticInfo.Create(
                            DiagnosticDescriptors.WrapperTakesExistingCalls, nameLocation, name, display,
                            $"the existing '{existing.ToDisplayString(SymbolDisplayFormat.CSharpShortErrorMessageFormat)}'", string.Empty, string.Empty));
                    }
                    else if (isAsync && signature == plain && AmbiguousWithAnotherAsyncWrapper(compilation, method, name, signature) is { } other)
                    {
                        diagnostics.Add(DiagnosticInfo.Create(
                            DiagnosticDescriptors.WrapperTakesExistingCalls, nameLocation, name, display, other,
                            " (the CancellationToken each async wrapper adds makes both need a default, where their cores' calls bind apart)",
                            "take a CancellationToken in one of the cores (its wrappers then add none), "));
                    }
                }
            }

            if (diagnostics.Count != errorsBefore || wrapperName is null || accessibility is null)
            {
                return null;
            }

            // A declaration the compiler already rejects gets no wrapper and no diagnostic of ours: the wrapper would
            // only repeat the user's error in the generated file.
            if (HasDeclarationErrors(context, method, token))
            {
                return null;
            }

            var typeKey = new TypeModelKey(
                HintNameOf(method.ContainingType),
                method.ContainingType.ContainingNamespace is { IsGlobalNamespace: false } ns ? ns.ToDisplayString(s_namespaceFormat) : null,
                declarations.ToEquatableArray(),
                QualifiedName(method.ContainingType));
            return new MethodFacts(
                typeKey, WrapperNaming.Escape(wrapperName), WrapperNaming.Escape(WrapperNaming.TryName(wrapperName)), accessibility, timeout, isAsync);
        }

        private static string? ShapeProblem(SyntaxNode node, IMethodSymbol method)
        {
            // Before the kind: an explicit implementation's kind is not Ordinary, and this says more than that.
            if (method.ExplicitInterfaceImplementations.Length > 0)
            {
                return "it is an explicit interface implementation; guard a method that it calls";
            }

            if (method.MethodKind != MethodKind.Ordinary)
            {
                string kind = method.MethodKind switch
                {
                    MethodKind.LocalFunction => "a local function",
                    MethodKind.AnonymousFunction or MethodKind.LambdaMethod => "a lambda",
                    MethodKind.Constructor or MethodKind.StaticConstructor => "a constructor",
                    MethodKind.UserDefinedOperator or MethodKind.Conversion => "an operator",
                    MethodKind.Destructor => "a finalizer",
                    _ => "not an ordinary method",
                };
                return $"it is {kind}, which a wrapper cannot call by name; guard an ordinary method of the type and call that";
            }

            // An abstract core is fine (the template-method pattern): the wrapper calls it virtually. An extern or
            // unimplemented partial one has no body at all.
            // A [LibraryImport] partial gets its body from the interop generator, which the user cannot annotate, and
            // this generator does not see; an extern one has native code for a body: either way only a caller can be guarded.
            if (method.GetAttributes().Any(static a => a.AttributeClass?.ToDisplayString() == KnownNames.LibraryImportAttribute))
            {
                return "it is a [LibraryImport] method, whose body the interop source generator writes, so [Guarded] cannot wrap it; " +
                    "guard a managed method that calls it, and call only that method's wrapper";
            }

            if (method.IsExtern)
            {
                return "it is extern: its body is native code, not a C# body a wrapper can call under the lock; " +
                    "guard a managed method that calls it, and call only that method's wrapper";
            }

            if (method.IsPartialDefinition && method.PartialImplementationPart is null)
            {
                return "it is a partial method without an implementation, so it has no body to call; add the implementing declaration (with a body), or guard a method with a body";
            }

            if (method.ReturnsByRef || method.ReturnsByRefReadonly)
            {
                return "it returns by reference, and the reference would outlive the lock; return a value";
            }

            // Managed code may not call it at all (CS8902), so neither may a wrapper.
            if (method.GetAttributes().Any(static a => a.AttributeClass?.ToDisplayString() == KnownNames.UnmanagedCallersOnlyAttribute))
            {
                return "it is [UnmanagedCallersOnly], which managed code cannot call; guard a method that it calls";
            }

            if (method.IsVararg)
            {
                return "it takes __arglist, which a wrapper cannot pass on; take a params array or ordinary parameters instead";
            }

            // A partial method's body is on its implementing declaration, which [Guarded] need not be on.
            if (IsIterator(node) ||
                (method.PartialImplementationPart?.DeclaringSyntaxReferences.FirstOrDefault()?.GetSyntax() is { } implementation && IsIterator(implementation)))
            {
                return "it is an iterator, whose body runs while the caller enumerates, after the wrapper has released the lock; return a materialized collection";
            }

            return null;
        }

        private static bool IsIterator(SyntaxNode node)
        {
            if (node is not MethodDeclarationSyntax declaration)
            {
                return false;
            }

            SyntaxNode? body = (SyntaxNode?)declaration.Body ?? declaration.ExpressionBody;
            return body is not null && body
                .DescendantNodes(static n => n is not (AnonymousFunctionExpressionSyntax or LocalFunctionStatementSyntax))
                .Any(static n => n is YieldStatementSyntax);
        }

        /// <summary>
        /// Whether the method and its lock(s) agree about being async: an async lock needs a body returning one of the
        /// four task types (LSM0042 for a synchronous one), a synchronous lock a synchronous body (LSM0009/LSM0010).
        /// </summary>
        /// <param name="inCode">
        /// For a synchronous lock that also has async acquisitions (a CountingSemaphore): LSM0010's extra suggestion,
        /// from <see cref="AwaitInCode"/>; null otherwise.
        /// </param>
        /// <param name="readAccess">The method reads (<c>Access = LockAccess.Read</c>): the async lock to suggest is a read-write one.</param>
        private static void CheckAsync(
            IMethodSymbol method, string lockName, LockCapabilities capabilities, Location? location, List<DiagnosticInfo> diagnostics, string? inCode = null,
            bool readAccess = false)
        {
            bool awaitable = method.IsAsync || IsAwaitable(method.ReturnType);
            string display = DisplayName(method);
            if (capabilities.IsAsync())
            {
                if (AsyncWrappers.IsTaskType(method.ReturnType, out _))
                {
                    if (AsyncShapeProblem(method) is { } problem)
                    {
                        diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.UnsupportedGuardedMethod, location, display, problem));
                    }
                }
                else if (awaitable)
                {
                    // An async iterator was refused as an iterator already: one reason is enough.
                    if (diagnostics.Exists(static d => ReferenceEquals(d.Descriptor, DiagnosticDescriptors.UnsupportedGuardedMethod)))
                    {
                        return;
                    }

                    diagnostics.Add(DiagnosticInfo.Create(
                        DiagnosticDescriptors.UnsupportedGuardedMethod,
                        location,
                        display,
                        $"it returns '{(method.ReturnsVoid ? "void" : method.ReturnType.ToDisplayString())}', which its async wrapper cannot await and pass on; return Task, Task<T>, ValueTask or ValueTask<T>"));
                }
                else
                {
                    // A name that already is an async core's ('PeekCoreAsync', 'SyncOverAsyncCore') keeps it: telling it
                    // to "name it 'PeekCoreAsync'" asked for no change, and 'SyncOverCoreAsync' for one that gives the same wrapper.
                    string stem = AsyncStem(method.Name);
                    string naming = WrapperNaming.AsyncWrapperName(method.Name, null) is { } wrapper
                        ? $" (its wrapper is then '{wrapper}')"
                        : $" and name it '{stem}{KnownNames.AsyncBodySuffix}' (its wrapper is then '{stem}{KnownNames.AsyncSuffix}')";
                    diagnostics.Add(DiagnosticInfo.Create(
                        DiagnosticDescriptors.SynchronousMethodWithAsyncLock,
                        location,
                        display,
                        method.ReturnsVoid ? "void" : method.ReturnType.ToDisplayString(),
                        lockName,
                        capabilities.Describe(),
                        naming,
                        capabilities.SyncCounterpart()));
                }

                return;
            }

            if (!awaitable)
            {
                return;
            }

            bool readMostly = method.ContainingType is { } type && ReadMostlyAttributeData.Of(type) is not null;
            string returnType = method.ReturnType.ToDisplayString();
            string counterpart = capabilities.AsyncCounterpart(readMostly || readAccess);
            // A lock with permits (a CountingSemaphore): an exclusive lock would change what it allows, not only how. Said
            // inside the wrapper's parenthesis, after any rename, so the message keeps one parenthesis.
            string holders = inCode is null ? string.Empty : $", one holder at a time, where '{lockName}' may let several in at once";

            // Each is what the async lock's wrapper needs too, said now rather than after the lock is changed: an async
            // core is named '…CoreAsync' (LSM0014) and returns one of the four task types (LSM0016); the async keyed lock
            // has no read mode (LSM0005). One list, the core's own changes first, so each 'it' is the core.
            var changes = new List<string>();
            if (method.Name.EndsWith(KnownNames.BodySuffix, StringComparison.Ordinal) && method.Name.Length > KnownNames.BodySuffix.Length)
            {
                changes.Add($"rename it to '{method.Name}{KnownNames.AsyncSuffix}'");
            }

            if (!AsyncWrappers.IsTaskType(method.ReturnType, out _))
            {
                changes.Add("make it return Task, Task<T>, ValueTask or ValueTask<T>");
            }

            bool noReadMode = (capabilities & LockCapabilities.Keyed) != 0 && readAccess;
            if (noReadMode)
            {
                counterpart += ", which has no read mode";
                changes.Add("remove Access = LockAccess.Read");
            }

            if (changes.Count > 0)
            {
                // "X and Y", "X, Y and Z"; after the read-mode clause, a comma first so the list is not read as part of it.
                string last = changes[changes.Count - 1];
                string list = changes.Count == 1 ? last : string.Join(", ", changes.Take(changes.Count - 1)) + " and " + last;
                counterpart += (noReadMode ? (changes.Count == 1 ? ", and " : ", ") : changes.Count == 1 ? " and " : ", ") + list;
            }

            if ((capabilities & LockCapabilities.ThreadAffine) != 0)
            {
                diagnostics.Add(DiagnosticInfo.Create(
                    DiagnosticDescriptors.AsyncMethodWithThreadAffineLock, location, display, returnType, lockName, counterpart));
                return;
            }

            // The lock stays synchronous to the generator (no async marker, so no async wrapper); when it can be awaited
            // in code, the message says how to hold it across the awaits without [Guarded].
            diagnostics.Add(DiagnosticInfo.Create(
                DiagnosticDescriptors.AwaitableNotSupported, location, display, returnType, lockName, counterpart, holders, inCode ?? string.Empty));
        }

        /// <summary>
        /// The name LSM0042 builds the async core's name on: without <c>CoreAsync</c>, <c>AsyncCore</c>, <c>Core</c> or
        /// <c>Async</c> (<c>LoadCoreAsync</c>, <c>LoadCore</c> and <c>LoadAsync</c> give <c>Load</c>), so that
        /// following the advice gives <c>LoadCoreAsync</c>, not <c>LoadCoreAsyncCoreAsync</c>.
        /// </summary>
        private static string AsyncStem(string name)
        {
            string stem = WrapperNaming.AsyncWrapperName(name, null) ?? WrapperNaming.WrapperName(name, null) ?? name;
            return stem.Length > KnownNames.AsyncSuffix.Length && stem.EndsWith(KnownNames.AsyncSuffix, StringComparison.Ordinal)
                ? stem.Substring(0, stem.Length - KnownNames.AsyncSuffix.Length)
                : stem;
        }

        /// <summary>
        /// The core's own token as the last argument of the acquisition LSM0010 quotes (after <paramref name="separator"/>),
        /// so code copied from the message can be cancelled while it waits; empty when the core takes none.
        /// </summary>
        private static string TokenArgument(IMethodSymbol method, string separator) =>
            AsyncWrappers.TokenParameter(method) is { } token ? separator + Escape(token.Name) : string.Empty;

        /// <summary>LSM0010's suggestion for a lock that can be awaited in code: drop the attribute, await the acquisition in the body.</summary>
        private static string AwaitInCode(string attribute, string lockName, string acquisition) =>
            $", or drop {attribute} and hold '{lockName}' across the awaits in code with 'using var scope = {acquisition};'";

        /// <summary>What an async wrapper cannot take: a struct's <c>this</c>, parameters by reference, of a ref struct or pointer type.</summary>
        private static string? AsyncShapeProblem(IMethodSymbol method)
        {
            if (!method.IsStatic && method.ContainingType.IsValueType)
            {
                return $"an async wrapper of an instance method of struct '{method.ContainingType.Name}' would run the body on a copy of the struct; make it a class, or the method static";
            }

            foreach (var parameter in method.Parameters)
            {
                if (parameter.RefKind != RefKind.None)
                {
                    return $"its async wrapper cannot take '{parameter.Name}' by reference (an async method has no ref, in or out parameters); pass it by value";
                }

                if (parameter.Type.IsRefLikeType || parameter.Type is ITypeParameterSymbol { AllowsRefLikeType: true } ||
                    parameter.Type.TypeKind is TypeKind.Pointer or TypeKind.FunctionPointer)
                {
                    return $"its async wrapper cannot take '{parameter.Name}' of type '{parameter.Type.ToDisplayString()}' (an async method has no ref struct or pointer parameters); pass an array, Memory<T> or a value instead";
                }
            }

            return null;
        }

        private static bool IsAwaitable(ITypeSymbol type)
        {
            // 'ValueTask<int>?' is a Nullable of the task: work that completes later, which a synchronous wrapper would
            // return after releasing its lock, and an async one cannot await.
            if (type is INamedTypeSymbol { OriginalDefinition.SpecialType: SpecialType.System_Nullable_T, TypeArguments: [var underlying] })
            {
                return IsAwaitable(underlying);
            }

            if (type is INamedTypeSymbol { MetadataName: "IAsyncEnumerable`1" or "IAsyncEnumerator`1" } named &&
                named.ContainingNamespace.ToDisplayString() == "System.Collections.Generic")
            {
                return true;
            }

            for (var current = type; current is not null; current = current.BaseType)
            {
                foreach (var member in current.GetMembers("GetAwaiter"))
                {
                    if (member is IMethodSymbol { IsStatic: false, Parameters.Length: 0 })
                    {
                        return true;
                    }
                }
            }

            return false;
        }

        private static string? AccessibilityOf(INamedTypeSymbol type, int visibility, out string? problem)
        {
            problem = null;
            string? keyword = visibility switch
            {
                0 => "public",
                1 => "internal",
                2 => "protected",
                3 => "protected internal",
                4 => "private",
                5 => "private protected",
                _ => null,
            };
            if (keyword is null)
            {
                // An undefined WrapperVisibility: already reported as LSM0032 (EnumArgumentOutOfRange).
                return null;
            }

            if (visibility is 2 or 3 or 5 && (type.TypeKind == TypeKind.Struct || type.IsStatic || type.IsSealed))
            {
                string what = type.TypeKind == TypeKind.Struct ? "a struct" : type.IsStatic ? "a static class" : "a sealed class";
                problem = $"Visibility = {keyword} means nothing in {what}, which has no derived types; use Public, Internal or Private";
                return null;
            }

            return keyword;
        }

        /// <summary>
        /// The parameter lists of a method's two wrappers: its own, and the timed form's (+ timeout, + out result); for
        /// async wrappers, its own (+ the added token), and the timed form's (timeout first, after a <c>this</c> parameter).
        /// </summary>
        private static (List<(ITypeSymbol Type, RefKind Kind, bool Optional)> Plain, List<(ITypeSymbol Type, RefKind Kind, bool Optional)> Timed) WrapperSignatures(
            Compilation compilation, IMethodSymbol method, bool isAsync)
        {
            var timeSpan = compilation.GetTypeByMetadataName("System.TimeSpan");
            // A params array counts as required: a call that fills it empty loses to an overload that needs no expansion.
            var plain = method.Parameters.Select(static p => (p.Type, Kind: p.RefKind, Optional: AsDeclared(p).IsOptional && !p.IsParams)).ToList();
            if (isAsync)
            {
                if (AsyncWrappers.AddsToken(method) && compilation.GetTypeByMetadataName("System.Threading.CancellationToken") is { } tokenType)
                {
                    plain.Add((tokenType, RefKind.None, true));
                }

                var timedAsync = new List<(ITypeSymbol Type, RefKind Kind, bool Optional)>(plain);
                if (timeSpan is not null)
                {
                    timedAsync.Insert(method.IsExtensionMethod ? 1 : 0, (timeSpan, RefKind.None, false));
                }

                return (plain, timedAsync);
            }

            // The synchronous timed form drops the defaults: its timeout follows the body's parameters.
            var timed = plain.Select(static p => (p.Type, p.Kind, false)).ToList();
            if (timeSpan is not null)
            {
                timed.Add((timeSpan, RefKind.None, false));
            }

            if (!method.ReturnsVoid)
            {
                timed.Add((method.ReturnType, RefKind.Out, false));
            }

            return (plain, timed);
        }

        /// <summary>LSM0013's advice when the member hit is this generator's own output, compiled again as a source file.</summary>
        private const string OwnOutputCompiled =
            "that member is this generator's own output, compiled as a source file of the project (EmitCompilerGeneratedFiles writes it " +
            "to CompilerGeneratedFilesOutputPath, and the project's globs pick it up there): keep that path under obj/, or add " +
            "<Compile Remove=\"$(CompilerGeneratedFilesOutputPath)/**\" />";

        /// <summary>
        /// LSM0013's advice when the member hit is the wrapper of another guarded method: the user sees two methods of
        /// different names or parameters, so the report names the other one, and says when the CancellationToken an async
        /// wrapper adds made the two alike (the usual pair, 'RunCoreAsync(int)' beside 'RunCoreAsync(int, CancellationToken)').
        /// </summary>
        private static string CollisionWithGeneratedWrapper(IMethodSymbol method, IMethodSymbol other, bool addsToken)
        {
            string advice = $"that member is a wrapper generated for '{other.ToDisplayString(SymbolDisplayFormat.CSharpShortErrorMessageFormat)}'";
            bool otherAddsToken = AsyncWrappers.IsAsyncForm(other) && AsyncWrappers.AddsToken(other);
            if (addsToken != otherAddsToken && AsyncWrappers.IsAsyncForm(method) && AsyncWrappers.IsAsyncForm(other))
            {
                return advice + ", once the CancellationToken an async wrapper adds to a core without one is counted; keep only the core " +
                    "that takes a CancellationToken and give that parameter '= default' (its wrappers then serve calls with and without " +
                    "a token), or set WrapperName to another name";
            }

            return advice + "; set WrapperName to another name";
        }

        /// <summary>
        /// Whether the member hit is a wrapper this generator wrote, compiled from this project's sources; one a referenced
        /// assembly's base type carries is a real clash, which WrapperName solves.
        /// </summary>
        private static bool IsOwnOutputCompiled(IMethodSymbol? existing) =>
            existing is not null && existing.Locations.Any(static l => l.IsInSource) && WrapperBodies.IsGeneratedWrapper(existing);

        /// <summary>
        /// One walk of the type and its bases for what the wrapper would clash with. <c>Collides</c>: a member the type
        /// declares or inherits would clash with, or be hidden by, the wrapper; the wrappers this generator writes for
        /// the other guarded methods of the type and its source base types count too, since the compilation the
        /// generator sees does not hold them yet; then <c>Captured</c> is the method of the same signature it clashes with,
        /// when there is one, or <c>GeneratedFor</c> the guarded method whose wrapper it is, and <c>Declarer</c> the type that
        /// declares the member hit (a base type, for an inherited one). Otherwise <c>Captured</c>: a method whose calls the wrapper would take (see
        /// <see cref="TakesCallsOf"/>), or null.
        /// </summary>
        /// <param name="addsToken">
        /// Whether the signature ends in the optional token an async wrapper adds. A method of the type itself that takes
        /// the other parameters clashes too: it wins every call that leaves the token out (it needs no default), so the
        /// wrapper's own form, the one callers write, would silently run unguarded code.
        /// </param>
        private static (bool Collides, IMethodSymbol? Captured, IMethodSymbol? GeneratedFor, INamedTypeSymbol Declarer) Clash(
            Compilation compilation,
            IMethodSymbol body,
            string name,
            List<(ITypeSymbol Type, RefKind Kind, bool Optional)> signature,
            bool addsToken,
            CancellationToken token)
        {
            var withoutToken = addsToken ? signature.Take(signature.Count - 1).ToList() : null;
            var owner = body.ContainingType;
            if (name == owner.Name || owner.TypeParameters.Any(p => p.Name == name))
            {
                return (true, null, null, owner);
            }

            IMethodSymbol? captured = null;
            for (var type = owner; type is not null; type = type.BaseType)
            {
                token.ThrowIfCancellationRequested();
                bool inherited = !SymbolEqualityComparer.Default.Equals(type, owner);

                // An indexer's symbol is named this[], but it takes its metadata name (Item, or its [IndexerName]) from
                // the type: a method of that name beside it is CS0102.
                if (!inherited && type.GetMembers().Any(m => m is IPropertySymbol { IsIndexer: true } && m.MetadataName == name))
                {
                    return (true, null, null, type);
                }

                foreach (var member in type.GetMembers(name))
                {
                    // A base member the type cannot reach (private, or internal or private protected in an assembly
                    // that gives it no access) is no clash: the wrapper hides nothing the type could call.
                    if (inherited && !LockMembers.InheritedReaches(owner, member))
                    {
                        continue;
                    }

                    if (member is not IMethodSymbol other)
                    {
                        return (true, null, null, type);
                    }

                    if (other.Arity != body.Arity)
                    {
                        continue;
                    }

                    var parameters = ParametersOf(other);
                    if (SameParameters(parameters, signature) || (!inherited && withoutToken is not null && SameParameters(parameters, withoutToken)))
                    {
                        // The member it clashes with, so the report can tell the generator's own output from the user's.
                        return (true, other, null, type);
                    }

                    if (captured is null && !other.IsOverride && TakesCallsOf(parameters, signature, inherited))
                    {
                        captured = other;
                    }
                }

                if (type.Locations.Any(static l => l.IsInSource) &&
                    (CollidesWithGeneratedWrapper(compilation, type, inherited, body, name, signature) ??
                     (!inherited && withoutToken is not null ? CollidesWithGeneratedWrapper(compilation, type, inherited, body, name, withoutToken) : null)) is { } generatedFor)
                {
                    return (true, null, generatedFor, type);
                }
            }

            return (false, captured, null, owner);
        }

        /// <summary>
        /// Another guarded method of the type whose async wrapper of the same name a call of this one also fits, both
        /// needing defaults, where the two cores' calls do not: the optional token each wrapper adds turned overloads that
        /// bind apart ('RunCoreAsync(int)', 'RunCoreAsync(int, int y = 0)') into wrappers whose every short call is CS0121.
        /// Its wrapper's signature and core, for LSM0045; null when there is none. A pair whose cores are ambiguous already
        /// is the user's own design, mirrored. Only the plain form is asked: the timed one, the same parameters after the
        /// timeout, is ambiguous exactly when it is, and one report a core is enough.
        /// </summary>
        private static string? AmbiguousWithAnotherAsyncWrapper(
            Compilation compilation, IMethodSymbol body, string name, List<(ITypeSymbol Type, RefKind Kind, bool Optional)> signature)
        {
            foreach (var member in body.ContainingType.GetMembers())
            {
                if (member is not IMethodSymbol other || other.Arity != body.Arity || SameMethod(other, body) || OverridesGuardedMethod(other) ||
                    !AsyncWrappers.IsAsyncForm(other))
                {
                    continue;
                }

                string? explicitName = GuardedAttributeData.Of(other) is { } guarded ? guarded.WrapperName
                    : AcquiresLocksOfAttributeData.Of(other) is { } set ? set.WrapperName
                    : null;
                if ((GuardedAttributeData.Of(other) is null && AcquiresLocksOfAttributeData.Of(other) is null) ||
                    WrapperNaming.WrapperName(other.Name, explicitName, isAsync: true) is not { } otherName)
                {
                    continue;
                }

                var (otherSignature, _) = WrapperSignatures(compilation, other, isAsync: true);
                if (otherName == name && Ambiguous(otherSignature, signature) && !Ambiguous(ParametersOf(other), ParametersOf(body)))
                {
                    string parameters = string.Join(", ", otherSignature.Select(static p => p.Type.ToDisplayString(SymbolDisplayFormat.CSharpShortErrorMessageFormat)));
                    return $"'{otherName}({parameters})', the wrapper generated for '{other.ToDisplayString(SymbolDisplayFormat.CSharpShortErrorMessageFormat)}',";
                }
            }

            return null;
        }

        /// <summary>
        /// Whether some call fits both parameter lists and needs a default (or an empty params array) in each, which C#
        /// cannot choose between (CS0121): its arguments are a shared leading run of the same types and kinds, at least as
        /// many as either requires, and fewer than either has.
        /// </summary>
        private static bool Ambiguous(List<(ITypeSymbol Type, RefKind Kind, bool Optional)> left, List<(ITypeSymbol Type, RefKind Kind, bool Optional)> right)
        {
            int shared = 0;
            while (shared < left.Count && shared < right.Count && left[shared].Kind == right[shared].Kind && SameType(left[shared].Type, right[shared].Type))
            {
                shared++;
            }

            int fewest = System.Math.Max(RequiredCount(left), RequiredCount(right));
            return fewest <= System.Math.Min(shared, System.Math.Min(left.Count, right.Count) - 1);
        }

        /// <summary>The guarded method of <paramref name="type"/> whose generated wrapper has that name and signature; null if none.</summary>
        private static IMethodSymbol? CollidesWithGeneratedWrapper(
            Compilation compilation, INamedTypeSymbol type, bool inherited, IMethodSymbol body, string name, List<(ITypeSymbol Type, RefKind Kind, bool Optional)> signature)
        {
            foreach (var member in type.GetMembers())
            {
                if (member is not IMethodSymbol other || other.Arity != body.Arity ||
                    SameMethod(other, body) || OverridesGuardedMethod(other))
                {
                    continue;
                }

                string? explicitName;
                int visibility;
                if (GuardedAttributeData.Of(other) is { } guarded)
                {
                    (explicitName, visibility) = (guarded.WrapperName, guarded.Visibility);
                }
                else if (AcquiresLocksOfAttributeData.Of(other) is { } set)
                {
                    (explicitName, visibility) = (set.WrapperName, set.Visibility);
                }
                else
                {
                    continue;
                }

                const int PrivateVisibility = 4;
                bool otherAsync = AsyncWrappers.IsAsyncForm(other);
                if ((inherited && visibility == PrivateVisibility) || WrapperNaming.WrapperName(other.Name, explicitName, otherAsync) is not { } otherName)
                {
                    continue;
                }

                var (plain, timed) = WrapperSignatures(compilation, other, otherAsync);
                if ((otherName == name && SameParameters(plain, signature)) ||
                    (WrapperNaming.TryName(otherName) == name && SameParameters(timed, signature)))
                {
                    return other;
                }
            }

            return null;
        }

        /// <summary>
        /// Whether two symbols are one method: the defining and the implementing declaration of a partial method are (the
        /// type lists the defining one, the attribute may sit on the implementing one).
        /// </summary>
        private static bool SameMethod(IMethodSymbol left, IMethodSymbol right) =>
            SymbolEqualityComparer.Default.Equals((left.PartialDefinitionPart ?? left).OriginalDefinition, (right.PartialDefinitionPart ?? right).OriginalDefinition);

        /// <summary>The nearest overridden method with [Guarded], and the lock member its wrappers take; null if none resolves.</summary>
        private static (IMethodSymbol Overridden, ISymbol Lock)? GuardedBase(IMethodSymbol method)
        {
            int depth = 0;
            for (var overridden = method.OverriddenMethod; overridden is not null && depth < 64; overridden = overridden.OverriddenMethod, depth++)
            {
                if (GuardedAttributeData.Of(overridden) is { } data)
                {
                    return LockMembers.Find(overridden.ContainingType, data.Lock) is { } member ? (overridden, member) : null;
                }
            }

            return null;
        }

        /// <summary>Whether <paramref name="method"/> overrides a guarded method, whose wrappers already call it virtually.</summary>
        private static bool OverridesGuardedMethod(IMethodSymbol method)
        {
            int depth = 0;
            for (var overridden = method.OverriddenMethod; overridden is not null && depth < 64; overridden = overridden.OverriddenMethod, depth++)
            {
                if (GuardedAttributeData.Of(overridden) is not null || AcquiresLocksOfAttributeData.Of(overridden) is not null)
                {
                    return true;
                }
            }

            return false;
        }

        private static bool SameParameters(List<(ITypeSymbol Type, RefKind Kind, bool Optional)> parameters, List<(ITypeSymbol Type, RefKind Kind, bool Optional)> signature)
        {
            if (parameters.Count != signature.Count)
            {
                return false;
            }

            for (int i = 0; i < signature.Count; i++)
            {
                // ref, in and out are one signature to the compiler (CS0663), so any two by-reference kinds clash.
                if ((parameters[i].Kind != RefKind.None) != (signature[i].Kind != RefKind.None) || !SameType(parameters[i].Type, signature[i].Type))
                {
                    return false;
                }
            }

            return true;
        }

        /// <summary>
        /// An existing method's parameters; a params array counts as optional, since a call may leave it out (and then
        /// loses to any overload that needs no expansion).
        /// </summary>
        private static List<(ITypeSymbol Type, RefKind Kind, bool Optional)> ParametersOf(IMethodSymbol method) =>
            method.Parameters.Select(static p => (p.Type, Kind: p.RefKind, Optional: p.IsOptional || p.IsParams)).ToList();

        /// <summary>
        /// Whether some call that <paramref name="existing"/> (not an override) accepts would now fit the wrapper too and
        /// change: bind to the wrapper, or be ambiguous (CS0121). A call of <c>n</c> arguments (each of the same type and
        /// kind in both) fits both when it passes every required parameter of each; it stays with the existing method
        /// only when that one needs no default or expansion and is not a base type's (a derived type's applicable
        /// overload wins). Only identical types are compared: calls a better conversion would move are not found.
        /// </summary>
        private static bool TakesCallsOf(
            List<(ITypeSymbol Type, RefKind Kind, bool Optional)> existing, List<(ITypeSymbol Type, RefKind Kind, bool Optional)> wrapper, bool inherited)
        {
            int shared = 0;
            while (shared < existing.Count && shared < wrapper.Count && existing[shared].Kind == wrapper[shared].Kind && SameType(existing[shared].Type, wrapper[shared].Type))
            {
                shared++;
            }

            int shortest = System.Math.Max(RequiredCount(existing), RequiredCount(wrapper));
            int longest = System.Math.Min(shared, System.Math.Min(existing.Count, wrapper.Count));
            return shortest <= longest && (inherited || shortest < existing.Count);
        }

        /// <summary>How many leading parameters a call must pass: all up to the last one that is not optional.</summary>
        private static int RequiredCount(List<(ITypeSymbol Type, RefKind Kind, bool Optional)> parameters)
        {
            int count = parameters.Count;
            while (count > 0 && parameters[count - 1].Optional)
            {
                count--;
            }

            return count;
        }

        /// <summary>
        /// Types equal as C# sees them in a signature (CS0111, CS0108): method type parameters are equal by position at
        /// any depth (<c>List&lt;U&gt;</c> and <c>List&lt;T&gt;</c>), <c>dynamic</c> is <c>object</c>, tuple element names
        /// and nullable annotations do not count.
        /// </summary>
        private static bool SameType(ITypeSymbol left, ITypeSymbol right) => SameType(left, right, 0);

        private static bool SameType(ITypeSymbol? left, ITypeSymbol? right, int depth)
        {
            if (left is null || right is null)
            {
                return left is null && right is null;
            }

            if (SymbolEqualityComparer.Default.Equals(left, right))
            {
                return true;
            }

            if (depth > 64)
            {
                return false;
            }

            if (IsObject(left) || IsObject(right))
            {
                return IsObject(left) && IsObject(right);
            }

            switch (left)
            {
                case ITypeParameterSymbol { TypeParameterKind: TypeParameterKind.Method } typeParameter:
                    return right is ITypeParameterSymbol { TypeParameterKind: TypeParameterKind.Method } otherTypeParameter &&
                        typeParameter.Ordinal == otherTypeParameter.Ordinal;
                case IArrayTypeSymbol array:
                    return right is IArrayTypeSymbol otherArray && array.Rank == otherArray.Rank && SameType(array.ElementType, otherArray.ElementType, depth + 1);
                case IPointerTypeSymbol pointer:
                    return right is IPointerTypeSymbol otherPointer && SameType(pointer.PointedAtType, otherPointer.PointedAtType, depth + 1);
                case IFunctionPointerTypeSymbol function when right is IFunctionPointerTypeSymbol otherFunction:
                    var (l, r) = (function.Signature, otherFunction.Signature);
                    return l.CallingConvention == r.CallingConvention && l.RefKind == r.RefKind && l.Parameters.Length == r.Parameters.Length &&
                        SameType(l.ReturnType, r.ReturnType, depth + 1) &&
                        l.Parameters.Zip(r.Parameters, (a, b) => a.RefKind == b.RefKind && SameType(a.Type, b.Type, depth + 1)).All(static same => same);
                case INamedTypeSymbol named when right is INamedTypeSymbol otherNamed:
                    return SymbolEqualityComparer.Default.Equals(named.OriginalDefinition, otherNamed.OriginalDefinition) &&
                        named.TypeArguments.Length == otherNamed.TypeArguments.Length &&
                        named.TypeArguments.Zip(otherNamed.TypeArguments, (a, b) => SameType(a, b, depth + 1)).All(static same => same) &&
                        (named.ContainingType is null || SameType(named.ContainingType, otherNamed.ContainingType, depth + 1));
                default:
                    return false;
            }
        }

        private static bool IsObject(ITypeSymbol type) => type.TypeKind == TypeKind.Dynamic || type.SpecialType == SpecialType.System_Object;

        /// <summary>
        /// The accessibility the wrappers get. Without an explicit <c>Visibility</c>, the widest one that no type of the
        /// signature is less accessible than (so a public wrapper never exposes an internal or private type); with an
        /// explicit one that the signature does not allow, LSM0040 and null.
        /// </summary>
        private static string? ClampAccessibility(
            IMethodSymbol method, string keyword, bool visibilitySet, Location? location, string display, List<DiagnosticInfo> diagnostics)
        {
            var container = method.ContainingType;
            var types = WrapperAccessibility.SignatureTypes(method);
            var requested = WrapperAccessibility.Candidates.First(c => c.Keyword == keyword);
            var offender = WrapperAccessibility.FirstLessAccessible(requested.Accessibility, container, types);
            if (offender is null)
            {
                return keyword;
            }

            var fitting = WrapperAccessibility.Candidates
                .Where(c => WrapperAccessibility.AllowsProtected(container) || c.Accessibility is Accessibility.Public or Accessibility.Internal or Accessibility.Private)
                .FirstOrDefault(c => WrapperAccessibility.FirstLessAccessible(c.Accessibility, container, types) is null);
            if (!visibilitySet && fitting.Keyword is not null)
            {
                return fitting.Keyword;
            }

            diagnostics.Add(DiagnosticInfo.Create(
                DiagnosticDescriptors.WrapperLessAccessibleThanSignature,
                location,
                display,
                keyword,
                offender.ToDisplayString(),
                fitting.VisibilityName ?? "Private"));
            return null;
        }

        /// <summary>
        /// Whether the compiler rejects the method's declaration (not its body) or the type parameter lists of its
        /// containing types: a type that does not resolve, a bad default value, a parse error in the signature.
        /// </summary>
        private static bool HasDeclarationErrors(GeneratorAttributeSyntaxContext context, IMethodSymbol method, CancellationToken token)
        {
            // CS9051: a file-local type in the signature of a member of a type that is not file-local.
            if (WrapperAccessibility.NamedTypes(WrapperAccessibility.SignatureTypes(method)).Any(static t => t.IsFileLocal))
            {
                return true;
            }

            if (WrapperAccessibility.SignatureTypes(method).Any(static t => ContainsErrorType(t) || ContainsRejectedType(t, 0)) ||
                method.Parameters.Any(static p => !SyntaxFacts.IsValidIdentifier(p.Name)) ||
                method.TypeParameters.Any(static p => !SyntaxFacts.IsValidIdentifier(p.Name)))
            {
                return true;
            }

            for (var ns = method.ContainingType.ContainingNamespace; ns is { IsGlobalNamespace: false }; ns = ns.ContainingNamespace)
            {
                if (!SyntaxFacts.IsValidIdentifier(ns.Name))
                {
                    return true;
                }
            }

            if (HasTwin(method))
            {
                return true;
            }

            // Symbol checks stand in for the compiler's declaration diagnostics, which cost a pass over every
            // declaration in the compilation per call (1.8 s instead of 0.15 s over 1,000 classes).
            if ((!method.IsStatic && method.ContainingType.IsStatic) ||
                (IsExtensionShaped(context, method) &&
                 (method.ContainingType.ContainingType is not null || !method.ContainingType.IsStatic || method.ContainingType.IsGenericType)))
            {
                return true;
            }

            for (var type = method.ContainingType; type is not null; type = type.ContainingType)
            {
                if ((type.ContainingType is null &&
                     type.DeclaredAccessibility is not (Accessibility.Public or Accessibility.Internal or Accessibility.NotApplicable)) ||
                    !SyntaxFacts.IsValidIdentifier(type.Name) ||
                    type.TypeParameters.Any(static p => !SyntaxFacts.IsValidIdentifier(p.Name)) ||
                    type.TypeParameters.Select(static p => p.Name).Distinct().Count() != type.TypeParameters.Length)
                {
                    return true;
                }

                // CS9053: a file-local base type (or one nested in a file-local type), however far up. Its members, the
                // lock among them, are out of the generated file's reach (CS1061 there).
                for (var baseType = type.BaseType; baseType is not null; baseType = baseType.BaseType)
                {
                    for (var enclosing = baseType; enclosing is not null; enclosing = enclosing.ContainingType)
                    {
                        if (enclosing.IsFileLocal)
                        {
                            return true;
                        }
                    }
                }

                // The header up to the type parameters (modifiers, keyword, name): the generated file names the type and
                // re-declares it. Not the base list, whose errors (a member the wrappers implement) may be ours to fix.
                foreach (var reference in type.DeclaringSyntaxReferences)
                {
                    if (reference.GetSyntax(token) is TypeDeclarationSyntax declaration)
                    {
                        int start = declaration.Modifiers.Count > 0 ? declaration.Modifiers[0].SpanStart : declaration.Keyword.SpanStart;
                        var header = TextSpan.FromBounds(start, declaration.TypeParameterList?.Span.End ?? declaration.Identifier.Span.End);
                        if (HasError(declaration.SyntaxTree.GetDiagnostics(declaration), header))
                        {
                            return true;
                        }
                    }
                }
            }

            if (context.TargetNode is not BaseMethodDeclarationSyntax methodDeclaration)
            {
                return false;
            }

            SyntaxNode? body = (SyntaxNode?)methodDeclaration.Body ?? methodDeclaration.ExpressionBody;
            var signature = TextSpan.FromBounds(methodDeclaration.SpanStart, body?.SpanStart ?? methodDeclaration.Span.End);

            // The declaration's defaults are checked against its own parameters (a partial method's implementing
            // declaration names them its own way), the other part's against the other part's.
            var declared = context.TargetSymbol as IMethodSymbol ?? method;
            return HasError(methodDeclaration.SyntaxTree.GetDiagnostics(methodDeclaration), signature) ||
                HasBadParams(context.SemanticModel, methodDeclaration, token) ||
                HasBadDefaults(context.SemanticModel, declared, methodDeclaration, token) ||
                HasBadDefaultsOnOtherPart(context, declared, token);
        }

        /// <summary>
        /// Whether the type declares another method of the core's name and parameters (CS0111, or CS0663 for ones that
        /// differ only in ref, out or in): a wrapper's call of the core would be ambiguous (CS0121).
        /// </summary>
        private static bool HasTwin(IMethodSymbol method)
        {
            foreach (var member in method.ContainingType.GetMembers(method.Name))
            {
                if (member is IMethodSymbol other &&
                    !SymbolEqualityComparer.Default.Equals(other, method) &&
                    !SymbolEqualityComparer.Default.Equals(other, method.PartialDefinitionPart) &&
                    !SymbolEqualityComparer.Default.Equals(other, method.PartialImplementationPart) &&
                    other.Arity == method.Arity &&
                    other.Parameters.Length == method.Parameters.Length &&
                    other.Parameters.Zip(method.Parameters, static (a, b) => SameParameter(a, b)).All(static same => same))
                {
                    return true;
                }
            }

            return false;

            static bool SameParameter(IParameterSymbol a, IParameterSymbol b) =>
                (a.RefKind == RefKind.None) == (b.RefKind == RefKind.None) &&
                (a.Type is ITypeParameterSymbol { TypeParameterKind: TypeParameterKind.Method } x && b.Type is ITypeParameterSymbol { TypeParameterKind: TypeParameterKind.Method } y
                    ? x.Ordinal == y.Ordinal
                    : SymbolEqualityComparer.Default.Equals(a.Type, b.Type));
        }

        /// <summary>
        /// Whether a <c>params</c> parameter is one the compiler rejects (CS0225: not a collection type; CS0231: not the
        /// last), or a <c>this</c> parameter is (CS8337/CS8338, see <see cref="IsBadRefReceiver"/>), which the wrappers would
        /// repeat. Asks the compiler only for <c>params</c> parameters, which are rare.
        /// </summary>
        private static bool HasBadParams(SemanticModel model, BaseMethodDeclarationSyntax declaration, CancellationToken token)
        {
            foreach (var parameter in declaration.ParameterList.Parameters)
            {
                // CS8337/CS8338 are reported at the method's name, not the parameter: judged from the parameter's type.
                if (parameter.Modifiers.Any(SyntaxKind.ThisKeyword) && model.GetDeclaredSymbol(parameter, token) is { } receiver && IsBadRefReceiver(receiver))
                {
                    return true;
                }

                if (parameter.Modifiers.Any(SyntaxKind.ParamsKeyword) &&
                    model.GetDiagnostics(parameter.Span, token).Any(static d => d.Severity == DiagnosticSeverity.Error))
                {
                    return true;
                }
            }

            return false;
        }

        /// <summary>
        /// A <c>ref this</c> receiver that is neither a value type nor a type parameter constrained to one (CS8337), or an
        /// <c>in this</c> / <c>ref readonly this</c> one that is not a concrete value type (CS8338).
        /// </summary>
        private static bool IsBadRefReceiver(IParameterSymbol receiver) => receiver.RefKind switch
        {
            RefKind.Ref => receiver.Type is ITypeParameterSymbol typeParameter ? !typeParameter.HasValueTypeConstraint : !receiver.Type.IsValueType,
            RefKind.In or RefKind.RefReadOnlyParameter => receiver.Type is ITypeParameterSymbol || !receiver.Type.IsValueType,
            _ => false,
        };

        /// <summary>Whether a declaration's defaults, written <c>= value</c> or as attributes, are ones the compiler rejects.</summary>
        private static bool HasBadDefaults(SemanticModel model, IMethodSymbol method, BaseMethodDeclarationSyntax declaration, CancellationToken token) =>
            declaration.ParameterList is { } parameters &&
            (parameters.Parameters.Any(p => p.Default is { } value && !IsValidDefault(model, method, p, value.Value, token)) ||
             HasBadDefaultAttributes(model, method, parameters, token));

        /// <summary>
        /// The same for the other declaration of a partial method, whose defaults the wrappers take too (see
        /// <see cref="AsDeclared"/>): asked only when it writes a default or an attribute list on a parameter.
        /// </summary>
        private static bool HasBadDefaultsOnOtherPart(GeneratorAttributeSyntaxContext context, IMethodSymbol method, CancellationToken token)
        {
            if ((method.PartialDefinitionPart ?? method.PartialImplementationPart) is not { } other)
            {
                return false;
            }

            foreach (var reference in other.DeclaringSyntaxReferences)
            {
                if (reference.GetSyntax(token) is BaseMethodDeclarationSyntax declaration && declaration != context.TargetNode &&
                    declaration.ParameterList.Parameters.Any(static p => p.Default is not null || p.AttributeLists.Count > 0))
                {
                    var model = declaration.SyntaxTree == context.TargetNode.SyntaxTree
                        ? context.SemanticModel
                        : context.SemanticModel.Compilation.GetSemanticModel(declaration.SyntaxTree);
                    if (HasBadDefaults(model, other, declaration, token))
                    {
                        return true;
                    }
                }
            }

            return false;
        }

        /// <summary>
        /// Whether a default written as attributes, which the wrappers carry, is one the compiler rejects (CS1908: a
        /// <c>[DefaultParameterValue]</c> of another type than the parameter's). Asks the compiler only for the attribute
        /// lists of such parameters, which are rare.
        /// </summary>
        private static bool HasBadDefaultAttributes(SemanticModel model, IMethodSymbol method, ParameterListSyntax parameters, CancellationToken token)
        {
            foreach (var parameter in method.Parameters)
            {
                if (!parameter.GetAttributes().Any(IsDefaultValueAttribute))
                {
                    continue;
                }

                var syntax = parameters.Parameters.FirstOrDefault(p => p.Identifier.ValueText == parameter.Name);
                if (syntax is { AttributeLists.Count: > 0 } &&
                    model.GetDiagnostics(syntax.AttributeLists.FullSpan, token).Any(static d => d.Severity == DiagnosticSeverity.Error))
                {
                    return true;
                }
            }

            return false;
        }

        /// <summary>
        /// Whether the compiler takes a parameter's default value (C# spec §15.6.2 and the compiler's own checks): a constant,
        /// <c>default</c>, or <c>new S()</c> of a struct's implicit constructor, converting by a standard implicit conversion
        /// that boxes nothing and turns no string into another reference type, and no non-simple struct into its nullable.
        /// A rejected one (CS1736, CS1750, CS1763, CS1770) has no value the wrappers could repeat, so they are not emitted.
        /// </summary>
        private static bool IsValidDefault(SemanticModel model, IMethodSymbol method, ParameterSyntax syntax, ExpressionSyntax value, CancellationToken token)
        {
            var parameter = method.Parameters.FirstOrDefault(p => p.Name == syntax.Identifier.ValueText);
            if (parameter is null || parameter.Type.TypeKind == TypeKind.Error)
            {
                return false;
            }

            // No default at all for a ref or out parameter (CS1741), the receiver of an extension method (CS1743) or a
            // params collection (CS1751): the wrappers would drop it and leave a required parameter after optional ones.
            if (parameter.RefKind is RefKind.Ref or RefKind.Out || (method.IsExtensionMethod && parameter.Ordinal == 0) || parameter.IsParams)
            {
                return false;
            }

            var conversion = model.ClassifyConversion(value, parameter.Type);
            if (!conversion.Exists || !conversion.IsImplicit || conversion.IsUserDefined || conversion.IsBoxing)
            {
                return false;
            }

            // `default!` and `(default)` are what they wrap: the compiler takes them (`T x = default!` is common).
            while (value is ParenthesizedExpressionSyntax or PostfixUnaryExpressionSyntax { RawKind: (int)SyntaxKind.SuppressNullableWarningExpression })
            {
                value = value is ParenthesizedExpressionSyntax parenthesized ? parenthesized.Expression : ((PostfixUnaryExpressionSyntax)value).Operand;
            }

            var type = model.GetTypeInfo(value, token).Type;
            if (conversion.IsReference && type?.SpecialType == SpecialType.System_String)
            {
                return false;
            }

            // `S? x = default(S)` or `= new S()`: only a simple type's or an enum's value may become a nullable's default.
            if (((conversion.IsNullable && type is not null && !IsNullableValueType(type)) || (conversion.IsObjectCreation && IsNullableValueType(parameter.Type))) &&
                parameter.Type is INamedTypeSymbol { TypeArguments: [var underlying] } && !IsSimpleOrEnum(underlying))
            {
                return false;
            }

            if (model.GetConstantValue(value, token).HasValue || value.Kind() is SyntaxKind.DefaultLiteralExpression or SyntaxKind.DefaultExpression)
            {
                return true;
            }

            // `new()` or `new S()` only of a struct's implicit parameterless constructor, without an initializer: not a
            // class's (CS1736), a type parameter's, a struct's own parameterless constructor or one with arguments.
            return value is BaseObjectCreationExpressionSyntax { Initializer: null } &&
                model.GetOperation(value, token) is IObjectCreationOperation { Constructor: { IsImplicitlyDeclared: true, Parameters.Length: 0, ContainingType.IsValueType: true } };
        }

        private static bool IsNullableValueType(ITypeSymbol type) => type.OriginalDefinition.SpecialType == SpecialType.System_Nullable_T;

        // The compiler's "simple types" here are its intrinsic ones; native-sized integers are taken too (a wrong guess keeps a wrapper, never drops one).
        private static bool IsSimpleOrEnum(ITypeSymbol type) => type.TypeKind == TypeKind.Enum || type.SpecialType is
            SpecialType.System_Boolean or SpecialType.System_Char or SpecialType.System_SByte or SpecialType.System_Byte or
            SpecialType.System_Int16 or SpecialType.System_UInt16 or SpecialType.System_Int32 or SpecialType.System_UInt32 or
            SpecialType.System_Int64 or SpecialType.System_UInt64 or SpecialType.System_Single or SpecialType.System_Double or
            SpecialType.System_Decimal or SpecialType.System_IntPtr or SpecialType.System_UIntPtr;

        // The symbol drops `this` when the compiler rejects the extension, so read the syntax as well.
        private static bool IsExtensionShaped(GeneratorAttributeSyntaxContext context, IMethodSymbol method) =>
            (method.Parameters.Length > 0 && method.Parameters[0].IsThis) ||
            (context.TargetNode is BaseMethodDeclarationSyntax { ParameterList.Parameters: [var first, ..] } &&
             first.Modifiers.Any(SyntaxKind.ThisKeyword));

        private static bool HasError(IEnumerable<Diagnostic> diagnostics, TextSpan span) =>
            diagnostics.Any(d => d.Severity == DiagnosticSeverity.Error && d.Location.SourceSpan.IntersectsWith(span));

        private static bool ContainsErrorType(ITypeSymbol? type) => ContainsErrorType(type, 0);

        private static bool ContainsErrorType(ITypeSymbol? type, int depth) => depth <= 64 && type switch
        {
            null => false,
            { TypeKind: TypeKind.Error } => true,
            IArrayTypeSymbol array => ContainsErrorType(array.ElementType, depth + 1),
            IPointerTypeSymbol pointer => ContainsErrorType(pointer.PointedAtType, depth + 1),
            IFunctionPointerTypeSymbol function => ContainsErrorType(function.Signature.ReturnType, depth + 1) ||
                function.Signature.Parameters.Any(p => ContainsErrorType(p.Type, depth + 1)),
            INamedTypeSymbol named => named.TypeArguments.Any(a => ContainsErrorType(a, depth + 1)) || ContainsErrorType(named.ContainingType, depth + 1),
            _ => false,
        };

        /// <summary>
        /// Whether the compiler rejects a type of the signature for what it is rather than for a name it cannot find: a
        /// static class as the type, an element or a type argument (CS0721 as a parameter, CS0722 as the return type,
        /// CS0718 as a type argument, CS0717 as a constraint), an array of a ref struct or of a type parameter that allows
        /// one (CS0611), a ref struct as a type argument whose type parameter does not allow one (CS0306, CS9244). The
        /// wrappers would repeat the error.
        /// </summary>
        private static bool ContainsRejectedType(ITypeSymbol? type, int depth) => depth <= 64 && type switch
        {
            INamedTypeSymbol { IsStatic: true } => true,
            IArrayTypeSymbol array => IsRefLike(array.ElementType) || ContainsRejectedType(array.ElementType, depth + 1),
            INamedTypeSymbol named => named.TypeArguments.Length == named.TypeParameters.Length &&
                named.TypeArguments.Zip(named.TypeParameters, (a, p) => (IsRefLike(a) && !p.AllowsRefLikeType) || ContainsRejectedType(a, depth + 1)).Any(static bad => bad),
            _ => false,
        };

        private static bool IsRefLike(ITypeSymbol type) => type.IsRefLikeType || type is ITypeParameterSymbol { AllowsRefLikeType: true };

        private static bool IsPartial(INamedTypeSymbol type, CancellationToken token)
        {
            if (type.DeclaringSyntaxReferences.Length == 0)
            {
                return false;
            }

            foreach (var reference in type.DeclaringSyntaxReferences)
            {
                switch (reference.GetSyntax(token))
                {
                    // The Program class of top-level statements (C# 10 on): the compiler declares that part, and
                    // 'partial class Program' declarations add to it, as the generated one does.
                    case CompilationUnitSyntax:
                        break;
                    case TypeDeclarationSyntax declaration when declaration.Modifiers.Any(SyntaxKind.PartialKeyword):
                        break;
                    default:
                        return false;
                }
            }

            return true;
        }

        private static TypeDeclarationModel DeclarationOf(INamedTypeSymbol type)
        {
            string keyword = type.IsRecord
                ? (type.TypeKind == TypeKind.Struct ? "record struct" : "record")
                : type.TypeKind switch { TypeKind.Struct => "struct", TypeKind.Interface => "interface", _ => "class" };
            string name = Escape(type.Name);
            if (type.TypeParameters.Length > 0)
            {
                name += "<" + string.Join(", ", type.TypeParameters.Select(static p => Escape(p.Name))) + ">";
            }

            bool lowerCase = WrapperNaming.IsLowerCaseName(type.Name) || type.TypeParameters.Any(static p => WrapperNaming.IsLowerCaseName(p.Name));
            return new TypeDeclarationModel(keyword, name, type.IsRefLikeType ? "ref " : string.Empty, lowerCase);
        }

        private static string HintNameOf(INamedTypeSymbol type)
        {
            var parts = new List<string>();
            for (var current = type; current is not null; current = current.ContainingType)
            {
                parts.Insert(0, current.MetadataName);
            }

            // Metadata names: a verbatim identifier (namespace N.@class) has no '@' there, and '@' is not allowed in a hint name.
            for (var ns = type.ContainingNamespace; ns is { IsGlobalNamespace: false }; ns = ns.ContainingNamespace)
            {
                parts.Insert(0, ns.MetadataName);
            }

            return string.Join(".", parts) + ".Locksmith.g.cs";
        }

        /// <summary>What <see cref="CheckMethod"/> learnt, for building the model; never kept past the transform.</summary>
        private sealed class MethodFacts
        {
            public MethodFacts(TypeModelKey type, string wrapperName, string tryName, string accessibility, string? timeout, bool isAsync)
            {
                IsAsync = isAsync;
                Type = type;
                WrapperName = wrapperName;
                TryName = tryName;
                Accessibility = accessibility;
                Timeout = timeout;
            }

            public TypeModelKey Type { get; }

            public string WrapperName { get; }

            public string TryName { get; }

            public string Accessibility { get; }

            public string? Timeout { get; }

            public bool IsAsync { get; }
        }
    }
}
