using System;
using System.Threading.Tasks;
using Locksmith;

// The seed's lost update, fixed: 10,000 concurrent tasks increment a shared counter under an ExclusiveLock.
var gate = new ExclusiveLock("demo-counter");
long unsafeCount = 0, safeCount = 0;

var tasks = new Task[10_000];
for (int i = 0; i < tasks.Length; i++)
{
    tasks[i] = Task.Run(() =>
    {
        for (int k = 0; k < 100; k++)
        {
            unsafeCount++;                       // racy: updates get lost
            using var scope = gate.Acquire();
            safeCount++;                         // guarded: exact
        }
    });
}

await Task.WhenAll(tasks);
Console.WriteLine($"expected {tasks.Length * 100:N0}; without a lock {unsafeCount:N0}; with ExclusiveLock {safeCount:N0}");
return safeCount == tasks.Length * 100 ? 0 : 1;
