namespace Locksmith.Hosting;

/// <summary>
/// The stable <c>EventId</c>s of Locksmith's log lines (category <c>Locksmith</c>); filter and alert on these, not on
/// message text. Listed in README's Hosting section.
/// </summary>
public static class LocksmithEventIds
{
    /// <summary>An acquisition gave up at its timeout (Warning).</summary>
    public const int LockTimeout = 14001;

    /// <summary>An acquisition went against the global lock order (Error).</summary>
    public const int LockOrderViolation = 14002;

    /// <summary>An acquisition succeeded after waiting longer than the long-wait threshold (Warning).</summary>
    public const int LongWait = 14003;

    /// <summary>The watchdog found a deadlock cycle; logged once per cycle (Critical).</summary>
    public const int DeadlockDetected = 14004;

    /// <summary>A cycle the watchdog reported is gone (its waits timed out or were cancelled) (Information).</summary>
    public const int DeadlockCleared = 14005;

    /// <summary>
    /// A blocked lock wait has held up the host's shutdown for <see cref="LocksmithOptions.ShutdownWaitThreshold"/>; logged
    /// once per wait, naming the lock, the waiter and the holder (Warning).
    /// </summary>
    public const int ShutdownWaitStuck = 14007;

    /// <summary>The host installed its lock policy into the process-wide slot (Debug).</summary>
    public const int PolicyInstalled = 14010;

    /// <summary>The host restored the process-wide lock policy it found (Debug).</summary>
    public const int PolicyRestored = 14011;

    /// <summary>
    /// The host's start completed, but another host had taken the process-wide policy over from it after its own
    /// <c>StartedAsync</c>, while later services finished theirs; it runs without the policy, watchdog and statistics
    /// (Error).
    /// </summary>
    public const int PolicyLost = 14012;

    /// <summary>
    /// A host that does not install the process-wide policy (<see cref="LocksmithOptions.InstallProcessPolicy"/> false)
    /// has policy settings (<see cref="LocksmithOptions.DefaultTimeout"/>, <see cref="LocksmithOptions.OrderViolationAction"/>,
    /// <see cref="LocksmithOptions.LongWaitThreshold"/>) set to other than their defaults and those in force when it
    /// starts, so they do not apply to its locks (Warning).
    /// </summary>
    public const int PolicySettingsNotInForce = 14013;

    /// <summary>
    /// A configuration reload changed settings the host applies while it runs; logged once per reload, naming each setting
    /// changed with its old and new value (Information).
    /// </summary>
    public const int OptionsReloaded = 14014;

    /// <summary>
    /// A configuration reload gave settings that fail the start's checks; it is not applied, and the host keeps the values
    /// in force, until a later reload gives valid ones (Error).
    /// </summary>
    public const int OptionsReloadRejected = 14015;

    /// <summary>
    /// A configuration reload changed settings fixed for the host's life (<see cref="LocksmithOptions.InstallProcessPolicy"/>,
    /// <see cref="LocksmithOptions.MetricsEnabled"/>, <see cref="LocksmithOptions.StatisticsEnabled"/>); the host keeps
    /// the values it started with, and a restart applies the new ones (Warning).
    /// </summary>
    public const int OptionsRestartRequired = 14016;

    /// <summary>
    /// The app's configuration has a <c>Locksmith</c> section, but no <c>AddLocksmith(IConfiguration)</c> call gave it the
    /// configuration, or the calls were given only other sections that hold no setting (a misnamed
    /// <c>GetSection("Locksmiths")</c>), so none of the section is read (Warning).
    /// </summary>
    public const int ConfigurationNotRead = 14017;

    /// <summary>
    /// A distributed lock was lost while held: the PostgreSQL session holding it ended (its backend was terminated, its
    /// connection broke, or the lost-lock check could not confirm it), so the server released it and the scope's
    /// <c>LostToken</c> is cancelled; logged once per lock lost, naming it, its key, the backend pid and the cause
    /// (Warning). Written by Locksmith.Postgres under this category; not for a provider's disposal.
    /// </summary>
    public const int DistributedLockLost = 14018;

    /// <summary>
    /// The PostgreSQL server of a distributed-lock provider refused to say whether it is in recovery (no EXECUTE on
    /// <c>pg_is_in_recovery()</c>, or no such function): the provider cannot refuse a standby and stops asking; logged once
    /// per provider, naming the server, the function and the server's error (Warning). Written by Locksmith.Postgres under
    /// this category.
    /// </summary>
    public const int StandbyCheckRefused = 14019;

    /// <summary>
    /// A watchdog pass failed (an exception from the detector or a log sink); the watchdog goes on with the next pass
    /// instead of ending, which would stop the host (Error).
    /// </summary>
    public const int WatchdogScanFailed = 14006;
}
