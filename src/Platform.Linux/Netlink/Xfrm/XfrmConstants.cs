namespace Branchgate.Platform.Linux.Netlink.Xfrm;

/// <summary>Message types, attribute types and values of linux/xfrm.h that the dumps use.</summary>
internal static class XfrmConstants
{
    public const ushort XFRM_MSG_NEWSA = 0x10;
    public const ushort XFRM_MSG_GETSA = 0x12;
    public const ushort XFRM_MSG_NEWPOLICY = 0x13;
    public const ushort XFRM_MSG_GETPOLICY = 0x15;
    public const ushort XFRM_MSG_GETDEFAULT = 0x28;

    public const ushort XFRMA_ALG_AUTH = 1;
    public const ushort XFRMA_ALG_CRYPT = 2;
    public const ushort XFRMA_ALG_COMP = 3;
    public const ushort XFRMA_ENCAP = 4;
    public const ushort XFRMA_TMPL = 5;
    public const ushort XFRMA_POLICY_TYPE = 16;
    public const ushort XFRMA_ALG_AEAD = 18;
    public const ushort XFRMA_ALG_AUTH_TRUNC = 20;
    public const ushort XFRMA_MARK = 21;
    public const ushort XFRMA_SET_MARK = 29;
    public const ushort XFRMA_SET_MARK_MASK = 30;
    public const ushort XFRMA_IF_ID = 31;

    /// <summary>Directions 0..2 are the SPD's; 3..5 (XFRM_POLICY_MAX + dir) are per-socket policies.</summary>
    public const byte XFRM_POLICY_MAX = 3;

    /// <summary>XFRM_MODE_MAX: modes are below this.</summary>
    public const byte XFRM_MODE_MAX = 5;

    /// <summary>Length of the name field that starts struct xfrm_algo, xfrm_algo_auth and xfrm_algo_aead.</summary>
    public const int AlgorithmNameLength = 64;

    public const ushort AF_UNSPEC = 0;
    public const ushort AF_INET = 2;
    public const ushort AF_INET6 = 10;
}
