namespace Branchgate;

internal static class Program
{
    private static int Main(string[] args) => Cli.CommandLine.Run(args, Console.In, Console.Out, Console.Error);
}
