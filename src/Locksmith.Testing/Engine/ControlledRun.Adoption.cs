using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;

namespace Locksmith.Testing.Engine;

/// <summary>
/// Continuations of an async flow that land on a thread-pool thread (an <c>await … .ConfigureAwait(false)</c> whose task
/// was incomplete, such as the generated async wrappers around a core that really awaits) are run as that flow.
/// </summary>
/// <remarks>
/// The flow's identity lives in an <see cref="AsyncLocal{T}"/>, so it travels with the continuation's execution
/// context. Its change callback runs on the pool thread when that context is restored, before any of the
/// continuation's code: there the thread queues a ticket to the flow's own queue and waits. When the scheduler gives the
/// flow its turn, the flow's thread runs the ticket: it lets the pool thread go on as the flow (its scheduling points use
/// the flow's turn) and waits until the continuation is over (the context is restored again). So the continuation
/// runs exactly where one posted to the flow's context would, and no flow code ever runs beside another. What the
/// scheduler cannot know is when the pool delivers the continuation: the flow becomes runnable when it arrives, so a
/// replay of such a run may find the flow not yet runnable where the schedule picks it (reported as Stuck).
/// </remarks>
internal sealed partial class ControlledRun
{
    // The async flow whose code runs here; flows with the execution context into every continuation.
    private static readonly AsyncLocal<FlowState?> s_flowIdentity = new(OnFlowIdentityChanged);

    // The adoption the current pool thread is in, if any.
    private static readonly ThreadLocal<Adoption?> s_adoption = new();

    private static readonly SendOrPostCallback s_runAdoption = static state => ((Adoption)state!).RunOnFlowThread();

    // Tickets queued and not yet run (released at once when their flow finishes or the run fails).
    private readonly List<Adoption> _pending = [];

    private static void OnFlowIdentityChanged(AsyncLocalValueChangedArgs<FlowState?> args)
    {
        // Only execution-context switches (a continuation starts or ends on this thread), never an explicit set.
        // Must not throw: an exception here ends the process.
        // Nor a diagnostic read of a flow's name (DeadlockDetector.CurrentWaits, a message naming the flow), which enters
        // and leaves the flow's context on this thread and runs none of its code: neither the start of a continuation
        // nor the end of the one this thread may run as an adopted flow.
        if (!args.ThreadContextChanged || ReferenceEquals(args.PreviousValue, args.CurrentValue) || LockOwner.ReadingFlowContext)
        {
            return;
        }

        if (s_adoption.Value is { } adoption && ReferenceEquals(adoption.Flow, args.PreviousValue))
        {
            s_adoption.Value = null;
            adoption.Leave();
        }

        // A task's body (Task.Run, ContinueWith) is left alone: a flow may block on one, and the docs say it runs
        // uncontrolled. An await continuation runs outside any task.
        if (args.CurrentValue is { IsAsync: true } flow && !ReferenceEquals(flow.Thread, Thread.CurrentThread) && s_current.Value is null
            && Task.CurrentId is null)
        {
            flow.Run.Adopt(flow);
        }
    }

    /// <summary>On a pool thread about to run a continuation of <paramref name="flow"/>: waits for the flow's turn.</summary>
    private void Adopt(FlowState flow)
    {
        var adoption = new Adoption(flow);
        lock (_gate)
        {
            if (_aborting || flow.Status == FlowStatus.Done)
            {
                return;
            }

            _pending.Add(adoption);
            flow.Posted.Enqueue((s_runAdoption, adoption));
            if (flow.Status == FlowStatus.Idle)
            {
                flow.Status = FlowStatus.Runnable;
            }

            Monitor.PulseAll(_gate);
        }

        adoption.Go.Wait();
        if (adoption.Adopted)
        {
            s_adoption.Value = adoption;
            s_current.Value = flow;
        }
    }

    /// <summary>Lets every queued ticket (of <paramref name="flow"/>, or all) go on uncontrolled: its flow will not run it.</summary>
    private void ReleasePendingLocked(FlowState? flow)
    {
        for (int i = _pending.Count - 1; i >= 0; i--)
        {
            var adoption = _pending[i];
            if (flow is null || ReferenceEquals(adoption.Flow, flow))
            {
                _pending.RemoveAt(i);
                adoption.Go.Release();
            }
        }
    }

    /// <summary>One continuation of a flow on a pool thread, from its ticket to its end.</summary>
    private sealed class Adoption(FlowState flow)
    {
        private readonly SemaphoreSlim _back = new(0);

        public FlowState Flow { get; } = flow;

        public SemaphoreSlim Go { get; } = new(0);

        public bool Adopted { get; private set; }

        /// <summary>On the flow's thread, with the flow's turn: hands the turn to the pool thread until it is done.</summary>
        public void RunOnFlowThread()
        {
            var run = Flow.Run;
            lock (run._gate)
            {
                if (!run._pending.Remove(this))
                {
                    return;
                }

                Adopted = true;
                run.AddTraceLocked(Flow, "resumes on a pool thread", string.Empty);
            }

            Go.Release();
            _back.Wait();
        }

        /// <summary>On the pool thread: the continuation is over, the flow's thread goes on with the turn.</summary>
        public void Leave()
        {
            s_current.Value = null;
            _back.Release();
        }
    }
}
