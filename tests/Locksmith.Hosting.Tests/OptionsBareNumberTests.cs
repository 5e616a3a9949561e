using System;
using System.Threading.Tasks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Locksmith.Hosting.Tests;

/// <summary>
/// A time setting written as a bare number (<c>"DefaultTimeout": "5"</c>, <c>Locksmith__DefaultTimeout=5</c>) is read by
/// .NET's <see cref="TimeSpan"/> parser as days, which is rarely what an app that writes seconds or milliseconds means.
/// </summary>
public sealed class OptionsBareNumberTests
{
    [Theory]
    [InlineData("DefaultTimeout", "5")]
    [InlineData("LongWaitThreshold", "2")]
    [InlineData("WatchdogInterval", "10")]
    [InlineData("HealthWindow", "1")]
    [InlineData("DefaultTimeout", "-1")]
    [InlineData("WatchdogInterval", "30")]
    public async Task A_time_written_as_a_bare_number_fails_start_saying_it_would_be_days(string key, string value)
    {
        // Before, "5" started the host with a 5-day DefaultTimeout (so a stuck holder never timed out) and "-1" or "30"
        // failed with the validator's message about -1.00:00:00 or 30.00:00:00 days, which does not say why.
        var before = PolicySnapshot.Take();
        using var host = TestHost.Build($$"""{ "Locksmith": { "{{key}}": "{{value}}" } }""");

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => host.StartAsync(TestContext.Current.CancellationToken));

        Assert.Equal(
            $"Locksmith:{key} = '{value}' is invalid: a bare number is read as days ({value}.00:00:00), not seconds or milliseconds. " +
            "Write the time as [d.]hh:mm:ss[.fffffff] (00:00:05 is five seconds, 00:00:00.250 a quarter of a second, " +
            "5.00:00:00 five days), or -00:00:00.001 for infinite.",
            error.Message);
        Assert.Equal(before, PolicySnapshot.Take());
        Assert.Equal(0, LocksmithPolicyService.ActiveCount);
    }

    [Theory]
    [InlineData("DefaultTimeout", "0")]
    [InlineData("LongWaitThreshold", "00:00:00")]
    [InlineData("DefaultTimeout", "5.00:00:00")]
    public async Task Zero_and_times_written_out_still_bind(string key, string value)
    {
        using var host = TestHost.Build($$"""{ "Locksmith": { "{{key}}": "{{value}}" } }""");

        await host.StartAsync(TestContext.Current.CancellationToken);
        var options = host.Services.GetRequiredService<IOptions<LocksmithOptions>>().Value;
        await host.StopAsync(TestContext.Current.CancellationToken);

        var bound = (TimeSpan)typeof(LocksmithOptions).GetProperty(key)!.GetValue(options)!;
        Assert.Equal(TimeSpan.Parse(value, System.Globalization.CultureInfo.InvariantCulture), bound);
    }
}
