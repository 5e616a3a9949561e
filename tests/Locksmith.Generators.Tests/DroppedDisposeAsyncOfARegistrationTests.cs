using System;
using System.Globalization;
using System.Linq;
using Locksmith.Generators.Tests.Support;

namespace Locksmith.Generators.Tests;

/// <summary>
/// A cancellation registration made in an async lock's hold and disposed there by a <c>DisposeAsync()</c> whose task is
/// dropped (<c>_ = r.DisposeAsync();</c>, or a statement of its own) is one mistake: the dispose does not wait for a
/// callback already running, which runs with the flow's context after the hold. It is one LSM0026, at the registration,
/// whose message names the unawaited <c>DisposeAsync()</c> and says to await it; the dropped task itself runs none of the
/// user's code, so it is no work started of its own (before, a second LSM0026 there said it "starts work").
/// </summary>
public sealed class DroppedDisposeAsyncOfARegistrationTests
{
    [Fact]
    public void LSM0026_OnceAtTheRegistration_ForADroppedDisposeAsync()
    {
        var run = DiagnosticCheck.Verify("""
            using System.Threading;
            using System.Threading.Tasks;
            using Locksmith;
            public sealed partial class Waiter
            {
                private readonly AsyncExclusiveLock _gate = new();
                private CancellationTokenRegistration _kept;

                public async Task DiscardedAsync(CancellationToken ct)
                {
                    using var scope = await _gate.AcquireAsync(ct);
                    var r = {|LSM0026:ct.Register(Refresh)|};
                    _ = r.DisposeAsync();
                }

                public async Task StatementAsync(CancellationToken ct)
                {
                    using (await _gate.AcquireAsync(ct))
                    {
                        _kept = {|LSM0026:ct.Register(Refresh)|};
                        _kept.DisposeAsync();
                    }
                }

                public async Task AwaitedAsync(CancellationToken ct)
                {
                    using var scope = await _gate.AcquireAsync(ct);
                    var r = ct.Register(Refresh);
                    await r.DisposeAsync();
                }

                private void Refresh() { }
            }
            """);

        var messages = run.LocksmithDiagnostics.Select(static d => d.GetMessage(CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(2, messages.Count);
        Assert.All(messages, static message =>
        {
            Assert.StartsWith("'CancellationToken.Register' registers a callback whose registration's 'DisposeAsync()' is not awaited while '_gate' is held", message, StringComparison.Ordinal);
            Assert.Contains("await its 'DisposeAsync()' before the scope ends", message, StringComparison.Ordinal);
        });
    }
}
