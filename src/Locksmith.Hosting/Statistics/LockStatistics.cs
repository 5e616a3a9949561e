namespace Locksmith.Hosting;

/// <summary>
/// What one lock of the container did since the host started, from the container's <c>Locksmith</c> meter (see
/// <see cref="LocksmithOptions.StatisticsEnabled"/>). A striped lock's figures are the sum of its stripes'.
/// </summary>
/// <param name="Acquisitions">Successful acquisitions (every mode).</param>
/// <param name="Contentions">Acquisitions that found the lock taken and had to wait.</param>
/// <param name="Waits">Blocked waits, however they ended (granted, timed out, cancelled): <c>locksmith.lock.wait.duration</c>'s count.</param>
/// <param name="P99WaitMilliseconds">
/// The 99th percentile of those waits in milliseconds (the upper bound of its histogram bucket, within 25 %), or 0
/// without waits.
/// </param>
/// <param name="MaxWaitMilliseconds">The longest of those waits in milliseconds (same precision), or 0.</param>
/// <param name="Timeouts">Acquisitions that gave up at their timeout.</param>
public readonly record struct LockStatistics(
    long Acquisitions, long Contentions, long Waits, double P99WaitMilliseconds, double MaxWaitMilliseconds, long Timeouts);
