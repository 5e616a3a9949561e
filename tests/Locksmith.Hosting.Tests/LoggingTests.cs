using System;
using System.Text.RegularExpressions;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Locksmith.Hosting.Tests;

public sealed class LoggingTests
{
    [Fact]
    public async Task A_timeout_is_one_warning_with_its_event_id_and_fields()
    {
        var ct = TestContext.Current.CancellationToken;
        using var host = TestHost.Build(locks: l => l.AddExclusiveLock("ledger", 10));
        var ledger = host.Services.GetRequiredKeyedService<ExclusiveLock>("ledger");
        await host.StartAsync(ct);
        int holderId;

        // Read before the await below: the test may go on on another thread after it.
        int waiterId = Environment.CurrentManagedThreadId;
        using (var holder = HeldOnOtherThread.Hold("ledger-holder", release =>
        {
            using var scope = ledger.Acquire();
            release.Wait();
        }))
        {
            holderId = holder.ThreadId;
            Assert.False(ledger.TryAcquire(TimeSpan.FromMilliseconds(1), out _));
        }

        await host.StopAsync(ct);

        var line = Assert.Single(host.Logs(LocksmithEventIds.LockTimeout));
        Assert.Equal("LockTimeout", line.Id.Name);
        Assert.Equal(LogLevel.Warning, line.Level);
        Assert.Equal("Locksmith", line.Category);
        Assert.Equal("ledger", line.GetStructuredStateValue("LockName"));
        Assert.Equal("10", line.GetStructuredStateValue("Level"));
        Assert.Equal("Exclusive", line.GetStructuredStateValue("Mode"));
        Assert.Equal(waiterId.ToString(System.Globalization.CultureInfo.InvariantCulture), line.GetStructuredStateValue("WaiterId"));
        Assert.Equal(holderId.ToString(System.Globalization.CultureInfo.InvariantCulture), line.GetStructuredStateValue("OwnerId"));
        Assert.Equal($"thread {holderId} ('ledger-holder')", line.GetStructuredStateValue("Owner"));
        Assert.StartsWith($"thread {waiterId}", line.GetStructuredStateValue("Waiter"), StringComparison.Ordinal);
        Assert.NotNull(line.GetStructuredStateValue("WaitedMs"));
        Assert.Empty(host.Logs(LocksmithEventIds.LongWait));
        Assert.Empty(host.Logs(LocksmithEventIds.LockOrderViolation));
    }

    // A trial's app logged "timed out after 30004.4252 ms" beside the exception's "timed out after 30004.4 ms" for the one
    // timeout of an async lock: the log gives the wait as the exception does, to a tenth of a millisecond.
    [Fact]
    public async Task A_timeouts_line_gives_the_wait_as_its_exception_does()
    {
        var ct = TestContext.Current.CancellationToken;
        using var host = TestHost.Build(locks: l => l.AddAsyncExclusiveLock("outbox", 10));
        var outbox = host.Services.GetRequiredKeyedService<AsyncExclusiveLock>("outbox");
        await host.StartAsync(ct);
        // Another flow holds it: started under SuppressFlow, so it does not share this one.
        Task<AsyncLockScope> holding;
        using (ExecutionContext.SuppressFlow())
        {
            holding = Task.Run(async () => await outbox.AcquireAsync(ct), ct);
        }

        var held = await holding.WaitAsync(TimeSpan.FromSeconds(30), ct);
        LockTimeoutException error;
        try
        {
            error = await Assert.ThrowsAsync<LockTimeoutException>(async () => await outbox.AcquireAsync(TimeSpan.FromMilliseconds(20), ct));
        }
        finally
        {
            held.Dispose();
        }

        await host.StopAsync(ct);

        string waited = Regex.Match(error.Message, @"timed out after ([0-9.]+) ms").Groups[1].Value;
        Assert.NotEmpty(waited);
        var line = Assert.Single(host.Logs(LocksmithEventIds.LockTimeout));
        Assert.Contains($"timed out after {waited} ms for ", line.Message, StringComparison.Ordinal);
        Assert.Equal(waited, line.GetStructuredStateValue("WaitedMs"));
    }

    /// <summary>
    /// A lock made with <c>new</c> in a generated class takes its member's name and <c>[LockOrder]</c> level from the first
    /// wrapper call, and the catalog lists that declaration at its level; its timeout was logged "(level none, …)" (found
    /// in a migration trial's rate limiter), as only the container's own locks were looked up.
    /// </summary>
    [Fact]
    public async Task A_timeout_of_a_lock_a_generated_wrapper_declared_logs_its_declared_level()
    {
        var ct = TestContext.Current.CancellationToken;
        using var host = TestHost.Build();
        await host.StartAsync(ct);
        var till = new TimedTill();
        using (var holder = HeldOnOtherThread.Hold("till-holder", release => till.Hold(release)))
        {
            Assert.False(till.TryTouch(TimeSpan.FromMilliseconds(1)));
        }

        await host.StopAsync(ct);

        var line = Assert.Single(host.Logs(LocksmithEventIds.LockTimeout));
        Assert.Equal("Locksmith.Hosting.Tests.TimedTill._lock", line.GetStructuredStateValue("LockName"));
        Assert.Equal("35", line.GetStructuredStateValue("Level"));
    }

    [Fact]
    public async Task A_timeout_of_an_unordered_lock_held_by_an_unnamed_thread_reads_without_empty_placeholders()
    {
        var ct = TestContext.Current.CancellationToken;
        using var host = TestHost.Build(locks: l => l.AddExclusiveLock("scratch"));
        var scratch = host.Services.GetRequiredKeyedService<ExclusiveLock>("scratch");
        await host.StartAsync(ct);
        using (var held = new System.Threading.ManualResetEventSlim())
        using (var release = new System.Threading.ManualResetEventSlim())
        {
            var holder = new System.Threading.Thread(() =>
            {
                using var scope = scratch.Acquire();
                held.Set();
                release.Wait();
            });
            holder.Start();
            held.Wait(ct);
            Assert.False(scratch.TryAcquire(TimeSpan.FromMilliseconds(1), out _));
            release.Set();
            holder.Join();
        }

        await host.StopAsync(ct);

        var line = Assert.Single(host.Logs(LocksmithEventIds.LockTimeout));
        Assert.Contains("'scratch' (level none, Exclusive)", line.Message, StringComparison.Ordinal);
        Assert.Matches(@"; held by thread \d+ \(ids \d+, \d+\)$", line.Message);
        Assert.DoesNotContain("('')", line.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("level ,", line.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_order_violation_is_one_error_with_both_locks_and_levels()
    {
        var ct = TestContext.Current.CancellationToken;
        using var host = TestHost.Build(
            """{ "Locksmith": { "OrderViolationAction": "Report" } }""",
            l => l.AddExclusiveLock("accounts", 10).AddExclusiveLock("audit", 20));
        var accounts = host.Services.GetRequiredKeyedService<ExclusiveLock>("accounts");
        var audit = host.Services.GetRequiredKeyedService<ExclusiveLock>("audit");
        await host.StartAsync(ct);

        string thread;
        using (audit.Acquire())
        using (accounts.Acquire())
        {
            var current = System.Threading.Thread.CurrentThread;
            thread = $"thread {current.ManagedThreadId}" + (current.Name is { Length: > 0 } name ? $" ('{name}')" : "");
        }

        await host.StopAsync(ct);

        var line = Assert.Single(host.Logs(LocksmithEventIds.LockOrderViolation));
        Assert.Equal(LogLevel.Error, line.Level);
        Assert.Equal("accounts", line.GetStructuredStateValue("LockName"));
        Assert.Equal("10", line.GetStructuredStateValue("Level"));
        Assert.Equal("audit", line.GetStructuredStateValue("HeldLockName"));
        Assert.Equal("20", line.GetStructuredStateValue("HeldLevel"));
        Assert.Contains("acquire 'accounts' first", line.Message, StringComparison.Ordinal);

        // One sentence naming the thread as the exception does: it read "... is held by 7 (''). Lock order violation on
        // thread 7: ..." (the owner's empty name, and the whole exception message repeated).
        Assert.Equal(thread, line.GetStructuredStateValue("Owner"));
        Assert.Equal(
            $"Lock order violation by {thread}: acquiring 'accounts' (level 10) while holding 'audit' (level 20). " +
            "Locks must be acquired in increasing level order; acquire 'accounts' first, or use LockSet to take both in the global order.",
            line.Message);
    }

    [Fact]
    public async Task An_order_violation_in_a_flow_names_the_flow_in_the_log()
    {
        var ct = TestContext.Current.CancellationToken;
        using var host = TestHost.Build(
            """{ "Locksmith": { "OrderViolationAction": "Report" } }""",
            l => l.AddAsyncExclusiveLock("outbox", 10).AddAsyncExclusiveLock("inbox", 20));
        var outbox = host.Services.GetRequiredKeyedService<AsyncExclusiveLock>("outbox");
        var inbox = host.Services.GetRequiredKeyedService<AsyncExclusiveLock>("inbox");
        await host.StartAsync(ct);

        using (await inbox.AcquireAsync(ct))
        using (await outbox.AcquireAsync(ct))
        {
        }

        await host.StopAsync(ct);

        var line = Assert.Single(host.Logs(LocksmithEventIds.LockOrderViolation));

        // As the exception names it: the flow and the thread it asked on (it read "flow #3" alone).
        Assert.Matches(@"^flow #\d+ \(on thread \d+( \('[^']*'\))?\)$", line.GetStructuredStateValue("Owner"));
        Assert.StartsWith($"Lock order violation by {line.GetStructuredStateValue("Owner")}: acquiring 'outbox' (level 10) while holding 'inbox' (level 20).", line.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("('')", line.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_order_violation_that_throws_is_still_logged_once()
    {
        var ct = TestContext.Current.CancellationToken;
        using var host = TestHost.Build(locks: l => l.AddExclusiveLock("accounts", 10).AddExclusiveLock("audit", 20));
        var accounts = host.Services.GetRequiredKeyedService<ExclusiveLock>("accounts");
        var audit = host.Services.GetRequiredKeyedService<ExclusiveLock>("audit");
        await host.StartAsync(ct);

        using (audit.Acquire())
        {
            Assert.Throws<LockOrderViolationException>(() => accounts.Acquire());
        }

        await host.StopAsync(ct);

        Assert.Single(host.Logs(LocksmithEventIds.LockOrderViolation));
    }

    [Fact]
    public async Task A_long_wait_is_one_warning_once_the_waiter_gets_the_lock()
    {
        var ct = TestContext.Current.CancellationToken;
        using var host = TestHost.Build(
            """{ "Locksmith": { "LongWaitThreshold": "00:00:00" } }""",
            l => l.AddAsyncExclusiveLock("outbox", 10));
        var outbox = host.Services.GetRequiredKeyedService<AsyncExclusiveLock>("outbox");
        await host.StartAsync(ct);

        // Each flow its own Task.Run: a child task inherits its parent's flow, and with it the parent's holds.
        var held = await Task.Run(async () => await outbox.AcquireAsync(ct), ct);
        var waiter = Task.Run(async () =>
        {
            using var scope = await outbox.AcquireAsync(ct);
        }, ct);
        Guard.SpinUntil(() => outbox.WaitingCount == 1);
        held.Dispose();
        await waiter.WaitAsync(Guard.HangLimit, ct);
        await host.StopAsync(ct);

        var line = Assert.Single(host.Logs(LocksmithEventIds.LongWait));
        Assert.Equal(LogLevel.Warning, line.Level);
        Assert.Equal("outbox", line.GetStructuredStateValue("LockName"));
        Assert.Equal("10", line.GetStructuredStateValue("Level"));
        Assert.Equal("Exclusive", line.GetStructuredStateValue("Mode"));
        int waiterId = int.Parse(line.GetStructuredStateValue("WaiterId")!, System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(waiterId >= LockCatalogEntry.FlowIdBase);

        // The flow as the exceptions name it, with the thread it resumed on; before, the line said "waiter 1073741826",
        // then "flow #2" without the thread.
        Assert.Matches($@"^flow #{waiterId - LockCatalogEntry.FlowIdBase} \(on thread \d+( \('[^']*'\))?\)$", line.GetStructuredStateValue("Waiter"));
        Assert.Contains($"was acquired by flow #{waiterId - LockCatalogEntry.FlowIdBase} (on thread ", line.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_flow_waiter_is_named_with_its_activity_in_the_log_as_in_its_exception()
    {
        // The exception said "Flow #5 ('GET /orders') (on thread …) timed out ..." while its 14001 line said only "for flow #5", so the
        // log could not be matched to the request; README's Waiter field reads "flow #2 ('GET /orders')".
        var ct = TestContext.Current.CancellationToken;
        using var host = TestHost.Build(
            """{ "Locksmith": { "LongWaitThreshold": "00:00:00" } }""",
            l => l.AddAsyncExclusiveLock("outbox", 10));
        var outbox = host.Services.GetRequiredKeyedService<AsyncExclusiveLock>("outbox");
        await host.StartAsync(ct);

        // Each flow its own Task.Run: a child task inherits its parent's flow, and with it the parent's holds.
        var held = await Task.Run(async () => await outbox.AcquireAsync(ct), ct);
        var timedOut = await Task.Run(async () =>
        {
            using var request = new System.Diagnostics.Activity("GET /orders").Start();
            return await Assert.ThrowsAsync<LockTimeoutException>(async () =>
            {
                using var scope = await outbox.AcquireAsync(TimeSpan.FromMilliseconds(5), ct);
            });
        }, ct);
        var granted = Task.Run(async () =>
        {
            using var request = new System.Diagnostics.Activity("POST /orders").Start();
            using var scope = await outbox.AcquireAsync(ct);
        }, ct);
        Guard.SpinUntil(() => outbox.WaitingCount == 1);
        held.Dispose();
        await granted;
        await host.StopAsync(ct);

        var timeout = Assert.Single(host.Logs(LocksmithEventIds.LockTimeout));
        int timeoutId = int.Parse(timeout.GetStructuredStateValue("WaiterId")!, System.Globalization.CultureInfo.InvariantCulture);
        string timeoutWaiter = timeout.GetStructuredStateValue("Waiter")!;
        Assert.StartsWith($"flow #{timeoutId - LockCatalogEntry.FlowIdBase} ('GET /orders') (on thread ", timeoutWaiter, StringComparison.Ordinal);
        // The exception starts its sentence with the same flow and thread (as every async message does): the log names the
        // waiter exactly as the exception does (before, without the thread).
        Assert.StartsWith("F" + timeoutWaiter[1..] + " timed out", timedOut.Message, StringComparison.Ordinal);
        var longWait = Assert.Single(host.Logs(LocksmithEventIds.LongWait));
        int longWaitId = int.Parse(longWait.GetStructuredStateValue("WaiterId")!, System.Globalization.CultureInfo.InvariantCulture);
        Assert.Matches(
            $@"^flow #{longWaitId - LockCatalogEntry.FlowIdBase} \('POST /orders'\) \(on thread \d+( \('[^']*'\))?\)$",
            longWait.GetStructuredStateValue("Waiter"));
    }

    [Fact]
    public async Task A_stopped_host_logs_nothing_more()
    {
        var ct = TestContext.Current.CancellationToken;
        using var host = TestHost.Build(locks: l => l.AddExclusiveLock("ledger"));
        var ledger = host.Services.GetRequiredKeyedService<ExclusiveLock>("ledger");
        await host.StartAsync(ct);
        await host.StopAsync(ct);

        using (HeldOnOtherThread.Hold("ledger-holder", release =>
        {
            using var scope = ledger.Acquire();
            release.Wait();
        }))
        {
            Assert.False(ledger.TryAcquire(TimeSpan.FromMilliseconds(1), out _));
        }

        Assert.Empty(host.Logs(LocksmithEventIds.LockTimeout));
    }
}

/// <summary>A generated class whose lock is made with <c>new</c>: its level comes from <c>[LockOrder]</c> through the wrappers.</summary>
public sealed partial class TimedTill
{
    [LockOrder(35)]
    private readonly ExclusiveLock _lock = new();

    [Guarded(Lock = nameof(_lock))]
    private void HoldCore(Locksmith.Testing.Support.ReleaseSignal release) => release.Wait();

    [Guarded(Lock = nameof(_lock))]
    private void TouchCore()
    {
    }
}
