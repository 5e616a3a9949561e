using System;

namespace Locksmith.Testing;

/// <summary>Thrown by <see cref="ControlledTest.Check"/> when a run fails; the message is the full report.</summary>
public sealed class ControlledTestFailure : Exception
{
    /// <summary>Creates the exception for a report.</summary>
    /// <param name="report">The failing run.</param>
    public ControlledTestFailure(ControlledTestReport report)
        : base((report ?? throw new ArgumentNullException(nameof(report))).ToString(), report.Exception)
    {
        Report = report;
    }

    /// <summary>The failing run.</summary>
    public ControlledTestReport Report { get; }
}
