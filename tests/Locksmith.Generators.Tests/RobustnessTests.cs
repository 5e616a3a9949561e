using Locksmith.Generators.Tests.Support;

namespace Locksmith.Generators.Tests;

/// <summary>
/// The generator and analyzers survive any input: broken sources get diagnostics, never a crash, and never a generated
/// file that carries an error or a warning (the user's own broken code may; only generated trees count).
/// </summary>
/// <remarks>The even-numbered mutations; <see cref="RobustnessOddMutationsTests"/> runs the others.</remarks>
public sealed class RobustnessTests
{
    [Fact]
    public void MutatedInputs_NeverMakeTheGeneratorThrowOrEmitCodeWithErrorsOrWarnings() => MutationSweep.RunHalf(parity: 0);

    [Fact]
    public void ValidInputs_StillCompileWithoutDiagnostics()
    {
        foreach (string source in Samples.All)
        {
            Clean.Assert(GeneratorHarness.Run(source));
        }
    }
}
