namespace Locksmith.Tests.Support;

/// <summary>Holds a <see cref="ReadWriteLock"/> in one mode on a named background thread, already held on return.</summary>
internal static class ReadWriteHolders
{
    public static HeldOnOtherThread HoldWrite(this ReadWriteLock rw, string threadName = "writer")
    {
        var holder = new HeldOnOtherThread(threadName, release =>
        {
            using var scope = rw.AcquireWrite();
            release.Wait();
        });
        holder.WaitUntilHeld(() => rw.WriterThreadId != 0);
        return holder;
    }

    public static HeldOnOtherThread HoldRead(this ReadWriteLock rw, string threadName = "reader")
    {
        var holder = new HeldOnOtherThread(threadName, release =>
        {
            using var scope = rw.AcquireRead();
            release.Wait();
        });
        holder.WaitUntilHeld(() => rw.CurrentReaderCount >= 1);
        return holder;
    }
}
