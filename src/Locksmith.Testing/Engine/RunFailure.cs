using System;
using System.Collections.Generic;

namespace Locksmith.Testing.Engine;

/// <summary>How one run failed, before it is dressed up as a <see cref="ControlledTestReport"/>.</summary>
internal sealed record RunFailure(ControlledFailureKind Kind, string Summary, Exception? Exception, string? Flow, IReadOnlyList<WaitForEdge> Waits);
