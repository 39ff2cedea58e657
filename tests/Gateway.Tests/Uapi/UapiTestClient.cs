using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;

namespace Branchgate.Tests.Uapi;

/// <summary>
/// A raw UAPI client for tests: sends exact bytes and reads answers with bounded waits. Text is Latin-1 (one char per
/// byte) both ways. "Closed" means the server closed (end of stream or reset).
/// </summary>
internal sealed partial class UapiTestClient : IDisposable
{
    private static readonly TimeSpan s_limit = TimeSpan.FromSeconds(10);
    private readonly Socket _socket;
    private readonly StringBuilder _received = new();

    private UapiTestClient(Socket socket) => _socket = socket;

    public bool Closed { get; private set; }

    public static UapiTestClient Connect(string path)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            socket.Connect(new UnixDomainSocketEndPoint(path));
            return new UapiTestClient(socket);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public UapiTestClient Send(string text)
    {
        try
        {
            _socket.Send(Encoding.Latin1.GetBytes(text));
        }
        catch (SocketException)
        {
            Closed = true; // the server closed first (EPIPE, ECONNRESET)
        }

        return this;
    }

    public UapiTestClient EndSending()
    {
        _socket.Shutdown(SocketShutdown.Send);
        return this;
    }

    /// <summary>Reads until <paramref name="answers"/> answers (each ending "errno=N\n\n") arrived, or the server
    /// closed, or the time is up. Returns everything received since the last call.</summary>
    public string ReadAnswers(int answers, TimeSpan? limit = null)
    {
        var deadline = DateTime.UtcNow + (limit ?? s_limit);
        while (AnswerCount(_received.ToString()) < answers && !Closed && DateTime.UtcNow < deadline)
        {
            Receive(deadline - DateTime.UtcNow);
        }

        return Take();
    }

    /// <summary>Reads until nothing arrives for <paramref name="quiet"/> or the server closed.</summary>
    public string ReadUntilQuiet(TimeSpan quiet)
    {
        var deadline = DateTime.UtcNow + s_limit;
        while (!Closed && DateTime.UtcNow < deadline && Receive(quiet))
        {
        }

        return Take();
    }

    /// <summary>Reads until the server closes or the time is up.</summary>
    public string ReadUntilClosed(TimeSpan? limit = null)
    {
        var deadline = DateTime.UtcNow + (limit ?? s_limit);
        while (!Closed && DateTime.UtcNow < deadline)
        {
            Receive(deadline - DateTime.UtcNow);
        }

        return Take();
    }

    /// <summary>
    /// Whether the server still serves this connection: sends "get=1\nZ", which an open connection answers with
    /// errno=-22 (the 'Z' is consumed) and which changes nothing.
    /// </summary>
    public bool ProbeOpen()
    {
        if (Closed)
        {
            return false;
        }

        Send("get=1\nZ");
        var answer = ReadAnswers(1, TimeSpan.FromSeconds(5));
        if (answer == "errno=-22\n\n")
        {
            return true;
        }

        Assert.True(Closed, "unexpected answer to the probe: " + answer);
        return false;
    }

    public static int AnswerCount(string text) => Answer().Count(text);

    private bool Receive(TimeSpan wait)
    {
        var buffer = new byte[65536];
        try
        {
            if (!_socket.Poll(wait <= TimeSpan.Zero ? TimeSpan.FromMilliseconds(1) : wait, SelectMode.SelectRead))
            {
                return false;
            }

            var count = _socket.Receive(buffer);
            if (count == 0)
            {
                Closed = true;
                return false;
            }

            _received.Append(Encoding.Latin1.GetString(buffer, 0, count));
            return true;
        }
        catch (SocketException)
        {
            Closed = true;
            return false;
        }
    }

    private string Take()
    {
        var text = _received.ToString();
        _received.Clear();
        return text;
    }

    public void Dispose() => _socket.Dispose();

    [GeneratedRegex(@"(?<=^|\n)errno=-?[0-9]+\n\n")]
    private static partial Regex Answer();
}
