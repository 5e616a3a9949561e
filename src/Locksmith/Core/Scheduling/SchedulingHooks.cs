using System;
using System.Runtime.CompilerServices;
using System.Threading;

namespace Locksmith;

/// <summary>
/// Where a controlled scheduler (Locksmith.Testing) plugs into the primitives. A primitive created on a thread that has
/// a controller installed keeps it (<see cref="LockPrimitive.Controller"/>) and routes every operation through it; one
/// created anywhere else never looks here again, so outside a controlled run the hooks cost a field the fast path
/// already tests.
/// </summary>
internal static class SchedulingHooks
{
    // Per thread, so controlled runs on parallel test threads never see each other's controller.
    [ThreadStatic]
    private static ISchedulingController? t_current;

    /// <summary>The controller installed on this thread, or null (read once per primitive, at construction).</summary>
    public static ISchedulingController? Current => t_current;

    /// <summary>Installs <paramref name="controller"/> on this thread (null removes it) and returns the previous one.</summary>
    public static ISchedulingController? Install(ISchedulingController? controller)
    {
        var previous = t_current;
        t_current = controller;
        return previous;
    }

    /// <summary>
    /// A controlled read-write lock is about to be taken in <paramref name="mode"/> (<see cref="LockMode.Read"/> or
    /// <see cref="LockMode.Write"/>): the scheduling point of <see cref="LockPrimitive.ScheduleAcquire"/>, naming the mode,
    /// so a trace tells a read from a write. Called only on a controlled lock, off the fast path.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void ScheduleAcquire(LockPrimitive primitive, LockMode mode) =>
        primitive.Controller?.Point(mode == LockMode.Write ? SchedulingOperation.AcquireWrite : SchedulingOperation.AcquireRead, primitive, primitive.Name);

    /// <summary>
    /// Gives up the current flow's turn, as <see cref="ISchedulingController.Block"/>, until its enlisted wait on
    /// <paramref name="resource"/> is signalled or timed out, where a cancellation of <paramref name="cancellationToken"/>
    /// signals too. The scheduler knows nothing of tokens: a cancellation wakes the flows enlisted on the resource as a
    /// release would, and the caller tells it apart by its token. Without it a cancelled flow slept on, reported as a
    /// deadlock.
    /// </summary>
    /// <returns><see cref="ISchedulingController.Block"/>'s result: false when the scheduler timed the wait out.</returns>
    public static bool BlockWakingOnCancel(ISchedulingController controller, object resource, CancellationToken cancellationToken)
    {
        if (!cancellationToken.CanBeCanceled)
        {
            return controller.Block();
        }

        // Registered after the enlisting, so a cancellation that already happened signals at once and Block returns.
        using (cancellationToken.UnsafeRegister(
            static state =>
            {
                var (controller, resource) = ((ISchedulingController, object))state!;
                controller.Signal(resource, all: true);
            },
            (controller, resource)))
        {
            return controller.Block();
        }
    }
}
