using Branchgate.Appliance.Model;
using Branchgate.Appliance.Store.Mapping;
using LiteDB;
using static Branchgate.Tests.Appliance.Store.StoreTestData;

namespace Branchgate.Tests.Appliance.Store;

public class BsonMappingTests
{
    private delegate object? FromBson(BsonDocument document, out string? error);

    public static TheoryData<string> Records => new() { "interface", "site", "user", "audit" };

    /// <summary>Every field of a valid document replaced by every wrong kind of value, and removed: the mapping
    /// returns null with an error naming the collection, the document and that field, and never throws.</summary>
    [Theory]
    [MemberData(nameof(Records))]
    public void Every_field_replaced_by_a_wrong_value_is_reported_by_name_without_throwing(string record)
    {
        var (valid, fromBson, collection) = Sample(record);
        Assert.NotNull(fromBson(valid, out var none));
        Assert.Null(none);

        BsonValue[] wrongValues =
        [
            BsonValue.Null, new BsonValue(-1), new BsonValue(long.MaxValue), new BsonValue("10.2.0.1/24"),
            new BsonValue(new byte[3]), new BsonArray(new BsonValue(1)), new BsonArray(new BsonValue("not an address")),
            new BsonDocument { ["x"] = 1 }, new BsonValue(true), new BsonValue(1.5), new BsonValue(DateTime.UnixEpoch),
            new BsonValue(new string('z', 5000)), new BsonArray(new BsonValue(new string('9', 5000))),
        ];
        foreach (var field in valid.Keys.Where(k => k != "_id" || record == "audit").ToList())
        {
            foreach (var wrong in wrongValues.Append(null))
            {
                var document = new BsonDocument(valid.ToDictionary(p => p.Key, p => p.Value));
                if (wrong is null)
                {
                    document.Remove(field);
                }
                else
                {
                    document[field] = wrong;
                }

                var result = fromBson(document, out var error);
                if (result is null)
                {
                    Assert.NotNull(error);
                    Assert.StartsWith(collection + " document ", error, StringComparison.Ordinal);
                    Assert.Contains($"field '{field}'", error, StringComparison.Ordinal);
                    Assert.True(error.Length < 300, error);
                }
                else
                {
                    // The replacement was a valid value there (null for an optional field, any text for a name).
                    Assert.Null(error);
                }
            }
        }
    }

    [Fact]
    public void Out_of_range_numbers_and_unknown_kinds_are_refused()
    {
        var (site, _, _) = Sample("site");
        site["kind"] = "vpn";
        Assert.Null(SiteBson.FromBson(site, out var error));
        Assert.Contains("'vpn' is neither 'site' nor 'remote-worker'", error, StringComparison.Ordinal);

        var (iface, _, _) = Sample("interface");
        iface["listenPort"] = 70000;
        Assert.Null(InterfaceBson.FromBson(iface, out error));
        Assert.Contains("70000 is not a UDP port", error, StringComparison.Ordinal);
        iface["listenPort"] = 1;
        iface["fwMark"] = -1L;
        Assert.Null(InterfaceBson.FromBson(iface, out error));
        Assert.Contains("'fwMark'", error, StringComparison.Ordinal);

        var (user, _, _) = Sample("user");
        user["lockedUntil"] = "tomorrow";
        Assert.Null(UserBson.FromBson(user, out error));
        Assert.Equal("users document 'admin': field 'lockedUntil' 'tomorrow' is not a time", error);
    }

    private static (BsonDocument Valid, FromBson FromBson, string Collection) Sample(string record)
    {
        var config = FullConfig();
        return record switch
        {
            "interface" => (InterfaceBson.ToBson(config.Interfaces[0], 0), (BsonDocument d, out string? e) => InterfaceBson.FromBson(d, out e), InterfaceBson.Collection),
            "site" => (SiteBson.ToBson(config.Sites[0], 0), (BsonDocument d, out string? e) => SiteBson.FromBson(d, out e), SiteBson.Collection),
            "user" => (UserBson.ToBson(new UserRecord
            {
                Name = "admin",
                PasswordHash = "h",
                TotpSecret = "JBSWY3DPEHPK3PXP",
                LockedUntil = DateTimeOffset.UnixEpoch,
                LastTotpStep = 1,
            }), (BsonDocument d, out string? e) => UserBson.FromBson(d, out e), UserBson.Collection),
            "audit" => (WithId(AuditBson.ToBson(Audit()), 7L), (BsonDocument d, out string? e) => AuditBson.FromBson(d, out e), AuditBson.Collection),
            _ => throw new ArgumentOutOfRangeException(nameof(record)),
        };
    }

    private static BsonDocument WithId(BsonDocument document, long id)
    {
        document["_id"] = id;
        return document;
    }
}
