using System.Net.Sockets;
using System.Runtime.Versioning;
using Branchgate.Uapi;
using static Branchgate.Tests.Uapi.UapiTestText;

namespace Branchgate.Tests.Uapi;

/// <summary>
/// The UAPI server on a real unix socket in a private directory: the socket file's life, the connection rules
/// (several operations, when the connection closes), limits. Runs without root.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class UapiServerTests : IDisposable
{
    private static int s_counter;
    private static readonly TimeSpan s_quiet = TimeSpan.FromMilliseconds(200);
    private readonly string _directory = Path.Combine(Path.GetTempPath(),
        $"bgu{Environment.ProcessId}-{Interlocked.Increment(ref s_counter)}", "run", "wireguard");
    private readonly InMemoryUapiTarget _target = new();

    public void Dispose()
    {
        var root = Path.GetDirectoryName(Path.GetDirectoryName(_directory))!;
        if (Directory.Exists(root))
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private UapiServer Start(UapiServerOptions? options = null, string name = "wgtest0") =>
        UapiServer.Start(name, _target, options ?? Options());

    private UapiServerOptions Options(int maxConnections = 64, TimeSpan? idle = null, long maxSet = 1 << 20) => new()
    {
        SocketDirectory = _directory,
        MaxConnections = maxConnections,
        IdleTimeout = idle ?? TimeSpan.FromMinutes(1),
        SocketCheckInterval = TimeSpan.FromMilliseconds(20),
        MaxSetRequestBytes = maxSet,
        InterfaceIndex = name => name == "lo" ? 1u : null,
    };

    [Fact]
    public void The_socket_is_created_0700_in_a_0755_directory_and_removed_on_dispose()
    {
        string path;
        using (var server = Start())
        {
            path = server.SocketPath;
            Assert.Equal(Path.Combine(_directory, "wgtest0.sock"), path);
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(path));
            Assert.Equal((UnixFileMode)0b111_101_101, File.GetUnixFileMode(_directory));
            Assert.Equal(["wgtest0.sock"], Directory.GetFileSystemEntries(_directory).Select(Path.GetFileName));
        }

        Assert.False(File.Exists(path));
        Assert.Empty(Directory.GetFileSystemEntries(_directory));
    }

    [Theory]
    [InlineData("a")]
    [InlineData("wg0")]
    [InlineData("fifteen-letters")]
    public void Interface_names_of_any_valid_length_are_served(string name)
    {
        using var server = Start(name: name);
        Assert.Equal(Path.Combine(_directory, name + ".sock"), server.SocketPath);
        using var client = UapiTestClient.Connect(server.SocketPath);
        Assert.Equal("errno=0\n\n", client.Send("get=1\n\n").ReadAnswers(1));
    }

    [Theory]
    [InlineData("")]
    [InlineData(".")]
    [InlineData("..")]
    [InlineData("a/b")]
    [InlineData("a:b")]
    [InlineData("a b")]
    [InlineData("sixteen-letters!")]
    public void Invalid_interface_names_are_refused(string name) =>
        Assert.Throws<ArgumentException>(() => Start(name: name));

    [Fact]
    public void A_stale_socket_file_is_replaced_and_a_live_one_is_an_error()
    {
        Directory.CreateDirectory(_directory);
        var path = Path.Combine(_directory, "wgtest0.sock");
        using (var dead = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
        {
            dead.Bind(new UnixDomainSocketEndPoint(path));
        }

        if (!File.Exists(path))
        {
            // .NET removed the file when the socket closed; leave a stale file the way a killed process does.
            File.WriteAllText(path, "");
        }

        using var server = Start();
        using (var client = UapiTestClient.Connect(path))
        {
            Assert.Equal("errno=0\n\n", client.Send("get=1\n\n").ReadAnswers(1));
        }

        var error = Assert.Throws<IOException>(() => Start());
        Assert.Contains("in use", error.Message, StringComparison.Ordinal);
        Assert.False(server.SocketRemoved.IsCancellationRequested);
        Assert.Equal(["wgtest0.sock"], Directory.GetFileSystemEntries(_directory).Select(Path.GetFileName));
    }

    [Fact]
    public void Deleting_the_socket_file_is_reported()
    {
        using var server = Start();
        Assert.False(server.SocketRemoved.WaitHandle.WaitOne(100));
        File.Delete(server.SocketPath);
        Assert.True(server.SocketRemoved.WaitHandle.WaitOne(TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public void A_socket_replaced_by_another_server_is_reported_and_not_deleted_on_dispose()
    {
        var first = Start();
        var second = Start(name: "wgtest1");
        File.Move(second.SocketPath, first.SocketPath, overwrite: true);
        Assert.True(first.SocketRemoved.WaitHandle.WaitOne(TimeSpan.FromSeconds(5)));
        first.Dispose();
        Assert.True(File.Exists(first.SocketPath));
        using (var client = UapiTestClient.Connect(first.SocketPath))
        {
            Assert.Equal("errno=0\n\n", client.Send("get=1\n\n").ReadAnswers(1));
        }

        second.Dispose();
        File.Delete(first.SocketPath);
    }

    [Fact]
    public void Several_operations_on_one_connection_one_after_the_other()
    {
        using var server = Start();
        using var client = UapiTestClient.Connect(server.SocketPath);
        Assert.Equal("errno=0\n\n", client.Send("set=1\nlisten_port=51820\n\n").ReadAnswers(1));
        Assert.Equal("listen_port=51820\nerrno=0\n\n", client.Send("get=1\n\n").ReadAnswers(1));
        Assert.Equal("errno=-22\n\n", client.Send("set=1\nlisten_port=65536\n\n").ReadAnswers(1));
        Assert.Equal("errno=-71\n\n", client.Send("set=1\nlisten_port\n\n").ReadAnswers(1));
        Assert.Equal($"errno=0\n\n", client.Send($"set=1\npublic_key={Hex(0x11)}\n\n").ReadAnswers(1));
        Assert.StartsWith($"listen_port=51820\npublic_key={Hex(0x11)}\n", client.Send("get=1\n\n").ReadAnswers(1), StringComparison.Ordinal);
        Assert.True(client.ProbeOpen());
    }

    [Fact]
    public void Pipelined_operations_are_all_answered_in_order()
    {
        // wireguard-go 0.0.20220316 loses what follows a set in the same read (its scanner reads ahead); we do not.
        using var server = Start();
        using var client = UapiTestClient.Connect(server.SocketPath);
        client.Send("get=1\n\nset=1\nlisten_port=7\n\nget=1\n\nset=1\nbogus\nlisten_port=9\n\nget=1\n\nset=1\n\n");
        Assert.Equal(
            "errno=0\n\nerrno=0\n\nlisten_port=7\nerrno=0\n\nerrno=-71\n\nlisten_port=7\nerrno=0\n\nerrno=0\n\n",
            client.ReadAnswers(6));
        Assert.True(client.ProbeOpen());
    }

    [Theory]
    [InlineData("hello\n")]
    [InlineData("\n")]
    [InlineData("set=1\r\n\n")]
    [InlineData("SET=1\n\n")]
    [InlineData(" get=1\n\n")]
    [InlineData("get=1 \n\n")]
    [InlineData("set=1\n\nxyz\n")]
    [InlineData("get=1\nx\n")]
    public void An_unknown_operation_closes_the_connection_without_an_answer(string request)
    {
        using var server = Start();
        using var client = UapiTestClient.Connect(server.SocketPath);
        var expected = request.StartsWith("set=1\n", StringComparison.Ordinal) ? "errno=0\n\n"
            : request.StartsWith("get=1\nx", StringComparison.Ordinal) ? "errno=-22\n\n"
            : "";
        Assert.Equal(expected, client.Send(request).ReadUntilClosed());
        Assert.True(client.Closed);
    }

    [Fact]
    public void A_byte_other_than_newline_after_get_is_EINVAL_and_the_connection_stays()
    {
        using var server = Start();
        using var client = UapiTestClient.Connect(server.SocketPath);
        Assert.Equal("errno=-22\n\n", client.Send("get=1\nx").ReadAnswers(1));
        Assert.Equal("errno=0\n\n", client.Send("get=1\n\n").ReadAnswers(1));
    }

    [Theory]
    [InlineData("get=1\n", "")]
    [InlineData("get=1", "")]
    [InlineData("set=1", "")]
    [InlineData("set=1\n", "errno=0\n\n")]
    [InlineData("set=1\nlisten_port=5", "errno=0\n\n")]
    [InlineData("set=1\nlisten_port=5\n", "errno=0\n\n")]
    [InlineData("set=1\nlisten_port=x\n", "errno=-22\n\n")]
    public void End_of_stream_ends_a_set_which_applies_and_closes(string request, string answer)
    {
        using var server = Start();
        using var client = UapiTestClient.Connect(server.SocketPath);
        Assert.Equal(answer, client.Send(request).EndSending().ReadUntilClosed());
        Assert.True(client.Closed);
        Assert.Equal(request.EndsWith("listen_port=5", StringComparison.Ordinal) || request.EndsWith("listen_port=5\n", StringComparison.Ordinal)
            ? (ushort)5 : (ushort)0, _target.ListenPort);
    }

    [Fact]
    public void An_overlong_line_is_EIO_and_reading_resumes_after_its_first_65536_bytes()
    {
        using var server = Start();
        using var client = UapiTestClient.Connect(server.SocketPath);
        client.Send("set=1\nlisten_port=9\n" + new string('a', 65536) + "get=1\n\n");
        Assert.Equal("errno=-5\n\nerrno=0\n\n", client.ReadAnswers(2));
        Assert.Equal(0, _target.ListenPort); // nothing of the rejected request applied

        client.Send("set=1\n" + new string('a', 65536) + "\n\n");
        Assert.Equal("errno=-5\n\n", client.ReadUntilClosed());
        Assert.True(client.Closed); // "\n" is read as an operation
    }

    [Fact]
    public void A_line_of_65535_bytes_is_still_a_line()
    {
        using var server = Start();
        using (var client = UapiTestClient.Connect(server.SocketPath))
        {
            Assert.Equal("errno=0\n\n", client.Send("set=1\nlisten_port=" + new string('0', 65535 - 15) + "123\n\n").ReadAnswers(1));
            Assert.Equal(123, _target.ListenPort);
            Assert.True(client.ProbeOpen());
        }

        // The line fills wireguard-go's whole scanner buffer, so the empty line after it was not read with it and
        // becomes the next operation: the connection closes (as observed on wireguard-go).
        using (var client = UapiTestClient.Connect(server.SocketPath))
        {
            Assert.Equal("errno=-71\n\n", client.Send("set=1\n" + new string('a', 65534) + "\r\n\n").ReadUntilClosed());
            Assert.True(client.Closed);
        }
    }

    [Fact]
    public void A_rejected_set_drops_the_rest_of_its_request_already_received()
    {
        using var server = Start();
        using var client = UapiTestClient.Connect(server.SocketPath);
        Assert.Equal("errno=-71\n\n", client.Send("set=1\nbogus\nlisten_port=5\n").ReadAnswers(1));

        // wireguard-go drops those lines with its scanner, so the next line is an operation again.
        Assert.Equal("errno=0\n\n", client.Send("get=1\n\n").ReadAnswers(1));
        Assert.Equal("errno=-71\n\n", client.Send("set=1\nbogus\nlisten_port=5\n").ReadAnswers(1));
        Assert.Equal("", client.Send("\n").ReadUntilClosed());
        Assert.True(client.Closed);
    }

    [Fact]
    public void An_endless_operation_line_is_read_without_keeping_it()
    {
        using var server = Start();
        using var client = UapiTestClient.Connect(server.SocketPath);
        var chunk = new string('x', 1 << 20);
        for (var i = 0; i < 16; i++)
        {
            client.Send(chunk);
        }

        Assert.Equal("", client.ReadUntilQuiet(s_quiet));
        Assert.False(client.Closed); // as wireguard-go: waiting for the end of the line
        client.Send("\n");
        Assert.Equal("", client.ReadUntilClosed());
        Assert.True(client.Closed);
    }

    [Fact]
    public void A_set_request_over_the_size_limit_is_EIO()
    {
        using var server = Start(Options(maxSet: 1000));
        using var client = UapiTestClient.Connect(server.SocketPath);
        var request = "set=1\n" + string.Concat(Enumerable.Repeat("listen_port=1\n", 100)) + "\n";
        Assert.Equal("errno=-5\n\n", client.Send(request).ReadAnswers(1));
        Assert.Equal(0, _target.ListenPort);
    }

    [Fact]
    public void Connections_beyond_the_limit_wait_until_one_closes()
    {
        using var server = Start(Options(maxConnections: 2));
        using var first = UapiTestClient.Connect(server.SocketPath);
        using var second = UapiTestClient.Connect(server.SocketPath);
        Assert.Equal("errno=0\n\n", first.Send("get=1\n\n").ReadAnswers(1));
        Assert.Equal("errno=0\n\n", second.Send("get=1\n\n").ReadAnswers(1));
        using var third = UapiTestClient.Connect(server.SocketPath);
        Assert.Equal("", third.Send("get=1\n\n").ReadAnswers(1, TimeSpan.FromMilliseconds(300)));
        first.Dispose();
        Assert.Equal("errno=0\n\n", third.ReadAnswers(1));
    }

    [Fact]
    public void An_idle_connection_is_closed_after_the_idle_timeout()
    {
        using var server = Start(Options(idle: TimeSpan.FromMilliseconds(200)));
        using var client = UapiTestClient.Connect(server.SocketPath);
        Assert.Equal("errno=0\n\n", client.Send("get=1\n\n").ReadAnswers(1));
        var idle = System.Diagnostics.Stopwatch.StartNew();
        Assert.Equal("", client.ReadUntilClosed());
        Assert.True(client.Closed);
        Assert.InRange(idle.Elapsed, TimeSpan.FromMilliseconds(150), TimeSpan.FromSeconds(5));
    }

    [Fact]
    public void Concurrent_clients_see_whole_requests()
    {
        using var server = Start();
        var failures = new System.Collections.Concurrent.ConcurrentQueue<Exception>();
        var threads = Enumerable.Range(0, 16).Select(i => new Thread(() =>
        {
            try
            {
                Exercise(i);
            }
            catch (Exception e)
            {
                failures.Enqueue(e);
            }
        })).ToList();
        threads.ForEach(t => t.Start());
        Assert.All(threads, t => Assert.True(t.Join(TimeSpan.FromSeconds(60))));
        Assert.Empty(failures);
        var final = Get(_target);
        for (var i = 0; i < 16; i++)
        {
            Assert.Contains($"allowed_ip=10.{i}.0.0/16\nallowed_ip=10.{i}.1.0/24\n", final, StringComparison.Ordinal);
        }

        void Exercise(int i)
        {
            for (var round = 0; round < 20; round++)
            {
                using var client = UapiTestClient.Connect(server.SocketPath);
                var key = Hex((byte)(i + 1));
                Assert.Equal("errno=0\n\n", client.Send(
                    $"set=1\npublic_key={key}\nreplace_allowed_ips=true\nallowed_ip=10.{i}.0.0/16\nallowed_ip=10.{i}.1.0/24\n\n").ReadAnswers(1));
                var get = client.Send("get=1\n\n").ReadAnswers(1);
                Assert.Contains($"public_key={key}\n", get, StringComparison.Ordinal);
                Assert.EndsWith("errno=0\n\n", get, StringComparison.Ordinal);
            }
        }
    }

    [Fact]
    public async Task Dispose_closes_open_connections()
    {
        var server = Start();
        using var client = UapiTestClient.Connect(server.SocketPath);
        Assert.Equal("errno=0\n\n", client.Send("get=1\n\n").ReadAnswers(1));
        await server.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal("", client.ReadUntilClosed());
        Assert.True(client.Closed);
        Assert.False(File.Exists(server.SocketPath));
    }
}
