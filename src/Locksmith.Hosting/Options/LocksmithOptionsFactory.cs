using System;
using System.Collections.Generic;
using System.Threading;
using Microsoft.Extensions.Options;

namespace Locksmith.Hosting;

/// <summary>
/// Creates <see cref="LocksmithOptions"/> as the default <see cref="OptionsFactory{TOptions}"/> does (binding, then
/// <see cref="LocksmithOptionsValidator"/>), except that once the host has started, settings that fail are logged
/// (<see cref="LocksmithEventIds.OptionsReloadRejected"/>) and the last valid ones are returned instead of throwing.
/// </summary>
/// <remarks>
/// <see cref="IOptionsMonitor{TOptions}"/> creates the options anew inside the configuration's change callback, so an
/// exception here leaves <c>IConfigurationRoot.Reload()</c>, or the file watcher's callback, where nothing catches it and
/// the process can end. Before the host has started, a failure still throws, so a bad value fails the start
/// (<c>ValidateOnStart</c>) as it always did.
/// </remarks>
internal sealed class LocksmithOptionsFactory(
    IEnumerable<IConfigureOptions<LocksmithOptions>> setups,
    IEnumerable<IPostConfigureOptions<LocksmithOptions>> postConfigures,
    IEnumerable<IValidateOptions<LocksmithOptions>> validations,
    ValidLocksmithOptions valid)
    : IOptionsFactory<LocksmithOptions>
{
    private readonly OptionsFactory<LocksmithOptions> _factory = new(setups, postConfigures, validations);

    public LocksmithOptions Create(string name)
    {
        if (name != Options.DefaultName)
        {
            return _factory.Create(name);
        }

        // Taken before binding reads the configuration, so of two creations the one that began later counts as newer.
        long ticket = valid.Begin();
        LocksmithOptions created;
        try
        {
            created = _factory.Create(name);
        }
        catch (Exception ex) when (valid.KeepsLastValid && valid.Last is not null)
        {
            return valid.Rejected(ex);
        }

        valid.Created(created, ticket);
        return created;
    }
}

/// <summary>
/// The last <see cref="LocksmithOptions"/> that passed binding and validation, which a reload that fails keeps in force
/// once the host has started.
/// </summary>
internal sealed class ValidLocksmithOptions(LocksmithLog log)
{
    private LocksmithOptions? _last;
    private volatile bool _keeping;

    // Creations run on any thread (the monitor's reload, a scope's IOptionsSnapshot): one that read the configuration
    // before a reload and finished after it must not make its older values the last valid ones.
    private readonly Lock _gate = new();
    private long _begun;
    private long _lastTicket;

    // The reason last logged since the last valid options: a file provider signals a change twice per reload (its own
    // token and the root's), and the monitor creates the options at each, so the same failure is logged once.
    private string? _logged;

    /// <summary>Whether a failure returns the last valid options rather than throwing: from the host's start on.</summary>
    public bool KeepsLastValid => _keeping;

    /// <summary>From now on, keep the last valid options when new ones fail.</summary>
    public void KeepLastValid() => _keeping = true;

    /// <summary>
    /// Run by the host's start check (<see cref="LocksmithStartCheck"/>): once the options in force passed it, a reload that
    /// fails is kept out from here on, not only from the reloader's start. A reload between the two (from a file watcher
    /// while services registered earlier start) would otherwise throw out of its callback, and fail the start when a
    /// service then read the options.
    /// </summary>
    public void StartCheckRan(IOptionsMonitor<LocksmithOptions> monitor)
    {
        try
        {
            _ = monitor.Get(Options.DefaultName);
        }
        catch (Exception)
        {
            // The start check's own entry for LocksmithOptions reports it, and the start fails.
            return;
        }

        KeepLastValid();
    }

    /// <summary>The last options that passed; null before any did.</summary>
    public LocksmithOptions? Last => Volatile.Read(ref _last);

    /// <summary>A creation begins; the ticket orders it among the others for <see cref="Created"/>.</summary>
    public long Begin() => Interlocked.Increment(ref _begun);

    /// <summary>Options passed; they are the last valid ones unless a creation that began later passed already.</summary>
    public void Created(LocksmithOptions options, long ticket)
    {
        lock (_gate)
        {
            if (ticket < _lastTicket)
            {
                return;
            }

            _lastTicket = ticket;
            Volatile.Write(ref _last, options);
            Volatile.Write(ref _logged, null);
        }
    }

    /// <summary>Logs why new options failed and returns the last valid ones (<see cref="Last"/> is not null).</summary>
    public LocksmithOptions Rejected(Exception ex)
    {
        var last = Last!;

        // The validator's messages name the key and how to write it; so do the binding's (an InvalidOperationException).
        // Anything else (a Configure delegate of the app's that threw) keeps its stack trace in the line.
        var (reason, exception) = ex switch
        {
            OptionsValidationException invalid => (string.Join(" ", invalid.Failures), (Exception?)null),
            InvalidOperationException binding => (binding.Message, null),
            _ => (ex.Message, ex),
        };
        if (Interlocked.Exchange(ref _logged, reason) == reason)
        {
            return last;
        }

        try
        {
            log.OptionsReloadRejected(last.ConfigurationPath, reason, exception);
        }
        catch (Exception)
        {
            // The sink failed; the reload must still not throw.
        }

        return last;
    }
}

/// <summary>
/// Options with nothing in them, checked at start (<c>ValidateOnStart</c>) only so that creating them tells
/// <see cref="ValidLocksmithOptions"/> the start check ran: the host runs that check before any service starts.
/// </summary>
internal sealed class LocksmithStartCheck;
