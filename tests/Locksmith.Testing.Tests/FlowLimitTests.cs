using System;

namespace Locksmith.Testing.Tests;

/// <summary>
/// A scenario has at most 26 flows (a schedule names each by one letter, a to z). The 27th is refused in the builder, and
/// the message says why and what to do instead. Before, it said only "A scenario runs at most 26 flows; 'request26' would
/// be one more", and neither the XML docs of <c>Thread</c>/<c>Flow</c> nor the README named the limit (a trial added a
/// flow per request in a loop of 32).
/// </summary>
public sealed class FlowLimitTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void The27thFlow_IsRefused_SayingWhyAndWhatToDo(bool async)
    {
        var error = Assert.Throws<InvalidOperationException>(() => ControlledTest.Run(
            scenario =>
            {
                for (int i = 0; i < 32; i++)
                {
                    if (async)
                    {
                        scenario.Flow($"request{i}", () => System.Threading.Tasks.Task.CompletedTask);
                    }
                    else
                    {
                        scenario.Thread($"request{i}", () => { });
                    }
                }
            },
            new ControlledTestOptions { Iterations = 1 }));

        Assert.Equal(
            "A scenario runs at most 26 flows (a schedule names each by one letter, a to z); 'request26' would be one more. " +
            "A controlled test explores the interleavings of a few flows (two to four find most bugs): give a flow several " +
            "requests in a loop rather than a flow per request.",
            error.Message);
    }
}
