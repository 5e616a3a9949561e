using System.Threading;
using System.Threading.Tasks;
using Locksmith;

namespace Locksmith.Generators.Subjects;

/// <summary>Async cores that report the synchronization context their body starts on, through generated wrappers.</summary>
public sealed partial class AsyncContextProbe
{
    private readonly AsyncExclusiveLock _lock = new();

    /// <summary>The lock, so a test can hold it.</summary>
    public AsyncExclusiveLock Lock => _lock;

    /// <summary>The context the body starts on (a UI body touches the UI there).</summary>
    [Guarded(Lock = nameof(_lock))]
    private Task<SynchronizationContext?> ContextCoreAsync() => Task.FromResult(SynchronizationContext.Current);
}
