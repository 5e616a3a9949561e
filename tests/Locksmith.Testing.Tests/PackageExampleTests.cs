namespace Locksmith.Testing.Tests;

/// <summary>
/// The example of the package's own page (src/Locksmith.Testing/PACKAGE.md) does what the page says, with the options it
/// shows: the check-then-act is found, and the one-hold fix passes every run. Its wrappers are written out here as the
/// generator writes them (take the lock, call the core), since this project does not run the generator.
/// </summary>
public sealed class PackageExampleTests
{
    [Fact]
    public void CheckThenAct_IsFound()
    {
        var result = ControlledTest.Run(s => Buyers(s, oneHold: false), new ControlledTestOptions { Seed = 1, Iterations = 200 });
        Assert.False(result.Passed);
        Assert.Equal(ControlledFailureKind.Assertion, result.Failure?.Kind);
    }

    [Fact]
    public void OneHold_SellsTheTicketOnce() =>
        ControlledTest.Check(s => Buyers(s, oneHold: true), new ControlledTestOptions { Seed = 1, Iterations = 200 });

    private static void Buyers(Scenario scenario, bool oneHold)
    {
        var tickets = new Tickets();
        for (int i = 0; i < 2; i++)
        {
            scenario.Thread($"buyer{i}", () =>
            {
                if (oneHold)
                {
                    tickets.TakeIfLeft();
                }
                else if (tickets.Left() > 0)
                {
                    tickets.Take();
                }
            });
        }

        scenario.Finally(() => Assert.Equal(0, tickets.Left()));
    }

    private sealed class Tickets
    {
        private readonly ExclusiveLock _lock = new("Tickets._lock");
        private int _left = 1;

        public int Left()
        {
            using var scope = _lock.Acquire();
            return _left;
        }

        public void Take()
        {
            using var scope = _lock.Acquire();
            _left--;
        }

        public bool TakeIfLeft()
        {
            using var scope = _lock.Acquire();
            if (_left == 0)
            {
                return false;
            }

            _left--;
            return true;
        }
    }
}
