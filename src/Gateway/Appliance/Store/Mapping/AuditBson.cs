using Branchgate.Appliance.Model;
using LiteDB;

namespace Branchgate.Appliance.Store.Mapping;

/// <summary>An <see cref="AuditEntry"/> as a document of the "audit" collection; the store assigns _id (increasing).</summary>
internal static class AuditBson
{
    public const string Collection = "audit";

    /// <summary>The document without an _id (LiteDB assigns the next Int64).</summary>
    public static BsonDocument ToBson(AuditEntry value) => new()
    {
        ["time"] = UserBson.TimeText(value.Time),
        ["actor"] = value.Actor,
        ["action"] = value.Action,
        ["target"] = value.Target,
        ["before"] = value.Before is { } before ? before : BsonValue.Null,
        ["after"] = value.After is { } after ? after : BsonValue.Null,
        ["forced"] = value.Forced,
        ["succeeded"] = value.Succeeded,
        ["detail"] = value.Detail is { } detail ? detail : BsonValue.Null,
    };

    /// <summary>The entry, or null and <paramref name="error"/> naming the document and field that is wrong.</summary>
    public static AuditEntry? FromBson(BsonDocument document, out string? error)
    {
        var f = new BsonFields(Collection, document);
        var id = f.Int64("_id");
        var time = f.Time("time");
        var actor = f.String("actor");
        var action = f.String("action");
        var target = f.String("target");
        var before = f.NullableString("before");
        var after = f.NullableString("after");
        var forced = f.Boolean("forced");
        var succeeded = f.Boolean("succeeded");
        var detail = f.NullableString("detail");
        error = f.Error;
        if (error is not null)
        {
            return null;
        }

        return new AuditEntry
        {
            Id = id,
            Time = time,
            Actor = actor,
            Action = action,
            Target = target,
            Before = before,
            After = after,
            Forced = forced,
            Succeeded = succeeded,
            Detail = detail,
        };
    }
}
