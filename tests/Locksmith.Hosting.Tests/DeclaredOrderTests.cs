using System;
using System.Linq;
using System.Threading.Tasks;
using Microsoft.Extensions.DependencyInjection;

namespace Locksmith.Hosting.Tests;

public sealed class DeclaredOrderTests
{
    private const string DeclaredName = "Locksmith.Hosting.Tests.NeverCreatedInventory._gate";

    [Fact]
    public void The_generator_manifest_registers_a_declared_level_when_the_assembly_loads()
    {
        var declaration = Assert.Single(LockOrderManifest.Entries, e => e.TypeName + "." + e.MemberName == DeclaredName);

        Assert.Equal(new LockOrderDeclaration("Locksmith.Hosting.Tests.NeverCreatedInventory", "_gate", 25, LockKind.AsyncExclusive), declaration);
    }

    [Fact]
    public void The_catalog_lists_a_declared_level_in_the_global_order_before_any_instance_exists()
    {
        // NeverCreatedInventory is compiled by the real generator and never instantiated anywhere in this assembly.
        using var host = TestHost.Build(locks: l => l.AddExclusiveLock("journal", level: 20).AddAsyncExclusiveLock("outbox", level: 30));

        var entries = host.Services.GetRequiredService<ILockCatalog>().Snapshot();

        var names = entries.Select(e => e.Name).ToList();
        int declared = names.IndexOf(DeclaredName);
        Assert.True(declared > names.IndexOf("journal"), string.Join(", ", names));
        Assert.True(declared < names.IndexOf("outbox"), string.Join(", ", names));
        var entry = entries[declared];
        Assert.True(entry.IsDeclared);
        Assert.Equal((LockKind.AsyncExclusive, (int?)25, default(LockState)), (entry.Kind, entry.Level, entry.State));
        Assert.All(entries.Where(e => e.Name is "journal" or "outbox"), e => Assert.False(e.IsDeclared));
        Assert.Equal(["journal", "outbox"], host.Services.GetRequiredService<ILockCatalog>().Names);
    }
}

/// <summary>A generated class no test creates: its level reaches the catalog only through the generator's manifest.</summary>
public sealed partial class NeverCreatedInventory(AsyncExclusiveLock gate)
{
    [LockOrder(25)]
    private readonly AsyncExclusiveLock _gate = gate;

    [Guarded(Lock = nameof(_gate))]
    private int _count;

    [Guarded(Lock = nameof(_gate))]
    private async Task<int> AddCoreAsync()
    {
        await Task.Yield();
        return ++_count;
    }
}
