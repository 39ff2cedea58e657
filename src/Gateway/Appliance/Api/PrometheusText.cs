using System.Globalization;
using System.Text;

namespace Branchgate.Appliance.Api;

/// <summary>
/// Writes the Prometheus text exposition format (version 0.0.4): per family one HELP and one TYPE line, then its
/// samples; label values escape backslash, double quote and newline; HELP text escapes backslash and newline.
/// Families must be written whole, one after another.
/// </summary>
internal sealed class PrometheusText
{
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    private readonly StringBuilder _text = new();

    public void Family(string name, string type, string help)
    {
        _text.Append("# HELP ").Append(name).Append(' ');
        foreach (var c in help)
        {
            _ = c switch
            {
                '\\' => _text.Append(@"\\"),
                '\n' => _text.Append(@"\n"),
                _ => _text.Append(c),
            };
        }

        _text.Append('\n').Append("# TYPE ").Append(name).Append(' ').Append(type).Append('\n');
    }

    public void Sample(string name, ReadOnlySpan<KeyValuePair<string, string>> labels, double value)
    {
        StartSample(name, labels);
        _text.Append(value switch
        {
            double.PositiveInfinity => "+Inf",
            double.NegativeInfinity => "-Inf",
            double.NaN => "NaN",
            _ => value.ToString("R", CultureInfo.InvariantCulture),
        }).Append('\n');
    }

    public void Sample(string name, ReadOnlySpan<KeyValuePair<string, string>> labels, ulong value)
    {
        StartSample(name, labels);
        _text.Append(value.ToString(CultureInfo.InvariantCulture)).Append('\n');
    }

    private void StartSample(string name, ReadOnlySpan<KeyValuePair<string, string>> labels)
    {
        _text.Append(name);
        if (!labels.IsEmpty)
        {
            _text.Append('{');
            for (var i = 0; i < labels.Length; i++)
            {
                if (i > 0)
                {
                    _text.Append(',');
                }

                _text.Append(labels[i].Key).Append("=\"");
                foreach (var c in labels[i].Value)
                {
                    _ = c switch
                    {
                        '\\' => _text.Append(@"\\"),
                        '"' => _text.Append("\\\""),
                        '\n' => _text.Append(@"\n"),
                        _ => _text.Append(c),
                    };
                }

                _text.Append('"');
            }

            _text.Append('}');
        }

        _text.Append(' ');
    }

    public override string ToString() => _text.ToString();
}
