namespace Branchgate.Cli;

/// <summary>
/// The `branchgate` verbs. Every verb takes its streams as arguments so tests run them in memory; bad arguments get
/// a one-line message on stderr and exit code 1, never a stack trace.
/// </summary>
internal static class CommandLine
{
    public const string Usage = """
        Usage: branchgate <command> [arguments]
               branchgate [-f/--foreground] INTERFACE-NAME

        Interface (the same contract as wireguard-go; configure it with wg(8) or wg-quick(8)):
          INTERFACE-NAME      create the TUN interface and serve /var/run/wireguard/INTERFACE-NAME.sock,
                              in the background unless -f; LOG_LEVEL=verbose|error|silent

        Keys (compatible with wg(8)):
          genkey              print a new private key (base64)
          pubkey              read a private key on stdin, print its public key
          genpsk              print a new preshared key

        IPsec coexistence:
          check [--json] [--interface NAME] [--config FILE.conf] [--migrate CIDR --peer NAME]
                              report IPsec policies, strongSwan table-220 routes, LAN subnets, peers and routes
                              that conflict with the running interfaces (or FILE.conf before it is applied);
                              --migrate prints the steps that move CIDR from IPsec to the peer. Exit status:
                              0 clean, 1 warnings or something unreadable, 2 errors or bad arguments

        Appliance:
          serve               run the gateway appliance: the store (--db, default /var/lib/branchgate/branchgate.db)
                              made true on interfaces and routes, the management API on /run/branchgate/api.sock,
                              systemd notify/watchdog, SIGHUP reloads the store
          import FILE.conf    load a wg-quick file as interface FILE (--name IFACE) into the gateway: through the
                              running `branchgate serve`, else into its store (--db PATH); --force overrides
                              coexistence errors
          export IFACE        print the interface as a wg-quick file (it holds the private key)

        Other:
          demo                run two in-memory peers through a handshake and exchange data
          selftest            check the crypto on this CPU (RFC vectors, libsodium) and print the paths taken
          help                show this text
          version             show the version
        """;

    public static int Run(string[] args, TextReader stdin, TextWriter stdout, TextWriter stderr)
    {
        if (args.Length == 0)
        {
            stderr.WriteLine(Usage);
            return 1;
        }

        var verb = args[0];
        var rest = args.AsSpan(1);
        switch (verb)
        {
            case "genkey":
                return KeyCommands.GenKey(rest, stdout, stderr);
            case "genpsk":
                return KeyCommands.GenPsk(rest, stdout, stderr);
            case "pubkey":
                return KeyCommands.PubKey(rest, stdin, stdout, stderr);
            case "serve":
                return ServeCommand.Run(rest, stdout, stderr);
            case "import":
                return ImportExportCommands.Import(rest, stdout, stderr);
            case "export":
                return ImportExportCommands.Export(rest, stdout, stderr);
            case "demo":
                return HandshakeDemo.Run(rest, stdout, stderr);
            case "check":
                return CheckCommand.Run(rest, stdout, stderr);
            case "selftest":
                return SelfTestCommand.Run(rest, stdout, stderr);
            case "help" or "--help" or "-h":
                stdout.WriteLine(Usage);
                return 0;
            case "version" or "--version":
                stdout.WriteLine($"branchgate {typeof(CommandLine).Assembly.GetName().Version?.ToString(3) ?? "0.0.0"}");
                return 0;
            case "-f" or "--foreground":
                return InterfaceCommand.Run(args, stdout, stderr);
            case var name when !name.StartsWith('-') && Uapi.UapiServer.IsValidInterfaceName(name):
                return InterfaceCommand.Run(args, stdout, stderr);
            default:
                stderr.WriteLine($"branchgate: unknown command '{Sanitize(verb)}'");
                stderr.WriteLine(Usage);
                return 1;
        }
    }

    /// <summary>Rejects surplus arguments with a clear message.</summary>
    public static bool NoArguments(string verb, ReadOnlySpan<string> rest, TextWriter stderr)
    {
        if (rest.IsEmpty)
        {
            return true;
        }

        stderr.WriteLine($"Usage: branchgate {verb} (it takes no arguments, got '{Sanitize(rest[0])}')");
        return false;
    }

    /// <summary>Echoes user input back safely: printable ASCII only, bounded length.</summary>
    public static string Sanitize(string text)
    {
        var shown = text.Length > 64 ? text[..64] + "..." : text;
        return string.Create(shown.Length, shown, static (span, source) =>
        {
            for (var i = 0; i < span.Length; i++)
            {
                span[i] = source[i] is >= ' ' and <= '~' ? source[i] : '?';
            }
        });
    }
}
