using System;

namespace Locksmith;

/// <summary>
/// An acquisition that blocked longer than <see cref="LocksmithPolicy.LongWaitThreshold"/>; passed to
/// <see cref="LocksmithPolicy.LongWaitOccurred"/> once the lock is acquired.
/// </summary>
/// <param name="LockName">The lock that was acquired.</param>
/// <param name="Mode">The mode it was acquired in.</param>
/// <param name="Waited">How long the caller was blocked.</param>
/// <param name="ThreadId">The waiting thread's managed id, or the id of the waiting async flow (2^30 and up).</param>
public sealed record LongWaitEvent(string LockName, LockMode Mode, TimeSpan Waited, int ThreadId);
