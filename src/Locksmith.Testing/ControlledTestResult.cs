namespace Locksmith.Testing;

/// <summary>The outcome of a controlled test: passed, or the first failing run's report.</summary>
public sealed class ControlledTestResult
{
    internal ControlledTestResult(int iterationsRun, int totalSteps, ControlledTestReport? failure)
    {
        IterationsRun = iterationsRun;
        TotalSteps = totalSteps;
        Failure = failure;
    }

    /// <summary>Whether every run passed.</summary>
    public bool Passed => Failure is null;

    /// <summary>How many runs were made (up to and including a failing one).</summary>
    public int IterationsRun { get; }

    /// <summary>The scheduling steps of all runs together.</summary>
    public int TotalSteps { get; }

    /// <summary>The first failing run, or null.</summary>
    public ControlledTestReport? Failure { get; }

    /// <inheritdoc/>
    public override string ToString() => Failure?.ToString() ?? $"Passed: {IterationsRun} runs, {TotalSteps} scheduling steps.";
}
