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

    /// <summary>
    /// A container lock a generated class receives through its constructor and declares with <c>[LockOrder]</c> is one
    /// entry once a wrapper has applied the declaration to it (the same instance): the container's lock, carrying the
    /// declaration; before that first call nothing ties the two, and both are listed.
    /// </summary>
    [Fact]
    public void A_container_lock_a_generated_class_declares_is_one_entry_carrying_the_declaration()
    {
        const string Declared = "Locksmith.Hosting.Tests.CatalogedTill._lock";
        using var host = TestHost.Build(locks: l => l.AddExclusiveLock("till").AddExclusiveLock("spare-till"), services: s => s.AddSingleton<CatalogedTill>());
        var catalog = host.Services.GetRequiredService<ILockCatalog>();
        var till = host.Services.GetRequiredService<CatalogedTill>();
        var spare = new CatalogedTill(host.Services.GetRequiredKeyedService<ExclusiveLock>("spare-till"));

        var before = catalog.Snapshot();
        Assert.Contains(before, e => e.Name == Declared && e.IsDeclared && e.DeclaringType == "Locksmith.Hosting.Tests.CatalogedTill" && e.DeclaredMember == "_lock" && e.Declarers.SequenceEqual([Declared]));
        Assert.Contains(before, e => e.Name == "till" && !e.IsDeclared && e.DeclaringType is null && e.DeclaredMember is null && e.Declarers.Count == 0);

        till.Count();
        spare.Count();

        // Every instance of the class declares its own lock: each carries the declaration.
        var after = catalog.Snapshot();
        Assert.DoesNotContain(after, e => e.Name == Declared);
        foreach (string name in new[] { "till", "spare-till" })
        {
            var entry = Assert.Single(after, e => e.Name == name);
            Assert.False(entry.IsDeclared);
            Assert.Equal((int?)15, entry.Level);
            Assert.Equal(("Locksmith.Hosting.Tests.CatalogedTill", "_lock", LockKind.Exclusive), (entry.DeclaringType, entry.DeclaredMember, entry.Kind));
            Assert.Equal(host.Services.GetRequiredKeyedService<ExclusiveLock>(name).Id, entry.LockId);
            Assert.Equal([Declared], entry.Declarers);
        }
    }

    /// <summary>
    /// One container lock that two generated classes receive and declare (and that one class, registered twice, declares
    /// twice) is still one entry once their wrappers ran: the first declaration names it, and every declaration that
    /// applied to it is listed on it, none apart.
    /// </summary>
    [Fact]
    public void A_container_lock_two_generated_classes_declare_is_one_entry_listing_both_declarations()
    {
        const string TillType = "Locksmith.Hosting.Tests.CatalogedTill", DrawerType = "Locksmith.Hosting.Tests.CatalogedDrawer";
        using var host = TestHost.Build(
            locks: l => l.AddExclusiveLock("till"),
            services: s => s.AddSingleton<CatalogedTill>().AddKeyedSingleton<CatalogedTill>("second-registration").AddSingleton<CatalogedDrawer>());
        var catalog = host.Services.GetRequiredService<ILockCatalog>();
        long tillId = host.Services.GetRequiredKeyedService<ExclusiveLock>("till").Id;

        host.Services.GetRequiredService<CatalogedTill>().Count();
        host.Services.GetRequiredService<CatalogedDrawer>().Open();
        host.Services.GetRequiredKeyedService<CatalogedTill>("second-registration").Count();

        var after = catalog.Snapshot();
        var entry = Assert.Single(after, e => e.LockId == tillId);
        Assert.Equal("till", entry.Name);
        Assert.Equal((TillType, "_lock"), (entry.DeclaringType, entry.DeclaredMember));
        Assert.Equal([TillType + "._lock", DrawerType + "._lock"], entry.Declarers);
        Assert.DoesNotContain(after, e => e.Name == TillType + "._lock");
        Assert.DoesNotContain(after, e => e.Name == DrawerType + "._lock");
    }

    /// <summary>
    /// A second generated class declaring the same container lock at another [LockOrder] level throws at its first wrapper
    /// call (that level used to be silently ignored); the lock keeps the first class's level and is listed once.
    /// </summary>
    [Fact]
    public void A_container_lock_a_second_class_declares_at_another_level_throws_at_its_first_call()
    {
        using var host = TestHost.Build(
            locks: l => l.AddExclusiveLock("till"),
            services: s => s.AddSingleton<CatalogedTill>().AddSingleton<MisorderedSafe>());
        var tillLock = host.Services.GetRequiredKeyedService<ExclusiveLock>("till");

        host.Services.GetRequiredService<CatalogedTill>().Count();
        var ex = Assert.Throws<InvalidOperationException>(() => host.Services.GetRequiredService<MisorderedSafe>().Open());

        Assert.Contains("'Locksmith.Hosting.Tests.CatalogedTill._lock' with level 15", ex.Message);
        Assert.Contains("'Locksmith.Hosting.Tests.MisorderedSafe._lock' with [LockOrder(30)]", ex.Message);
        Assert.Equal((int?)15, tillLock.Level);
        Assert.Equal(["Locksmith.Hosting.Tests.CatalogedTill._lock"], tillLock.Declarers);
        Assert.False(tillLock.IsHeld);
    }
}

/// <summary>A generated class that takes a container lock and declares its level: the catalog lists them as one.</summary>
public sealed partial class CatalogedTill([FromKeyedServices("till")] ExclusiveLock tillLock)
{
    [LockOrder(15)]
    private readonly ExclusiveLock _lock = tillLock;

    [Guarded(Lock = nameof(_lock))]
    private int _count;

    [Guarded(Lock = nameof(_lock))]
    private int CountCore() => ++_count;
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

/// <summary>A second generated class that declares the same container lock as <see cref="CatalogedTill"/>, at the same level.</summary>
public sealed partial class CatalogedDrawer([FromKeyedServices("till")] ExclusiveLock tillLock)
{
    [LockOrder(15)]
    private readonly ExclusiveLock _lock = tillLock;

    [Guarded(Lock = nameof(_lock))]
    private bool _open;

    [Guarded(Lock = nameof(_lock))]
    private bool OpenCore() => _open = !_open;
}

/// <summary>A generated class that declares the container lock <see cref="CatalogedTill"/> declares, at another level.</summary>
public sealed partial class MisorderedSafe([FromKeyedServices("till")] ExclusiveLock tillLock)
{
    [LockOrder(30)]
    private readonly ExclusiveLock _lock = tillLock;

    [Guarded(Lock = nameof(_lock))]
    private bool _open;

    [Guarded(Lock = nameof(_lock))]
    private bool OpenCore() => _open = !_open;
}
