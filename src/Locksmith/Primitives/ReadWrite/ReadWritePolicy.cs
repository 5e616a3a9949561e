namespace Locksmith;

/// <summary>Whom a <see cref="ReadWriteLock"/> lets in first when readers and writers compete.</summary>
public enum ReadWritePolicy
{
    /// <summary>
    /// New readers enter while a writer waits; the writer gets the lock only when no reader holds it. Best read
    /// throughput, but under a steady stream of overlapping readers a writer may starve.
    /// </summary>
    ReaderPreferred,

    /// <summary>
    /// A waiting writer blocks new readers: it waits only for the readers already inside, and queued writers go
    /// before queued readers. Readers may starve under a steady stream of writers. The default.
    /// </summary>
    /// <remarks>
    /// A writer counts as waiting once it has queued (or claimed the lock and waits for readers to leave); during
    /// its brief pre-wait spin it has done neither, so a reader arriving then may still get in first.
    /// </remarks>
    WriterPreferred,

    /// <summary>
    /// Arrival order: a writer waits only for the readers ahead of it; readers that arrive behind a waiting writer
    /// wait for it; consecutive queued readers are admitted together. Nobody starves; slightly less throughput.
    /// </summary>
    /// <remarks>As with <see cref="WriterPreferred"/>, a writer's place in the order is taken when it queues.</remarks>
    Fair,
}
