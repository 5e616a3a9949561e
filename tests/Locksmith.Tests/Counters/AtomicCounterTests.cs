using System;
using System.Threading.Tasks;
using Locksmith.Tests.Support;

namespace Locksmith.Tests.Counters;

public sealed class AtomicCounterTests
{
    private const long Expected = LostUpdate.Tasks * LostUpdate.IncrementsPerTask;

    [Fact]
    public async Task Increment_FromManyTasks_LosesNoUpdate()
    {
        var counter = new AtomicCounter("hits");
        await RunTasks(() => counter.Increment());
        Assert.Equal(Expected, counter.Value);
    }

    [Fact]
    public async Task Update_FromManyTasks_LosesNoUpdate()
    {
        var counter = new AtomicCounter("updated");
        await RunTasks(() => counter.Update(x => x + 1));
        Assert.Equal(Expected, counter.Value);
    }

    [Fact]
    public async Task UpdateWithState_FromManyTasks_LosesNoUpdate()
    {
        var counter = new AtomicCounter("stateful");
        await RunTasks(() => counter.Update(2L, static (x, step) => x + step));
        Assert.Equal(2 * Expected, counter.Value);
    }

    [Fact]
    public void Operations_ReturnTheDocumentedValues()
    {
        var counter = new AtomicCounter(10, "ops");
        Assert.Equal(11, counter.Increment());
        Assert.Equal(10, counter.Decrement());
        Assert.Equal(15, counter.Add(5));
        Assert.Equal(12, counter.Add(-3));

        Assert.Equal(12, counter.CompareExchange(20, comparand: 99));
        Assert.Equal(12, counter.Value);
        Assert.Equal(12, counter.CompareExchange(20, comparand: 12));
        Assert.Equal(20, counter.Value);

        Assert.Equal(20, counter.Exchange(7));
        Assert.Equal(7, counter.Value);

        Assert.Equal(21, counter.Update(x => x * 3));
        Assert.Equal(42, counter.Update(2, static (x, factor) => x * factor));
        Assert.Equal(42, counter.Value);
        Assert.Equal("ops = 42", counter.ToString());
    }

    [Fact]
    public void Update_RetriesWhenAnotherWriteIntervenes()
    {
        var counter = new AtomicCounter(0);
        int calls = 0;
        long result = counter.Update(x =>
        {
            // The first attempt races with a write, so its CAS must fail and the update run again on the new value.
            if (calls++ == 0)
            {
                counter.Add(100);
            }

            return x + 1;
        });

        Assert.Equal(2, calls);
        Assert.Equal(101, result);
        Assert.Equal(101, counter.Value);
    }

    [Fact]
    public void Names_AreGiven_OrGenerated_AndNullUpdateThrows()
    {
        Assert.Equal("named", new AtomicCounter("named").Name);
        Assert.StartsWith("AtomicCounter#", new AtomicCounter().Name);
        Assert.Equal(0, new AtomicCounter().Value);
        Assert.Throws<ArgumentNullException>(() => new AtomicCounter().Update(null!));
        Assert.Throws<ArgumentNullException>(() => new AtomicCounter().Update(1, (Func<long, int, long>)null!));
    }

    private static Task RunTasks(Action increment)
    {
        var tasks = new Task[LostUpdate.Tasks];
        for (int i = 0; i < tasks.Length; i++)
        {
            tasks[i] = Task.Run(() =>
            {
                for (int k = 0; k < LostUpdate.IncrementsPerTask; k++)
                {
                    increment();
                }
            });
        }

        return Task.WhenAll(tasks);
    }
}
