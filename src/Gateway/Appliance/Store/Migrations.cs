using LiteDB;

namespace Branchgate.Appliance.Store;

/// <summary>
/// The schema versions of the store and the steps between them. A store written at version N is brought to
/// <see cref="CurrentVersion"/> when it is opened, all steps in one transaction (a failure leaves it at N); a store of
/// a version above <see cref="CurrentVersion"/> was written by a newer Branchgate and is refused untouched.
/// Add a step (never edit a shipped one) whenever a document gains, loses or changes a field, and raise
/// <see cref="CurrentVersion"/> with it.
/// </summary>
internal static class Migrations
{
    /// <summary>The schema this code reads and writes.</summary>
    public const int CurrentVersion = 2;

    /// <summary>The oldest schema that can still be migrated.</summary>
    public const int OldestVersion = 1;

    /// <summary>One step: turns a store of version <see cref="From"/> into one of version From + 1.</summary>
    public sealed record Step(int From, string Description, Action<LiteDatabase> Apply);

    public static readonly IReadOnlyList<Step> Steps =
    [
        // Version 1 had neither roles nor TOTP replay protection: every user was an administrator.
        new(1, "users get a role ('admin') and a last-used TOTP step (none)", AddUserRoleAndTotpStep),
    ];

    /// <summary>The steps from <paramref name="version"/> to <see cref="CurrentVersion"/>, in order.</summary>
    public static IEnumerable<Step> From(int version) => Steps.Where(s => s.From >= version).OrderBy(s => s.From);

    private static void AddUserRoleAndTotpStep(LiteDatabase database)
    {
        var users = database.GetCollection(Mapping.UserBson.Collection);
        foreach (var user in users.FindAll().ToList())
        {
            if (!user.ContainsKey("role"))
            {
                user["role"] = "admin";
            }

            if (!user.ContainsKey("lastTotpStep"))
            {
                user["lastTotpStep"] = BsonValue.Null;
            }

            users.Update(user);
        }
    }
}
