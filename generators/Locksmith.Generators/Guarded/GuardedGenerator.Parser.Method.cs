using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Locksmith.Generators.Diagnostics;
using Locksmith.Generators.Guarded.Models;
using Locksmith.Generators.Helpers;
using Locksmith.Generators.Symbols;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

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
            int timeoutMilliseconds,
            Location? attributeLocation,
            List<DiagnosticInfo> diagnostics,
            CancellationToken token)
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

            string? wrapperName = WrapperNaming.WrapperName(method.Name, explicitWrapperName);
            if (wrapperName is null)
            {
                string problem = method.Name == KnownNames.BodySuffix
                    ? $"'{method.Name}' is only the suffix 'Core', which leaves no name for the wrapper; set WrapperName = \"...\" or rename it to 'XxxCore' (the wrapper is then 'Xxx')"
                    : $"'{method.Name}' does not end in 'Core'; set WrapperName = \"...\" or rename it to '{method.Name}Core'";
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.MissingWrapperName, nameLocation, display, problem));
            }
            else if (!WrapperNaming.IsValidName(wrapperName))
            {
                diagnostics.Add(DiagnosticInfo.Create(
                    DiagnosticDescriptors.MissingWrapperName, attributeLocation, display, $"'{wrapperName}' is not a valid identifier; set WrapperName to a plain name"));
                wrapperName = null;
            }
            else
            {
                var timeSpan = context.SemanticModel.Compilation.GetTypeByMetadataName("System.TimeSpan");
                var plain = method.Parameters.Select(static p => (p.Type, p.RefKind != RefKind.None)).ToList();
                var timed = new List<(ITypeSymbol Type, bool ByRef)>(plain);
                if (timeSpan is not null)
                {
                    timed.Add((timeSpan, false));
                }

                if (!method.ReturnsVoid)
                {
                    timed.Add((method.ReturnType, true));
                }

                foreach (var (name, signature) in new[] { (wrapperName, plain), (WrapperNaming.TryName(wrapperName), timed) })
                {
                    if (Collides(method, name, signature))
                    {
                        diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.WrapperNameCollision, nameLocation, name, display, SymbolNames.TypeName(method.ContainingType)));
                    }
                }
            }

            if (diagnostics.Count != errorsBefore || wrapperName is null || accessibility is null)
            {
                return null;
            }

            var typeKey = new TypeModelKey(
                HintNameOf(method.ContainingType),
                method.ContainingType.ContainingNamespace is { IsGlobalNamespace: false } ns ? ns.ToDisplayString(s_namespaceFormat) : null,
                declarations.ToEquatableArray(),
                QualifiedName(method.ContainingType));
            return new MethodFacts(typeKey, wrapperName, WrapperNaming.TryName(wrapperName), accessibility, timeout);
        }

        private static string? ShapeProblem(SyntaxNode node, IMethodSymbol method)
        {
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

            if (method.IsAbstract || method.IsExtern || (method.IsPartialDefinition && method.PartialImplementationPart is null))
            {
                return "it has no body to call (it is abstract, extern or a partial method without an implementation); guard a method with a body, such as the override or the implementing declaration";
            }

            if (method.ReturnsByRef || method.ReturnsByRefReadonly)
            {
                return "it returns by reference, and the reference would outlive the lock; return a value";
            }

            if (method.ExplicitInterfaceImplementations.Length > 0)
            {
                return "it is an explicit interface implementation; guard a method that it calls";
            }

            if (method.IsVararg)
            {
                return "it takes __arglist, which a wrapper cannot pass on; take a params array or ordinary parameters instead";
            }

            if (IsIterator(node))
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

        private static void CheckAsync(IMethodSymbol method, string lockName, LockCapabilities capabilities, Location? location, List<DiagnosticInfo> diagnostics)
        {
            if (!method.IsAsync && !IsAwaitable(method.ReturnType))
            {
                return;
            }

            var descriptor = (capabilities & LockCapabilities.ThreadAffine) != 0
                ? DiagnosticDescriptors.AsyncMethodWithThreadAffineLock
                : DiagnosticDescriptors.AwaitableNotSupported;
            diagnostics.Add(DiagnosticInfo.Create(descriptor, location, DisplayName(method), method.ReturnType.ToDisplayString(), lockName));
        }

        private static bool IsAwaitable(ITypeSymbol type)
        {
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

        /// <summary>Whether a member the type declares or inherits would clash with, or be hidden by, the wrapper.</summary>
        private static bool Collides(IMethodSymbol body, string name, List<(ITypeSymbol Type, bool ByRef)> signature)
        {
            var owner = body.ContainingType;
            if (name == owner.Name)
            {
                return true;
            }

            for (var type = owner; type is not null; type = type.BaseType)
            {
                foreach (var member in type.GetMembers(name))
                {
                    if (!SymbolEqualityComparer.Default.Equals(type, owner) && member.DeclaredAccessibility == Accessibility.Private)
                    {
                        continue;
                    }

                    if (member is not IMethodSymbol other)
                    {
                        return true;
                    }

                    if (other.Arity == body.Arity && SameParameters(other, signature))
                    {
                        return true;
                    }
                }
            }

            return false;
        }

        private static bool SameParameters(IMethodSymbol method, List<(ITypeSymbol Type, bool ByRef)> signature)
        {
            if (method.Parameters.Length != signature.Count)
            {
                return false;
            }

            for (int i = 0; i < signature.Count; i++)
            {
                var parameter = method.Parameters[i];
                if ((parameter.RefKind != RefKind.None) != signature[i].ByRef ||
                    !SymbolEqualityComparer.Default.Equals(parameter.Type, signature[i].Type))
                {
                    return false;
                }
            }

            return true;
        }

        private static bool IsPartial(INamedTypeSymbol type, CancellationToken token)
        {
            if (type.DeclaringSyntaxReferences.Length == 0)
            {
                return false;
            }

            foreach (var reference in type.DeclaringSyntaxReferences)
            {
                if (reference.GetSyntax(token) is not TypeDeclarationSyntax declaration ||
                    !declaration.Modifiers.Any(SyntaxKind.PartialKeyword))
                {
                    return false;
                }
            }

            return true;
        }

        private static TypeDeclarationModel DeclarationOf(INamedTypeSymbol type)
        {
            string keyword = type.IsRecord
                ? (type.TypeKind == TypeKind.Struct ? "record struct" : "record")
                : (type.TypeKind == TypeKind.Struct ? "struct" : "class");
            string name = Escape(type.Name);
            if (type.TypeParameters.Length > 0)
            {
                name += "<" + string.Join(", ", type.TypeParameters.Select(static p => Escape(p.Name))) + ">";
            }

            return new TypeDeclarationModel(keyword, name, type.IsRefLikeType ? "ref " : string.Empty);
        }

        private static string HintNameOf(INamedTypeSymbol type)
        {
            var parts = new List<string>();
            for (var current = type; current is not null; current = current.ContainingType)
            {
                parts.Insert(0, current.MetadataName);
            }

            if (type.ContainingNamespace is { IsGlobalNamespace: false } ns)
            {
                parts.Insert(0, ns.ToDisplayString());
            }

            return string.Join(".", parts) + ".Locksmith.g.cs";
        }

        /// <summary>What <see cref="CheckMethod"/> learnt, for building the model; never kept past the transform.</summary>
        private sealed class MethodFacts
        {
            public MethodFacts(TypeModelKey type, string wrapperName, string tryName, string accessibility, string? timeout)
            {
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
        }
    }
}
