namespace Locksmith;

/// <summary>Cached tag strings, so recording a metric never formats an enum.</summary>
internal static class LockKindNames
{
    public static string Of(LockKind kind) => kind switch
    {
        LockKind.Exclusive => "exclusive",
        LockKind.Reentrant => "reentrant",
        LockKind.Semaphore => "semaphore",
        LockKind.Spin => "spin",
        LockKind.ReadWrite => "read_write",
        LockKind.Striped => "striped",
        LockKind.AsyncExclusive => "async_exclusive",
        LockKind.AsyncReadWrite => "async_read_write",
        LockKind.AsyncStriped => "async_striped",
        LockKind.DistributedExclusive => "distributed_exclusive",
        LockKind.DistributedReadWrite => "distributed_read_write",
        LockKind.DistributedKeyed => "distributed_keyed",
        _ => "unknown",
    };

    public static string Of(LockMode mode) => mode switch
    {
        LockMode.Exclusive => "exclusive",
        LockMode.Read => "read",
        LockMode.Write => "write",
        LockMode.Permit => "permit",
        _ => "unknown",
    };
}
