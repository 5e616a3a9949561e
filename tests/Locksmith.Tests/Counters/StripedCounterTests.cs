using System;
using System.Numerics;
using System.Threading.Tasks;
using Locksmith.Tests.Support;

namespace Locksmith.Tests.Counters;

public sealed class StripedCounterTests
{
    [Fact]
    public async Task Increment_FromManyTasks_LosesNoUpdate()
    {
        var counter = new StripedCounter("requests");
        var tasks = new Task[LostUpdate.Tasks];
        for (int i = 0; i < tasks.Length; i++)
        {
            tasks[i] = Task.Run(() =>
            {
                for (int k = 0; k < LostUpdate.IncrementsPerTask; k++)
                {
                    counter.Increment();
                }
            });
        }

        await Task.WhenAll(tasks);

        Assert.Equal(LostUpdate.Tasks * LostUpdate.IncrementsPerTask, counter.Sum());
        AssertTableShape(counter);
    }

    [Fact]
    public void FourThreads_QuarterMillionEach_SumIsExact_SumThenResetTakesAll()
    {
        const int Threads = 4;
        const int PerThread = 250_000;
        var counter = new StripedCounter("hot");
        Concurrently.Run(Threads, _ =>
        {
            for (int i = 0; i < PerThread; i++)
            {
                counter.Increment();
            }
        });

        Assert.Equal(Threads * PerThread, counter.Sum());
        AssertTableShape(counter);

        Assert.Equal(Threads * PerThread, counter.SumThenReset());
        Assert.Equal(0, counter.Sum());
        Assert.Equal(0, counter.SumThenReset());
    }

    [Fact]
    public void MixedAddsAndDecrements_FromSeveralThreads_SumIsExact()
    {
        var counter = new StripedCounter();
        Concurrently.Run(4, _ =>
        {
            for (int i = 0; i < 50_000; i++)
            {
                counter.Add(3);
                counter.Decrement();
            }
        });

        Assert.Equal(4 * 50_000 * 2, counter.Sum());
    }

    [Fact]
    public void SumThenReset_WhileWriting_CountsEveryAddExactlyOnce()
    {
        const int Threads = 2;
        const int PerThread = 200_000;
        var counter = new StripedCounter("interval");
        long taken = 0;
        Concurrently.Run(Threads + 1, t =>
        {
            if (t == Threads)
            {
                // The reader drains while the writers run; what it misses stays in the counter.
                for (int i = 0; i < 200; i++)
                {
                    taken += counter.SumThenReset();
                }

                return;
            }

            for (int i = 0; i < PerThread; i++)
            {
                counter.Increment();
            }
        });

        Assert.Equal(Threads * PerThread, taken + counter.SumThenReset());
    }

    [Fact]
    public void SingleThread_Operations_AndReset()
    {
        var counter = new StripedCounter("single");
        Assert.Equal(0, counter.Sum());
        counter.Increment();
        counter.Increment();
        counter.Decrement();
        counter.Add(41);
        Assert.Equal(42, counter.Sum());
        Assert.Equal("single = 42", counter.ToString());
        Assert.Equal(0, counter.CellCount);

        counter.Reset();
        Assert.Equal(0, counter.Sum());
        Assert.StartsWith("StripedCounter#", new StripedCounter().Name);
    }

    private static void AssertTableShape(StripedCounter counter)
    {
        int cells = counter.CellCount;
        Assert.True(cells == 0 || (BitOperations.IsPow2(cells) && cells <= StripedCounter.MaxCells), $"{cells} cells");
        Assert.True(BitOperations.IsPow2(StripedCounter.MaxCells));
        Assert.True(StripedCounter.MaxCells >= Environment.ProcessorCount * 2);
    }
}
