using System.Runtime.InteropServices;

namespace Branchgate.Platform.Linux.Udp;

/// <summary>
/// Socket option numbers and the C structs of recvmmsg/sendmmsg as glibc lays them out (pointer-sized fields where C
/// has pointers or size_t, so the layout holds on 64- and 32-bit targets alike). Kept private to the UDP folder.
/// </summary>
internal static class UdpNative
{
    internal const int IPPROTO_IP = 0;
    internal const int IPPROTO_IPV6 = 41;
    internal const int SOL_UDP = 17;

    internal const int IP_PKTINFO = 8;
    internal const int IPV6_V6ONLY = 26;
    internal const int IPV6_RECVPKTINFO = 49;
    internal const int IPV6_PKTINFO = 50;
    internal const int UDP_SEGMENT = 103;
    internal const int UDP_GRO = 104;

    internal const int SO_SNDBUF = 7;
    internal const int SO_RCVBUF = 8;
    internal const int SO_SNDBUFFORCE = 32;
    internal const int SO_RCVBUFFORCE = 33;
    internal const int SO_MARK = 36;

    internal const int MSG_CTRUNC = 0x8;
    internal const int MSG_TRUNC = 0x20;

    internal const int SockaddrInSize = 16;
    internal const int SockaddrIn6Size = 28;
    internal const int InPktinfoSize = 12;
    internal const int In6PktinfoSize = 20;

    [StructLayout(LayoutKind.Sequential)]
    internal unsafe struct IoVec
    {
        public byte* Base;
        public nuint Length;
    }

    [StructLayout(LayoutKind.Sequential)]
    internal unsafe struct MsgHdr
    {
        public void* Name;
        public uint NameLength;
        public IoVec* Iov;
        public nuint IovLength;
        public byte* Control;
        public nuint ControlLength;
        public int Flags;
    }

    /// <summary>struct mmsghdr: a msghdr plus the byte count the kernel fills in.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct MMsgHdr
    {
        public MsgHdr Header;
        public uint Length;
    }

    [StructLayout(LayoutKind.Sequential)]
    internal struct CMsgHdr
    {
        public nuint Length;
        public int Level;
        public int Type;
    }

    internal static unsafe int CmsgAlign(int length) => (length + sizeof(nuint) - 1) & ~(sizeof(nuint) - 1);

    internal static unsafe int CmsgHeaderSize => CmsgAlign(sizeof(CMsgHdr));

    /// <summary>CMSG_SPACE: room one control message with <paramref name="dataLength"/> bytes of data takes.</summary>
    internal static int CmsgSpace(int dataLength) => CmsgHeaderSize + CmsgAlign(dataLength);

    /// <summary>CMSG_LEN: the value of cmsg_len for <paramref name="dataLength"/> bytes of data.</summary>
    internal static int CmsgLen(int dataLength) => CmsgHeaderSize + dataLength;
}
