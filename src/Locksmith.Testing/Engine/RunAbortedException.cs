using System;

namespace Locksmith.Testing.Engine;

/// <summary>
/// Unwinds a flow whose run already failed (or ended): thrown from the flow's next scheduling point. Flows should not
/// catch it; one that does is stopped again at its next Locksmith operation.
/// </summary>
internal sealed class RunAbortedException() : Exception("The controlled run this flow belongs to has ended; the flow is being unwound.");
