namespace Branchgate.Uapi;

/// <summary>
/// The error classes a UAPI operation answers with. wireguard-go 0.0.20220316 (ipc/uapi_unix.go) writes them negated:
/// <c>errno=-22</c>; <c>wg</c> reads the number and reports <c>strerror(-N)</c>.
/// </summary>
public enum UapiErrno
{
    /// <summary><c>errno=0</c>: the operation succeeded.</summary>
    None = 0,

    /// <summary>EIO (5): the request could not be read, e.g. a line longer than 65535 bytes.</summary>
    Io = 5,

    /// <summary>EINVAL (22): an unknown key, a malformed value, or a device that refused a new peer.</summary>
    Invalid = 22,

    /// <summary>ENOANO (55): wireguard-go's "other UAPI error"; never produced by our parser.</summary>
    Unknown = 55,

    /// <summary>EPROTO (71): a line without '='.</summary>
    Protocol = 71,

    /// <summary>EADDRINUSE (98): the listen port could not be bound, or the fwmark could not be set on the sockets.</summary>
    AddressInUse = 98,
}
