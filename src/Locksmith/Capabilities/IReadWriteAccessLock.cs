namespace Locksmith;

/// <summary>
/// Marks a lock with a shared read mode and an exclusive write mode, taken through <c>AcquireRead</c> /
/// <c>AcquireWrite</c> (with <c>TimeSpan</c> and <c>CancellationToken</c> overloads) and
/// <c>TryAcquireRead</c> / <c>TryAcquireWrite(TimeSpan, out scope)</c>.
/// </summary>
/// <remarks>See <see cref="IExclusiveAccessLock"/> for why the markers have no members.</remarks>
public interface IReadWriteAccessLock
{
}
