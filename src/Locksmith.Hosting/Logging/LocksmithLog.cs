using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Locksmith.Hosting;

/// <summary>
/// The container's Locksmith logger (category <c>Locksmith</c>) and its messages, written by the LoggerMessage source
/// generator: no boxing, no parsing of the template at run time, and nothing formatted when the level is off.
/// </summary>
internal sealed partial class LocksmithLog
{
    public const string Category = "Locksmith";

    // Looked up rather than required, so a container without logging still runs (and logs nowhere).
    public LocksmithLog(IServiceProvider provider, LockRegistry registry)
    {
        _logger = (provider.GetService<ILoggerFactory>() ?? NullLoggerFactory.Instance).CreateLogger(Category);
        _registry = registry;
    }

    // Events carry lock names only: the level comes from the container's own locks (null for others, and unordered).
    private readonly LockRegistry _registry;

    private readonly ILogger _logger;

    public ILogger Logger => _logger;

    public void Timeout(LockTimeoutEvent e) =>
        LockTimeout(Logger, e.LockName, LevelText(_registry.LevelOf(e.LockName)), e.Mode, Milliseconds(e.Waited), WaiterText(e.ThreadId), OwnerText(e.OwnerThreadId, e.OwnerThreadName), e.ThreadId, e.OwnerThreadId);

    public void OrderViolation(LockOrderViolation v) =>
        LockOrderViolation(Logger, v.FlowThread is { } thread ? $"{v.Owner} (on thread {thread})" : v.Owner, v.RequestedLockName, LevelText(v.RequestedLevel), v.HeldLockName, LevelText(v.HeldLevel), v.Advice);

    public void LongWait(LongWaitEvent e) =>
        LongWait(Logger, e.LockName, LevelText(_registry.LevelOf(e.LockName)), e.Mode, Milliseconds(e.Waited), WaiterText(e.ThreadId), e.ThreadId);

    // Level is text in every event (a number, or "none" for an unordered lock), so the property keeps one type across
    // them; the rendered line reads "(level none, …)" and names an owner that has no name, instead of empty placeholders.
    private static string LevelText(int? level) => level?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none";

    // Waiters read as the exceptions name them: "thread 7 ('worker')", "flow #2 ('GET /orders') (on thread 7)". The events
    // run on the waiting thread, so a thread waiter's name is the current thread's; an async wait's run in the awaiting
    // flow's frame, whose current Activity is the one the runtime names the flow by, on the thread it resumed on. The
    // health check's long waits name the waiter the same way (LockEventTracker).
    internal static string WaiterText(int waiterId)
    {
        var thread = System.Threading.Thread.CurrentThread;
        if (waiterId < LockCatalogEntry.FlowIdBase)
        {
            return LockCatalogEntry.OwnerText(waiterId, waiterId == thread.ManagedThreadId ? thread.Name : null);
        }

        string flow = LockCatalogEntry.OwnerText(waiterId, System.Diagnostics.Activity.Current?.DisplayName);
        return $"{flow} (on {LockCatalogEntry.OwnerText(thread.ManagedThreadId, thread.Name)})";
    }

    // To a tenth of a millisecond, as the runtime's exceptions give a wait ("timed out after 30004.4 ms"), so a timeout's
    // line and its exception name the same figure.
    private static double Milliseconds(TimeSpan time) => Math.Round(time.TotalMilliseconds, 1, MidpointRounding.AwayFromZero);

    // A flow holder's name is already its description (the runtime's); a thread's is the thread's name. With no owner id,
    // a name says who holds it elsewhere (a distributed lock's "a session outside this process").
    private static string OwnerText(int ownerId, string? ownerName) =>
        ownerId == 0 ? (string.IsNullOrEmpty(ownerName) ? "no single owner in this process" : ownerName)
        : ownerId >= LockCatalogEntry.FlowIdBase && !string.IsNullOrEmpty(ownerName) ? ownerName
        : LockCatalogEntry.OwnerText(ownerId, ownerName);

    [LoggerMessage(EventId = LocksmithEventIds.LockTimeout, EventName = "LockTimeout", Level = LogLevel.Warning,
        Message = "Lock '{LockName}' (level {Level}, {Mode}) timed out after {WaitedMs} ms for {Waiter}; held by {Owner} (ids {WaiterId}, {OwnerId})")]
    private static partial void LockTimeout(ILogger logger, string lockName, string level, LockMode mode, double waitedMs, string waiter, string owner, int waiterId, int ownerId);

    [LoggerMessage(EventId = LocksmithEventIds.LockOrderViolation, EventName = "LockOrderViolation", Level = LogLevel.Error,
        Message = "Lock order violation by {Owner}: acquiring '{LockName}' (level {Level}) while holding '{HeldLockName}' (level {HeldLevel}). {Advice}")]
    private static partial void LockOrderViolation(
        ILogger logger, string owner, string lockName, string level, string heldLockName, string heldLevel, string advice);

    [LoggerMessage(EventId = LocksmithEventIds.LongWait, EventName = "LongWait", Level = LogLevel.Warning,
        Message = "Lock '{LockName}' (level {Level}, {Mode}) was acquired by {Waiter} (id {WaiterId}) after waiting {WaitedMs} ms, past the long-wait threshold")]
    private static partial void LongWait(ILogger logger, string lockName, string level, LockMode mode, double waitedMs, string waiter, int waiterId);

    // The cycle's steps name every waiter, so the line reads them there only; Waiters stays a field of the state, for
    // matching a deadlock to its threads and requests: the generator keeps a parameter the template leaves out, under
    // the parameter's own name, hence its capital.
#pragma warning disable SYSLIB1015
    [LoggerMessage(EventId = LocksmithEventIds.DeadlockDetected, EventName = "DeadlockDetected", Level = LogLevel.Critical,
        Message = "Deadlock detected on locks {Locks}: {Cycle}")]
    public partial void DeadlockDetected(string Waiters, string locks, string cycle);
#pragma warning restore SYSLIB1015

    [LoggerMessage(EventId = LocksmithEventIds.DeadlockCleared, EventName = "DeadlockCleared", Level = LogLevel.Information,
        Message = "Deadlock cleared among {Waiters} on locks {Locks}")]
    public partial void DeadlockCleared(string waiters, string locks);

    [LoggerMessage(EventId = LocksmithEventIds.WatchdogScanFailed, EventName = "WatchdogScanFailed", Level = LogLevel.Error,
        Message = "A deadlock watchdog pass failed; the watchdog goes on with the next pass")]
    public partial void WatchdogScanFailed(Exception exception);

    // A stripe's wait names the stripe, as its LockTimeout (14001) and LongWait (14003) do.
    public void ShutdownWaitStuck(LockWaitInProgress wait, TimeSpan stopping) =>
        ShutdownWaitStuck(Logger, wait.StripeName ?? wait.LockName, LevelText(wait.LockLevel), wait.Mode, Milliseconds(wait.Waited), wait.Waiter,
            wait.Holder ?? "no single owner in this process", Milliseconds(stopping), wait.WaiterId, wait.HolderId);

    [LoggerMessage(EventId = LocksmithEventIds.ShutdownWaitStuck, EventName = "ShutdownWaitStuck", Level = LogLevel.Warning,
        Message = "Shutdown held up by lock '{LockName}' (level {Level}, {Mode}): {Waiter} has waited {WaitedMs} ms for it, held by {Holder}; the host has been stopping for {StoppingMs} ms (ids {WaiterId}, {HolderId})")]
    private static partial void ShutdownWaitStuck(
        ILogger logger, string lockName, string level, LockMode mode, double waitedMs, string waiter, string holder, double stoppingMs, int waiterId, int holderId);

    [LoggerMessage(EventId = LocksmithEventIds.PolicyInstalled, EventName = "PolicyInstalled", Level = LogLevel.Debug,
        Message = "Locksmith policy installed: default timeout {DefaultTimeout}, order violations {OrderViolationAction}, long-wait threshold {LongWaitThreshold}")]
    public partial void PolicyInstalled(TimeSpan defaultTimeout, OrderViolationAction orderViolationAction, TimeSpan longWaitThreshold);

    [LoggerMessage(EventId = LocksmithEventIds.PolicyRestored, EventName = "PolicyRestored", Level = LogLevel.Debug,
        Message = "Locksmith policy restored to what the host found at start")]
    public partial void PolicyRestored();

    [LoggerMessage(EventId = LocksmithEventIds.PolicyLost, EventName = "PolicyLost", Level = LogLevel.Error,
        Message = "Host '{Host}' started without Locksmith's process-wide policy: host '{Taker}' in this process installed its own while this one was finishing its start, and this host's watchdog and statistics stopped. At most one started host owns the policy: set {Setting} in one of them, or start them one after the other")]
    public partial void PolicyLost(string host, string taker, string setting);

    [LoggerMessage(EventId = LocksmithEventIds.PolicySettingsNotInForce, EventName = "PolicySettingsNotInForce", Level = LogLevel.Warning,
        Message = "Host '{Host}' does not install Locksmith's process-wide policy ({Setting} = false), so its locks follow the policy in force, not its own {Settings}. Set these values in the host that installs the policy, or leave them out of this host's configuration")]
    public partial void PolicySettingsNotInForce(string host, string setting, string settings);

    [LoggerMessage(EventId = LocksmithEventIds.OptionsReloaded, EventName = "OptionsReloaded", Level = LogLevel.Information,
        Message = "Locksmith options reloaded: {Changes}")]
    public partial void OptionsReloaded(string changes);

    [LoggerMessage(EventId = LocksmithEventIds.OptionsReloadRejected, EventName = "OptionsReloadRejected", Level = LogLevel.Error,
        Message = "A configuration change to {Section} was not applied: {Reason} The host keeps the settings in force; the next change with valid settings applies")]
    public partial void OptionsReloadRejected(string section, string reason, Exception? exception);

    [LoggerMessage(EventId = LocksmithEventIds.OptionsRestartRequired, EventName = "OptionsRestartRequired", Level = LogLevel.Warning,
        Message = "A configuration change to settings fixed for the host's life was not applied: {Settings}. The host keeps the values it started with; restart the host to apply them")]
    public partial void OptionsRestartRequired(string settings);

    // Names the call that added Locksmith: with only the health check's registration, the app made no AddLocksmith call
    // on its services, and a message blaming one sent a new user looking for it.
    public void ConfigurationNotRead(string section, bool addedOnServices) =>
        ConfigurationNotRead(Logger, section,
            addedOnServices
                ? "AddLocksmith was not given the configuration"
                : "only the health check's registration (AddHealthChecks().AddLocksmith()) added Locksmith, and it reads no configuration",
            addedOnServices
                ? "Call AddLocksmith(builder.Configuration) to read it"
                : "Call services.AddLocksmith(builder.Configuration) as well (before or after the health check) to read it");

    public void ConfigurationSectionNotRead(string section, IEnumerable<string> given) =>
        ConfigurationNotRead(Logger, section,
            $"AddLocksmith was given the section {string.Join(", ", given.Distinct(StringComparer.OrdinalIgnoreCase).Select(static path => $"'{path}'"))} instead, which holds no setting",
            $"Give AddLocksmith builder.Configuration.GetSection(\"{section}\") (or builder.Configuration) to read it");

    [LoggerMessage(EventId = LocksmithEventIds.ConfigurationNotRead, EventName = "ConfigurationNotRead", Level = LogLevel.Warning,
        Message = "The configuration has a '{Section}' section, but {Reason}, so none of it is read: the defaults and settings made in code are in force. {Fix}, or rename the section if it is not Locksmith's")]
    private static partial void ConfigurationNotRead(ILogger logger, string section, string reason, string fix);
}
