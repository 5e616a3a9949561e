using System;
using System.IO;
using System.Text;
using System.Threading.Tasks;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Locksmith.Hosting.Tests;

/// <summary>An app that binds Locksmith from its own section is told the key to set by that section's path.</summary>
public sealed class PolicySectionPathTests
{
    [Fact]
    public async Task A_second_host_refused_the_policy_names_InstallProcessPolicy_under_the_section_it_was_bound_from()
    {
        // Before, the message said "set Locksmith:InstallProcessPolicy to false", a key this app does not read.
        var ct = TestContext.Current.CancellationToken;
        var before = PolicySnapshot.Take();
        using var first = Build();
        using var second = Build();
        await first.StartAsync(ct);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => second.StartAsync(ct));
        await first.StopAsync(ct);

        Assert.Contains("set Infra:Locks:InstallProcessPolicy to false in this one", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("Locksmith:InstallProcessPolicy", error.Message, StringComparison.Ordinal);
        Assert.Equal(before, PolicySnapshot.Take());
    }

    // An app that reads no configuration (AddLocksmith() or only a delegate) was told to set Locksmith:InstallProcessPolicy,
    // a key it does not read: following that fix changed nothing.
    [Theory]
    [InlineData("no argument")]
    [InlineData("a delegate")]
    public async Task A_second_host_reading_no_configuration_is_told_to_set_InstallProcessPolicy_in_code(string form)
    {
        var ct = TestContext.Current.CancellationToken;
        var before = PolicySnapshot.Take();
        using var first = BuildWithoutConfiguration(form);
        using var second = BuildWithoutConfiguration(form);
        await first.StartAsync(ct);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => second.StartAsync(ct));
        await first.StopAsync(ct);

        Assert.DoesNotContain("Locksmith:InstallProcessPolicy", error.Message, StringComparison.Ordinal);
        Assert.Contains("options.InstallProcessPolicy = false", error.Message, StringComparison.Ordinal);
        Assert.Equal(before, PolicySnapshot.Take());
    }

    private static IHost BuildWithoutConfiguration(string form)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddJsonStream(new MemoryStream(Encoding.UTF8.GetBytes("{}")));
        if (form == "no argument")
        {
            builder.Services.AddLocksmith();
        }
        else
        {
            builder.Services.AddLocksmith(options => options.DefaultTimeout = TimeSpan.FromSeconds(5));
        }

        return builder.Build();
    }

    private static IHost Build()
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddJsonStream(new MemoryStream(Encoding.UTF8.GetBytes("""{ "Infra": { "Locks": { "DefaultTimeout": "00:00:05" } } }""")));
        builder.Services.AddLocksmith(builder.Configuration.GetSection("Infra:Locks"));
        return builder.Build();
    }
}
