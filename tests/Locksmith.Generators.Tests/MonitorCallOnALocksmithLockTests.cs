using Locksmith.Generators.Tests.Support;
using Microsoft.CodeAnalysis;

namespace Locksmith.Generators.Tests;

/// <summary>
/// LSM0024 for the <c>Monitor</c> methods that take the object, as for the <c>lock</c> statement: on a Locksmith lock
/// (every kind, async, striped and PostgreSQL ones too) they use the object's Monitor, which the lock never sees. From a
/// trial of the analyzers: <c>lock (_lock)</c> was reported but <c>Monitor.Enter(_lock)</c>, <c>Monitor.TryEnter</c>,
/// <c>Monitor.Wait</c> and <c>Monitor.Pulse</c> were not. The message names the call and gives advice for it.
/// </summary>
public sealed class MonitorCallOnALocksmithLockTests
{
    [Fact]
    public void LSM0024_ForEachMonitorCall_OnEachKindOfLock() => Verify("""
        using System;
        using System.Threading;
        using Locksmith;
        using Locksmith.Postgres;
        public sealed class Gates
        {
            private readonly ExclusiveLock _lock = new();
            private readonly ReentrantLock _reentrant = new();
            private readonly SpinGate _spin = new();
            private readonly CountingSemaphore _semaphore = new(2, 2);
            private readonly ReadWriteLock _rw = new();
            private readonly AsyncExclusiveLock _async = new();
            private readonly AsyncReadWriteLock _asyncRw = new();
            private readonly StripedLock<int> _striped = new(4);
            private readonly AsyncStripedLock<int> _asyncStriped = new(4);
            private readonly object _monitor = new();

            public void Calls(PostgresExclusiveLock distributed, PostgresKeyedLock<long> keyed)
            {
                bool taken = false;
                Monitor.Enter({|LSM0024:_lock|});
                Monitor.Exit({|LSM0024:_lock|});
                Monitor.Enter({|LSM0024:_reentrant|}, ref taken);
                Monitor.TryEnter({|LSM0024:_spin|});
                Monitor.TryEnter({|LSM0024:_semaphore|}, 10);
                Monitor.TryEnter({|LSM0024:_rw|}, TimeSpan.FromSeconds(1), ref taken);
                Monitor.Wait({|LSM0024:_async|});
                Monitor.Pulse({|LSM0024:_asyncRw|});
                Monitor.PulseAll({|LSM0024:_striped|});
                _ = Monitor.IsEntered({|LSM0024:_asyncStriped|});
                _ = Monitor.IsEntered({|LSM0024:_lock|});
                Monitor.Enter((object){|LSM0024:distributed|});
                Monitor.Enter({|LSM0024:keyed|});
                lock ({|LSM0024:_asyncStriped|}) { }

                // The object's own Monitor, or a lock's Name: not the lock.
                Monitor.Enter(_monitor);
                Monitor.Exit(_monitor);
                Monitor.Enter(_lock.Name);
            }
        }
        """);

    // DiagnosticCheck.Verify, with Locksmith.Postgres referenced.
    private static void Verify(string markup, [System.Runtime.CompilerServices.CallerMemberName] string testMethod = "")
    {
        var run = Markup.AssertDiagnostics(markup, MetadataReference.CreateFromFile(typeof(Locksmith.Postgres.PostgresLockProvider).Assembly.Location));
        Snapshot.VerifyText("diagnostics", Snapshot.Render(run.LocksmithDiagnostics), testMethod);
    }
}
