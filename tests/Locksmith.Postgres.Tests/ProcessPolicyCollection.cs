namespace Locksmith.Postgres.Tests;

/// <summary>
/// Tests that set the process-wide policy's handlers (directly, or through a host that installs its policy): run alone,
/// since two tests that each save, set and restore a handler at once can restore over the other's and lose its events.
/// </summary>
[CollectionDefinition(nameof(ProcessPolicyCollection), DisableParallelization = true)]
public sealed class ProcessPolicyCollection;
