using Branchgate.Appliance.Config;
using Branchgate.Appliance.Store;
using Branchgate.Cli;
using static Branchgate.Tests.Appliance.Config.ConfigTestData;

namespace Branchgate.Tests.Cli;

/// <summary>
/// `branchgate import` and `export` while `branchgate serve` is not running: straight into and out of the store file.
/// (Through a running serve they use POST /v1/interfaces/{name}/import, tested with the API, and the interop tests.)
/// </summary>
public sealed class ImportExportCommandsTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("bg-import-").FullName;

    private string Db => Path.Combine(_directory, "branchgate.db");

    private string NoApi => Path.Combine(_directory, "no-api.sock");

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private (int Code, string Out, string Err) Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var code = CommandLine.Run([.. args, "--db", Db, "--api-socket", NoApi], TextReader.Null, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    public static TheoryData<string> Corpus() => [.. CorpusFiles().Select(Path.GetFileName).OfType<string>()];

    [Theory]
    [MemberData(nameof(Corpus))]
    public void Every_corpus_file_round_trips_through_the_store(string file)
    {
        var path = Path.Combine(CorpusDirectory, file);
        var imported = Run("import", path, "--name", "wg7");
        Assert.True(imported.Code == 0, imported.Err);
        Assert.Contains("imported wg7", imported.Out, StringComparison.Ordinal);

        var exported = Run("export", "wg7");
        Assert.True(exported.Code == 0, exported.Err);

        var original = WgQuickFile.Parse(File.ReadAllText(path), "wg7");
        var back = WgQuickFile.Parse(exported.Out, "wg7");
        Assert.Empty(back.Errors);
        AssertSameInterface(original.Interface!, back.Interface!);
        AssertSameSites(original.Sites, back.Sites);

        using var store = ApplianceStore.Open(Db);
        var audit = store.ReadAudit(take: 1);
        Assert.Equal("interface.import", audit[0].Action);
        Assert.Equal("cli", audit[0].Actor);
    }

    [Fact]
    public void The_interface_is_named_after_the_file_and_unsupported_keys_are_warned_about()
    {
        var source = CorpusFiles().First(f => f.EndsWith("postup-iptables.conf", StringComparison.Ordinal));
        var path = Path.Combine(_directory, "office.conf");
        File.Copy(source, path);

        var imported = Run("import", path);

        Assert.Equal(0, imported.Code);
        Assert.Contains("warning:", imported.Err, StringComparison.Ordinal);
        Assert.Contains("PostUp", imported.Err, StringComparison.Ordinal);
        using var store = ApplianceStore.Open(Db);
        Assert.NotNull(store.LoadConfig().FindInterface("office"));
    }

    [Fact]
    public void A_bad_file_or_a_bad_name_changes_nothing()
    {
        var bad = Path.Combine(_directory, "wg1.conf");
        File.WriteAllText(bad, "[Interface]\nPrivateKey = not-a-key\n[Peer]\nAllowedIPs = 10.0.0.0/33\n");

        var refused = Run("import", bad);
        Assert.Equal(1, refused.Code);
        Assert.Contains("not valid", refused.Err, StringComparison.Ordinal);
        Assert.DoesNotContain("not-a-key", refused.Err, StringComparison.Ordinal);

        var badName = Run("import", bad, "--name", "this-name-is-too-long");
        Assert.Equal(1, badName.Code);

        Assert.Equal(1, Run("import").Code);
        Assert.Equal(1, Run("export", "wg9").Code);
        using var store = ApplianceStore.Open(Db);
        Assert.Empty(store.LoadConfig().Interfaces);
        Assert.Empty(store.ReadAudit());
    }
}
