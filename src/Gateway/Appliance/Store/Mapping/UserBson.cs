using System.Globalization;
using Branchgate.Appliance.Model;
using LiteDB;

namespace Branchgate.Appliance.Store.Mapping;

/// <summary>A <see cref="UserRecord"/> as a document of the "users" collection, keyed by name.</summary>
internal static class UserBson
{
    public const string Collection = "users";

    public static BsonDocument ToBson(UserRecord value) => new()
    {
        ["_id"] = value.Name,
        ["name"] = value.Name,
        ["passwordHash"] = value.PasswordHash,
        ["totpSecret"] = value.TotpSecret is { } secret ? secret : BsonValue.Null,
        ["role"] = value.Role,
        ["failedLogins"] = value.FailedLogins,
        ["lockedUntil"] = TimeText(value.LockedUntil),
        ["createdAt"] = TimeText(value.CreatedAt),
        ["lastTotpStep"] = value.LastTotpStep is { } step ? step : BsonValue.Null,
    };

    /// <summary>The user, or null and <paramref name="error"/> naming the document and field that is wrong.</summary>
    public static UserRecord? FromBson(BsonDocument document, out string? error)
    {
        var f = new BsonFields(Collection, document);
        var name = f.String("name");
        var passwordHash = f.String("passwordHash");
        var totpSecret = f.NullableString("totpSecret");
        var role = f.String("role");
        var failedLogins = f.Int32("failedLogins");
        var lockedUntil = f.NullableTime("lockedUntil");
        var createdAt = f.Time("createdAt");
        var lastTotpStep = f.NullableInt64("lastTotpStep");
        if (failedLogins < 0)
        {
            f.Fail("failedLogins", "is negative");
        }

        error = f.Error;
        if (error is not null)
        {
            return null;
        }

        return new UserRecord
        {
            Name = name,
            PasswordHash = passwordHash,
            TotpSecret = totpSecret,
            Role = role,
            FailedLogins = failedLogins,
            LockedUntil = lockedUntil,
            CreatedAt = createdAt,
            LastTotpStep = lastTotpStep,
        };
    }

    internal static BsonValue TimeText(DateTimeOffset? time) =>
        time is { } t ? t.ToString("o", CultureInfo.InvariantCulture) : BsonValue.Null;
}
