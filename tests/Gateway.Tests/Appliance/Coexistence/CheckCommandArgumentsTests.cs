using Branchgate.Cli;

namespace Branchgate.Tests.Appliance.Coexistence;

/// <summary>Bad arguments to `branchgate check` exit 2 with a message before anything is read.</summary>
public class CheckCommandArgumentsTests
{
    [Theory]
    [InlineData("unknown argument '--bogus'", "--bogus")]
    [InlineData("--config needs a value", "--config")]
    [InlineData("--interface needs a value", "--interface", "--json")]
    [InlineData("is not an interface name", "--interface", "a/b")]
    [InlineData("has host bits set; did you mean 10.2.0.0/24?", "--migrate", "10.2.0.1/24", "--peer", "x")]
    [InlineData("go together", "--migrate", "10.2.0.0/24")]
    [InlineData("go together", "--peer", "x")]
    public void Usage_errors_exit_2_with_the_reason(string reason, params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        Assert.Equal(2, CommandLine.Run(["check", .. args], TextReader.Null, stdout, stderr));
        Assert.Contains(reason, stderr.ToString(), StringComparison.Ordinal);
        Assert.Contains("Usage: branchgate check", stderr.ToString(), StringComparison.Ordinal);
        Assert.Empty(stdout.ToString());
    }

    [Fact]
    public void A_missing_config_file_is_refused_with_its_name()
    {
        var stderr = new StringWriter();
        Assert.Equal(2, CommandLine.Run(["check", "--config", "/nonexistent/wg7.conf"], TextReader.Null, new StringWriter(), stderr));
        Assert.Contains("cannot read /nonexistent/wg7.conf", stderr.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void The_usage_text_lists_check()
    {
        Assert.Contains("check [--json]", CommandLine.Usage, StringComparison.Ordinal);
    }
}
