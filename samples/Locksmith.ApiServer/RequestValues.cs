using System.Collections.Generic;
using System.Globalization;
using Microsoft.AspNetCore.Http;

namespace Locksmith.ApiServer;

/// <summary>
/// Reads a request's query values and collects what is wrong with each, so one 400 response
/// (<c>application/problem+json</c>, an <c>errors</c> entry per parameter) says everything the caller must fix.
/// </summary>
internal sealed class RequestValues
{
    private readonly Dictionary<string, string[]> _errors = new(System.StringComparer.Ordinal);

    /// <summary>Whether no value has been refused so far.</summary>
    public bool IsValid => _errors.Count == 0;

    /// <summary>An account number in <c>0..count-1</c>.</summary>
    public int Account(string name, string? text, int count)
    {
        if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int id) || id < 0 || id >= count)
        {
            Add(name, $"must be an account number in 0..{count - 1}, not {Shown(text)}.");
            return -1;
        }

        return id;
    }

    /// <summary>A positive amount of money with at most two decimal places (cents), as <paramref name="what"/>.</summary>
    public decimal Amount(string name, string? text, string what)
    {
        if (!decimal.TryParse(text, NumberStyles.AllowDecimalPoint | NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out decimal value)
            || value <= 0 || value != decimal.Round(value, 2) || value > 1_000_000_000m)
        {
            Add(name, $"must be {what}: a positive number up to 1000000000 with at most two decimal places (e.g. 12.50), not {Shown(text)}.");
            return 0;
        }

        return value;
    }

    /// <summary>Adds a problem with <paramref name="name"/>.</summary>
    public void Add(string name, string problem) => _errors[name] = [problem];

    /// <summary>The 400 response listing every problem, or null when there is none.</summary>
    public IResult? Problem() =>
        IsValid ? null : Results.ValidationProblem(_errors, title: "The request's values are invalid.");

    private static string Shown(string? text) => text is null ? "missing (pass it in the query string)" : $"'{text}'";
}
