using System;
using System.Threading;

namespace Locksmith.Testing.Engine;

/// <summary>
/// An async flow's context: continuations are posted to the flow's own queue and run on its thread when the scheduler
/// picks it, so the flow's code never runs beside another flow's.
/// </summary>
internal sealed class FlowSynchronizationContext(FlowState flow) : SynchronizationContext
{
    public override void Post(SendOrPostCallback d, object? state)
    {
        ArgumentNullException.ThrowIfNull(d);
        flow.Run.PostTo(flow, d, state);
    }

    public override void Send(SendOrPostCallback d, object? state)
    {
        ArgumentNullException.ThrowIfNull(d);
        if (Thread.CurrentThread != flow.Thread)
        {
            throw new NotSupportedException($"Send to controlled flow '{flow.Name}' from another thread would run it beside the running flow; use Post.");
        }

        d(state);
    }

    public override SynchronizationContext CreateCopy() => this;
}
