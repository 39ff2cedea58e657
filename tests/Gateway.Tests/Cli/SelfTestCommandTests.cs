using System.Runtime.Intrinsics;
using Branchgate.Cli;
using Branchgate.Crypto;

namespace Branchgate.Tests.Cli;

public class SelfTestCommandTests
{
    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var code = CommandLine.Run(args, new StringReader(""), stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    private static (int Code, string Out, string Err) RunCorrupting(string check)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var code = SelfTestCommand.Run(stdout, stderr, check);
        return (code, stdout.ToString(), stderr.ToString());
    }

    private static IEnumerable<string> Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r'));

    [Fact]
    public void Passes_and_reports_the_platform_and_every_accelerated_path()
    {
        var (code, output, error) = Run("selftest");

        Assert.True(code == 0, output + error);
        Assert.Empty(error);
        Assert.DoesNotContain("FAILED", output, StringComparison.Ordinal);
        Assert.Contains($"process {System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture}", output, StringComparison.Ordinal);
        Assert.Contains($"Vector128.IsHardwareAccelerated={Vector128.IsHardwareAccelerated}", output, StringComparison.Ordinal);
        Assert.Contains($"Vector256.IsHardwareAccelerated={Vector256.IsHardwareAccelerated}", output, StringComparison.Ordinal);
        Assert.Contains($"Vector512.IsHardwareAccelerated={Vector512.IsHardwareAccelerated}", output, StringComparison.Ordinal);
        Assert.Contains($"AdvSimd.IsSupported={System.Runtime.Intrinsics.Arm.AdvSimd.IsSupported}", output, StringComparison.Ordinal);
        Assert.Contains($"data path: ChaCha20 {SelfTestCommand.Describe(ChaCha20.PreferredWidth)}", output, StringComparison.Ordinal);

        var lines = Lines(output).ToList();
        foreach (var width in Enum.GetValues<ChaChaWidth>())
        {
            string path = SelfTestCommand.Describe(width);
            if (SelfTestCommand.IsAccelerated(width))
            {
                Assert.Contains($"ChaCha20: {path}: RFC 8439 2.3.2 block in every lane, 2.4.2 encryption ... ok", lines);
                Assert.Contains($"ChaCha20-Poly1305: {path}: RFC 8439 2.6.2 key, 2.8.2 seal, A.5 open ... ok", lines);
                Assert.Contains($"ChaCha20-Poly1305: {path}: 300 random lengths 0..9000 match libsodium ... ok", lines);
            }
            else
            {
                Assert.Contains($"ChaCha20: {path} ... skipped, not accelerated on this CPU", lines);
            }
        }

        // Vector128 is accelerated on every machine we ship for (NEON on ARM64, SSE on x64): it must have run.
        Assert.True(Vector128.IsHardwareAccelerated);
        Assert.Contains(lines, l => l.StartsWith("ChaCha20-Poly1305: Vector128 (", StringComparison.Ordinal) && l.EndsWith("libsodium ... ok", StringComparison.Ordinal));
        foreach (string check in new[] { "Poly1305: RFC 8439 2.5.2", "BLAKE2s: RFC 7693 appendix B and appendix E self-test",
            "HMAC-BLAKE2s and Noise KDF3", "X25519: RFC 7748 5.2 and 6.1, low-order point refused" })
        {
            Assert.Contains($"{check} ... ok", lines);
        }
        Assert.Contains(lines, l => l.StartsWith("BLAKE2s keyed: reference KAT", StringComparison.Ordinal) && l.EndsWith("... ok", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("Noise IKpsk2: handshake", StringComparison.Ordinal) && l.EndsWith("... ok", StringComparison.Ordinal));
        Assert.Matches(@"selftest passed: \d+ checks", lines[^1]);
    }

    public static TheoryData<string> Checks => new(
        "Poly1305: RFC 8439 2.5.2",
        "BLAKE2s: RFC 7693 appendix B and appendix E self-test",
        "BLAKE2s keyed: reference KAT, lengths 0, 1, 32, 63, 64, 65, 255",
        "HMAC-BLAKE2s and Noise KDF3",
        "X25519: RFC 7748 5.2 and 6.1, low-order point refused",
        "Noise IKpsk2: handshake, transport data both ways, replay refused (two in-memory peers)",
        "ChaCha20: Scalar: RFC 8439 2.3.2 block in every lane, 2.4.2 encryption",
        "ChaCha20-Poly1305: Scalar: RFC 8439 2.6.2 key, 2.8.2 seal, A.5 open",
        $"ChaCha20-Poly1305: {SelfTestCommand.Describe(ChaChaWidth.Vector128)}: 300 random lengths 0..9000 match libsodium");

    [Theory]
    [MemberData(nameof(Checks))]
    public void A_wrong_expected_value_fails_the_run_and_names_the_check(string check)
    {
        var (code, output, error) = RunCorrupting(check);

        Assert.Equal(1, code);
        Assert.Equal($"selftest: FAILED: {check}", Assert.Single(Lines(error)));
        var failed = Assert.Single(Lines(output), l => l.Contains(" ... FAILED: ", StringComparison.Ordinal));
        Assert.StartsWith($"{check} ... FAILED: ", failed, StringComparison.Ordinal);
        Assert.Contains(" differs from byte 0 ", failed, StringComparison.Ordinal);
        Assert.Matches(@"selftest FAILED: 1 of \d+ checks", Lines(output).Last());

        // Only the altered check fails; the others still run and pass.
        Assert.Contains(Lines(output), l => l.EndsWith("... ok", StringComparison.Ordinal));
    }

    [Fact]
    public void Refuses_arguments()
    {
        var (code, output, error) = Run("selftest", "--fast");
        Assert.Equal(1, code);
        Assert.Empty(output);
        Assert.Contains("it takes no arguments", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Is_listed_in_the_usage()
    {
        Assert.Contains("selftest", Run("help").Out, StringComparison.Ordinal);
    }
}
