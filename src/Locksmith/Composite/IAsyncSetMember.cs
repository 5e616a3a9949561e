using System.Threading;
using System.Threading.Tasks;

namespace Locksmith;

/// <summary>
/// What the async <see cref="LockSet"/> asks of a member (every <see cref="IAsyncLockSetMember"/> of this library
/// implements it): reject a hold the flow already has, and take the member in its exclusive mode without the member's
/// own order check (the set checked the order for the whole set). A read-write lock joins in write mode.
/// </summary>
internal interface IAsyncSetMember
{
    /// <summary>The mode the set takes the member in (exclusive, write, or a permit), for messages and metrics.</summary>
    LockMode SetMode { get; }

    /// <summary>Throws <see cref="LockRecursionException"/> when <paramref name="flow"/> holds the member and cannot take it again.</summary>
    void RejectHeldByFlow(LockOwner flow);

    /// <summary>
    /// Takes the member for <paramref name="flow"/>: at once when <paramref name="timeoutMs"/> is 0 (the result is then
    /// complete), else waiting; a default scope when the timeout elapsed. Cancellation throws.
    /// </summary>
    ValueTask<AsyncLockScope> EnterForAsyncSet(LockOwner flow, int timeoutMs, CancellationToken cancellationToken);
}
