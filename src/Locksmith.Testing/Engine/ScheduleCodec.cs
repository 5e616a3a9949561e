using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace Locksmith.Testing.Engine;

/// <summary>
/// The schedule as one short string: a letter per flow (<c>a</c> = the first flow added), a count after a letter that
/// repeats (<c>a12</c>), and <c>!</c> before a flow whose timed wait the scheduler ended. Readable, and short enough to
/// paste into a test.
/// </summary>
internal static class ScheduleCodec
{
    public const int MaxFlows = 26;

    public static string Encode(IReadOnlyList<Decision> decisions)
    {
        var text = new StringBuilder();
        int i = 0;
        while (i < decisions.Count)
        {
            var decision = decisions[i];
            int run = 1;
            while (!decision.TimeOut && i + run < decisions.Count && decisions[i + run] == decision)
            {
                run++;
            }

            if (decision.TimeOut)
            {
                text.Append('!');
            }

            text.Append((char)('a' + decision.Flow));
            if (run > 1)
            {
                text.Append(run.ToString(CultureInfo.InvariantCulture));
            }

            i += run;
        }

        return text.ToString();
    }

    /// <summary>The choices of <paramref name="schedule"/>; a run makes at most <paramref name="maxChoices"/> (its step bound).</summary>
    public static List<Decision> Decode(string schedule, int maxChoices)
    {
        // Pasted from a terminal or a test log, it may come with spaces or a line break around it.
        schedule = schedule.Trim();

        // Every run makes at least one choice (the first flow to run), so no report's schedule is empty.
        if (schedule.Length == 0)
        {
            throw new FormatException(
                "The schedule is empty; a run's schedule names the flow run at each choice: a letter per flow (a = the first " +
                "flow added), a count after a letter that repeats (a12), and '!' before a flow whose timed wait the scheduler " +
                "ended, e.g. \"ab2!a\". Pass the ControlledTestReport.Schedule of the run to replay.");
        }

        var decisions = new List<Decision>();
        int i = 0;
        while (i < schedule.Length)
        {
            bool timeOut = schedule[i] == '!';
            if (timeOut)
            {
                i++;
            }

            if (i >= schedule.Length)
            {
                throw new FormatException($"The schedule '{schedule}' ends after the '!' at position {i - 1}; expected a flow letter a-z after it.");
            }

            if (schedule[i] is < 'a' or > 'z')
            {
                throw new FormatException(
                    $"The schedule '{schedule}' has {Describe(schedule[i])} at position {i} (0-based), where a flow letter a-z belongs, " +
                    $"optionally after '!'{(schedule[i] is >= 'A' and <= 'Z' ? " (flow letters are lower case)" : string.Empty)}.");
            }

            int flow = schedule[i++] - 'a';
            int start = i;
            while (i < schedule.Length && char.IsAsciiDigit(schedule[i]))
            {
                i++;
            }

            int run = 1;
            if (i > start && !int.TryParse(schedule.AsSpan(start, i - start), NumberStyles.None, CultureInfo.InvariantCulture, out run))
            {
                throw new FormatException($"The schedule '{schedule}' has a count at position {start} that is too large for a number of choices.");
            }

            if (run == 0)
            {
                // Encode never writes one: a letter stands for at least one choice.
                throw new FormatException($"The schedule '{schedule}' has a count of 0 at position {start}; a letter stands for at least one choice.");
            }

            // Checked before expanding: a count of a few billion would otherwise take gigabytes to refuse later.
            if (run > maxChoices - decisions.Count)
            {
                throw new FormatException(
                    $"The schedule '{schedule}' has more than {maxChoices} choices, and a run with MaxSteps = {maxChoices} makes at most " +
                    "that many: pass the options (MaxSteps) of the run that reported it.");
            }

            for (int k = 0; k < run; k++)
            {
                decisions.Add(new Decision(flow, timeOut));
            }
        }

        return decisions;
    }

    // A space or a control character would be invisible between quotes: name it by its code.
    private static string Describe(char c)
    {
        if (!char.IsWhiteSpace(c) && !char.IsControl(c))
        {
            return $"'{c}'";
        }

        string what = c switch
        {
            ' ' => " (a space)",
            '\n' or '\r' => " (a line break)",
            '\t' => " (a tab)",
            _ => string.Empty,
        };
        return string.Create(CultureInfo.InvariantCulture, $"the character U+{(int)c:X4}{what}");
    }
}
