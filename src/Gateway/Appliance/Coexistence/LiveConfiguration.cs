using System.Globalization;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Branchgate.Appliance.Model;
using Branchgate.Crypto;
using Branchgate.Platform.Linux.Netlink.Route;

namespace Branchgate.Appliance.Coexistence;

/// <summary>
/// The configuration the running WireGuard interfaces have now, read through their UAPI sockets
/// (/var/run/wireguard/NAME.sock, <c>get=1</c>) — branchgate, wireguard-go and any userspace implementation — plus
/// each interface's addresses and the table its routes are in, from a <see cref="KernelView"/>. Only what the check
/// needs is kept: listen port, fwmark, and per peer its public key, endpoint and allowed IPs. Keys in the answer
/// (private, preshared) are skipped unread and the buffer is zeroed.
/// </summary>
public static class LiveConfiguration
{
    public const string SocketDirectory = "/var/run/wireguard";

    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(2);

    /// <summary>Reads every interface with a socket in <paramref name="socketDirectory"/> that is a link of the view's
    /// namespace (the directory is shared by all namespaces; when the links could not be read, every socket counts);
    /// what cannot be read is added to <paramref name="unreadable"/>. Peers are named by their base64 public key, as
    /// `wg show` does.</summary>
    public static ApplianceConfig Read(KernelView kernel, List<string> unreadable, string socketDirectory = SocketDirectory)
    {
        ArgumentNullException.ThrowIfNull(kernel);
        ArgumentNullException.ThrowIfNull(unreadable);
        var config = ApplianceConfig.Empty;
        if (!Directory.Exists(socketDirectory))
        {
            return config;
        }

        string[] sockets;
        try
        {
            sockets = Directory.GetFiles(socketDirectory, "*.sock");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            unreadable.Add($"WireGuard interfaces ({socketDirectory}): {e.Message}");
            return config;
        }

        foreach (var path in sockets.Order(StringComparer.Ordinal))
        {
            string name = Path.GetFileNameWithoutExtension(path);
            if (kernel.Links.Count > 0 && !kernel.Links.Any(l => l.Name == name))
            {
                continue;
            }

            try
            {
                var (iface, sites) = Parse(name, Get(path), kernel);
                config = config.WithInterface(iface) with { Sites = [.. config.Sites, .. sites] };
            }
            catch (Exception e) when (e is IOException or SocketException or UnauthorizedAccessException or FormatException
                or ArgumentException or OverflowException)
            {
                unreadable.Add($"WireGuard interface {name} ({path}): {e.Message}");
            }
        }

        return config;
    }

    /// <summary>The raw answer to <c>get=1</c>, up to and including "errno=N".</summary>
    private static byte[] Get(string path)
    {
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        socket.SendTimeout = socket.ReceiveTimeout = (int)Timeout.TotalMilliseconds;
        socket.Connect(new UnixDomainSocketEndPoint(path));
        socket.Send("get=1\n\n"u8);
        var buffer = new byte[1 << 20];
        int length = 0;
        try
        {
            var deadline = DateTime.UtcNow + Timeout;
            while (DateTime.UtcNow < deadline)
            {
                int n = socket.Receive(buffer.AsSpan(length));
                if (n == 0)
                {
                    break;
                }

                length += n;
                if (buffer.AsSpan(0, length).EndsWith("\n\n"u8) || length == buffer.Length)
                {
                    break;
                }
            }

            return buffer.AsSpan(0, length).ToArray();
        }
        finally
        {
            CryptographicOperations.ZeroMemory(buffer);
        }
    }

    /// <summary>Turns a get answer into the interface and its peers; key lines are skipped without being decoded.</summary>
    internal static (InterfaceConfig Interface, List<SiteConfig> Sites) Parse(string name, byte[] answer, KernelView kernel)
    {
        try
        {
            ushort listenPort = 0;
            uint fwMark = 0;
            int errno = -1;
            var sites = new List<SiteConfig>();
            SiteConfig? peer = null;
            foreach (var range in answer.AsSpan().Split((byte)'\n'))
            {
                var line = answer.AsSpan()[range];
                int equals = line.IndexOf((byte)'=');
                if (equals <= 0)
                {
                    continue;
                }

                string key = Encoding.ASCII.GetString(line[..equals]);
                if (key is "private_key" or "preshared_key")
                {
                    continue;
                }

                string value = Encoding.ASCII.GetString(line[(equals + 1)..]);
                switch (key)
                {
                    case "listen_port":
                        listenPort = ushort.Parse(value, CultureInfo.InvariantCulture);
                        break;
                    case "fwmark":
                        fwMark = uint.Parse(value, CultureInfo.InvariantCulture);
                        break;
                    case "public_key":
                        if (peer is not null)
                        {
                            sites.Add(peer);
                        }

                        var publicKey = new NoisePublicKey(Convert.FromHexString(value));
                        peer = new SiteConfig { Name = publicKey.ToBase64(), Interface = name, PublicKey = publicKey };
                        break;
                    case "endpoint" when peer is not null:
                        peer = peer with { Endpoint = value };
                        break;
                    case "allowed_ip" when peer is not null:
                        peer = peer with { AllowedIps = [.. peer.AllowedIps, ParseAllowedIp(value)] };
                        break;
                    case "errno":
                        errno = int.Parse(value, CultureInfo.InvariantCulture);
                        break;
                }
            }

            if (peer is not null)
            {
                sites.Add(peer);
            }

            if (errno != 0)
            {
                throw new IOException(errno < 0 ? "no complete answer to get=1" : $"get=1 answered errno={errno}");
            }

            var iface = new InterfaceConfig
            {
                Name = name,
                // The check never uses the private key and it is not read: a stand-in fills the required field.
                PrivateKey = WireGuardSecret.GeneratePrivateKey(),
                ListenPort = listenPort,
                FwMark = fwMark,
                Addresses = [.. kernel.Addresses.Where(a => a.Link == name).Select(a => a.Address)],
                Table = TableOf(name, kernel),
            };
            return (iface, sites);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(answer);
        }
    }

    /// <summary>The table the interface's routes are in: the first table other than main, local and the default
    /// that has a route through it, else "auto" (main).</summary>
    private static string TableOf(string name, KernelView kernel)
    {
        var table = kernel.Routes.Where(r => r.Device == name && r.Table is not (RouteTable.Main or RouteTable.Local or RouteTable.Default))
            .Select(r => (uint?)r.Table).FirstOrDefault();
        return table is { } t ? t.ToString(CultureInfo.InvariantCulture) : "auto";
    }

    private static IPPrefix ParseAllowedIp(string text)
    {
        if (IPPrefix.TryParse(text, out var prefix))
        {
            return prefix;
        }

        return InterfaceAddress.TryParse(text, out var address, out string? error)
            ? address.Network
            : throw new FormatException($"allowed_ip '{text}': {error}");
    }
}
