using System.Threading;

namespace Locksmith.Worker;

/// <summary>How the worker's run ended, for the process's exit code: 0 only with a report whose every total is exact.</summary>
public sealed class WorkOutcome
{
    private WorkReport? _report;
    private string? _failure;
    private string? _errorLine;

    /// <summary>The report of a run that finished; null if it failed or has not finished.</summary>
    public WorkReport? Report => Volatile.Read(ref _report);

    /// <summary>Why the run did not finish, if it did not.</summary>
    public string? Failure => Volatile.Read(ref _failure);

    /// <summary>
    /// The one line <see cref="Program"/> prints to standard error for a run that did not finish (<c>the work failed: …</c>,
    /// <c>stopped before the work finished</c>); null when it finished.
    /// </summary>
    public string? ErrorLine => Volatile.Read(ref _errorLine);

    /// <summary>0 when the run finished and every total is exact; 1 otherwise.</summary>
    public int ExitCode => Report is { IsExact: true } ? 0 : 1;

    internal void Finished(WorkReport report) => Volatile.Write(ref _report, report);

    internal void Failed(string reason, string errorLine)
    {
        Volatile.Write(ref _errorLine, errorLine);
        Volatile.Write(ref _failure, reason);
    }
}
