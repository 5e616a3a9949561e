using System;
using System.Globalization;
using System.IO;
using System.Text;
using System.Threading.Tasks;

namespace Locksmith.ApiServer.Tests.MainJob;

/// <summary>
/// A thread-safe text sink that completes <see cref="Seen"/> with the first line containing a marker, so a test can act
/// while the main job keeps running (it writes from its own flow).
/// </summary>
internal sealed class SignalingWriter(string marker) : TextWriter
{
    private readonly StringBuilder _text = new();
    private readonly TaskCompletionSource<string> _seen = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _lineStart;

    public override Encoding Encoding => Encoding.UTF8;

    public override IFormatProvider FormatProvider => CultureInfo.InvariantCulture;

    /// <summary>The first line that contained the marker.</summary>
    public Task<string> Seen => _seen.Task;

    public override void Write(char value)
    {
        lock (_text)
        {
            _text.Append(value);
            if (value == '\n')
            {
                string line = _text.ToString(_lineStart, _text.Length - _lineStart);
                _lineStart = _text.Length;
                if (line.Contains(marker, StringComparison.Ordinal))
                {
                    _seen.TrySetResult(line.Trim());
                }
            }
        }
    }

    public override string ToString()
    {
        lock (_text)
        {
            return _text.ToString();
        }
    }
}
