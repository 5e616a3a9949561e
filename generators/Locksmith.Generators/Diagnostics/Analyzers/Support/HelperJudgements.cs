using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Threading;
using Microsoft.CodeAnalysis;

namespace Locksmith.Generators.Diagnostics.Analyzers.Support;

/// <summary>
/// What the body of a helper method of this compilation returns, judged once per compilation however many uses ask:
/// a helper in another file is bound through that file's semantic model, which costs a bind of its body, and analyzers
/// run on every keystroke. Keyed by the method's definition with <see cref="SymbolEqualityComparer"/>.
/// </summary>
/// <remarks>
/// One instance lives in the closure of a compilation-start action (or in its <see cref="LockFacts"/>) and dies with
/// the compilation; nothing static keeps it. Shared by the threads of concurrent execution: a helper two threads judge
/// at once may be read by both, which find the same (no lock is held while a body is bound, so judging a helper that
/// calls another can never wait on a thread judging that one). A helper that reaches itself through the helpers it
/// returns never surely returns an acquisition (null); a chain longer than a bound is null for that use and not kept,
/// so a judgement kept never depends on which use asked first.
/// </remarks>
/// <typeparam name="T">The judgement; null means "not such a helper".</typeparam>
internal sealed class HelperJudgements<T>
    where T : class
{
    private const int MaxDepth = 8;

    private readonly ConcurrentDictionary<IMethodSymbol, T?> _judged = new(SymbolEqualityComparer.Default);
    private readonly Func<IMethodSymbol, bool> _mayBeOne;
    private readonly Func<IOperation, Func<IMethodSymbol, T?>, T?> _judge;
    private int _bodiesRead;

    /// <param name="mayBeOne">A test of the symbol alone, made before any body is read.</param>
    /// <param name="judge">Judges a body; its second argument judges a helper the body returns a call of.</param>
    public HelperJudgements(Func<IMethodSymbol, bool> mayBeOne, Func<IOperation, Func<IMethodSymbol, T?>, T?> judge)
    {
        _mayBeOne = mayBeOne;
        _judge = judge;
    }

    /// <summary>How many helper bodies were read and judged so far: what the tests of the cache count.</summary>
    internal int BodiesRead => Volatile.Read(ref _bodiesRead);

    /// <summary>The judgement of <paramref name="method"/>'s body, or null when it is not such a helper or has no body in source.</summary>
    public T? Of(IMethodSymbol method, SemanticModel? model, CancellationToken token) =>
        model is null ? null : Of(method, model, [], token, out _);

    private T? Of(IMethodSymbol method, SemanticModel model, List<IMethodSymbol> judging, CancellationToken token, out bool cut)
    {
        cut = false;
        method = method.OriginalDefinition;
        method = method.PartialDefinitionPart ?? method;
        if (!_mayBeOne(method))
        {
            return null;
        }

        if (_judged.TryGetValue(method, out var known))
        {
            return known;
        }

        if (judging.Exists(m => SymbolEqualityComparer.Default.Equals(m, method)))
        {
            return null; // returns itself: it never surely returns an acquisition, whichever helper of the cycle is asked first
        }

        if (judging.Count >= MaxDepth)
        {
            cut = true;
            return null;
        }

        Interlocked.Increment(ref _bodiesRead);
        T? result = null;
        bool innerCut = false;
        if (BodiesByName.BodyOf(method, model, token) is { } body)
        {
            judging.Add(method);
            result = _judge(body, inner =>
            {
                var judged = Of(inner, model, judging, token, out bool wasCut);
                innerCut |= wasCut;
                return judged;
            });
            judging.RemoveAt(judging.Count - 1);
        }

        cut = innerCut;
        if (!cut)
        {
            _judged.TryAdd(method, result);
        }

        return result;
    }
}
