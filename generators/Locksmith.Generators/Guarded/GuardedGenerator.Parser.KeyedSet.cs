using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Locksmith.Generators.Diagnostics;
using Locksmith.Generators.Guarded.Models;
using Locksmith.Generators.Helpers;
using Locksmith.Generators.Symbols;
using Microsoft.CodeAnalysis;

namespace Locksmith.Generators.Guarded;

public sealed partial class GuardedGenerator
{
    internal static partial class Parser
    {
        /// <summary>
        /// <c>[AcquiresLocksOf(nameof(from), nameof(to), Lock = nameof(_accounts))]</c> where <c>_accounts</c> is an async
        /// keyed lock of this type and the parameters are keys: the wrapper takes those keys together through the
        /// lock's <c>AcquireManyAsync</c>, which orders them (a transfer between two accounts in either direction).
        /// </summary>
        private static WrapperModel? ParseKeyedSetMethod(
            GeneratorAttributeSyntaxContext context,
            IMethodSymbol method,
            AcquiresLocksOfAttributeData data,
            ISymbol lockMember,
            MethodFacts? facts,
            Location? attributeLocation,
            Location? nameLocation,
            List<DiagnosticInfo> diagnostics,
            CancellationToken token)
        {
            string display = DisplayName(method);
            var lockType = LockMembers.TypeOf(lockMember)!;
            var lockInfo = new LockInfo(lockMember, lockType, LockCapabilitiesReader.Of(lockType));
            bool valid = true;
            // Keys of one type share its problems, and a name given three times is 'named twice' once: each is said once.
            var reasons = new HashSet<string>(System.StringComparer.Ordinal);
            void Invalid(string reason)
            {
                valid = false;
                if (reasons.Add(reason))
                {
                    diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidAcquiresLocksOf, attributeLocation, display, reason));
                }
            }

            CheckAsync(method, lockMember.Name, lockInfo.Capabilities, nameLocation, diagnostics);
            if (method.IsStatic && !lockMember.IsStatic)
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.StaticMemberGuardedByInstanceLock, attributeLocation, display, lockMember.Name));
                valid = false;
            }

            if (lockType.NullableAnnotation == NullableAnnotation.Annotated)
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.NullableLockMember, attributeLocation, display, lockMember.Name, lockType.ToDisplayString()));
                valid = false;
            }

            var keyType = KeyTypeOf(lockType);
            if (keyType is null || !HasAcquireMany(lockType))
            {
                Invalid($"'{lockMember.Name}' is of type '{lockType.ToDisplayString()}', which has no AcquireManyAsync(IReadOnlyList<TKey>, CancellationToken) to take several keys together");
                return null;
            }

            var timedForms = TimedAcquireManyOf(lockType);
            if (data.TimeoutMilliseconds != 0 && timedForms is null)
            {
                Invalid($"several keys of '{lockMember.Name}' are taken through AcquireManyAsync, which waits the lock's default timeout; remove TimeoutMilliseconds");
            }

            var seen = new HashSet<string>();
            var keys = new List<string>();
            foreach (string name in data.ParameterNames)
            {
                var parameter = method.Parameters.FirstOrDefault(p => p.Name == name);
                if (parameter is null)
                {
                    Invalid(NoSuchParameter(name, method));
                }
                else if (!seen.Add(name))
                {
                    Invalid($"'{name}' is named twice; name each parameter once");
                }
                else if (parameter.RefKind == RefKind.Out)
                {
                    Invalid($"'{name}' is an out parameter, which has no value to lock when the method starts; name an input parameter");
                }
                else if (!context.SemanticModel.Compilation.ClassifyCommonConversion(parameter.Type, keyType).IsImplicit)
                {
                    Invalid($"'{name}' is of type '{parameter.Type.ToDisplayString()}', which is not a key of '{lockMember.Name}' ('{keyType.ToDisplayString()}'), and has no member '{data.Lock}'");
                }
                else if (MayPassNull(parameter.Type, keyType))
                {
                    Invalid($"'{name}' is of type '{parameter.Type.ToDisplayString()}', which may be null, and the keys of '{lockMember.Name}' ('{keyType.ToDisplayString()}') may not; make the parameter non-nullable");
                }
                else
                {
                    keys.Add(Escape(parameter.Name));
                }
            }

            if (ObsoleteAsError(lockMember) is var (obsolete, message))
            {
                diagnostics.Add(DiagnosticInfo.Create(
                    DiagnosticDescriptors.LockUsedThroughObsoleteError, attributeLocation, display, lockMember.Name, obsolete.ToDisplayString(), "\"" + message + "\""));
                return null;
            }

            if (facts is null || !facts.IsAsync || !valid)
            {
                return null;
            }

            string expression = lockMember.IsStatic
                ? QualifiedName(lockMember.ContainingType) + "." + Escape(lockMember.Name)
                : "this." + Escape(lockMember.Name);
            string keyArray = "new " + keyType.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat) + "[] { " + string.Join(", ", keys) + " }";
            var acquisition = new AcquisitionModel(
                timedForms is null ? AcquireMode.KeySet : AcquireMode.TimedKeySet,
                new EquatableArray<LockTargetModel>([TargetFor(lockInfo, expression, nullCheckedParameter: null)]),
                keyArray,
                timedForms is null ? null : facts.Timeout,
                "the keys " + string.Join(" and ", data.ParameterNames.Select(n => "<paramref name=\"" + n + "\"/>")) + " of <c>" + lockMember.Name + "</c>");
            var acquireMany = AcquireManyOf(lockType);
            var lockSymbols = LockSymbols(lockMember, lockType, acquireMany is null ? [] : [acquireMany]);
            var throwingSymbols = timedForms is { } timed && facts.Timeout is not null ? LockSymbols(lockMember, lockType, [timed.Acquire]) : lockSymbols;
            var timedSymbols = timedForms is { } forms ? LockSymbols(lockMember, lockType, [forms.TryAcquire]) : lockSymbols;
            var wrapper = BuildWrapper(context, method, facts, acquisition, throwingSymbols, timedSymbols, token);

            // Each form is released as its own scope type says: a distributed lock's scope is released by a round trip.
            var compilation = context.SemanticModel.Compilation;
            bool throwingAwaits = ReleasesAsync(compilation, timedForms is { } t && facts.Timeout is not null ? t.Acquire : acquireMany);
            bool timedAwaits = timedForms is { } f && ReleasesAsync(compilation, f.TryAcquire);
            return wrapper.Async is { } asyncModel && (throwingAwaits || timedAwaits)
                ? wrapper with { Async = asyncModel with { AwaitsDispose = throwingAwaits, TimedAwaitsDispose = timedAwaits } }
                : wrapper;

            static bool ReleasesAsync(Compilation compilation, IMethodSymbol? acquisition) =>
                acquisition is not null && LockContract.ResultOf(acquisition.ReturnType) is { } scope && LockContract.ReleaseOf(compilation, scope) == true;
        }

        /// <summary>
        /// The lock type's <c>AcquireManyAsync(IReadOnlyList&lt;TKey&gt;, TimeSpan, CancellationToken)</c> and
        /// <c>TryAcquireManyAsync</c> of the same parameters, or null unless it has both (then no timeout and no timed form).
        /// </summary>
        private static (IMethodSymbol Acquire, IMethodSymbol TryAcquire)? TimedAcquireManyOf(ITypeSymbol lockType)
        {
            var acquire = TimedOf(lockType, KnownNames.AcquireManyAsync);
            var tryAcquire = TimedOf(lockType, KnownNames.TryAcquireManyAsync);
            return acquire is not null && tryAcquire is not null ? (acquire, tryAcquire) : null;

            static IMethodSymbol? TimedOf(ITypeSymbol lockType, string name)
            {
                for (var type = lockType; type is not null; type = type.BaseType)
                {
                    foreach (var member in type.GetMembers(name))
                    {
                        if (member is IMethodSymbol { IsStatic: false, Parameters.Length: 3 } method &&
                            method.Parameters[1].Type is { Name: "TimeSpan", ContainingNamespace: { Name: "System", ContainingNamespace.IsGlobalNamespace: true } } &&
                            AsyncWrappers.IsCancellationToken(method.Parameters[2].Type))
                        {
                            return method;
                        }
                    }
                }

                return null;
            }
        }

        /// <summary>Whether the lock type has <c>AcquireManyAsync(IReadOnlyList&lt;TKey&gt;, CancellationToken)</c>.</summary>
        private static bool HasAcquireMany(ITypeSymbol lockType) => AcquireManyOf(lockType) is not null;

        /// <summary>The lock type's <c>AcquireManyAsync(IReadOnlyList&lt;TKey&gt;, CancellationToken)</c>, or null.</summary>
        private static IMethodSymbol? AcquireManyOf(ITypeSymbol lockType)
        {
            for (var type = lockType; type is not null; type = type.BaseType)
            {
                foreach (var member in type.GetMembers(KnownNames.AcquireManyAsync))
                {
                    if (member is IMethodSymbol { IsStatic: false, Parameters.Length: 2 } acquireMany &&
                        AsyncWrappers.IsCancellationToken(acquireMany.Parameters[1].Type))
                    {
                        return acquireMany;
                    }
                }
            }

            return null;
        }
    }
}
