using Locksmith.Generators.Helpers;

namespace Locksmith.Generators.Guarded.Models;

/// <summary>How a wrapper takes its lock(s).</summary>
/// <param name="Mode">The acquisition call.</param>
/// <param name="Targets">The locks: one, or several for <see cref="AcquireMode.Set"/>.</param>
/// <param name="KeyArgument">The parameter that picks the stripe of a keyed lock, or null.</param>
/// <param name="Timeout">The throwing wrapper's timeout as C# text, or null for the runtime's default policy.</param>
/// <param name="LockDisplay">How the generated doc comments name the lock(s).</param>
/// <param name="SetAsArray">
/// Whether a <see cref="AcquireMode.Set"/> passes its locks as an array: before C# 13 the language has no params
/// spans, which LockSet's calls for a timeout or more than two locks take.
/// </param>
internal sealed record AcquisitionModel(
    AcquireMode Mode,
    EquatableArray<LockTargetModel> Targets,
    string? KeyArgument,
    string? Timeout,
    string LockDisplay,
    bool SetAsArray = false);
