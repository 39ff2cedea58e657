using Branchgate.Appliance.Model;

namespace Branchgate.Appliance.Store;

/// <summary>
/// The appliance's persistent state: desired configuration, users and the audit log. Every method is atomic (one
/// LiteDB transaction) and thread-safe. Implementations never write a secret anywhere but the store file itself.
/// </summary>
public interface IApplianceStore : IDisposable
{
    /// <summary>The file it is backed by.</summary>
    string Path { get; }

    ApplianceConfig LoadConfig();

    /// <summary>Replaces the whole desired state and appends <paramref name="audit"/>, in one transaction.</summary>
    void Commit(ApplianceConfig config, AuditEntry audit);

    /// <summary>Appends an entry that changes no configuration (a failed login, a refused change).</summary>
    AuditEntry AppendAudit(AuditEntry entry);

    /// <summary>Newest first: up to <paramref name="take"/> entries with Id below <paramref name="beforeId"/> (null: from the newest).</summary>
    IReadOnlyList<AuditEntry> ReadAudit(long? beforeId = null, int take = 100);

    IReadOnlyList<UserRecord> ListUsers();

    UserRecord? FindUser(string name);

    /// <summary>Creates or replaces the user; appends <paramref name="audit"/> when given (login counters pass null).</summary>
    void SaveUser(UserRecord user, AuditEntry? audit);

    bool DeleteUser(string name, AuditEntry audit);

    /// <summary>Writes a consistent copy of the store file (a backup download).</summary>
    void Backup(Stream destination);
}
