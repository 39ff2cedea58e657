using System.Globalization;
using LiteDB;

namespace Branchgate.Appliance.Store.Mapping;

/// <summary>
/// Reads the fields of one stored document, checking each one's type, and remembers the first problem as a sentence
/// naming the collection, the document and the field ("sites document 3: field 'allowedIps' item 1: ..."). Every
/// accessor returns a harmless default after a problem, so a mapping reads all its fields and then checks
/// <see cref="Error"/> once; nothing here throws on a bad document.
/// </summary>
internal sealed class BsonFields
{
    private readonly BsonDocument _document;
    private readonly string _where;

    public BsonFields(string collection, BsonDocument document)
    {
        _document = document;
        var id = document.TryGetValue("_id", out var idValue) ? Describe(idValue) : "(no _id)";
        _where = $"{collection} document {id}";
    }

    /// <summary>The first problem found, or null when every field read so far was well formed.</summary>
    public string? Error { get; private set; }

    /// <summary>Records a problem found by the caller (a value of the right type that does not make sense).</summary>
    public void Fail(string field, string problem) =>
        Error ??= $"{_where}: field '{field}' {(problem.Length <= 200 ? problem : string.Concat(problem.AsSpan(0, 197), "..."))}";

    public string String(string field) => NullableString(field, allowNull: false) ?? "";

    public string? NullableString(string field) => NullableString(field, allowNull: true);

    public int Int32(string field) => Get(field, BsonType.Int32, "a 32-bit integer", allowNull: false)?.AsInt32 ?? 0;

    public int? NullableInt32(string field) => Get(field, BsonType.Int32, "a 32-bit integer", allowNull: true)?.AsInt32;

    public long Int64(string field) => Get(field, BsonType.Int64, "a 64-bit integer", allowNull: false)?.AsInt64 ?? 0;

    public long? NullableInt64(string field) => Get(field, BsonType.Int64, "a 64-bit integer", allowNull: true)?.AsInt64;

    public bool Boolean(string field) => Get(field, BsonType.Boolean, "true or false", allowNull: false)?.AsBoolean ?? false;

    public byte[]? NullableBinary(string field, int length)
    {
        var value = Get(field, BsonType.Binary, "binary", allowNull: true);
        if (value is null)
        {
            return null;
        }

        var bytes = value.AsBinary;
        if (bytes.Length != length)
        {
            Fail(field, $"is {bytes.Length} bytes, not {length}");
            return null;
        }

        return bytes;
    }

    public byte[] Binary(string field, int length)
    {
        if (Get(field, BsonType.Binary, "binary", allowNull: false) is null)
        {
            return new byte[length];
        }

        return NullableBinary(field, length) ?? new byte[length];
    }

    /// <summary>A time stored as round-trip ("o") text, which keeps the offset and every tick.</summary>
    public DateTimeOffset? NullableTime(string field)
    {
        var text = NullableString(field, allowNull: true);
        if (text is null)
        {
            return null;
        }

        if (!DateTimeOffset.TryParseExact(text, "o", CultureInfo.InvariantCulture, DateTimeStyles.None, out var time))
        {
            Fail(field, $"'{Shorten(text)}' is not a time");
            return null;
        }

        return time;
    }

    public DateTimeOffset Time(string field)
    {
        if (Get(field, BsonType.String, "a time", allowNull: false) is null)
        {
            return default;
        }

        return NullableTime(field) ?? default;
    }

    /// <summary>An array of strings, each parsed by <paramref name="parse"/> (which returns the value or an error).</summary>
    public List<T> List<T>(string field, TryParse<T> parse)
    {
        var result = new List<T>();
        var value = Get(field, BsonType.Array, "an array", allowNull: false);
        if (value is null)
        {
            return result;
        }

        var items = value.AsArray;
        for (var i = 0; i < items.Count; i++)
        {
            if (!items[i].IsString)
            {
                Fail(field, $"item {i} is {Describe(items[i].Type)}, not text");
                return result;
            }

            if (!parse(items[i].AsString, out var item, out var error))
            {
                Fail(field, $"item {i} '{Shorten(items[i].AsString)}': {error}");
                return result;
            }

            result.Add(item);
        }

        return result;
    }

    public delegate bool TryParse<T>(string text, out T value, out string? error);

    private string? NullableString(string field, bool allowNull) =>
        Get(field, BsonType.String, "text", allowNull)?.AsString;

    private BsonValue? Get(string field, BsonType type, string expected, bool allowNull)
    {
        if (!_document.TryGetValue(field, out var value))
        {
            Fail(field, "is missing");
            return null;
        }

        if (value.IsNull)
        {
            if (!allowNull)
            {
                Fail(field, $"is null, not {expected}");
            }

            return null;
        }

        if (value.Type != type)
        {
            Fail(field, $"is {Describe(value.Type)}, not {expected}");
            return null;
        }

        return value;
    }

    private static string Describe(BsonType type) => type.ToString().ToLowerInvariant();

    private static string Describe(BsonValue id) => id.Type switch
    {
        BsonType.String => $"'{Shorten(id.AsString)}'",
        BsonType.Int32 => id.AsInt32.ToString(CultureInfo.InvariantCulture),
        BsonType.Int64 => id.AsInt64.ToString(CultureInfo.InvariantCulture),
        _ => $"(_id of type {Describe(id.Type)})",
    };

    /// <summary>Bad text is quoted in messages, but never at length (it may be anything).</summary>
    internal static string Shorten(string text) => text.Length <= 64 ? text : string.Concat(text.AsSpan(0, 61), "...");
}
