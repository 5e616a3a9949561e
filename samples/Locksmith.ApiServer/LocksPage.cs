using System;
using System.IO;

namespace Locksmith.ApiServer;

/// <summary>The <c>/locks</c> page: one HTML file with inline script, embedded in the assembly (no build step, no CDN).</summary>
internal static class LocksPage
{
    public static string Html { get; } = Load();

    private static string Load()
    {
        using var stream = typeof(LocksPage).Assembly.GetManifestResourceStream("Locksmith.ApiServer.locks.html")
            ?? throw new InvalidOperationException("The embedded locks.html is missing from the assembly.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
