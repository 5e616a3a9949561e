using System.Text;

namespace Locksmith.Generators.Helpers;

/// <summary>A string builder that indents lines by four spaces a level and writes <c>\n</c> line ends on every platform.</summary>
internal sealed class IndentedWriter
{
    private readonly StringBuilder _builder = new();
    private int _level;

    public void Line(string text)
    {
        if (text.Length > 0)
        {
            _builder.Append(' ', _level * 4);
            _builder.Append(text);
        }

        _builder.Append('\n');
    }

    public void Line() => _builder.Append('\n');

    public void Open(string header)
    {
        Line(header);
        Open();
    }

    public void Open()
    {
        Line("{");
        _level++;
    }

    public void Close()
    {
        _level--;
        Line("}");
    }

    public override string ToString() => _builder.ToString();
}
