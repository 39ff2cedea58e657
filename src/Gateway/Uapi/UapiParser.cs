using System.Text;

namespace Branchgate.Uapi;

/// <summary>The outcome of parsing a whole set request: a request to apply, or the errno to answer.</summary>
public sealed class UapiParseResult : IDisposable
{
    internal UapiParseResult(UapiSetRequest? request, UapiErrno error, string? message, int line)
    {
        Request = request;
        Error = error;
        Message = message;
        Line = line;
    }

    /// <summary>The validated request, or null when <see cref="Error"/> is set.</summary>
    public UapiSetRequest? Request { get; }

    public UapiErrno Error { get; }

    public string? Message { get; }

    /// <summary>The 1-based number of the rejected line (0 when the request is valid).</summary>
    public int Line { get; }

    public void Dispose() => Request?.Dispose();
}

/// <summary>Parses the body of a <c>set=1</c> operation held in memory (the server feeds lines from the socket instead).</summary>
public static class UapiParser
{
    /// <summary>
    /// Parses the lines after <c>set=1\n</c>: up to the first empty line, or to the end of the text (a last line without
    /// '\n' counts, as bufio.Scanner returns it at end of file). Anything after the empty line is ignored.
    /// </summary>
    public static UapiParseResult ParseSet(ReadOnlySpan<byte> body, Func<string, uint?>? interfaceIndex = null)
    {
        using var parser = new UapiSetParser(interfaceIndex);
        while (!body.IsEmpty)
        {
            var newline = body.IndexOf((byte)'\n');
            var line = newline < 0 ? body : body[..newline];
            body = newline < 0 ? default : body[(newline + 1)..];
            if (parser.AddLine(line) != UapiLineResult.Accepted)
            {
                break;
            }
        }

        if (parser.Error != UapiErrno.None)
        {
            return new UapiParseResult(null, parser.Error, parser.ErrorMessage, parser.ErrorLine);
        }

        parser.EndOfInput();
        return new UapiParseResult(parser.ToRequest(), UapiErrno.None, null, 0);
    }

    /// <summary>As <see cref="ParseSet(ReadOnlySpan{byte}, Func{string, uint?})"/>; each char is one byte (Latin-1).</summary>
    public static UapiParseResult ParseSet(string body, Func<string, uint?>? interfaceIndex = null) =>
        ParseSet(Encoding.Latin1.GetBytes(body), interfaceIndex);
}
