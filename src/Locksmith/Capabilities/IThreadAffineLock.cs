namespace Locksmith;

/// <summary>
/// Marks a lock owned by a thread: it must be released on the thread that acquired it, so it cannot be held
/// across an <c>await</c>. The generator refuses <c>async</c> or task-returning methods guarded by such a lock.
/// </summary>
public interface IThreadAffineLock
{
}
