using Locksmith.Generators.Tests.Support;

namespace Locksmith.Generators.Tests;

/// <summary>
/// The odd-numbered half of <see cref="RobustnessTests"/>' mutation sweep, in a class of its own so xUnit runs the two
/// halves side by side.
/// </summary>
public sealed class RobustnessOddMutationsTests
{
    [Fact]
    public void MutatedInputs_NeverMakeTheGeneratorThrowOrEmitCodeWithErrorsOrWarnings() => MutationSweep.RunHalf(parity: 1);
}
