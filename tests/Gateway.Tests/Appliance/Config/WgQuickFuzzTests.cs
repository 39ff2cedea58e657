using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using Branchgate.Appliance.Config;
using static Branchgate.Tests.Appliance.Config.ConfigTestData;

namespace Branchgate.Tests.Appliance.Config;

/// <summary>
/// Parse never throws and never leaks a key, whatever it is given: random bytes decoded as UTF-8, random text from
/// a wg-quick-flavoured alphabet, and corpus files mutated line by line and character by character. Seeded, so a
/// failure reproduces; bounded in time.
/// </summary>
public sealed partial class WgQuickFuzzTests
{
    private static readonly TimeSpan s_budget = TimeSpan.FromSeconds(20);
    private static readonly string[] s_fragments =
    [
        "[Interface]", "[Peer]", "[", "]", "=", " = ", "#", "# Name = ", "# Kind = remote-worker", "\n", "\r\n", "\r", ",",
        "/", ":", "[::1]:", "0x", "off", "main", "PrivateKey", "PublicKey", "AllowedIPs", "Endpoint", "Address", "DNS",
        "Table", "FwMark", "MTU", "ListenPort", "PersistentKeepalive", "PresharedKey", "PostUp", "10.0.0.1/24", "::/0",
        "65535", "4294967296", "\uFEFF", "\0", "\uD800", "é", "\t", "-1", "999999999999999999999",
    ];

    [GeneratedRegex("[A-Za-z0-9+/]{43}=")]
    private static partial Regex Base64Key();

    private static void AssertSafe(string input)
    {
        var result = WgQuickFile.Parse(input, "wg0");
        var keys = Base64Key().Matches(input).Select(m => m.Value).ToList();
        foreach (var message in result.Errors.Concat(result.Warnings))
        {
            Assert.DoesNotContain("internal error", message, StringComparison.Ordinal);
            foreach (var key in keys)
            {
                Assert.DoesNotContain(key, message, StringComparison.Ordinal);
            }
        }

        if (result.Succeeded)
        {
            // Whatever was accepted can be written and reads back the same.
            ConfigValidator.Validate(ApplianceOf([result.Interface!], result.Sites));
            if (result.Sites.All(s => Branchgate.Appliance.Config.ConfigValidator.IsValidSiteName(s.Name)))
            {
                var again = WgQuickFile.Parse(WgQuickFile.Write(result.Interface!, result.Sites), "wg0");
                Assert.Empty(again.Errors);
                AssertSameInterface(result.Interface!, again.Interface!);
                AssertSameSites(result.Sites, again.Sites);
            }
        }
    }

    [Fact]
    public void Random_bytes_never_throw()
    {
        var random = new Random(1);
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < 3000 && clock.Elapsed < s_budget; i++)
        {
            var bytes = new byte[random.Next(0, 600)];
            random.NextBytes(bytes);
            AssertSafe(Encoding.UTF8.GetString(bytes));
        }
    }

    [Fact]
    public void Random_wg_quick_flavoured_text_never_throws()
    {
        var random = new Random(2);
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < 3000 && clock.Elapsed < s_budget; i++)
        {
            var text = new StringBuilder();
            for (int n = random.Next(0, 60); n > 0; n--)
            {
                text.Append(s_fragments[random.Next(s_fragments.Length)]);
            }

            AssertSafe(text.ToString());
        }
    }

    [Fact]
    public void Mutated_corpus_files_never_throw_nor_leak_keys()
    {
        var random = new Random(3);
        var files = CorpusFiles().Select(File.ReadAllText).ToList();
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < 4000 && clock.Elapsed < s_budget; i++)
        {
            AssertSafe(Mutate(files[random.Next(files.Count)], random));
        }
    }

    private static string Mutate(string text, Random random)
    {
        var lines = text.Split('\n').ToList();
        for (int edits = random.Next(1, 6); edits > 0 && lines.Count > 0; edits--)
        {
            int at = random.Next(lines.Count);
            switch (random.Next(7))
            {
                case 0:
                    lines.RemoveAt(at);
                    break;
                case 1:
                    lines.Insert(at, lines[random.Next(lines.Count)]);
                    break;
                case 2:
                    lines[at] = lines[at].Length == 0 ? "=" : lines[at].Remove(random.Next(lines[at].Length), 1);
                    break;
                case 3:
                    lines[at] = lines[at].Insert(random.Next(lines[at].Length + 1), s_fragments[random.Next(s_fragments.Length)]);
                    break;
                case 4:
                    // a key value moved to the key side: the secret must still not be echoed
                    lines[at] = lines[at].Contains('=', StringComparison.Ordinal) ? lines[at][(lines[at].IndexOf('=', StringComparison.Ordinal) + 1)..] : lines[at];
                    break;
                case 5:
                    lines[at] = lines[at].ToUpperInvariant();
                    break;
                default:
                    (lines[at], lines[^1]) = (lines[^1], lines[at]);
                    break;
            }
        }

        return string.Join(random.Next(2) == 0 ? "\n" : "\r\n", lines);
    }
}
