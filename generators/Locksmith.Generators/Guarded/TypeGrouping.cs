using System.Collections.Generic;
using System.Collections.Immutable;
using System.Threading;
using Locksmith.Generators.Guarded.Models;
using Locksmith.Generators.Helpers;

namespace Locksmith.Generators.Guarded;

/// <summary>Gathers the wrappers of each type into one model, so each type gets one generated file.</summary>
internal static class TypeGrouping
{
    public static ImmutableArray<TypeModel> Group(IEnumerable<WrapperModel> wrappers, CancellationToken token)
    {
        var order = new List<TypeModelKey>();
        var byType = new Dictionary<TypeModelKey, List<WrapperModel>>();
        foreach (var wrapper in wrappers)
        {
            token.ThrowIfCancellationRequested();
            if (!byType.TryGetValue(wrapper.Type, out var list))
            {
                list = new List<WrapperModel>();
                byType.Add(wrapper.Type, list);
                order.Add(wrapper.Type);
            }

            list.Add(wrapper);
        }

        var builder = ImmutableArray.CreateBuilder<TypeModel>(order.Count);
        foreach (var key in order)
        {
            builder.Add(new TypeModel(key.HintName, key.Namespace, key.Declarations, byType[key].ToEquatableArray()));
        }

        return builder.MoveToImmutable();
    }
}
