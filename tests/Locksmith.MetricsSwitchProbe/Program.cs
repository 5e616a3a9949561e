using System;
using System.Diagnostics.Metrics;
using System.Threading;
using System.Threading.Tasks;
using Locksmith;

// Runs lock operations that record every Locksmith instrument while a listener listens, and prints what it heard.
// Its runtimeconfig.json turns metrics off (Locksmith.Metrics.IsSupported = false); "on" turns them back on before any
// Locksmith type is touched, as the control run that shows the same operations do record when supported.
if (args is ["on"])
{
    AppContext.SetSwitch(LocksmithMetrics.IsSupportedSwitchName, true);
}

long measurements = 0;
using var listener = new MeterListener
{
    InstrumentPublished = (instrument, l) =>
    {
        if (instrument.Meter.Name == LocksmithMetrics.MeterName)
        {
            l.EnableMeasurementEvents(instrument);
        }
    },
};
listener.SetMeasurementEventCallback<long>((_, _, _, _) => Interlocked.Increment(ref measurements));
listener.SetMeasurementEventCallback<double>((_, _, _, _) => Interlocked.Increment(ref measurements));
listener.Start();

int operations = 0;
var exclusive = new ExclusiveLock("probe-exclusive");
var readWrite = new ReadWriteLock("probe-read-write");
var asyncLock = new AsyncExclusiveLock("probe-async");
var ordered = new ExclusiveLock("probe-level-20", level: 20);
var lower = new ExclusiveLock("probe-level-10", level: 10);
LocksmithPolicy.OrderViolationAction = OrderViolationAction.Report;

for (int i = 0; i < 100; i++)
{
    using (exclusive.Acquire())
    {
        operations++;
    }

    using (readWrite.AcquireRead())
    {
        operations++;
    }

    using (await asyncLock.AcquireAsync())
    {
        operations++;
    }
}

// A wait, a contention and a timeout: another thread holds the lock meanwhile.
using (var held = new ManualResetEventSlim())
using (var release = new ManualResetEventSlim())
{
    var holder = Task.Run(() =>
    {
        using (exclusive.Acquire())
        {
            held.Set();
            release.Wait();
        }
    });
    held.Wait();
    if (!exclusive.TryAcquire(TimeSpan.FromMilliseconds(1), out var scope))
    {
        operations++;
    }

    scope.Dispose();
    release.Set();
    await holder;
}

// An order violation, reported rather than thrown.
using (ordered.Acquire())
using (lower.Acquire())
{
    operations++;
}

listener.RecordObservableInstruments();
Console.WriteLine($"supported={LocksmithMetrics.IsSupported} operations={operations} measurements={Interlocked.Read(ref measurements)}");
