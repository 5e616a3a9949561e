using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using Locksmith.Generators.Symbols;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Locksmith.Generators.Diagnostics.Analyzers.Support;

/// <summary>
/// What the analyzers need to know about symbols, computed once per compilation however many operations ask: the
/// Locksmith attribute types are resolved when the compilation starts, and each symbol's guard, the locks each
/// method holds and what each generated wrapper takes are cached (keyed with <see cref="SymbolEqualityComparer"/>),
/// so the lock-order facts of a wrapper are worked out once per wrapper, not once per call site.
/// </summary>
/// <remarks>One instance lives in the closure of a compilation-start action and dies with the compilation.</remarks>
internal sealed class LockFacts
{
    private readonly INamedTypeSymbol _guardedAttribute;
    private readonly INamedTypeSymbol? _acquiresLocksOfAttribute;
    private readonly ConcurrentDictionary<ISymbol, Guard?> _guards = new(SymbolEqualityComparer.Default);
    private readonly ConcurrentDictionary<ISymbol, AcquiresLocksOfAttributeData?> _lockSets = new(SymbolEqualityComparer.Default);
    private readonly ConcurrentDictionary<IMethodSymbol, ImmutableArray<LockUse>> _held = new(SymbolEqualityComparer.Default);
    private readonly ConcurrentDictionary<IMethodSymbol, Wrapper?> _wrappers = new(SymbolEqualityComparer.Default);
    private readonly ConcurrentDictionary<INamedTypeSymbol, ImmutableArray<(IMethodSymbol, string)>> _bodies = new(SymbolEqualityComparer.Default);
    private readonly ConcurrentDictionary<ITypeSymbol, LockCapabilities> _capabilities = new(SymbolEqualityComparer.Default);

    // Cached delegates: GetOrAdd with a lambda that captures `this` would allocate on every lookup.
    private readonly Func<ISymbol, Guard?> _computeGuard;
    private readonly Func<ISymbol, AcquiresLocksOfAttributeData?> _computeLockSet;
    private readonly Func<IMethodSymbol, ImmutableArray<LockUse>> _computeHeld;
    private readonly Func<IMethodSymbol, Wrapper?> _computeWrapper;
    private readonly Func<INamedTypeSymbol, ImmutableArray<(IMethodSymbol, string)>> _computeBodies;
    private readonly Func<ITypeSymbol, LockCapabilities> _computeCapabilities;

    private LockFacts(INamedTypeSymbol guardedAttribute, INamedTypeSymbol? acquiresLocksOfAttribute)
    {
        _guardedAttribute = guardedAttribute;
        _acquiresLocksOfAttribute = acquiresLocksOfAttribute;
        _computeGuard = ComputeGuard;
        _computeLockSet = ComputeLockSet;
        _computeHeld = ComputeHeld;
        _computeWrapper = ComputeWrapper;
        _computeBodies = ComputeBodies;
        _computeCapabilities = LockCapabilitiesReader.Of;
    }

    /// <summary>
    /// Calls <paramref name="register"/> once per compilation that references the Locksmith runtime (one without it has
    /// no Locksmith lock to check), with that compilation's facts: every Locksmith analyzer starts this way.
    /// </summary>
    public static void RegisterWhereLocksExist(AnalysisContext context, Action<CompilationStartAnalysisContext, LockFacts> register) =>
        context.RegisterCompilationStartAction(start =>
        {
            if (Create(start.Compilation) is { } facts)
            {
                register(start, facts);
            }
        });

    /// <summary>The facts of a compilation that references the Locksmith attributes, else null (nothing to analyze).</summary>
    public static LockFacts? Create(Compilation compilation) =>
        compilation.GetTypeByMetadataName(KnownNames.GuardedAttribute) is { } guarded
            ? new LockFacts(guarded, compilation.GetTypeByMetadataName(KnownNames.AcquiresLocksOfAttribute))
            : null;

    /// <summary>
    /// The guard of a member or method, or null when it has no valid <c>[Guarded]</c> (the generator reports those); an
    /// override without one takes its base method's.
    /// </summary>
    public Guard? GuardOf(ISymbol symbol) => _guards.GetOrAdd(symbol.OriginalDefinition, _computeGuard);

    /// <summary>
    /// What each helper of this compilation surely returns as a lock's acquisition (<see cref="HeldLocks.JudgeHelper"/>),
    /// its body read once however many using scopes of it LSM0020 judges.
    /// </summary>
    public HelperJudgements<HelperAcquisitions> HelperAcquisitions { get; } = new(HeldLocks.MayReturnAnAcquisition, HeldLocks.JudgeHelper);

    /// <summary>The <c>[AcquiresLocksOf]</c> of a method, or null.</summary>
    public AcquiresLocksOfAttributeData? LockSetOf(IMethodSymbol method) => _lockSets.GetOrAdd(method.OriginalDefinition, _computeLockSet);

    /// <summary>The locks a guarded (or <c>[AcquiresLocksOf]</c>) method holds while it runs; empty for other methods.</summary>
    /// <remarks>A partial method's two declarations hold the same locks: the defining one's parameters are the ones named.</remarks>
    public ImmutableArray<LockUse> LocksHeldBy(IMethodSymbol method) =>
        _held.GetOrAdd(PartialParts.Definition((IMethodSymbol)method.OriginalDefinition), _computeHeld);

    /// <summary>The body behind a generated wrapper and the locks the wrapper takes, or null when the method is no wrapper.</summary>
    public Wrapper? WrapperOf(IMethodSymbol method) => _wrappers.GetOrAdd((IMethodSymbol)method.OriginalDefinition, _computeWrapper);

    /// <summary>The name of the wrapper the generator makes for a guarded (or <c>[AcquiresLocksOf]</c>) method, or null when it makes none.</summary>
    public string? WrapperNameOf(IMethodSymbol body)
    {
        var definition = (IMethodSymbol)body.OriginalDefinition;
        if (definition.ContainingType is not { } type)
        {
            return null;
        }

        foreach (var (candidate, name) in _bodies.GetOrAdd(type, _computeBodies))
        {
            if (SymbolEqualityComparer.Default.Equals(candidate, definition))
            {
                return name;
            }
        }

        return null;
    }

    /// <summary>The capabilities of a lock type.</summary>
    public LockCapabilities CapabilitiesOf(ITypeSymbol? type) => type is null ? LockCapabilities.None : _capabilities.GetOrAdd(type, _computeCapabilities);

    private Guard? ComputeGuard(ISymbol symbol)
    {
        if (symbol.ContainingType is not { } type)
        {
            return null;
        }

        if (Find(symbol, _guardedAttribute) is not { } attribute)
        {
            // An override of a guarded core without [Guarded] of its own is the body its base's wrappers call under the
            // base's lock (the template method): it holds that lock. One naming another lock is LSM0043 and keeps its own.
            return symbol is IMethodSymbol { IsOverride: true, OverriddenMethod: { } overridden } ? GuardOf(overridden) : null;
        }

        var data = new GuardedAttributeData(attribute);
        var lockMember = LockMembers.Find(type, data.Lock);
        var capabilities = CapabilitiesOf(LockMembers.TypeOf(lockMember));
        return lockMember is not null && capabilities.IsLock() ? new Guard(lockMember, capabilities, data.IsRead) : null;
    }

    private AcquiresLocksOfAttributeData? ComputeLockSet(ISymbol method) =>
        _acquiresLocksOfAttribute is not null && Find(method, _acquiresLocksOfAttribute) is { } attribute
            ? new AcquiresLocksOfAttributeData(attribute)
            : null;

    private ImmutableArray<LockUse> ComputeHeld(IMethodSymbol method)
    {
        if (GuardOf(method) is { } guard)
        {
            return ImmutableArray.Create(new LockUse(guard.LockMember, guard.Capabilities));
        }

        if (LockSetOf(method) is not { } set)
        {
            return ImmutableArray<LockUse>.Empty;
        }

        // Keys of the method's own async keyed lock (AcquireManyAsync): it holds that lock, as a [Guarded] method with
        // StripeBy holds its striped lock, so its wrapper is order-checked like one.
        if (AsyncWrappers.KeyedSetLock(method, set) is { } keyed)
        {
            var keyedCapabilities = CapabilitiesOf(LockMembers.TypeOf(keyed));
            return keyedCapabilities.IsLock() ? ImmutableArray.Create(new LockUse(keyed, keyedCapabilities)) : ImmutableArray<LockUse>.Empty;
        }

        var uses = ImmutableArray.CreateBuilder<LockUse>();
        foreach (string name in set.ParameterNames)
        {
            var parameter = method.Parameters.FirstOrDefault(p => p.Name == name);
            var member = LockMembers.Find(parameter?.Type, set.Lock);
            var capabilities = CapabilitiesOf(LockMembers.TypeOf(member));
            if (member is not null && capabilities.IsLock())
            {
                uses.Add(new LockUse(member, capabilities, parameter));
            }
        }

        return uses.ToImmutable();
    }

    private Wrapper? ComputeWrapper(IMethodSymbol method)
    {
        if (method.ContainingType is not { } type || !WrapperBodies.IsGeneratedWrapper(method))
        {
            return null;
        }

        foreach (var (body, name) in _bodies.GetOrAdd(type, _computeBodies))
        {
            bool isAsync = AsyncWrappers.IsAsyncForm(body);
            bool plain = method.Name == name && (method.Parameters.Length == body.Parameters.Length ||
                (isAsync && method.Parameters.Length == body.Parameters.Length + 1));
            bool timed = method.Name == WrapperNaming.TryName(name) && method.Parameters.Length > body.Parameters.Length;

            // The timed async form takes its timeout first (after a this parameter).
            int skip = timed && isAsync ? (body.IsExtensionMethod ? 1 : 0) : -1;
            if ((plain || timed) && WrapperBodies.SameLeadingParameters(body, method, skip))
            {
                return new Wrapper(body, LocksHeldBy(body));
            }
        }

        return null;
    }

    /// <summary>The attributed methods of a type with the wrapper name each gets, found once per type.</summary>
    private ImmutableArray<(IMethodSymbol, string)> ComputeBodies(INamedTypeSymbol type)
    {
        var bodies = new List<(IMethodSymbol, string)>();
        foreach (var member in type.GetMembers())
        {
            if (member is not IMethodSymbol candidate)
            {
                continue;
            }

            string? explicitName;
            if (Find(candidate, _guardedAttribute) is { } guarded)
            {
                explicitName = new GuardedAttributeData(guarded).WrapperName;
            }
            else if (LockSetOf(candidate) is { } set)
            {
                explicitName = set.WrapperName;
            }
            else
            {
                continue;
            }

            if (WrapperNaming.WrapperName(candidate.Name, explicitName, AsyncWrappers.IsAsyncForm(candidate)) is { } name)
            {
                bodies.Add((candidate, name));
            }
        }

        return bodies.ToImmutableArray();
    }

    private static AttributeData? Find(ISymbol symbol, INamedTypeSymbol attributeType)
    {
        foreach (var attribute in symbol.GetAttributes())
        {
            if (SymbolEqualityComparer.Default.Equals(attribute.AttributeClass, attributeType))
            {
                return attribute;
            }
        }

        return null;
    }
}

/// <summary>A generated wrapper: the guarded body it calls and the locks it takes.</summary>
internal sealed class Wrapper
{
    public Wrapper(IMethodSymbol body, ImmutableArray<LockUse> taken)
    {
        Body = body;
        Taken = taken;
    }

    public IMethodSymbol Body { get; }

    public ImmutableArray<LockUse> Taken { get; }
}
