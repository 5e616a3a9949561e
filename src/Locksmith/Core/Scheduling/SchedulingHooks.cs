using System;

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
}
