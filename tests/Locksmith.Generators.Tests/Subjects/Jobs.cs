using System.Diagnostics.CodeAnalysis;
using Locksmith;

namespace Locksmith.Generators.Subjects;

/// <summary>A template-method base: its wrapper takes the lock and calls an abstract guarded core that subclasses fill in.</summary>
public abstract partial class Job
{
    /// <summary>The lock the steps run under.</summary>
    protected ExclusiveLock Gate { get; } = new();

    /// <summary>The lock, so a test can hold it from another thread.</summary>
    public ExclusiveLock Lock => Gate;

    /// <summary>Runs one step.</summary>
    /// <param name="step">The step's size.</param>
    /// <returns>The total so far.</returns>
    [Guarded(Lock = nameof(Gate))]
    protected abstract int StepCore(int step);

    /// <summary>Describes the job.</summary>
    /// <returns>A description.</returns>
    [Guarded(Lock = nameof(Gate))]
    protected virtual string DescribeCore() => "job";

    /// <summary>Looks up a name.</summary>
    /// <param name="key">The key.</param>
    /// <param name="name">The name, when found.</param>
    /// <returns>Whether the key was found.</returns>
    [Guarded(Lock = nameof(Gate))]
    protected abstract bool TryNameCore(int key, [NotNullWhen(true)] out string? name);
}

/// <summary>A job that counts and records whether each step ran under the lock. Not partial: an override gets no wrapper.</summary>
public sealed class CountingJob : Job
{
    private int _total;

    /// <summary>Whether every step so far ran with the lock held.</summary>
    public bool AlwaysLocked { get; private set; } = true;

    /// <inheritdoc/>
    [Guarded(Lock = nameof(Gate))]
    protected override int StepCore(int step)
    {
        AlwaysLocked &= Gate.IsHeldByCurrentThread;
        _total += step;
        return _total;
    }

    /// <inheritdoc/>
    protected override string DescribeCore() => Gate.IsHeldByCurrentThread ? "counting, locked" : "counting, unlocked";

    /// <inheritdoc/>
    [Guarded(Lock = nameof(Gate))]
    protected override bool TryNameCore(int key, [NotNullWhen(true)] out string? name)
    {
        name = key > 0 ? "positive" : null;
        return name is not null;
    }
}
