using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Locksmith.Generators.Diagnostics;
using Locksmith.Generators.Guarded.Models;
using Locksmith.Generators.Helpers;
using Locksmith.Generators.Symbols;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Locksmith.Generators.Guarded;

public sealed partial class GuardedGenerator
{
    internal static partial class Parser
    {
        private static WrapperModel? ParseGuardedMethod(
            GeneratorAttributeSyntaxContext context, IMethodSymbol method, GuardedAttributeData data, List<DiagnosticInfo> diagnostics, CancellationToken token)
        {
            var attributeLocation = AttributeLocation(data.Attribute, token);
            var nameLocation = NameLocation(context.TargetNode, method);
            if (AcquiresLocksOfAttributeData.Of(method) is not null)
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.ConflictingLockAttributes, nameLocation, DisplayName(method)));
                return null;
            }

            var lockInfo = ResolveLock(method.ContainingType, data.Lock, method, attributeLocation, diagnostics);
            if (OverridesGuardedMethod(method))
            {
                // The base method's wrappers call this override virtually; a wrapper of its own would hide them. They
                // take the base's lock, so the override may only name that one.
                if (lockInfo is not null && GuardedBase(method) is var (overridden, baseLock) &&
                    !SymbolEqualityComparer.Default.Equals(baseLock, lockInfo.Member))
                {
                    diagnostics.Add(DiagnosticInfo.Create(
                        DiagnosticDescriptors.OverrideGuardedByAnotherLock, attributeLocation, DisplayName(method), DisplayName(overridden), baseLock.Name, lockInfo.Member.Name));
                }

                return null;
            }

            // An awaitable body that gets no async wrapper (a synchronous lock, async void, an async stream), or a
            // synchronous body of an async lock (LSM0042), gets no wrapper at all, and CheckAsync says why: its name is
            // not checked against a rule for wrappers it never gets ('LoadCoreAsync' does not end in 'Core').
            bool asyncLock = lockInfo is not null && lockInfo.Capabilities.IsAsync();
            bool isAsync = asyncLock && AsyncWrappers.IsTaskType(method.ReturnType, out _);
            bool getsNoWrapper = !isAsync && (asyncLock || method.IsAsync || IsAwaitable(method.ReturnType));
            var facts = CheckMethod(
                context, method, data.WrapperName, data.Visibility, data.IsVisibilitySet, data.TimeoutMilliseconds, isAsync, attributeLocation, diagnostics, token,
                checkName: !getsNoWrapper);
            if (lockInfo is null)
            {
                return null;
            }

            if (method.IsStatic && !lockInfo.Member.IsStatic)
            {
                diagnostics.Add(DiagnosticInfo.Create(
                    DiagnosticDescriptors.StaticMemberGuardedByInstanceLock, attributeLocation, DisplayName(method), lockInfo.Member.Name));
            }

            string? inCode = RuntimeSymbols.IsAsyncLockSetMember(lockInfo.Type)
                ? AwaitInCode("[Guarded]", lockInfo.Member.Name, "await " + lockInfo.Member.Name + ".AcquireAsync(" + TokenArgument(method, string.Empty) + ")")
                : null;
            CheckAsync(method, lockInfo.Member.Name, lockInfo.Capabilities, nameLocation, diagnostics, inCode, readAccess: data.IsRead);
            if (lockInfo.Type.NullableAnnotation == NullableAnnotation.Annotated)
            {
                diagnostics.Add(DiagnosticInfo.Create(
                    DiagnosticDescriptors.NullableLockMember, attributeLocation, DisplayName(method), lockInfo.Member.Name, lockInfo.Type.ToDisplayString()));
            }

            var capabilities = lockInfo.Capabilities;
            bool isReadWrite = (capabilities & LockCapabilities.ReadWrite) != 0;
            bool isKeyed = (capabilities & LockCapabilities.Keyed) != 0;
            // The advice fits the code: an async lock or core needs the async counterpart (a synchronous one is LSM0009).
            bool asyncCode = capabilities.IsAsync() || IsAsyncCore(method);
            if (data.IsRead && !isReadWrite)
            {
                // A keyed lock keeps its stripes: a plain read-write lock would make StripeBy LSM0007 and lock every key
                // at once. Only the synchronous keyed lock has a read mode.
                string fix = !isKeyed ? $"use {LockCapabilitiesReader.ReadWriteLockFor(asyncCode)} or remove Access = LockAccess.Read"
                    : !asyncCode ? "use a StripedReadWriteLock<TKey> or remove Access = LockAccess.Read"
                    : "remove Access = LockAccess.Read (no async keyed lock has a read mode: each key's stripe is taken exclusively)";
                diagnostics.Add(DiagnosticInfo.Create(
                    DiagnosticDescriptors.ReadAccessOnExclusiveLock, attributeLocation, DisplayName(method), lockInfo.Member.Name, capabilities.Describe(), fix));
            }

            string? keyArgument = null;
            if (isKeyed)
            {
                keyArgument = ResolveStripeKey(context.SemanticModel.Compilation, method, data.StripeBy, lockInfo, attributeLocation, diagnostics);
            }
            else if (!string.IsNullOrEmpty(data.StripeBy))
            {
                diagnostics.Add(DiagnosticInfo.Create(
                    DiagnosticDescriptors.StripeByOnUnkeyedLock, attributeLocation, DisplayName(method), lockInfo.Member.Name, capabilities.Describe(),
                    LockCapabilitiesReader.KeyedLockFor(asyncCode)));
            }

            if (facts is null)
            {
                return null;
            }

            if (ObsoleteAsError(lockInfo.Member) is var (obsolete, message))
            {
                diagnostics.Add(DiagnosticInfo.Create(
                    DiagnosticDescriptors.LockUsedThroughObsoleteError, attributeLocation, DisplayName(method), lockInfo.Member.Name, obsolete.ToDisplayString(), "\"" + message + "\""));
                return null;
            }

            var mode = data.IsRead ? AcquireMode.Read
                : isReadWrite ? AcquireMode.Write
                : AcquireMode.Exclusive;
            string expression = lockInfo.Member.IsStatic
                ? QualifiedName(lockInfo.Member.ContainingType) + "." + Escape(lockInfo.Member.Name)
                : "this." + Escape(lockInfo.Member.Name);
            var target = TargetFor(lockInfo, expression, nullCheckedParameter: null);
            var acquisition = new AcquisitionModel(
                mode,
                new EquatableArray<LockTargetModel>([target]),
                keyArgument,
                facts.Timeout,
                "<c>" + lockInfo.Member.Name + "</c>");
            var keyType = keyArgument is null ? null : method.Parameters.FirstOrDefault(p => p.Name == data.StripeBy)?.Type;
            string acquire = mode switch
            {
                AcquireMode.Read => KnownNames.AcquireRead,
                AcquireMode.Write => KnownNames.AcquireWrite,
                _ => KnownNames.Acquire,
            };

            // Each wrapper suppresses the warnings of the acquisition it calls, not of every overload the lock type has.
            bool asyncWrappers = facts.IsAsync && AsyncWrappers.IsTaskType(method.ReturnType, out _);
            var calls = LockContract.Calls(
                CallSiteOf(context, method), lockInfo.Type, acquire, keyType, asyncWrappers,
                passesTimeout: facts.Timeout is not null, passesToken: asyncWrappers && AsyncWrappers.PassesToken(method));
            var wrapper = BuildWrapper(
                context, method, facts, acquisition, LockSymbols(lockInfo.Member, lockInfo.Type, calls.Throwing), LockSymbols(lockInfo.Member, lockInfo.Type, calls.Timed), token);
            // Only when nothing else refused it: a missing key or a wrong mode already says why no wrapper comes.
            bool refused = diagnostics.Any(static d => d.Descriptor.DefaultSeverity == DiagnosticSeverity.Error);
            if (refused)
            {
                return wrapper;
            }

            if (LockContract.FirstMissing(
                CallSiteOf(context, method), lockInfo.Type, acquire, keyType, wrapper.Async is not null,
                passesTimeout: facts.Timeout is not null, passesToken: wrapper.Async?.Token is not null, out var release, out var outOfScope) is { } missing)
            {
                diagnostics.Add(DiagnosticInfo.Create(
                    DiagnosticDescriptors.LockTypeLacksAcquisition, attributeLocation, DisplayName(method), lockInfo.Member.Name,
                    lockInfo.Type.ToDisplayString(), capabilities.Describe(), missing, outOfScope.Problem, outOfScope.Fix));
                return null;
            }

            return wrapper.Async is { } asyncModel && (release.Throwing || release.Timed)
                ? wrapper with { Async = asyncModel with { AwaitsDispose = release.Throwing, TimedAwaitsDispose = release.Timed } }
                : wrapper;
        }

        /// <summary>Whether a guarded method's body is async code: declared async, or returning a task type.</summary>
        private static bool IsAsyncCore(IMethodSymbol method) => method.IsAsync || AsyncWrappers.IsTaskType(method.ReturnType, out _);

        /// <summary>Where the wrappers' calls bind: at the guarded method's name, with the usings and extensions in scope there.</summary>
        private static LockContract.CallSite CallSiteOf(GeneratorAttributeSyntaxContext context, IMethodSymbol method) =>
            new(context.SemanticModel, NameLocation(context.TargetNode, method).SourceSpan.Start, method.ContainingType.ContainingNamespace);

        /// <summary>
        /// The method's own synchronous keyed lock when <c>[AcquiresLocksOf]</c> names keys of it (no named parameter's
        /// type has the member), which only the async keyed locks support; null otherwise.
        /// </summary>
        private static ISymbol? SynchronousKeyedSetLock(IMethodSymbol method, AcquiresLocksOfAttributeData data)
        {
            if (method.Parameters.Any(p => data.ParameterNames.Contains(p.Name) && LockMembers.Find(p.Type, data.Lock) is not null))
            {
                return null;
            }

            var member = LockMembers.Find(method.ContainingType, data.Lock);
            var capabilities = LockCapabilitiesReader.Of(LockMembers.TypeOf(member));
            return (capabilities & LockCapabilities.Keyed) != 0 && !capabilities.IsAsync() ? member : null;
        }

        private static WrapperModel? ParseLockSetMethod(
            GeneratorAttributeSyntaxContext context, IMethodSymbol method, AcquiresLocksOfAttributeData data, List<DiagnosticInfo> diagnostics, CancellationToken token)
        {
            if (GuardedAttributeData.Of(method) is not null)
            {
                // Reported once, by the [Guarded] side.
                return null;
            }

            if (OverridesGuardedMethod(method))
            {
                // The base method's wrappers call this override virtually; a wrapper of its own would hide them.
                return null;
            }

            var attributeLocation = AttributeLocation(data.Attribute, token);
            var nameLocation = NameLocation(context.TargetNode, method);
            bool isAsync = AsyncWrappers.IsTaskType(method.ReturnType, out _) && AsyncWrappers.TakesAsyncLock(method);

            // As for [Guarded]: an awaitable body whose locks are not (yet) async ones — Lock unset or naming nothing,
            // synchronous locks — gets no wrapper, and LSM0018 or LSM0009/LSM0010 says why; nor does a synchronous body
            // of async locks (LSM0042). Checking its name by the synchronous rule would only add a wrong LSM0014
            // ('MoveCoreAsync' does not end in 'Core').
            bool getsNoWrapper = !isAsync && (method.IsAsync || IsAwaitable(method.ReturnType) || AsyncWrappers.TakesAsyncLock(method));
            var facts = CheckMethod(
                context, method, data.WrapperName, data.Visibility, data.IsVisibilitySet, data.TimeoutMilliseconds, isAsync, attributeLocation, diagnostics, token,
                checkName: !getsNoWrapper);
            string display = DisplayName(method);
            // Parameters of one type share its problems ('from' and 'to' both Account): each is said once.
            var reasons = new HashSet<string>(System.StringComparer.Ordinal);
            void Invalid(string reason, string? problem = null)
            {
                if (reasons.Add(problem ?? reason))
                {
                    diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidAcquiresLocksOf, attributeLocation, display, reason));
                }
            }

            if (data.ParameterNames.Count == 0)
            {
                Invalid("it names no parameter; name the parameters whose locks it needs: [AcquiresLocksOf(nameof(a), nameof(b), Lock = nameof(_lock))]");
                return null;
            }

            if (string.IsNullOrEmpty(data.Lock))
            {
                Invalid("Lock is not set; set Lock = nameof(_lock) to name the lock member of the parameters' type");
                return null;
            }

            if (AsyncWrappers.KeyedSetLock(method, data) is { } keyedLock)
            {
                return ParseKeyedSetMethod(context, method, data, keyedLock, facts, attributeLocation, nameLocation, diagnostics, token);
            }

            if (SynchronousKeyedSetLock(method, data) is { } syncKeyed)
            {
                // Keys of a synchronous keyed lock: say that once, not that each key's type lacks the lock member.
                Invalid($"'{data.Lock}' is a synchronous keyed lock ('{LockMembers.TypeOf(syncKeyed)!.ToDisplayString()}'), and only an async keyed lock takes several keys together (AcquireManyAsync); " +
                    $"use an AsyncStripedLock<TKey> and an async method, or take one key with [Guarded(Lock = nameof({data.Lock}), StripeBy = nameof(key))]");
                return null;
            }

            var targets = new List<LockTargetModel>();
            var lockSymbols = new List<ISymbol>();
            var seen = new HashSet<string>();
            var obsoleteMembers = new HashSet<ISymbol>(SymbolEqualityComparer.Default);
            var capabilities = LockCapabilities.None;
            string? firstLock = null;
            bool mixed = false;
            bool allAsyncMembers = true;
            var lockExpressions = new List<string>();
            foreach (string name in data.ParameterNames)
            {
                var parameter = method.Parameters.FirstOrDefault(p => p.Name == name);
                if (parameter is null)
                {
                    Invalid(NoSuchParameter(name, method));
                    continue;
                }

                if (!seen.Add(name))
                {
                    Invalid($"'{name}' is named twice; name each parameter once");
                    continue;
                }

                if (parameter.RefKind == RefKind.Out)
                {
                    Invalid($"'{name}' is an out parameter, which has no value to lock when the method starts; name an input parameter");
                    continue;
                }

                string typeName = parameter.Type.ToDisplayString();
                var member = LockMembers.Find(parameter.Type, data.Lock);
                var lockType = LockMembers.TypeOf(member);
                var memberCapabilities = LockCapabilitiesReader.Of(lockType);
                if (member is null && ElementWithLock(parameter.Type, data.Lock!) is { } element)
                {
                    // A collection of objects (params Account[] accounts): no Lock fits it, the attribute takes one object a parameter.
                    bool asyncCode = IsAsyncCore(method) || LockCapabilitiesReader.Of(LockMembers.TypeOf(LockMembers.Find(element, data.Lock))).IsAsync();
                    Invalid($"'{name}' is a collection of '{element.ToDisplayString()}' ('{typeName}'), and [AcquiresLocksOf] takes one object for each parameter it names; " +
                        $"name each object as a parameter of its own (nameof(from), nameof(to), …), or take the elements' locks in code, all at once: " +
                        (asyncCode
                            ? $"'using var scope = await LockSet.AcquireLocksOfAsync(locks, ct);' with the elements' '{data.Lock}' as IAsyncLockSetMembers"
                            : $"'using var scope = LockSet.AcquireLocksOf(locks);' with the elements' '{data.Lock}'"));
                    continue;
                }

                if (member is null || lockType is null)
                {
                    // The type's problem, and one fix for all its parameters: said once, naming the first.
                    Invalid($"'{typeName}', the type of '{name}', has no field or property '{data.Lock}'; set Lock to the lock member of that type", "no member in " + typeName);
                    continue;
                }

                // An inherited member is changed where it is declared: name that type, not only the parameter's.
                string lockOf = member.ContainingType is { } declaring && !SymbolEqualityComparer.Default.Equals(declaring, parameter.Type)
                    ? $"'{data.Lock}' of '{typeName}' (declared in '{SymbolNames.TypeName(declaring)}')"
                    : $"'{data.Lock}' of '{typeName}'";
                if (!memberCapabilities.IsLock() || !RuntimeSymbols.DerivesFromLockPrimitive(lockType))
                {
                    Invalid($"{lockOf} is of type '{lockType.ToDisplayString()}', not a Locksmith lock that LockSet can take; set Lock to a member of a lock type such as {(IsAsyncCore(method) ? "AsyncExclusiveLock or AsyncReadWriteLock" : "ExclusiveLock, ReentrantLock or ReadWriteLock")}");
                    continue;
                }

                if ((memberCapabilities & LockCapabilities.Keyed) != 0)
                {
                    Invalid($"{lockOf} is a keyed lock; LockSet takes whole locks, so guard the method with [Guarded(StripeBy = ...)] instead");
                    continue;
                }

                if (capabilities != LockCapabilities.None && capabilities.IsAsync() != memberCapabilities.IsAsync())
                {
                    mixed = true;
                    Invalid($"{lockOf} is {memberCapabilities.Describe()}, but the locks before it are {(capabilities.IsAsync() ? "async" : "synchronous")}; LockSet takes async locks together or synchronous locks together");
                    continue;
                }

                // The emitted LockSet call compiles only for an (async) lock-set member; say so here rather than in a compiler error.
                if (memberCapabilities.IsAsync() && !RuntimeSymbols.IsAsyncLockSetMember(lockType))
                {
                    Invalid($"{lockOf} is of type '{lockType.ToDisplayString()}', which LockSet.AcquireAsync cannot take (it is not an IAsyncLockSetMember); use a lock type that implements IAsyncLockSetMember, or guard the method with [Guarded] instead");
                    continue;
                }

                if (!memberCapabilities.IsAsync() && !RuntimeSymbols.IsLockSetMember(lockType))
                {
                    Invalid($"{lockOf} is of type '{lockType.ToDisplayString()}', which LockSet cannot take (it is not an ILockSetMember); use a lock type that implements ILockSetMember, or guard the method with [Guarded] instead");
                    continue;
                }

                if (member.IsStatic)
                {
                    Invalid($"{lockOf} is static, so every parameter shares one lock; use [Guarded(Lock = ...)] instead");
                    continue;
                }

                if (lockType.NullableAnnotation == NullableAnnotation.Annotated)
                {
                    Invalid($"{lockOf} is of type '{lockType.ToDisplayString()}', which may be null; declare it non-nullable");
                    continue;
                }

                var compilation = context.SemanticModel.Compilation;
                if (!compilation.IsSymbolAccessibleWithin(member, method.ContainingType))
                {
                    // Internal is no help where the member's assembly does not give this one access.
                    var own = compilation.Assembly;
                    var other = member.ContainingAssembly;
                    Invalid(other is null || SymbolEqualityComparer.Default.Equals(other, own) || other.GivesAccessTo(own)
                        ? $"{lockOf} is not accessible from '{SymbolNames.TypeName(method.ContainingType)}'; make it internal or move the method into that type"
                        : $"{lockOf} is not accessible from '{SymbolNames.TypeName(method.ContainingType)}', and its assembly '{other.Name}' gives '{own.Name}' no access; " +
                          $"make it public, or internal with [assembly: InternalsVisibleTo(\"{own.Name}\")] in '{other.Name}'");
                    continue;
                }

                // A protected member of a base type is reachable only through the deriving type or its own derived types
                // (CS1540): 'a._lock' for a parameter 'Base a' does not compile in 'Derived'.
                if (!compilation.IsSymbolAccessibleWithin(member, method.ContainingType, parameter.Type))
                {
                    string container = SymbolNames.TypeName(method.ContainingType);
                    string access = member.DeclaredAccessibility switch
                    {
                        Accessibility.ProtectedAndInternal => "private protected",
                        Accessibility.ProtectedOrInternal => "protected internal",
                        _ => "protected",
                    };
                    var own = compilation.Assembly;
                    var other = member.ContainingAssembly;
                    string widen = other is null || SymbolEqualityComparer.Default.Equals(other, own) || other.GivesAccessTo(own)
                        ? "internal"
                        : $"public, or internal with [assembly: InternalsVisibleTo(\"{own.Name}\")] in '{other.Name}'";
                    Invalid($"{lockOf} is {access}, and '{container}' may reach it only through '{container}' or a type derived from it, not through '{name}' of type '{typeName}' (CS1540); declare '{name}' as '{container}', or make '{data.Lock}' {widen}");
                    continue;
                }

                if (ObsoleteAsError(member) is var (obsolete, message))
                {
                    // Once per lock member: parameters of one type share it, and the message names the member, not them.
                    if (obsoleteMembers.Add(member))
                    {
                        diagnostics.Add(DiagnosticInfo.Create(
                            DiagnosticDescriptors.LockUsedThroughObsoleteError, attributeLocation, display, member.Name, obsolete.ToDisplayString(), "\"" + message + "\""));
                    }

                    continue;
                }

                capabilities |= memberCapabilities;
                // The wrappers call LockSet, not the lock type's acquisitions.
                lockSymbols.AddRange(LockSymbols(member, lockType, []));
                firstLock ??= member.Name;
                allAsyncMembers &= RuntimeSymbols.IsAsyncLockSetMember(lockType);
                lockExpressions.Add(Escape(parameter.Name) + "." + Escape(member.Name));
                var info = new LockInfo(member, lockType, memberCapabilities);
                string expression = Escape(parameter.Name) + "." + Escape(member.Name);
                targets.Add(TargetFor(info, expression, parameter.Type.IsValueType ? null : Escape(parameter.Name)));
            }

            // Mixed locks are reported once, as such, not again as a sync/async mismatch of the body.
            if (firstLock is not null && !mixed)
            {
                // A synchronous lock that can also be awaited in code (CountingSemaphore): say how, through the async LockSet.
                string? inCode = allAsyncMembers && lockExpressions.Count == data.ParameterNames.Count
                    ? AwaitInCode(
                        "[AcquiresLocksOf]",
                        firstLock,
                        lockExpressions.Count == 2
                            ? "await LockSet.AcquireAsync(" + string.Join(", ", lockExpressions) + TokenArgument(method, ", ") + ")"
                            : "await LockSet.AcquireLocksOfAsync(new IAsyncLockSetMember[] { " + string.Join(", ", lockExpressions) + " }" + TokenArgument(method, ", ") + ")")
                    : null;
                CheckAsync(method, firstLock, capabilities, nameLocation, diagnostics, inCode);
            }

            if (facts is null || targets.Count != data.ParameterNames.Count)
            {
                return null;
            }

            var acquisition = new AcquisitionModel(
                AcquireMode.Set,
                targets.ToEquatableArray(),
                KeyArgument: null,
                facts.Timeout,
                "the <c>" + data.Lock + "</c> locks of " + string.Join(" and ", data.ParameterNames.Select(n => "<paramref name=\"" + n + "\"/>")),
                SetAsArray: context.SemanticModel.Compilation is CSharpCompilation { LanguageVersion: < LanguageVersion.CSharp13 });
            return BuildWrapper(context, method, facts, acquisition, lockSymbols, lockSymbols, token);
        }

        // A parameter named by a keyword is written with '@' (nameof(@lock) gives "lock").
        private static string Escaped(string name) =>
            SyntaxFacts.IsReservedKeyword(SyntaxFacts.GetKeywordKind(name)) ? "@" + name : name;

        // The field the advice suggests for a primary constructor parameter: '_name', or a variant the type does not declare yet.
        private static string FreeFieldName(INamedTypeSymbol type, string parameter)
        {
            string field = "_" + parameter;
            if (type.GetMembers(field).IsEmpty)
            {
                return field;
            }

            if (type.GetMembers(field + "Lock").IsEmpty)
            {
                return field + "Lock";
            }

            int suffix = 2;
            while (!type.GetMembers(field + suffix.ToString(System.Globalization.CultureInfo.InvariantCulture)).IsEmpty)
            {
                suffix++;
            }

            return field + suffix.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        private static LockInfo? ResolveLock(INamedTypeSymbol type, string? lockName, ISymbol guarded, Location? location, List<DiagnosticInfo> diagnostics)
        {
            if (string.IsNullOrEmpty(lockName))
            {
                diagnostics.Add(DiagnosticInfo.Create(
                    DiagnosticDescriptors.GuardedWithoutLock, location, DisplayName(guarded), SymbolNames.TypeName(type)));
                return null;
            }

            var member = LockMembers.Find(type, lockName);
            if (member is null)
            {
                // nameof accepts a primary constructor parameter, which is no member: say how to keep it in one.
                string advice = "set Lock = nameof(yourLockField)";
                if (LockMembers.PrimaryConstructorParameterType(type, lockName!) is { } parameterType)
                {
                    string field = FreeFieldName(type, lockName!);
                    advice = $"'{lockName}' is a primary constructor parameter, which the wrappers cannot reach: keep it in a field " +
                             $"(private readonly {parameterType} {field} = {Escaped(lockName!)};) and set Lock = nameof({field})";
                }
                else if (LockMembers.FindHidden(type, lockName!) is { } hidden)
                {
                    advice = HiddenLockAdvice(type, hidden.Hider, hidden.Lock);
                }
                else if (LockMembers.FindUnreachable(type, lockName!) is { } unreachable)
                {
                    advice = UnreachableBaseLockAdvice(type, unreachable);
                }

                diagnostics.Add(DiagnosticInfo.Create(
                    DiagnosticDescriptors.LockMemberNotFound, location, DisplayName(guarded), lockName!, SymbolNames.TypeName(type), advice));
                return null;
            }

            var lockType = LockMembers.TypeOf(member);
            var capabilities = LockCapabilitiesReader.Of(lockType);
            if (lockType is null || !capabilities.IsLock())
            {
                diagnostics.Add(DiagnosticInfo.Create(
                    DiagnosticDescriptors.NotALocksmithLock, location, DisplayName(guarded), member.Name, lockType?.ToDisplayString() ?? "?",
                    LockCapabilitiesReader.LocksFor(guarded is IMethodSymbol method ? IsAsyncCore(method) : null)));
                return null;
            }

            return new LockInfo(member, lockType, capabilities);
        }

        /// <summary>What to do about a lock member that another member of its name hides, naming both.</summary>
        private static string HiddenLockAdvice(INamedTypeSymbol type, ISymbol hider, ISymbol lockMember)
        {
            string lockType = SymbolNames.TypeName(lockMember.ContainingType);
            if (SymbolEqualityComparer.Default.Equals(hider.ContainingType, lockMember.ContainingType))
            {
                return $"'{lockType}' declares more than one member named '{lockMember.Name}' (CS0102): rename all but the lock";
            }

            string kind = hider switch
            {
                IMethodSymbol => "a method",
                INamedTypeSymbol => "a nested type",
                IPropertySymbol => "a property without a getter",
                IEventSymbol => "an event",
                _ => "a member",
            };
            return $"'{SymbolNames.TypeName(hider.ContainingType)}.{hider.Name}' is {kind}, which hides the lock '{lockType}.{lockMember.Name}' in " +
                   $"'{SymbolNames.TypeName(type)}': rename it, or set Lock to another lock member";
        }

        /// <summary>What to do about a base type's lock member the deriving type cannot reach, naming where it is declared.</summary>
        private static string UnreachableBaseLockAdvice(INamedTypeSymbol type, ISymbol member)
        {
            string where = SymbolNames.TypeName(member.ContainingType) + "." + member.Name;
            if (member.DeclaredAccessibility == Accessibility.Private)
            {
                return $"'{where}' is private to its type: make it protected, or set Lock to a lock member of '{SymbolNames.TypeName(type)}'";
            }

            string access = member.DeclaredAccessibility == Accessibility.Internal ? "internal" : "private protected";
            return $"'{where}' is {access} to assembly '{member.ContainingAssembly.Name}', which gives '{type.ContainingAssembly.Name}' no access: " +
                   $"make it protected, or give that access with [assembly: InternalsVisibleTo(\"{type.ContainingAssembly.Name}\")] in '{member.ContainingAssembly.Name}'";
        }

        /// <summary>
        /// The element type of an array or <c>IEnumerable&lt;T&gt;</c> parameter type whose elements have the lock member
        /// <paramref name="lockName"/> (a collection of the objects [AcquiresLocksOf] wants one a parameter); else null.
        /// </summary>
        private static ITypeSymbol? ElementWithLock(ITypeSymbol type, string lockName)
        {
            ITypeSymbol? element = type is IArrayTypeSymbol array ? array.ElementType : null;
            if (element is null && type is INamedTypeSymbol named)
            {
                foreach (var candidate in new[] { named }.Concat(named.AllInterfaces))
                {
                    if (candidate.OriginalDefinition.SpecialType == SpecialType.System_Collections_Generic_IEnumerable_T)
                    {
                        element = candidate.TypeArguments[0];
                        break;
                    }
                }
            }

            return element is not null && LockMembers.Find(element, lockName) is not null ? element : null;
        }

        private static string? ResolveStripeKey(
            Compilation compilation, IMethodSymbol method, string? stripeBy, LockInfo lockInfo, Location? location, List<DiagnosticInfo> diagnostics)
        {
            if (string.IsNullOrEmpty(stripeBy))
            {
                diagnostics.Add(DiagnosticInfo.Create(
                    DiagnosticDescriptors.KeyedLockWithoutStripeBy, location, DisplayName(method), lockInfo.Member.Name));
                return null;
            }

            var keyType = KeyTypeOf(lockInfo.Type);
            var parameter = method.Parameters.FirstOrDefault(p => p.Name == stripeBy);
            if (StripeKeyProblem(compilation, parameter, stripeBy!, keyType, lockInfo) is { } problem)
            {
                diagnostics.Add(DiagnosticInfo.Create(
                    DiagnosticDescriptors.StripeByNamesNoParameter, location, DisplayName(method), problem.Reason, problem.Fix));
                return null;
            }

            return Escape(parameter!.Name);
        }

        /// <summary>
        /// Why the parameter StripeBy names cannot pick the stripe, and the fix, as LSM0006 says them; null when it can.
        /// Each reason is its own: a nullable key is no conversion problem ('string?' converts to 'string'), nor an
        /// 'out' one a type problem.
        /// </summary>
        private static (string Reason, string Fix)? StripeKeyProblem(
            Compilation compilation, IParameterSymbol? parameter, string stripeBy, ITypeSymbol? keyType, LockInfo lockInfo)
        {
            string key = keyType?.ToDisplayString() ?? lockInfo.Type.ToDisplayString() + " key";
            string lockName = lockInfo.Member.Name;
            if (parameter is null)
            {
                return ($"'{stripeBy}' is no parameter of the method", $"set StripeBy = nameof(keyParameter), a parameter of the key type '{key}' of '{lockName}'");
            }

            if (parameter.RefKind == RefKind.Out)
            {
                return ($"'{stripeBy}' is an out parameter, which has no value until the method returns", "take the key as an input parameter");
            }

            if (keyType is null)
            {
                return null;
            }

            // 'int?' for keys of 'int' converts only explicitly, but its trouble is null, as for 'string?' with keys of 'string'.
            bool converts = compilation.ClassifyCommonConversion(parameter.Type, keyType).IsImplicit;
            bool nullable = converts
                ? MayPassNull(parameter.Type, keyType)
                : parameter.Type is INamedTypeSymbol { OriginalDefinition.SpecialType: SpecialType.System_Nullable_T, TypeArguments: [var underlying] } &&
                  compilation.ClassifyCommonConversion(underlying, keyType).IsImplicit;
            if (nullable)
            {
                return ($"'{stripeBy}' is of type '{parameter.Type.ToDisplayString()}', which may be null, and the keys of '{lockName}' ('{key}') may not",
                    "make the parameter non-nullable");
            }

            return converts
                ? null
                : ($"'{stripeBy}' is of type '{parameter.Type.ToDisplayString()}', which does not convert to the key type '{key}' of '{lockName}'",
                    $"set StripeBy = nameof(keyParameter), a parameter of type '{key}', or change the type of '{stripeBy}'");
        }

        /// <summary>
        /// Whether a nullable reference <paramref name="parameter"/> type would pass null where a keyed lock takes a
        /// non-nullable key: the conversion is implicit, but the wrapper would not compile without a warning (CS8604).
        /// </summary>
        private static bool MayPassNull(ITypeSymbol parameter, ITypeSymbol key) =>
            !parameter.IsValueType && parameter.NullableAnnotation == NullableAnnotation.Annotated &&
            !key.IsValueType && key.NullableAnnotation == NullableAnnotation.NotAnnotated;

        /// <summary>The key type of a keyed lock: the parameter of its one-argument <c>Acquire</c> (or <c>AcquireWrite</c>, <c>AcquireRead</c>).</summary>
        private static ITypeSymbol? KeyTypeOf(ITypeSymbol lockType)
        {
            for (var type = lockType; type is not null; type = type.BaseType)
            {
                foreach (var member in type.GetMembers())
                {
                    if (member is IMethodSymbol { IsStatic: false, Parameters.Length: 1, Name: KnownNames.Acquire or KnownNames.AcquireWrite or KnownNames.AcquireRead } acquire)
                    {
                        return acquire.Parameters[0].Type;
                    }

                    // An async keyed lock: AcquireAsync(TKey key, CancellationToken cancellationToken = default).
                    if (member is IMethodSymbol { IsStatic: false, Parameters.Length: 2, Name: "AcquireAsync" or "AcquireWriteAsync" or "AcquireReadAsync" } acquireAsync &&
                        AsyncWrappers.IsCancellationToken(acquireAsync.Parameters[1].Type))
                    {
                        return acquireAsync.Parameters[0].Type;
                    }
                }
            }

            return null;
        }

        private static LockTargetModel TargetFor(LockInfo lockInfo, string expression, string? nullCheckedParameter)
        {
            int? level = LockMembers.LevelOf(lockInfo.Member);

            // A property that merely returns a lock member (Gate => _lock) reaches that member's lock: its wrappers
            // declare it as the member's own do, by one name and level, whichever runs first.
            var declaring = LockMembers.ForwardedTo(lockInfo.Member) ?? lockInfo.Member;

            // A lock the implementation of an interface member (or an override) supplies, or a property computes from
            // elsewhere (=> _till.Lock), with no level here: declaring it would fix its level at none, and the wrappers of
            // the member that owns it, which declare its level, would find it declared already. So the wrappers that
            // reach it through this member leave it to them.
            bool declares = RuntimeSymbols.DerivesFromLockPrimitive(lockInfo.Type) &&
                (level is not null || !(LockMembers.MayBeSuppliedElsewhere(declaring) || LockMembers.IsComputed(declaring)));
            string? declaredName = declares ? LockMembers.DeclaredName(declaring) : null;
            string? policy = declaredName is not null && (lockInfo.Capabilities & LockCapabilities.ReadWrite) != 0
                ? PolicyFor(declaring, lockInfo)
                : null;
            return new LockTargetModel(expression, declaredName, level, policy, nullCheckedParameter);
        }

        /// <summary>
        /// The <c>ReadWritePolicy</c> of the <c>[ReadMostly]</c> on the type declaring the lock, when the lock has the
        /// <c>EnsureDeclared(string, int?, ReadWritePolicy)</c> overload that takes it; else null.
        /// </summary>
        private static string? PolicyFor(ISymbol declaring, LockInfo lockInfo)
        {
            if (declaring.ContainingType is not { } owner || ReadMostlyAttributeData.Of(owner) is not { } readMostly)
            {
                return null;
            }

            return PolicyTypeOf(lockInfo.Type) is { } policyType ? PolicyMember(policyType, readMostly) : null;
        }

        /// <summary>The <c>ReadWritePolicy</c> type of a lock's <c>EnsureDeclared(string, int?, ReadWritePolicy)</c>, or null when it has none.</summary>
        private static INamedTypeSymbol? PolicyTypeOf(ITypeSymbol lockType)
        {
            for (var type = lockType; type is not null; type = type.BaseType)
            {
                foreach (var member in type.GetMembers(KnownNames.EnsureDeclared))
                {
                    if (member is IMethodSymbol { Parameters.Length: 3 } ensure &&
                        ensure.Parameters[2].Type is INamedTypeSymbol { TypeKind: TypeKind.Enum } policyType &&
                        RuntimeSymbols.IsRuntimeType(policyType, KnownNames.ReadWritePolicy))
                    {
                        return policyType;
                    }
                }
            }

            return null;
        }

        private static string PolicyMember(INamedTypeSymbol policyType, ReadMostlyAttributeData readMostly)
        {
            const string DefaultPolicy = "WriterPreferred";
            object? value = readMostly.Policy?.Value;
            if (value is null)
            {
                return KnownNames.ReadWritePolicyType + "." + DefaultPolicy;
            }

            foreach (var field in policyType.GetMembers().OfType<IFieldSymbol>())
            {
                if (field.HasConstantValue && Equals(field.ConstantValue, value))
                {
                    return KnownNames.ReadWritePolicyType + "." + field.Name;
                }
            }

            return "(" + KnownNames.ReadWritePolicyType + ")" + System.Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture);
        }

        /// <summary>
        /// LSM0018's advice for a name of no parameter. 'this' is the usual one, an instance method merging its own object
        /// with another: the attribute names parameters only, so the object becomes one.
        /// </summary>
        private static string NoSuchParameter(string name, IMethodSymbol method) =>
            name.TrimStart('@') == "this" && !method.IsStatic
                ? $"'this' names no parameter, and [AcquiresLocksOf] takes the locks of the parameters it names; make '{method.Name}' static " +
                  "and take this object as a parameter of its own, named beside the others (nameof(self)), so its wrapper takes every lock at once in order"
                : $"'{name}' names no parameter; use nameof(parameter)";

        /// <summary>A resolved lock member, used while parsing only (never kept in a model).</summary>
        private sealed class LockInfo
        {
            public LockInfo(ISymbol member, ITypeSymbol type, LockCapabilities capabilities)
            {
                Member = member;
                Type = type;
                Capabilities = capabilities;
            }

            public ISymbol Member { get; }

            public ITypeSymbol Type { get; }

            public LockCapabilities Capabilities { get; }
        }
    }
}
