using System.Threading;

namespace Locksmith;

// The allocation-free scopes AcquireRead / AcquireWrite return.
public sealed partial class ReadWriteLock
{
    /// <summary>
    /// An acquired read lock of a <see cref="ReadWriteLock"/>; disposing it releases the read lock.
    /// Allocation-free; disposing twice is harmless.
    /// </summary>
    public ref struct ReadScope
    {
        private ReadWriteLock? _lock;

        internal ReadScope(ReadWriteLock lockPrimitive) => _lock = lockPrimitive;

        /// <summary>Whether this scope holds the read lock (false for the scope of a failed <c>TryAcquireRead</c>).</summary>
        public readonly bool IsAcquired => _lock is not null;

        /// <summary>Releases the read lock, once.</summary>
        /// <exception cref="SynchronizationLockException">Disposed on a thread that does not hold the read lock.</exception>
        public void Dispose()
        {
            var lockPrimitive = _lock;
            if (lockPrimitive is not null)
            {
                _lock = null;
                lockPrimitive.ReleaseRead();
            }
        }
    }

    /// <summary>
    /// An acquired write lock of a <see cref="ReadWriteLock"/>; disposing it releases the write lock.
    /// Allocation-free; disposing twice is harmless.
    /// </summary>
    public ref struct WriteScope
    {
        private ReadWriteLock? _lock;

        internal WriteScope(ReadWriteLock lockPrimitive) => _lock = lockPrimitive;

        /// <summary>Whether this scope holds the write lock (false for the scope of a failed <c>TryAcquireWrite</c>).</summary>
        public readonly bool IsAcquired => _lock is not null;

        /// <summary>Releases the write lock, once.</summary>
        /// <exception cref="SynchronizationLockException">Disposed on a thread that does not hold the write lock.</exception>
        public void Dispose()
        {
            var lockPrimitive = _lock;
            if (lockPrimitive is not null)
            {
                _lock = null;
                lockPrimitive.ReleaseWrite();
            }
        }
    }
}
