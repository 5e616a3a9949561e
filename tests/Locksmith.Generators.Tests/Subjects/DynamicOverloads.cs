using System;
using System.Threading.Tasks;
using Locksmith;

namespace Locksmith.Generators.Subjects;

/// <summary>
/// Cores that take <c>dynamic</c>, beside overloads guarded by another lock: each wrapper must run its own core, with
/// its own lock held, whatever the argument's run-time type.
/// </summary>
public sealed partial class DynamicOverloads
{
    [LockOrder(61)]
    private readonly ExclusiveLock _first = new();

    [LockOrder(62)]
    private readonly ExclusiveLock _second = new();

    private readonly AsyncExclusiveLock _async = new();

    /// <summary>Which core ran, and which locks it found held.</summary>
    [Guarded(Lock = nameof(_first))]
    private string DescribeCore(dynamic value) => Ran("dynamic", value);

    /// <summary>The overload a run-time binding would pick for a string.</summary>
    [Guarded(Lock = nameof(_second))]
    private string DescribeCore(string value) => Ran("string", value);

    /// <summary>A nullable dynamic beside a span: a dynamically bound call could not take the span.</summary>
    [Guarded(Lock = nameof(_first))]
    private string MeasureCore(dynamic? value, Span<int> items) => Ran("span " + items.Length.ToString(System.Globalization.CultureInfo.InvariantCulture), value);

    /// <summary>The async form.</summary>
    [Guarded(Lock = nameof(_async))]
    private Task<string> DescribeCoreAsync(dynamic value) => Task.FromResult("async " + (object)value + " held=" + _async.IsHeldByCurrentFlow.ToString());

    private string Ran(string core, object? value) =>
        core + " " + value + " first=" + _first.IsHeldByCurrentThread.ToString() + " second=" + _second.IsHeldByCurrentThread.ToString();
}
