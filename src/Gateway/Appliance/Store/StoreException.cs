namespace Branchgate.Appliance.Store;

/// <summary>
/// The store file cannot be used: not a Branchgate store, damaged, written by a newer version, or a failed write.
/// The message is a sentence for the administrator and says whether the file was left unmodified.
/// </summary>
public sealed class StoreException : Exception
{
    public StoreException()
    {
    }

    public StoreException(string message)
        : base(message)
    {
    }

    public StoreException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
