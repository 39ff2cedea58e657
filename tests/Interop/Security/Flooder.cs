using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using Branchgate.Crypto;

namespace Branchgate.Interop.Tests.Security;

/// <summary>What one flood sent and got back.</summary>
public sealed record FloodResult(long Sent, long CookieReplies, long OtherReplies, TimeSpan Elapsed);

/// <summary>
/// An attacker on the internet: a UDP socket in a namespace of its own (entered with setns on a dedicated thread)
/// aimed at a gateway's listen port, counting what comes back. Initiations with a valid mac1 are computed here from
/// the target's public key with the project's BLAKE2s (mac1 = MAC(HASH("mac1----" || Spub), msg[..116])), not with
/// the product's cookie code, so the check is independent of it.
/// </summary>
public static class Flooder
{
    private const int InitiationSize = 148;
    private const int Mac1Offset = 116;

    /// <summary>Initiations whose ephemeral, static and timestamp fields are random and whose mac1 is valid for
    /// <paramref name="targetPublicKey"/> (so the target must spend a MAC check and, under load, a cookie reply).</summary>
    public static byte[][] ValidMac1Initiations(string targetPublicKey, int count, Random random)
    {
        var spub = Convert.FromBase64String(targetPublicKey);
        Span<byte> key = stackalloc byte[32];
        Blake2s.Hash(Encoding.ASCII.GetBytes("mac1----"), spub, key);
        var messages = new byte[count][];
        for (int i = 0; i < count; i++)
        {
            var m = new byte[InitiationSize];
            random.NextBytes(m);
            m[0] = 1;
            m[1] = m[2] = m[3] = 0;
            Blake2s.KeyedHash(key, m.AsSpan(0, Mac1Offset), m.AsSpan(Mac1Offset, 16));
            m.AsSpan(Mac1Offset + 16).Clear();
            messages[i] = m;
        }

        return messages;
    }

    /// <summary>Initiations of the right size and type whose mac1 is wrong.</summary>
    public static byte[][] InvalidMac1Initiations(int count, Random random)
    {
        var messages = new byte[count][];
        for (int i = 0; i < count; i++)
        {
            var m = new byte[InitiationSize];
            random.NextBytes(m);
            m[0] = 1;
            m[1] = m[2] = m[3] = 0;
            messages[i] = m;
        }

        return messages;
    }

    /// <summary>One random datagram of every size 0..1500; every fourth starts like a WireGuard message type.</summary>
    public static byte[][] Garbage(Random random)
    {
        var messages = new byte[1501][];
        for (int size = 0; size <= 1500; size++)
        {
            var m = new byte[size];
            random.NextBytes(m);
            if (size > 0 && size % 4 == 0)
            {
                m[0] = (byte)(1 + size / 4 % 4);
            }

            messages[size] = m;
        }

        return messages;
    }

    /// <summary>
    /// Sends <paramref name="messages"/> round robin to <paramref name="target"/> from inside <paramref name="ns"/> at
    /// about <paramref name="perSecond"/> datagrams a second for <paramref name="duration"/> (or once through when
    /// duration is zero), counting replies until one second after the last send.
    /// </summary>
    public static FloodResult Run(string ns, IPEndPoint target, byte[][] messages, int perSecond, TimeSpan duration)
    {
        FloodResult? result = null;
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                EnterNamespace(ns);
                result = Flood(target, messages, perSecond, duration);
            }
            catch (Exception e)
            {
                failure = e;
            }
        });
        thread.Start();
        if (!thread.Join(duration + TimeSpan.FromSeconds(60)))
        {
            throw new TimeoutException("the flood thread did not finish");
        }

        if (failure is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(failure).Throw();
        }

        return result!;
    }

    private static FloodResult Flood(IPEndPoint target, byte[][] messages, int perSecond, TimeSpan duration)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(IPAddress.Any, 0));
        socket.Connect(target);
        socket.ReceiveBufferSize = 4 << 20;
        long cookies = 0, others = 0;
        using var stop = new CancellationTokenSource();
        var receiver = new Thread(() =>
        {
            var buffer = new byte[2048];
            socket.ReceiveTimeout = 200;
            while (!stop.IsCancellationRequested)
            {
                int n;
                try
                {
                    n = socket.Receive(buffer);
                }
                catch (SocketException)
                {
                    continue; // timeout, or ICMP port unreachable surfacing as ECONNREFUSED
                }

                if (n == 64 && buffer[0] == 3)
                {
                    Interlocked.Increment(ref cookies);
                }
                else
                {
                    Interlocked.Increment(ref others);
                }
            }
        });
        receiver.Start();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        long sent = 0;
        int next = 0;
        const int Burst = 200;
        bool once = duration == TimeSpan.Zero;
        while (once ? sent < messages.Length : clock.Elapsed < duration)
        {
            for (int i = 0; i < Burst && (!once || sent < messages.Length); i++)
            {
                try
                {
                    socket.Send(messages[next]);
                }
                catch (SocketException)
                {
                    // ECONNREFUSED from an earlier ICMP error, or ENOBUFS: the flood goes on.
                }

                next = (next + 1) % messages.Length;
                sent++;
            }

            // Pace: sleep while ahead of perSecond.
            var ahead = TimeSpan.FromSeconds((double)sent / perSecond) - clock.Elapsed;
            if (ahead > TimeSpan.Zero)
            {
                Thread.Sleep(ahead);
            }
        }

        var elapsed = clock.Elapsed;
        Thread.Sleep(1000);
        stop.Cancel();
        receiver.Join();
        return new FloodResult(sent, Interlocked.Read(ref cookies), Interlocked.Read(ref others), elapsed);
    }

    private static void EnterNamespace(string name)
    {
        using var handle = File.OpenHandle("/var/run/netns/" + name);
        if (SetNs(handle.DangerousGetHandle().ToInt32(), 0x40000000) != 0)
        {
            throw new InvalidOperationException($"setns {name} failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    [DllImport("libc", EntryPoint = "setns", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int SetNs(int fd, int type);
}
