using System;
using System.Diagnostics.Metrics;
using BenchmarkDotNet.Attributes;

namespace Locksmith.Benchmarks;

/// <summary>
/// What metrics cost an uncontended <see cref="ExclusiveLock"/>: compiled out (the AppContext switch off — "built
/// without them"), compiled in with no listener, and with a listener attached. Each parameter value runs in its
/// own process, so the switch is read before the runtime's types initialise.
/// </summary>
[MemoryDiagnoser]
public class MetricsOverheadBenchmarks
{
    private ExclusiveLock _gate = null!;
    private MeterListener? _listener;
    private long _counter;

    [Params(false, true)]
    public bool MetricsCompiledIn { get; set; }

    [Params(false, true)]
    public bool ListenerAttached { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        AppContext.SetSwitch(LocksmithMetrics.IsSupportedSwitchName, MetricsCompiledIn);
        _gate = new ExclusiveLock("metrics-bench");
        if (ListenerAttached)
        {
            _listener = new MeterListener
            {
                InstrumentPublished = (instrument, listener) =>
                {
                    if (instrument.Meter.Name == LocksmithMetrics.MeterName)
                    {
                        listener.EnableMeasurementEvents(instrument);
                    }
                },
            };
            _listener.SetMeasurementEventCallback<long>((_, value, _, _) => _counter += value);
            _listener.Start();
        }
    }

    [GlobalCleanup]
    public void Cleanup() => _listener?.Dispose();

    [Benchmark]
    public void ExclusiveLock_AcquireRelease()
    {
        using var scope = _gate.Acquire();
        _counter++;
    }
}
