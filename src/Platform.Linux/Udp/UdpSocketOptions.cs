namespace Branchgate.Platform.Linux.Udp;

/// <summary>How <see cref="UdpSocket.Open"/> sets up the socket.</summary>
public sealed class UdpSocketOptions
{
    /// <summary>
    /// Bytes asked for each of SO_RCVBUF and SO_SNDBUF (the *FORCE variants when privileged, so rmem_max/wmem_max do
    /// not cap them). 7 MiB as wireguard-go asks; 0 leaves the kernel's defaults.
    /// </summary>
    public int BufferBytes { get; init; } = 7 << 20;

    /// <summary>Send runs of equal-sized datagrams to one endpoint as one UDP_SEGMENT (GSO) message when the kernel can.</summary>
    public bool Gso { get; init; } = true;

    /// <summary>
    /// Let the kernel hand over coalesced runs of datagrams (UDP_GRO) when it can; receive batches then need
    /// <see cref="UdpBatch.MaxDatagramSize"/> slots.
    /// </summary>
    public bool Gro { get; init; } = true;

    /// <summary>Open an IPv4-only socket instead of the dual-stack one (the automatic fallback when IPv6 is absent).</summary>
    public bool IPv4Only { get; init; }

    /// <summary>The fwmark (SO_MARK) for every datagram sent; 0 for none.</summary>
    public uint Mark { get; init; }

    /// <summary>How long a send waits for room in a full send buffer before giving up on the rest of its batch.</summary>
    public int SendTimeoutMilliseconds { get; init; } = 1000;
}
