using System.Collections;
using System.Globalization;
using System.Linq.Expressions;
using System.Reflection;
using System.Text.RegularExpressions;
using ChatterConnector.Engine.Sources;
using ChatterConnector.Engine.Sources.Sample;

namespace ChatterConnector.Fakes;

internal enum FieldKind { Id, String, Bool, Number, DateTime, Url }

internal sealed class FieldDef
{
    public required string Name { get; init; }
    public required FieldKind Kind { get; init; }
    public required int Index { get; init; }
    public Func<object, string>? Getter { get; init; } // null for computed fields (VersionData)
}

/// <summary>One queryable object: the SampleOrg list it is served from and its fields (the row class's string properties).</summary>
internal sealed class ObjectDef
{
    public required string Name { get; init; }
    public required Func<SampleOrg, IList> Rows { get; init; }
    public required List<FieldDef> Fields { get; init; }
    public required Dictionary<string, FieldDef> ByName { get; init; }
    public bool IsPrivate { get; init; }
    public FieldDef? IdField => ByName.GetValueOrDefault("Id");
    public FieldDef? IsDeletedField => ByName.GetValueOrDefault("IsDeleted");

    public FieldDef Field(string name) =>
        ByName.TryGetValue(name, out var f) ? f
            : throw new SoqlException("INVALID_FIELD", $"No such column '{name}' on entity '{Name}'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.");
}

internal static class FakeSchema
{
    private static readonly HashSet<string> DateTimeFields = new(StringComparer.Ordinal) { "CreatedDate", "LastEditDate", "SystemModstamp", "SentDate" };
    private static readonly HashSet<string> NumberFields = new(StringComparer.Ordinal) { "Revision", "ContentSize" };

    public static readonly Dictionary<string, ObjectDef> Objects = new ObjectDef[]
    {
        Define<UserRow>("User", o => o.Users),
        Define<CollaborationGroupRow>("CollaborationGroup", o => o.Groups),
        Define<CollaborationGroupMemberRow>("CollaborationGroupMember", o => o.GroupMembers),
        Define<FeedItemRow>("FeedItem", o => o.FeedItems),
        Define<FeedCommentRow>("FeedComment", o => o.FeedComments),
        Define<FeedRevisionRow>("FeedRevision", o => o.FeedRevisions),
        Define<FeedAttachmentRow>("FeedAttachment", o => o.FeedAttachments),
        Define<ContentVersionRow>("ContentVersion", o => o.ContentVersions, "VersionData"),
        Define<ChatterConversationMemberRow>("ChatterConversationMember", o => o.ConversationMembers, isPrivate: true),
        Define<ChatterMessageRow>("ChatterMessage", o => o.Messages, isPrivate: true),
    }.ToDictionary(d => d.Name, StringComparer.OrdinalIgnoreCase);

    private static ObjectDef Define<T>(string name, Func<SampleOrg, IList> rows, string? urlField = null, bool isPrivate = false)
    {
        var fields = new List<FieldDef>();
        foreach (var p in typeof(T).GetProperties(BindingFlags.Public | BindingFlags.Instance)
                     .Where(p => p.PropertyType == typeof(string) && p.GetMethod != null).OrderBy(p => p.MetadataToken))
        {
            var arg = Expression.Parameter(typeof(object), "row");
            var getter = Expression.Lambda<Func<object, string>>(Expression.Property(Expression.Convert(arg, typeof(T)), p), arg).Compile();
            fields.Add(new FieldDef { Name = p.Name, Kind = KindOf(p.Name), Index = fields.Count, Getter = getter });
        }
        if (urlField != null) fields.Add(new FieldDef { Name = urlField, Kind = FieldKind.Url, Index = fields.Count });
        return new ObjectDef
        {
            Name = name, Rows = rows, Fields = fields, IsPrivate = isPrivate,
            ByName = fields.ToDictionary(f => f.Name, StringComparer.OrdinalIgnoreCase),
        };
    }

    private static FieldKind KindOf(string name)
    {
        if (DateTimeFields.Contains(name)) return FieldKind.DateTime;
        if (NumberFields.Contains(name)) return FieldKind.Number;
        if (name.Length > 2 && name.StartsWith("Is", StringComparison.Ordinal) && char.IsUpper(name[2])) return FieldKind.Bool;
        if (name == "Id" || name.EndsWith("Id", StringComparison.Ordinal)) return FieldKind.Id;
        return FieldKind.String;
    }
}

/// <summary>A query's fixed result: the selected fields and each row's values, taken when the query ran.</summary>
internal sealed class QueryResult
{
    public required ObjectDef Object { get; init; }
    public required List<FieldDef> Fields { get; init; }
    public required List<string?[]> Rows { get; init; }
    public required int TotalSize { get; init; }
}

internal static class SoqlExecutor
{
    /// <summary>Runs a parsed query over a snapshot of the org taken under the org's lock.</summary>
    public static QueryResult Execute(SoqlQuery query, SampleOrg org, bool includeDeleted)
    {
        if (!FakeSchema.Objects.TryGetValue(query.Object, out var obj))
            throw new SoqlException("INVALID_TYPE", $"sObject type '{query.Object}' is not supported. If you are attempting to use a custom object, be sure to append the '__c' after the entity name. Please reference your WSDL or the describe call for the appropriate names.");

        // Resolve and type-check everything before reading a row.
        var selected = new List<FieldDef>();
        foreach (var name in query.Fields)
        {
            var f = obj.Field(name);
            if (selected.Contains(f)) throw new SoqlException("MALFORMED_QUERY", $"duplicate field selected: {f.Name}");
            selected.Add(f);
        }
        var predicate = query.Where == null ? null : Compile(query.Where, obj);
        var order = query.OrderBy.Select(o =>
        {
            var f = obj.Field(o.Field);
            if (f.Kind == FieldKind.Url) throw new SoqlException("INVALID_FIELD", $"field '{f.Name}' can not be sorted in a query call");
            return (f, o.Descending, o.NullsLast);
        }).ToList();

        var snapshot = new List<string?[]>();
        var deleted = obj.IsDeletedField;
        lock (org)
        {
            foreach (var row in obj.Rows(org))
            {
                var values = new string?[obj.Fields.Count];
                foreach (var f in obj.Fields)
                {
                    var v = f.Getter?.Invoke(row!);
                    values[f.Index] = string.IsNullOrEmpty(v) ? null : v;
                }
                if (!includeDeleted && deleted != null && values[deleted.Index] == "true") continue;
                if (predicate != null && !predicate(values)) continue;
                snapshot.Add(values);
            }
        }

        IEnumerable<string?[]> rows = snapshot;
        if (order.Count > 0)
        {
            IOrderedEnumerable<string?[]>? sorted = null;
            foreach (var (f, desc, nullsLast) in order)
            {
                var comparer = Comparer<string?>.Create((a, b) =>
                {
                    if (a == null || b == null)
                    {
                        if (a == b) return 0;
                        // Nulls go where NULLS FIRST/LAST says, whatever the direction.
                        var r = a == null ? -1 : 1;
                        if (nullsLast) r = -r;
                        return desc ? -r : r;
                    }
                    return CompareValues(f.Kind, a, b);
                });
                Func<string?[], string?> key = v => v[f.Index];
                sorted = sorted == null
                    ? (desc ? rows.OrderByDescending(key, comparer) : rows.OrderBy(key, comparer))
                    : (desc ? sorted.ThenByDescending(key, comparer) : sorted.ThenBy(key, comparer));
            }
            rows = sorted!;
        }
        if (query.Offset is int offset) rows = rows.Skip(offset);
        if (query.Limit is int limit) rows = rows.Take(limit);
        var list = rows.ToList();
        if (query.CountOnly) return new QueryResult { Object = obj, Fields = selected, Rows = new List<string?[]>(), TotalSize = list.Count };
        return new QueryResult { Object = obj, Fields = selected, Rows = list, TotalSize = list.Count };
    }

    private static int CompareValues(FieldKind kind, string a, string b)
    {
        switch (kind)
        {
            case FieldKind.DateTime:
                if (SalesforceDate.TryParse(a, out var da) && SalesforceDate.TryParse(b, out var db)) return da.CompareTo(db);
                return string.CompareOrdinal(a, b);
            case FieldKind.Number:
                return decimal.Parse(a, CultureInfo.InvariantCulture).CompareTo(decimal.Parse(b, CultureInfo.InvariantCulture));
            case FieldKind.Id:
            case FieldKind.Bool:
                return string.CompareOrdinal(a, b);
            default:
                return StringComparer.OrdinalIgnoreCase.Compare(a, b);
        }
    }

    private static Func<string?[], bool> Compile(SoqlCondition condition, ObjectDef obj)
    {
        switch (condition)
        {
            case AndCondition and:
            {
                var parts = and.Parts.Select(p => Compile(p, obj)).ToArray();
                return v => parts.All(p => p(v));
            }
            case OrCondition or:
            {
                var parts = or.Parts.Select(p => Compile(p, obj)).ToArray();
                return v => parts.Any(p => p(v));
            }
            case NotCondition not:
            {
                var inner = Compile(not.Inner, obj);
                return v => !inner(v);
            }
            case CompareCondition c:
            {
                var f = Filterable(obj, c.Field);
                var literal = LiteralFor(f, c.Literal);
                if (literal == null && c.Op is not ("=" or "!="))
                    throw new SoqlException("MALFORMED_QUERY", $"invalid operator on null for field '{f.Name}'");
                return v => CompareMatches(f, v[f.Index], c.Op, literal);
            }
            case InCondition i:
            {
                var f = Filterable(obj, i.Field);
                var literals = i.Literals.Select(l => LiteralFor(f, l)).ToArray();
                return v =>
                {
                    var any = literals.Any(l => CompareMatches(f, v[f.Index], "=", l));
                    return i.Negated ? !any : any;
                };
            }
            case LikeCondition like:
            {
                var f = Filterable(obj, like.Field);
                if (f.Kind is not (FieldKind.String or FieldKind.Id))
                    throw new SoqlException("INVALID_FIELD", $"invalid operator on field '{f.Name}'");
                var regex = new Regex("^" + Regex.Escape(like.Pattern).Replace("%", ".*").Replace("_", ".") + "$",
                    RegexOptions.IgnoreCase | RegexOptions.Singleline | RegexOptions.CultureInvariant);
                return v => v[f.Index] is string s && regex.IsMatch(s);
            }
            default:
                throw new InvalidOperationException(condition.GetType().Name);
        }
    }

    private static FieldDef Filterable(ObjectDef obj, string name)
    {
        var f = obj.Field(name);
        if (f.Kind == FieldKind.Url) throw new SoqlException("INVALID_FIELD", $"field '{f.Name}' can not be filtered in query call");
        return f;
    }

    /// <summary>The literal as the field's stored string (null for null); refuses a literal of the wrong type, as Salesforce does.</summary>
    private static string? LiteralFor(FieldDef f, Token t)
    {
        if (t.Is("null")) return null;
        string TypeError(string type, bool quoted) =>
            throw new SoqlException("INVALID_FIELD", $"value of filter criterion for field '{f.Name}' must be of type {type} and should {(quoted ? "" : "not ")}be enclosed in quotes");
        switch (f.Kind)
        {
            case FieldKind.DateTime:
                if (t.Kind != TokenKind.DateTime) return TypeError("dateTime", false);
                return SalesforceDate.Format((DateTimeOffset)t.Value!);
            case FieldKind.Bool:
                if (!t.Is("true") && !t.Is("false")) return TypeError("boolean", false);
                return t.Text.ToLowerInvariant();
            case FieldKind.Number:
                if (t.Kind != TokenKind.Number) return TypeError("double", false);
                return ((decimal)t.Value!).ToString(CultureInfo.InvariantCulture);
            default:
                if (t.Kind != TokenKind.String) return TypeError("string", true);
                return (string)t.Value!;
        }
    }

    private static bool CompareMatches(FieldDef f, string? value, string op, string? literal)
    {
        if (literal == null) return op == "=" ? value == null : value != null;
        if (value == null) return op == "!=";
        var c = CompareValues(f.Kind, value, literal);
        return op switch
        {
            "=" => c == 0,
            "!=" => c != 0,
            "<" => c < 0,
            ">" => c > 0,
            "<=" => c <= 0,
            ">=" => c >= 0,
            _ => throw new SoqlException("MALFORMED_QUERY", $"unexpected token: '{op}'"),
        };
    }
}
