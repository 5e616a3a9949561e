using System;
using Microsoft.Extensions.DependencyInjection;

namespace Locksmith.Hosting.Tests;

/// <summary>
/// Why a name never registered gets DI's own message: the one hook DI offers for a missing key (a
/// <c>KeyedService.AnyKey</c> registration) is called for optional lookups too, so a Locksmith message there would
/// turn these nulls and defaults into exceptions (README, Named locks).
/// </summary>
public sealed class MissingLockTests
{
    [Fact]
    public void An_optional_FromKeyedServices_lock_that_was_never_registered_gets_its_default_and_a_required_one_DIs_message()
    {
        using var host = TestHost.Build(locks: static locks => locks.AddExclusiveLock("ledger", level: 10));

        var made = ActivatorUtilities.CreateInstance<OptionalLock>(host.Services);
        var error = Assert.Throws<InvalidOperationException>(() => host.Services.GetRequiredKeyedService<ExclusiveLock>("nope"));

        Assert.Null(made.Lock);
        Assert.Null(host.Services.GetKeyedService<ExclusiveLock>("nope"));
        Assert.Contains("Locksmith.ExclusiveLock", error.Message, StringComparison.Ordinal);
    }

    private sealed class OptionalLock([FromKeyedServices("nope")] ExclusiveLock? optional = null)
    {
        public ExclusiveLock? Lock { get; } = optional;
    }
}
