using System;
using System.Collections.Generic;
using System.Linq;
using Locksmith.Generators.Guarded.Models;
using Locksmith.Generators.Helpers;

namespace Locksmith.Generators.Guarded;

/// <summary>
/// The doc comments of the wrappers: the body's own comment carried over (the timed form swaps its <c>returns</c>
/// for the result parameter), or a generated summary when the body has none, so public wrappers are documented.
/// </summary>
internal static class WrapperDocs
{
    private const string ReturnsOpen = "<returns>";
    private const string ReturnsClose = "</returns>";

    public static void WriteThrowing(IndentedWriter writer, WrapperModel wrapper)
    {
        var lines = wrapper.DocLines.Count > 0
            ? wrapper.DocLines.ToList()
            : [" <summary>Calls <c>" + wrapper.BodyName + "</c> while holding " + wrapper.Acquisition.LockDisplay + ".</summary>"];
        lines.Add(" <exception cref=\"" + KnownNames.LockTimeoutExceptionType + "\">" + Capitalized(wrapper.Acquisition.LockDisplay) +
            " could not be acquired within the timeout.</exception>");
        if (wrapper.Async is { AddsToken: true } asyncModel && lines.Any(static l => l.Contains("<param ")))
        {
            lines.Insert(lines.Count - 1, " <param name=\"" + asyncModel.Token + "\">Cancels the wait for the lock.</param>");
        }
        Write(writer, lines);
    }

    public static void WriteTimed(IndentedWriter writer, WrapperModel wrapper, LocalNames names)
    {
        string timeoutDoc = TimeoutDoc(wrapper, names);
        string returnsDoc = " <returns><see langword=\"true\"/> when the lock was acquired and <c>" + wrapper.BodyName +
            "</c> ran; <see langword=\"false\"/> when the timeout elapsed first.</returns>";
        if (wrapper.DocLines.Count == 0)
        {
            Write(writer, [TimedSummary(wrapper, names), returnsDoc]);
            return;
        }

        var lines = BodyLinesWithoutReturns(wrapper, out bool documentsParameters, out string? returned);
        if (documentsParameters)
        {
            lines.Add(timeoutDoc);
            if (!wrapper.ReturnsVoid)
            {
                lines.Add(" <param name=\"" + names.Result + "\">" +
                    (returned?.TrimEnd('.') ?? "The result of <c>" + wrapper.BodyName + "</c>") + "; <see langword=\"default\"/> when the lock was not acquired.</param>");
            }
        }

        lines.Add(returnsDoc);
        Write(writer, lines);
    }

    /// <summary>
    /// The timed async form's docs: the body's comment without its returns (the tuple's says what comes back), with the
    /// timeout and an added token documented beside the body's parameters when it documents them; else a summary.
    /// </summary>
    public static void WriteTimedAsync(IndentedWriter writer, WrapperModel wrapper, LocalNames names)
    {
        string returnsDoc = wrapper.Async?.ResultType is null
            ? " <returns><see langword=\"true\"/> when the lock was acquired and <c>" + wrapper.BodyName +
                "</c> ran; <see langword=\"false\"/> when the timeout elapsed first.</returns>"
            : " <returns><c>(true, result)</c> when the lock was acquired and <c>" + wrapper.BodyName +
                "</c> ran; <c>(false, default)</c> when the timeout elapsed first.</returns>";
        if (wrapper.DocLines.Count == 0)
        {
            Write(writer, [TimedSummary(wrapper, names), returnsDoc]);
            return;
        }

        var lines = BodyLinesWithoutReturns(wrapper, out bool documentsParameters, out _);
        if (documentsParameters)
        {
            lines.Add(TimeoutDoc(wrapper, names));
            if (wrapper.Async is { AddsToken: true } asyncModel)
            {
                lines.Add(" <param name=\"" + asyncModel.Token + "\">Cancels the wait for the lock.</param>");
            }
        }

        lines.Add(returnsDoc);
        Write(writer, lines);
    }

    /// <summary>The summary of a timed form whose body has no doc comment.</summary>
    private static string TimedSummary(WrapperModel wrapper, LocalNames names) =>
        " <summary>Calls <c>" + wrapper.BodyName + "</c> while holding " + wrapper.Acquisition.LockDisplay +
        ", if it can be acquired within <paramref name=\"" + names.Timeout + "\"/>.</summary>";

    /// <summary>
    /// The body's doc lines without its returns tag (whose text comes back in <paramref name="returned"/>), and whether
    /// the timed form documents its own parameters too: only when the body documents its parameters, or has none, since
    /// a partial set is warning CS1573.
    /// </summary>
    private static List<string> BodyLinesWithoutReturns(WrapperModel wrapper, out bool documentsParameters, out string? returned)
    {
        string text = string.Join("\n", wrapper.DocLines);
        returned = null;
        int open = text.IndexOf(ReturnsOpen, StringComparison.Ordinal);
        int close = open < 0 ? -1 : text.IndexOf(ReturnsClose, open, StringComparison.Ordinal);
        if (close >= 0)
        {
            returned = text.Substring(open + ReturnsOpen.Length, close - open - ReturnsOpen.Length).Replace("\n", " ").Trim();
            text = text.Remove(open, close + ReturnsClose.Length - open);
        }

        documentsParameters = text.Contains("<param ") || wrapper.Parameters.Count == 0;
        return text.Split('\n').Where(static l => l.Trim().Length > 0).ToList();
    }

    private static string TimeoutDoc(WrapperModel wrapper, LocalNames names) =>
        " <param name=\"" + names.Timeout + "\">How long to wait for " + wrapper.Acquisition.LockDisplay +
        "; <see cref=\"global::System.TimeSpan.Zero\"/> tries once, <see cref=\"global::System.Threading.Timeout.InfiniteTimeSpan\"/> waits forever.</param>";

    private static void Write(IndentedWriter writer, IEnumerable<string> lines)
    {
        foreach (string line in lines)
        {
            writer.Line("///" + line);
        }
    }

    private static string Capitalized(string text) =>
        text.Length > 0 && char.IsLower(text[0]) ? char.ToUpperInvariant(text[0]) + text.Substring(1) : text;
}
