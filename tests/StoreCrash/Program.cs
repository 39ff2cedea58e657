using System.Globalization;
using Branchgate.Appliance.Model;
using Branchgate.Appliance.Store;

// Usage: StoreCrash STORE_PATH [FIRST]
// Commits configuration N = FIRST, FIRST + 1 ... (FIRST defaults to 1) to the store, each with its audit entry, and prints N on a line of its own
// once Commit has returned, until it is killed. Configuration N is recognisable whole: every part of it carries N.
var first = 1;
if (args.Length is < 1 or > 2 || (args.Length == 2 && !int.TryParse(args[1], CultureInfo.InvariantCulture, out first)))
{
    await Console.Error.WriteLineAsync("usage: StoreCrash STORE_PATH [FIRST]");
    return 2;
}

using var store = ApplianceStore.Open(args[0]);
var key = WireGuardSecret.GeneratePrivateKey();
var peer = WireGuardSecret.GeneratePrivateKey().DerivePublicKey();
for (var counter = first; ; counter++)
{
    store.Commit(CrashConfig.For(counter, key, peer), new AuditEntry
    {
        Time = DateTimeOffset.UtcNow,
        Actor = "crash-test",
        Action = "commit",
        Target = CrashConfig.Text(counter),
    });
    Console.Out.WriteLine(CrashConfig.Text(counter));
    Console.Out.Flush();
}

/// <summary>The configuration the helper commits as number N; the test recognises it by these rules.</summary>
internal static class CrashConfig
{
    public static string Text(int counter) => counter.ToString(CultureInfo.InvariantCulture);

    public static ApplianceConfig For(int counter, WireGuardSecret key, Branchgate.Crypto.NoisePublicKey peer) => new()
    {
        Interfaces = [new InterfaceConfig { Name = "wg0", PrivateKey = key, Dns = [Text(counter)] }],

        // 1 + N % 7 sites, so that successive commits differ in size.
        Sites = [.. Enumerable.Range(0, 1 + (counter % 7)).Select(i => new SiteConfig
        {
            Name = "site" + Text(i),
            Interface = "wg0",
            PublicKey = peer,
            Description = Text(counter) + new string('x', 500),
        })],
    };
}
