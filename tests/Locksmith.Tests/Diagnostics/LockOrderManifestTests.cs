using System.Linq;
using System.Threading.Tasks;

namespace Locksmith.Tests.Diagnostics;

public sealed class LockOrderManifestTests
{
    [Fact]
    public void Registrations_AreListed_OnceEach_WithTheirLevelAndKind()
    {
        LockOrderManifest.Register("Manifest.Tests.Ledger", "_lock", 10, LockKind.Exclusive);
        LockOrderManifest.Register("Manifest.Tests.Ledger", "_lock", 10, LockKind.Exclusive);
        LockOrderManifest.Register("Manifest.Tests.Outbox", "_gate", 20, LockKind.AsyncExclusive);

        var mine = LockOrderManifest.Entries.Where(e => e.TypeName.StartsWith("Manifest.Tests.", System.StringComparison.Ordinal)).ToArray();

        Assert.Equal(2, mine.Length);
        Assert.Contains(new LockOrderDeclaration("Manifest.Tests.Ledger", "_lock", 10, LockKind.Exclusive), mine);
        Assert.Contains(new LockOrderDeclaration("Manifest.Tests.Outbox", "_gate", 20, LockKind.AsyncExclusive), mine);
    }

    [Fact]
    public async Task ConcurrentRegistrations_AreAllKept()
    {
        await Task.WhenAll(Enumerable.Range(0, 4).Select(t => Task.Run(() =>
        {
            for (int i = 0; i < 250; i++)
            {
                LockOrderManifest.Register($"Manifest.Concurrent.T{t}", $"_lock{i}", i, LockKind.Exclusive);
            }
        })));

        Assert.Equal(1_000, LockOrderManifest.Entries.Count(e => e.TypeName.StartsWith("Manifest.Concurrent.", System.StringComparison.Ordinal)));
    }
}
