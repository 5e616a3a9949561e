namespace Locksmith;

/// <summary>
/// A thread's place in a <see cref="ReadWriteLock"/>'s wait queue. Each thread owns one and reuses it for every
/// wait (a thread blocks on one lock at a time), so queueing allocates nothing in steady state.
/// All fields are read and written only under the lock's gate.
/// </summary>
internal sealed class ReadWriteWaitNode
{
    public ReadWriteWaitNode? Next;
    public ReadWriteWaitNode? Previous;

    /// <summary>Whether the waiter wants the write lock.</summary>
    public bool IsWriter;

    /// <summary>For a reader: the slot the granting thread counts it in.</summary>
    public int Slot;

    /// <summary>Whether the node is linked into a queue.</summary>
    public bool IsQueued;

    /// <summary>
    /// Set by the thread that hands the lock over: a reader is then counted in <see cref="Slot"/>; a writer owns
    /// the writer flag and has only to wait for the readers ahead of it to leave.
    /// </summary>
    public bool Granted;

    public void Reset(bool isWriter, int slot)
    {
        Next = null;
        Previous = null;
        IsWriter = isWriter;
        Slot = slot;
        IsQueued = false;
        Granted = false;
    }
}
