using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;

namespace Locksmith.Testing.Tests;

/// <summary>
/// A bounded buffer with one condition for "not full" and "not empty", each wait in a loop in one hold of the lock, but
/// announced with <see cref="ConditionVariable.Notify"/>: a producer's notification can wake the other producer, which
/// waits again, while a consumer waiting since before it sleeps on. Before, the deadlock summary called that a missed
/// signal ("notified … before p1 began waiting on it") and advised checking and waiting in one hold, in a loop, which
/// the code already does.
/// </summary>
public sealed class NotifyOneTests
{
    private sealed class BoundedBuffer(bool notifyAll)
    {
        private readonly ExclusiveLock _lock = new("buffer");
        private readonly Queue<int> _items = new();
        private ConditionVariable? _changed;

        private ConditionVariable Changed => _changed ??= new ConditionVariable(_lock, "buffer.changed");

        public void Put(int item)
        {
            using (_lock.Acquire())
            {
                while (_items.Count == 1)
                {
                    Changed.Wait();
                }

                _items.Enqueue(item);
                Announce();
            }
        }

        public void Take()
        {
            using (_lock.Acquire())
            {
                while (_items.Count == 0)
                {
                    Changed.Wait();
                }

                _items.Dequeue();
                Announce();
            }
        }

        private void Announce()
        {
            if (notifyAll)
            {
                Changed.NotifyAll();
            }
            else
            {
                Changed.Notify();
            }
        }
    }

    private static Action<Scenario> TwoProducersTwoConsumers(bool notifyAll) => scenario =>
    {
        var buffer = new BoundedBuffer(notifyAll);
        int taken = 0;
        scenario.Thread("p1", () => { buffer.Put(1); buffer.Put(2); });
        scenario.Thread("p2", () => { buffer.Put(3); buffer.Put(4); });
        scenario.Thread("c1", () => { buffer.Take(); buffer.Take(); Interlocked.Add(ref taken, 2); });
        scenario.Thread("c2", () => { buffer.Take(); buffer.Take(); Interlocked.Add(ref taken, 2); });
        scenario.Finally(() => Assert.Equal(4, taken));
    };

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    public void ANotifyThatWakesTheWrongWaiter_IsNotCalledAMissedSignal_AndNamesTheWaiterPassedOver(int seed)
    {
        var options = new ControlledTestOptions { Seed = seed };
        var report = ControlledTest.Run(TwoProducersTwoConsumers(notifyAll: false), options).Failure;

        Assert.NotNull(report);
        Assert.True(report.Kind == ControlledFailureKind.Deadlock, report.ToString());
        Assert.DoesNotContain("missed signal", report.Summary, StringComparison.Ordinal);
        Assert.Contains("Notify wakes one waiter", report.Summary, StringComparison.Ordinal);
        Assert.Contains("NotifyAll", report.Summary, StringComparison.Ordinal);

        // Each flow named as passed over is one the deadlock leaves waiting on the condition.
        var passedOver = report.Waits.Where(w => report.Summary.Contains($"{w.Flow} (waiting since step", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(passedOver);
        Assert.All(passedOver, w => Assert.Equal("buffer.changed", w.Resource));

        var replayed = ControlledTest.Replay(TwoProducersTwoConsumers(notifyAll: false), report.Schedule).Failure;
        Assert.NotNull(replayed);
        Assert.Equal(report.Summary, replayed.Summary);
    }

    [Fact]
    public void NotifyAllPasses()
    {
        var result = ControlledTest.Run(TwoProducersTwoConsumers(notifyAll: true));
        Assert.True(result.Passed, result.ToString());
    }
}
