namespace Branchgate;

internal static class Program
{
    private static int Main(string[] args)
    {
        // The background child of `branchgate IFACE` must let go of its parent's stdout/stderr before Console
        // duplicates them, or whoever reads the parent's output (a shell's $(...), a test) waits forever.
        if (Cli.InterfaceCommand.IsDaemonChild)
        {
            Cli.InterfaceCommand.DetachDaemonChild();
        }

        return Cli.CommandLine.Run(args, Console.In, Console.Out, Console.Error);
    }
}
