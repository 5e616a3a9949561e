using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Reflection;
using Microsoft.Extensions.Configuration;

namespace Locksmith.Worker;

/// <summary>
/// How much work one run does (configuration section <c>Worker</c>, or the switches <c>--producers</c>,
/// <c>--consumers</c>, <c>--items</c>, <c>--capacity</c>, <c>--participants</c>, <c>--rows</c>, <c>--columns</c>,
/// <c>--rounds</c>, <c>--progress</c>). The defaults finish in a few seconds on a busy 2-core machine.
/// </summary>
public sealed class WorkerOptions
{
    /// <summary>The configuration section the options bind to.</summary>
    public const string SectionName = "Worker";

    /// <summary>Producer threads putting items into the bounded queue.</summary>
    public int Producers { get; set; } = 2;

    /// <summary>Consumer threads taking items out of it.</summary>
    public int Consumers { get; set; } = 2;

    /// <summary>Items each producer puts in.</summary>
    public int ItemsPerProducer { get; set; } = 100_000;

    /// <summary>How many items the queue holds before producers wait.</summary>
    public int Capacity { get; set; } = 64;

    /// <summary>Threads sharing the matrix phases, each owning every <c>Participants</c>-th row.</summary>
    public int Participants { get; set; } = 4;

    /// <summary>Matrix rows.</summary>
    public int Rows { get; set; } = 64;

    /// <summary>Matrix columns.</summary>
    public int Columns { get; set; } = 256;

    /// <summary>Rounds of the two phases (row partials, then combining the neighbours' partials).</summary>
    public int Rounds { get; set; } = 1_000;

    /// <summary>
    /// Seconds between progress lines (round k of n of the matrix and of its one-thread check, and the time elapsed);
    /// the last round of each is always logged; 0 logs every round.
    /// </summary>
    public int ProgressSeconds { get; set; } = 5;

    private static readonly string[] s_settingNames = [.. typeof(WorkerOptions).GetProperties().Select(static p => p.Name)];

    /// <summary>
    /// The keys of <paramref name="section"/> that name no setting (<c>'Worker:Roundz' is not a Worker setting; they are
    /// …</c>), matched ignoring case as the binder does; empty when there are none. Checked before binding: a misspelt
    /// key would bind to nothing and run the default unseen, and the binder's own refusal does not say which keys there are.
    /// </summary>
    public static IReadOnlyList<string> UnknownSettings(IConfiguration section)
    {
        ArgumentNullException.ThrowIfNull(section);
        return section.GetChildren()
            .Where(static child => typeof(WorkerOptions).GetProperty(child.Key, BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase) is null)
            .Select(static child => $"'{SectionName}:{child.Key}' is not a {SectionName} setting; they are {string.Join(", ", s_settingNames)}.")
            .ToArray();
    }

    /// <summary>The command-line switches, mapped to their keys in the <c>Worker</c> section (a new dictionary each call).</summary>
    public static IDictionary<string, string> SwitchMappings() => new Dictionary<string, string>
    {
        ["--producers"] = $"{SectionName}:{nameof(Producers)}",
        ["--consumers"] = $"{SectionName}:{nameof(Consumers)}",
        ["--items"] = $"{SectionName}:{nameof(ItemsPerProducer)}",
        ["--capacity"] = $"{SectionName}:{nameof(Capacity)}",
        ["--participants"] = $"{SectionName}:{nameof(Participants)}",
        ["--rows"] = $"{SectionName}:{nameof(Rows)}",
        ["--columns"] = $"{SectionName}:{nameof(Columns)}",
        ["--rounds"] = $"{SectionName}:{nameof(Rounds)}",
        ["--progress"] = $"{SectionName}:{nameof(ProgressSeconds)}",
    };

    /// <summary>The command line's help: every switch with its default.</summary>
    public static string Usage()
    {
        var defaults = new WorkerOptions();
        return string.Create(CultureInfo.InvariantCulture,
            $"usage: Locksmith.Worker [--producers N ({defaults.Producers})] [--consumers N ({defaults.Consumers})] " +
            $"[--items N per producer ({defaults.ItemsPerProducer})] [--capacity N ({defaults.Capacity})] " +
            $"[--participants N ({defaults.Participants})] [--rows N ({defaults.Rows})] [--columns N ({defaults.Columns})] " +
            $"[--rounds N ({defaults.Rounds})] [--progress seconds between progress lines, 0 for every round ({defaults.ProgressSeconds})]; " +
            $"the same settings bind from the Worker configuration section (--Worker:Rounds 10; --items is Worker:ItemsPerProducer, --progress Worker:ProgressSeconds).");
    }

    /// <summary>
    /// What is wrong with the command line before any value is bound: a switch this program does not know (a typo would
    /// otherwise run the defaults), or a switch with no value after it (the configuration binder would ignore the last
    /// one and take the next switch as the value of another). Keys with a section (<c>--Worker:Rounds</c>) and the
    /// host's own switches pass; empty when the line is usable.
    /// </summary>
    public static IReadOnlyList<string> CommandLineProblems(IReadOnlyList<string> args)
    {
        var problems = new List<string>();
        var switches = SwitchMappings();
        for (int i = 0; i < args.Count; i++)
        {
            string arg = args[i];
            if (!arg.StartsWith('-') && !arg.StartsWith('/'))
            {
                continue;
            }

            // The binder reads --key value, --key=value and /key value alike: the name is what comes before any '='.
            bool inline = arg.Contains('=', StringComparison.Ordinal);
            string name = "--" + arg.Split('=', 2)[0].TrimStart('-', '/');
            bool known = switches.Keys.Any(key => string.Equals(key, name, StringComparison.OrdinalIgnoreCase)) || name.Contains(':', StringComparison.Ordinal) || s_hostSwitches.Contains(name);
            if (!known)
            {
                problems.Add($"Unknown switch '{arg.Split('=', 2)[0]}'.");
                continue;
            }

            if (inline)
            {
                // --items= binds an empty string, which the binder then fails to convert with a message naming no switch.
                if (arg.EndsWith('='))
                {
                    problems.Add($"{arg[..^1]} needs a value.");
                }

                continue;
            }

            if (i + 1 >= args.Count || args[i + 1].StartsWith("--", StringComparison.Ordinal))
            {
                problems.Add($"{arg} needs a value.");
                continue;
            }

            i++;
        }

        return problems;
    }

    private static readonly HashSet<string> s_hostSwitches = new(StringComparer.OrdinalIgnoreCase)
    {
        "--environment", "--applicationName", "--contentRoot",
    };

    /// <summary>The most cells the matrix may have (<see cref="Rows"/> times <see cref="Columns"/>): 4,096 by 4,096, 128 MiB a copy.</summary>
    public const long MaxMatrixCells = 1L << 24;

    /// <summary>
    /// Each count out of range, named by its switch (<c>--capacity must be at least 1, not 0.</c>), and a matrix of more
    /// than <see cref="MaxMatrixCells"/> cells; empty when all are usable.
    /// </summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        Check(Producers, 1, "--producers");
        Check(Consumers, 1, "--consumers");
        Check(ItemsPerProducer, 0, "--items");
        Check(Capacity, 1, "--capacity");
        Check(Participants, 1, "--participants");
        Check(Rows, 1, "--rows");
        Check(Columns, 1, "--columns");
        Check(Rounds, 0, "--rounds");
        Check(ProgressSeconds, 0, "--progress");
        // Refused up front: 100,000 by 100,000 would allocate for minutes (80 GB, twice) and say nothing, then fail.
        long cells = (long)Rows * Columns;
        if (Rows >= 1 && Columns >= 1 && cells > MaxMatrixCells)
        {
            problems.Add(string.Create(CultureInfo.InvariantCulture,
                $"The matrix, --rows by --columns, must have at most {MaxMatrixCells} cells (8 bytes each, and the run builds it twice), not {cells} ({Rows} by {Columns})."));
        }

        return problems;

        void Check(int value, int minimum, string flag)
        {
            if (value < minimum)
            {
                problems.Add(string.Create(CultureInfo.InvariantCulture, $"{flag} must be at least {minimum}, not {value}."));
            }
        }
    }

    /// <summary>Throws when a count is out of range, naming each (the <see cref="Problems"/> as one message).</summary>
    /// <exception cref="ArgumentOutOfRangeException">
    /// A count is below its minimum (1; 0 for items, rounds and progress), or the matrix has more than <see cref="MaxMatrixCells"/> cells.
    /// </exception>
    public void Validate()
    {
        if (Problems() is { Count: > 0 } problems)
        {
            throw new ArgumentOutOfRangeException(null, string.Join(" ", problems));
        }
    }
}
