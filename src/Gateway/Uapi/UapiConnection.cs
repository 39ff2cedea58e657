namespace Branchgate.Uapi;

/// <summary>Limits and helpers one connection needs; see <see cref="UapiServerOptions"/>.</summary>
internal sealed record UapiConnectionSettings(
    TimeSpan IdleTimeout,
    long MaxSetRequestBytes,
    Func<string, uint?> InterfaceIndex,
    Action<string>? Log);

/// <summary>
/// One UAPI connection, as wireguard-go's IpcHandle serves it: any number of operations, one after the other.
/// <list type="bullet">
/// <item><c>set=1\n</c>: lines up to an empty line or end of stream, answered <c>errno=N\n\n</c>; the connection stays
/// open (a line longer than 65535 bytes: EIO, and reading goes on after its first 65536 bytes, as wireguard-go's
/// scanner leaves them);</item>
/// <item><c>get=1\n</c> must be followed by '\n' (the configuration, then <c>errno=0\n\n</c>); any other byte is
/// consumed and answered <c>errno=-22\n\n</c>; end of stream there closes without an answer;</item>
/// <item>any other line (including "set=1\r\n", an empty line, or a line cut by end of stream) closes the connection
/// without an answer.</item>
/// </list>
/// </summary>
internal static class UapiConnection
{
    public static async Task RunAsync(Stream stream, IUapiTarget target, UapiConnectionSettings settings, CancellationToken cancellationToken)
    {
        var reader = new UapiStreamReader(stream, settings.IdleTimeout);
        while (true)
        {
            var operation = await reader.ReadOperationAsync(cancellationToken).ConfigureAwait(false);
            switch (operation)
            {
                case "set=1\n":
                    var error = await SetAsync(reader, target, settings, cancellationToken).ConfigureAwait(false);
                    await WriteAsync(stream, UapiFormatter.FormatErrno(error), cancellationToken).ConfigureAwait(false);
                    break;
                case "get=1\n":
                    var next = await reader.ReadByteAsync(cancellationToken).ConfigureAwait(false);
                    if (next < 0)
                    {
                        return;
                    }

                    if (next != '\n')
                    {
                        settings.Log?.Invoke("UAPI: trailing character in get");
                        await WriteAsync(stream, UapiFormatter.FormatErrno(UapiErrno.Invalid), cancellationToken).ConfigureAwait(false);
                        break;
                    }

                    await GetAsync(stream, target, cancellationToken).ConfigureAwait(false);
                    break;
                default:
                    if (operation is not null)
                    {
                        settings.Log?.Invoke("UAPI: invalid operation; closing the connection");
                    }

                    return;
            }
        }
    }

    private static async ValueTask<UapiErrno> SetAsync(UapiStreamReader reader, IUapiTarget target,
        UapiConnectionSettings settings, CancellationToken cancellationToken)
    {
        using var parser = new UapiSetParser(settings.InterfaceIndex);
        var scanner = reader.BeginScan();
        long total = 0;
        while (!parser.IsComplete && parser.Error == UapiErrno.None)
        {
            var (outcome, line) = await scanner.ScanAsync(cancellationToken).ConfigureAwait(false);
            switch (outcome)
            {
                case UapiStreamReader.ScanOutcome.Line:
                    total += line.Length + 1;
                    if (total > settings.MaxSetRequestBytes)
                    {
                        parser.Fail(UapiErrno.Io, "set request larger than " + settings.MaxSetRequestBytes + " bytes");
                    }
                    else
                    {
                        parser.AddLine(line.Span);
                    }

                    break;
                case UapiStreamReader.ScanOutcome.EndOfStream:
                    parser.EndOfInput();
                    break;
                case UapiStreamReader.ScanOutcome.TooLong:
                    parser.Fail(UapiErrno.Io, "failed to read input: token too long");
                    break;
                default:
                    parser.Fail(UapiErrno.Io, "failed to read input");
                    break;
            }
        }

        scanner.Finish(rejected: parser.Error != UapiErrno.None);
        if (parser.Error != UapiErrno.None)
        {
            settings.Log?.Invoke($"UAPI: set rejected at line {parser.ErrorLine}: {parser.ErrorMessage} (errno=-{(int)parser.Error})");
            return parser.Error;
        }

        using var request = parser.ToRequest();
        var error = UapiApplier.Apply(request, target);
        if (error != UapiErrno.None)
        {
            settings.Log?.Invoke($"UAPI: set failed on the device (errno=-{(int)error})");
        }

        return error;
    }

    private static async ValueTask GetAsync(Stream stream, IUapiTarget target, CancellationToken cancellationToken)
    {
        UapiAnswer answer;
        using (target.LockConfiguration())
        {
            using var snapshot = target.Snapshot();
            answer = UapiFormatter.FormatGet(snapshot);
        }

        using (answer)
        {
            await stream.WriteAsync(answer.Bytes, cancellationToken).ConfigureAwait(false);
            await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private static async ValueTask WriteAsync(Stream stream, string text, CancellationToken cancellationToken)
    {
        await stream.WriteAsync(System.Text.Encoding.ASCII.GetBytes(text), cancellationToken).ConfigureAwait(false);
        await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
    }
}
