using System;
using System.Threading;

namespace Locksmith.Benchmarks.Harness;

/// <summary>
/// A second async flow driven step by step from the benchmark's own flow, so a lock owned per flow sees the two
/// as different owners without a thread hop per step. Each step runs synchronously in the flow's execution context,
/// and what a step leaves there (async locals) is kept for the next one, as between the statements of one async method.
/// </summary>
/// <remarks>
/// The flow gets a base context of its own (one async local set), as a different request's flow would, so nothing
/// it caches per context is shared with the benchmark's flow. Allocation-free per step.
/// </remarks>
public sealed class OtherFlow
{
    private static readonly AsyncLocal<string?> s_name = new();

    private static readonly ContextCallback s_runStep = static state =>
    {
        var flow = (OtherFlow)state!;
        flow._step!(flow._state);
        flow._context = ExecutionContext.Capture() ?? throw new InvalidOperationException("Execution context flow is suppressed.");
    };

    private ExecutionContext _context;
    private Action<object?>? _step;
    private object? _state;

    /// <summary>Creates the flow; <paramref name="name"/> is the async local that makes its context its own.</summary>
    public OtherFlow(string name)
    {
        _context = ExecutionContext.Capture() ?? throw new InvalidOperationException("Execution context flow is suppressed.");
        Run(static state => s_name.Value = (string?)state, name);
    }

    /// <summary>Runs <paramref name="step"/> (given <paramref name="state"/>) in the flow, on the calling thread.</summary>
    public void Run(Action<object?> step, object? state)
    {
        _step = step;
        _state = state;
        ExecutionContext.Run(_context, s_runStep, this);
        _step = null;
        _state = null;
    }
}
