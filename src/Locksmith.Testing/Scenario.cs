using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using System.Threading.Tasks;
using Locksmith.Testing.Engine;

namespace Locksmith.Testing;

/// <summary>
/// One run's cast: the threads and async flows to interleave, and the checks to make when they are done. The builder
/// passed to <see cref="ControlledTest.Run"/> fills a fresh scenario for every run, so each run starts from fresh state:
/// create the locks and the data they guard inside the builder.
/// </summary>
public sealed class Scenario
{
    private readonly ControlledRun _run;
    private readonly List<Action> _checks = [];

    internal Scenario(ControlledRun run, int iteration)
    {
        _run = run;
        Iteration = iteration;
    }

    /// <summary>The iteration this scenario is built for (0-based).</summary>
    public int Iteration { get; }

    internal IReadOnlyList<Action> Checks => _checks;

    /// <summary>The exception with which this scenario refused a call (a misuse, the same on every iteration), if any.</summary>
    internal Exception? Refusal { get; private set; }

    /// <summary>Adds a flow that runs <paramref name="body"/> on a thread of its own, synchronously.</summary>
    /// <param name="name">The flow's name in traces and reports; unique within the scenario.</param>
    /// <param name="body">The flow's code, written against ordinary Locksmith types.</param>
    /// <exception cref="ArgumentException">The name is empty or already used, or <paramref name="body"/> is an <c>async</c>
    /// lambda or method (use <see cref="Flow"/>).</exception>
    /// <exception cref="InvalidOperationException">The scenario has 26 flows already (a schedule names each by one letter,
    /// a to z), or the run has started.</exception>
    public void Thread(string name, Action body)
    {
        try
        {
            ArgumentNullException.ThrowIfNull(body);
            if (body.Method.IsDefined(typeof(AsyncStateMachineAttribute), inherit: false))
            {
                // As an Action it is async void: its first await leaves the scheduler, and its exceptions fail no run.
                throw new ArgumentException(
                    $"The body of '{name}' is async, which Scenario.Thread would run as async void: its first await would leave the " +
                    "scheduler's control and its exceptions would fail no run. An async body is a flow: call " +
                    $"Scenario.Flow(\"{name}\", async () => ...).",
                    nameof(body));
            }

            _run.AddFlow(name, body, null);
        }
        catch (Exception ex) when (Refused(ex))
        {
            throw;
        }
    }

    /// <summary>
    /// Adds an async flow. Its continuations run on its own thread, one at a time, when the scheduler picks it; Locksmith's
    /// async acquisitions complete synchronously once the scheduler grants the wait. A continuation that the thread pool
    /// picks up (<c>ConfigureAwait(false)</c> on an incomplete await) is run as this flow too, when it has the turn; when
    /// the pool delivers it is not the scheduler's choice, so such runs may not replay step for step.
    /// </summary>
    /// <param name="name">The flow's name in traces and reports; unique within the scenario.</param>
    /// <param name="body">The flow's code.</param>
    /// <exception cref="ArgumentException">The name is empty or already used.</exception>
    /// <exception cref="InvalidOperationException">The scenario has 26 flows already (a schedule names each by one letter,
    /// a to z), or the run has started.</exception>
    public void Flow(string name, Func<Task> body)
    {
        try
        {
            ArgumentNullException.ThrowIfNull(body);
            _run.AddFlow(name, null, body);
        }
        catch (Exception ex) when (Refused(ex))
        {
            throw;
        }
    }

    /// <summary>
    /// Adds a check that runs on the test's thread after every flow finished (in the order added); an exception from it
    /// fails the run as <see cref="ControlledFailureKind.Assertion"/>.
    /// </summary>
    /// <param name="check">The check, e.g. an <c>Assert.Equal</c> on the final state.</param>
    /// <exception cref="InvalidOperationException">The run has started (called from a flow or a check): add checks in the builder.</exception>
    public void Finally(Action check)
    {
        if (check is null)
        {
            throw Refuse(new ArgumentNullException(nameof(check)));
        }

        RefuseOnceStarted();
        _checks.Add(() => _run.RunSyncCheck(check));
    }

    /// <summary>
    /// Adds an async check, run like <see cref="Finally(Action)"/> and awaited to its end on a thread-pool thread (the flows
    /// are done, so nothing is scheduled any more); an exception from it fails the run as
    /// <see cref="ControlledFailureKind.Assertion"/>. Without this overload an <c>async</c> lambda would bind to
    /// <see cref="Finally(Action)"/> as <c>async void</c>, whose exception no run could catch.
    /// </summary>
    /// <param name="check">The check, e.g. <c>async () =&gt; Assert.Equal(3, await cache.CountAsync())</c>.</param>
    /// <exception cref="InvalidOperationException">The run has started (called from a flow or a check): add checks in the builder.</exception>
    public void Finally(Func<Task> check)
    {
        if (check is null)
        {
            throw Refuse(new ArgumentNullException(nameof(check)));
        }

        RefuseOnceStarted();
        _checks.Add(() => _run.RunAsyncCheck(check));
    }

    // As Thread and Flow refuse a flow added late: a check added from a flow would run only in the schedules that reach
    // that call, and one added from a check would change the list the run is going through.
    private void RefuseOnceStarted()
    {
        if (_run.Started)
        {
            throw Refuse(new InvalidOperationException(
                "Scenario.Finally was called after the run started (from a flow or a check); add every check in the scenario " +
                "builder, before it returns: the checks run on the test's thread once every flow has finished."));
        }
    }

    // An exception filter: it notes the refusal without catching it, so the stack trace stays the throw's own.
    private bool Refused(Exception ex)
    {
        Refusal = ex;
        return false;
    }

    private Exception Refuse(Exception ex)
    {
        Refusal = ex;
        return ex;
    }

    /// <summary>An explicit scheduling point in a flow (the same as <see cref="ControlledTest.Interleave"/>).</summary>
    public void Interleave() => ControlledTest.Interleave();
}
