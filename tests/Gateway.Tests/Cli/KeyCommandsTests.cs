using System.Diagnostics;
using Branchgate.Cli;
using Branchgate.Crypto;

namespace Branchgate.Tests.Cli;

public class KeyCommandsTests
{
    private static (int Code, string Out, string Err) Run(string stdin, params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var code = CommandLine.Run(args, new StringReader(stdin), stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    [Fact]
    public void Pubkey_matches_the_RFC_7748_test_vector()
    {
        // RFC 7748 section 6.1: Alice's private key and public key.
        var priv = Convert.ToBase64String(Convert.FromHexString("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"));
        var expected = Convert.ToBase64String(Convert.FromHexString("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"));
        var (code, output, _) = Run(priv + "\n", "pubkey");
        Assert.Equal(0, code);
        Assert.Equal(expected + "\n", output);
    }

    [Fact]
    public void Genkey_prints_a_clamped_key_and_genpsk_a_random_one()
    {
        var (code, output, _) = Run("", "genkey");
        Assert.Equal(0, code);
        Assert.Equal(45, output.Length);
        Assert.EndsWith("=\n", output, StringComparison.Ordinal);
        var key = Convert.FromBase64String(output.TrimEnd());
        Assert.Equal(0, key[0] & 7);
        Assert.Equal(0x40, key[31] & 0xc0);

        var (pskCode, psk, _) = Run("", "genpsk");
        Assert.Equal(0, pskCode);
        Assert.Equal(32, Convert.FromBase64String(psk.TrimEnd()).Length);
        Assert.NotEqual(psk, Run("", "genpsk").Out);
    }

    [Theory]
    [InlineData("")]
    [InlineData("\n")]
    [InlineData("not base64 at all")]
    [InlineData("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==")] // 31 bytes
    [InlineData("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")] // 34 bytes
    [InlineData("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA*=")]
    [InlineData("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")] // no padding
    [InlineData("AAAAAAAAAAAAAAAAAAAAAAAA AAAAAAAAAAAAAAAAAAA=")]
    public void Pubkey_refuses_bad_keys_with_a_message(string input)
    {
        var (code, output, error) = Run(input, "pubkey");
        Assert.Equal(1, code);
        Assert.Empty(output);
        Assert.Contains("Key is not the correct length or format", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Pubkey_refuses_endless_input()
    {
        var (code, _, error) = Run(new string('A', 100_000), "pubkey");
        Assert.Equal(1, code);
        Assert.Contains("not the correct length", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("genkey", "extra")]
    [InlineData("pubkey", "--x")]
    [InlineData("--frobnicate")]
    [InlineData("no/such:verb")]
    public void Bad_arguments_get_a_message_and_exit_1(params string[] args)
    {
        var (code, _, error) = Run("", args);
        Assert.Equal(1, code);
        Assert.Contains("branchgate", error, StringComparison.Ordinal);
    }

    [Fact]
    public void No_arguments_prints_usage()
    {
        var (code, _, error) = Run("");
        Assert.Equal(1, code);
        Assert.Contains("Usage: branchgate", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Demo_runs_a_handshake_and_exchanges_data()
    {
        var (code, output, error) = Run("", "demo");
        Assert.True(code == 0, error);
        Assert.Contains("handshake initiation, 148 bytes", output, StringComparison.Ordinal);
        Assert.Contains("handshake response, 92 bytes", output, StringComparison.Ordinal);
        Assert.Contains("got \"hello from office A\"", output, StringComparison.Ordinal);
        Assert.Contains("got \"hello back from office B\"", output, StringComparison.Ordinal);
        Assert.Contains("the same datagram again is Dropped (Replay)", output, StringComparison.Ordinal);
    }

    /// <summary>`wg genkey | tee k | branchgate pubkey` prints what `wg pubkey &lt; k` prints (wg from wireguard-tools).</summary>
    [Fact]
    public void Pubkey_agrees_with_wg_on_keys_wg_made_and_wg_agrees_on_ours()
    {
        for (var i = 0; i < 20; i++)
        {
            var wgKey = RunWg("", "genkey");
            Assert.Equal(RunWg(wgKey, "pubkey"), Run(wgKey, "pubkey").Out);

            var ourKey = Run("", "genkey").Out;
            Assert.Equal(Run(ourKey, "pubkey").Out, RunWg(ourKey, "pubkey"));
        }

        var psk = Run("", "genpsk").Out;
        Assert.True(KeyEncoding.TryFromBase64(psk.TrimEnd(), new byte[32]));
    }

    private static string RunWg(string stdin, string verb)
    {
        var start = new ProcessStartInfo("wg", verb)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start) ?? throw new InvalidOperationException("wg did not start");
        process.StandardInput.Write(stdin);
        process.StandardInput.Close();
        var output = process.StandardOutput.ReadToEnd();
        Assert.True(process.WaitForExit(10_000), "wg did not finish");
        Assert.Equal(0, process.ExitCode);
        return output;
    }
}
