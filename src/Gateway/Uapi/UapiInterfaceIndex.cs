using System.Net.NetworkInformation;
using System.Text;

namespace Branchgate.Uapi;

/// <summary>
/// Resolves the scope of an IPv6 endpoint ("[fe80::1%eth0]:51820") to an interface index in this process's network
/// namespace, as wireguard-go's zoneToUint32 does with net.InterfaceByName (an exact, byte-wise name match).
/// </summary>
public static class UapiInterfaceIndex
{
    /// <summary>The index of the interface named exactly <paramref name="name"/>, or null when there is none.</summary>
    public static uint? Resolve(string name)
    {
        // The UAPI line was decoded as Latin-1 (one char per byte); interface names are UTF-8 bytes.
        var wanted = Encoding.Latin1.GetBytes(name);
        try
        {
            foreach (var candidate in NetworkInterface.GetAllNetworkInterfaces())
            {
                if (Encoding.UTF8.GetBytes(candidate.Name).AsSpan().SequenceEqual(wanted))
                {
                    return (uint)candidate.GetIPProperties().GetIPv6Properties().Index;
                }
            }
        }
        catch (Exception e) when (e is NetworkInformationException or PlatformNotSupportedException)
        {
        }

        return null;
    }
}
