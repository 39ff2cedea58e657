using System.Globalization;
using System.Runtime.Versioning;
using System.Text;
using Branchgate.Appliance;
using static Branchgate.Tests.Appliance.Api.ApiTestHost;

namespace Branchgate.Tests.Appliance.Api;

/// <summary>
/// GET /metrics against the rules of the Prometheus text exposition format (0.0.4), checked by a strict parser written
/// here: names and label names by their grammar, escapes in label values and HELP, one HELP and TYPE per family before
/// its samples, families not interleaved, no duplicate series, counters named *_total, values that parse.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class MetricsTests
{
    [Fact]
    public async Task Metrics_follow_the_exposition_format_and_carry_peer_and_drop_numbers()
    {
        var handshake = DateTimeOffset.FromUnixTimeSeconds(1_700_000_000);
        await using var host = await StartAsync(h => h.Service.StatusToReport =
        [
            new InterfaceStatus
            {
                Name = "wg0", PublicKey = "gw", Up = true,
                Drops = new Dictionary<string, long> { ["NoRoute"] = 7, ["ReplayedCounter"] = 1 },
                Peers =
                [
                    new PeerStatus { Interface = "wg0", Name = "branch-b", PublicKey = "cGVlcjE=", ReceivedBytes = 100, TransmittedBytes = 200, LastHandshake = handshake, Online = true, HandshakeFailures = 3 },
                    new PeerStatus { Interface = "wg0", Name = "we\"ird\\name\nx", PublicKey = "cGVlcjI=" },
                ],
            },
            new InterfaceStatus { Name = "wg1", PublicKey = "gw1" },
        ]);

        using var response = await host.Client.GetAsync("/metrics");
        var text = await response.Content.ReadAsStringAsync();

        Assert.Equal("text/plain; version=0.0.4; charset=utf-8", response.Content.Headers.ContentType?.ToString());
        var samples = ExpositionParser.Parse(text);
        Assert.Equal(100, samples[("branchgate_peer_receive_bytes_total", "interface=wg0,peer=branch-b,public_key=cGVlcjE=")]);
        Assert.Equal(200, samples[("branchgate_peer_transmit_bytes_total", "interface=wg0,peer=branch-b,public_key=cGVlcjE=")]);
        Assert.Equal(1_700_000_000, samples[("branchgate_peer_last_handshake_timestamp_seconds", "interface=wg0,peer=branch-b,public_key=cGVlcjE=")]);
        Assert.Equal(1, samples[("branchgate_peer_online", "interface=wg0,peer=branch-b,public_key=cGVlcjE=")]);
        Assert.Equal(3, samples[("branchgate_peer_handshake_failures_total", "interface=wg0,peer=branch-b,public_key=cGVlcjE=")]);
        Assert.Equal(0, samples[("branchgate_peer_online", "interface=wg0,peer=we\"ird\\name\nx,public_key=cGVlcjI=")]);
        Assert.Equal(7, samples[("branchgate_interface_dropped_packets_total", "interface=wg0,reason=NoRoute")]);
        Assert.Equal(1, samples[("branchgate_interface_up", "interface=wg0")]);
        Assert.Equal(0, samples[("branchgate_interface_up", "interface=wg1")]);
        Assert.Equal(2, samples[("branchgate_interface_peers", "interface=wg0")]);
    }

    [Theory]
    [InlineData("a_total{x=\"1\"} 1\n")] // no TYPE
    [InlineData("# HELP a_total h\n# TYPE a_total counter\na_total{x=\"a\\q\"} 1\n")] // bad escape
    [InlineData("# HELP a_total h\n# TYPE a_total counter\na_total{x=\"1\"} 1\na_total{x=\"1\"} 2\n")] // duplicate
    [InlineData("# HELP a h\n# TYPE a counter\na 1\n")] // counter without _total
    [InlineData("# HELP a h\n# TYPE a gauge\na one\n")] // value
    [InlineData("# HELP a h\n# TYPE a gauge\na 1")] // no final newline
    [InlineData("# HELP a h\n# TYPE a gauge\n# HELP b h\n# TYPE b gauge\nb 1\na 1\n")] // interleaved
    [InlineData("# HELP 1a h\n# TYPE 1a gauge\n1a 1\n")] // name
    public void The_parser_itself_rejects_broken_exposition(string text) =>
        Assert.ThrowsAny<FormatException>(() => ExpositionParser.Parse(text));
}

/// <summary>A strict reader of the text exposition format: (name, "label=value,...") to value, or FormatException.</summary>
internal static class ExpositionParser
{
    public static Dictionary<(string Name, string Labels), double> Parse(string text)
    {
        if (!text.EndsWith('\n'))
        {
            throw new FormatException("the exposition ends with a newline");
        }

        var samples = new Dictionary<(string, string), double>();
        var types = new Dictionary<string, string>(StringComparer.Ordinal);
        var helps = new HashSet<string>(StringComparer.Ordinal);
        var finished = new HashSet<string>(StringComparer.Ordinal);
        string? current = null;
        foreach (var line in text[..^1].Split('\n'))
        {
            if (line.StartsWith("# HELP ", StringComparison.Ordinal) || line.StartsWith("# TYPE ", StringComparison.Ordinal))
            {
                var rest = line[7..];
                var space = rest.IndexOf(' ', StringComparison.Ordinal);
                var name = space < 0 ? rest : rest[..space];
                CheckName(name);
                if (current != name)
                {
                    if (current is not null)
                    {
                        finished.Add(current);
                    }

                    if (finished.Contains(name))
                    {
                        throw new FormatException($"family {name} appears twice");
                    }

                    current = name;
                }

                if (line[2] == 'H')
                {
                    CheckEscapes(rest[(space + 1)..], allowQuote: true);
                    if (!helps.Add(name))
                    {
                        throw new FormatException("two HELP lines for " + name);
                    }
                }
                else
                {
                    var type = rest[(space + 1)..];
                    if (type is not ("counter" or "gauge" or "histogram" or "summary" or "untyped") || !types.TryAdd(name, type))
                    {
                        throw new FormatException("bad or repeated TYPE: " + line);
                    }

                    if (type == "counter" && !name.EndsWith("_total", StringComparison.Ordinal))
                    {
                        throw new FormatException($"counter {name} is not named *_total");
                    }
                }

                continue;
            }

            if (line.StartsWith('#') || line.Length == 0)
            {
                continue;
            }

            string sampleName, labels, valueText;
            try
            {
                (sampleName, labels, valueText) = SplitSample(line);
            }
            catch (ArgumentOutOfRangeException)
            {
                throw new FormatException("truncated sample: " + line);
            }
            catch (IndexOutOfRangeException)
            {
                throw new FormatException("truncated sample: " + line);
            }

            if (sampleName != current || !types.ContainsKey(sampleName))
            {
                throw new FormatException($"sample {sampleName} outside its family (TYPE first, families contiguous)");
            }

            if (!double.TryParse(valueText, NumberStyles.Float, CultureInfo.InvariantCulture, out var value)
                && valueText is not ("NaN" or "+Inf" or "-Inf"))
            {
                throw new FormatException("bad value: " + line);
            }

            if (!samples.TryAdd((sampleName, labels), value))
            {
                throw new FormatException("duplicate series: " + line);
            }
        }

        return samples;
    }

    private static (string Name, string Labels, string Value) SplitSample(string line)
    {
        var i = 0;
        while (i < line.Length && line[i] is not ('{' or ' '))
        {
            i++;
        }

        var name = line[..i];
        CheckName(name);
        var labels = new List<string>();
        if (i < line.Length && line[i] == '{')
        {
            i++;
            while (line[i] != '}')
            {
                var eq = line.IndexOf('=', i);
                var labelName = line[i..eq];
                if (labelName.Length == 0 || !(char.IsAsciiLetter(labelName[0]) || labelName[0] == '_')
                    || !labelName.All(c => char.IsAsciiLetterOrDigit(c) || c == '_') || labelName.StartsWith("__", StringComparison.Ordinal))
                {
                    throw new FormatException("bad label name: " + labelName);
                }

                if (line[eq + 1] != '"')
                {
                    throw new FormatException("label value not quoted");
                }

                var value = new StringBuilder();
                i = eq + 2;
                while (line[i] != '"')
                {
                    if (line[i] == '\\')
                    {
                        value.Append(line[i + 1] switch
                        {
                            '\\' => '\\',
                            '"' => '"',
                            'n' => '\n',
                            _ => throw new FormatException("bad escape in label value"),
                        });
                        i += 2;
                    }
                    else
                    {
                        value.Append(line[i++]);
                    }
                }

                labels.Add($"{labelName}={value}");
                i++;
                if (line[i] == ',')
                {
                    i++;
                }
                else if (line[i] != '}')
                {
                    throw new FormatException("labels not separated by commas");
                }
            }

            i++;
        }

        if (i >= line.Length || line[i] != ' ')
        {
            throw new FormatException("no value: " + line);
        }

        var parts = line[(i + 1)..].Split(' ');
        if (parts.Length is < 1 or > 2 || (parts.Length == 2 && !long.TryParse(parts[1], CultureInfo.InvariantCulture, out _)))
        {
            throw new FormatException("value and optional timestamp expected: " + line);
        }

        return (name, string.Join(',', labels), parts[0]);
    }

    private static void CheckName(string name)
    {
        if (name.Length == 0 || !(char.IsAsciiLetter(name[0]) || name[0] is '_' or ':')
            || !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or ':'))
        {
            throw new FormatException("bad metric name: " + name);
        }
    }

    private static void CheckEscapes(string text, bool allowQuote = true)
    {
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] == '\\' && (i + 1 == text.Length || text[i + 1] is not ('\\' or 'n')))
            {
                throw new FormatException("bad escape in HELP");
            }

            if (text[i] == '\\')
            {
                i++;
            }

            if (!allowQuote && text[i] == '"')
            {
                throw new FormatException("quote");
            }
        }
    }
}
