using System.Globalization;
using System.Text;
using ChatterConnector.Engine.Sources;

namespace ChatterConnector.Fakes;

/// <summary>A SOQL error, answered as 400 with its Salesforce error code.</summary>
public sealed class SoqlException : Exception
{
    public SoqlException(string errorCode, string message) : base(message) => ErrorCode = errorCode;
    public string ErrorCode { get; }
}

internal enum TokenKind { Ident, String, Number, DateTime, Symbol, End }

internal readonly record struct Token(TokenKind Kind, string Text, int Position, object? Value = null)
{
    public bool Is(string keyword) => Kind == TokenKind.Ident && string.Equals(Text, keyword, StringComparison.OrdinalIgnoreCase);
    public bool IsSymbol(string symbol) => Kind == TokenKind.Symbol && Text == symbol;
    public override string ToString() => Kind == TokenKind.End ? "<EOF>" : Text;
}

/// <summary>Splits SOQL into tokens: identifiers (with dots), 'strings' with backslash escapes, numbers,
/// datetime/date literals, and the symbols , ( ) = != &lt;&gt; &lt; &gt; &lt;= &gt;=.</summary>
internal static class SoqlLexer
{
    public static List<Token> Tokenize(string text)
    {
        var tokens = new List<Token>();
        var i = 0;
        while (i < text.Length)
        {
            var c = text[i];
            if (char.IsWhiteSpace(c)) { i++; continue; }
            var start = i;
            if (char.IsLetter(c) || c == '_')
            {
                while (i < text.Length && (char.IsLetterOrDigit(text[i]) || text[i] == '_' || text[i] == '.')) i++;
                tokens.Add(new Token(TokenKind.Ident, text[start..i], start));
            }
            else if (c == '\'')
            {
                i++;
                var sb = new StringBuilder();
                var closed = false;
                while (i < text.Length)
                {
                    var ch = text[i++];
                    if (ch == '\'') { closed = true; break; }
                    if (ch == '\\')
                    {
                        if (i >= text.Length) break;
                        var e = text[i++];
                        sb.Append(e switch
                        {
                            'n' => '\n', 'r' => '\r', 't' => '\t', 'b' => '\b', 'f' => '\f',
                            '\'' => '\'', '"' => '"', '\\' => '\\', '%' => '%', '_' => '_',
                            _ => throw new SoqlException("MALFORMED_QUERY", $"Invalid string literal '{text[start..i]}'. Illegal character sequence '\\{e}' in string literal."),
                        });
                        continue;
                    }
                    sb.Append(ch);
                }
                if (!closed) throw new SoqlException("MALFORMED_QUERY", $"unexpected token: '{text[start..]}' (unterminated string literal)");
                tokens.Add(new Token(TokenKind.String, text[start..i], start, sb.ToString()));
            }
            else if (char.IsDigit(c) || ((c == '-' || c == '+') && i + 1 < text.Length && char.IsDigit(text[i + 1])))
            {
                i++;
                while (i < text.Length && char.IsDigit(text[i])) i++;
                if (i - start == 4 && i < text.Length && text[i] == '-' && c != '-' && c != '+')
                {
                    // A date or datetime literal: 2024-03-04, 2024-03-04T10:00:00Z, …T10:00:00.000+0000, …+00:00
                    while (i < text.Length && (char.IsLetterOrDigit(text[i]) || text[i] is ':' or '.' or '+' or '-')) i++;
                    var literal = text[start..i];
                    tokens.Add(new Token(TokenKind.DateTime, literal, start, ParseDateLiteral(literal)));
                }
                else
                {
                    if (i < text.Length && text[i] == '.') { i++; while (i < text.Length && char.IsDigit(text[i])) i++; }
                    var literal = text[start..i];
                    tokens.Add(new Token(TokenKind.Number, literal, start, decimal.Parse(literal, NumberStyles.Float, CultureInfo.InvariantCulture)));
                }
            }
            else
            {
                string? symbol = null;
                if (i + 1 < text.Length)
                {
                    var two = text.Substring(i, 2);
                    if (two is "!=" or "<>" or "<=" or ">=") symbol = two;
                }
                symbol ??= c is ',' or '(' or ')' or '=' or '<' or '>' ? c.ToString() : null;
                if (symbol == null) throw new SoqlException("MALFORMED_QUERY", $"unexpected token: '{c}'");
                i += symbol.Length;
                tokens.Add(new Token(TokenKind.Symbol, symbol, start));
            }
        }
        tokens.Add(new Token(TokenKind.End, "", text.Length));
        return tokens;
    }

    private static DateTimeOffset ParseDateLiteral(string literal)
    {
        if (literal.Length == 10 && DateTime.TryParseExact(literal, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date))
            return new DateTimeOffset(date, TimeSpan.Zero);
        var t = literal;
        if (t.EndsWith("Z", StringComparison.Ordinal)) t = t[..^1] + "+0000";
        if (t.Length > 19 && t.IndexOf('T') == 10 && (t.Contains('+') || t.LastIndexOf('-') > 10) && SalesforceDate.TryParse(t, out var value))
            return value;
        throw new SoqlException("MALFORMED_QUERY", $"line 1:0 no viable alternative at character ' ': invalid datetime literal '{literal}'");
    }
}

// ---- the syntax tree --------------------------------------------------------------------------

internal sealed class SoqlQuery
{
    public required string Object { get; init; }
    public required List<string> Fields { get; init; }
    public bool CountOnly { get; init; }
    public SoqlCondition? Where { get; init; }
    public List<(string Field, bool Descending, bool NullsLast)> OrderBy { get; init; } = new();
    public int? Limit { get; init; }
    public int? Offset { get; init; }
}

internal abstract class SoqlCondition { }
internal sealed class AndCondition(List<SoqlCondition> parts) : SoqlCondition { public List<SoqlCondition> Parts { get; } = parts; }
internal sealed class OrCondition(List<SoqlCondition> parts) : SoqlCondition { public List<SoqlCondition> Parts { get; } = parts; }
internal sealed class NotCondition(SoqlCondition inner) : SoqlCondition { public SoqlCondition Inner { get; } = inner; }
internal sealed class CompareCondition(string field, string op, Token literal) : SoqlCondition
{
    public string Field { get; } = field; public string Op { get; } = op; public Token Literal { get; } = literal;
}
internal sealed class InCondition(string field, bool negated, List<Token> literals) : SoqlCondition
{
    public string Field { get; } = field; public bool Negated { get; } = negated; public List<Token> Literals { get; } = literals;
}
internal sealed class LikeCondition(string field, string pattern) : SoqlCondition
{
    public string Field { get; } = field; public string Pattern { get; } = pattern;
}

/// <summary>Recursive-descent parser for SELECT f, … FROM Obj [WHERE …] [ORDER BY …] [LIMIT n] [OFFSET n].
/// Like Salesforce, it refuses AND and OR mixed at one level without parentheses.</summary>
internal sealed class SoqlParser
{
    private readonly List<Token> _tokens;
    private int _pos;

    private SoqlParser(List<Token> tokens) => _tokens = tokens;

    public static SoqlQuery Parse(string soql)
    {
        if (string.IsNullOrWhiteSpace(soql)) throw new SoqlException("MALFORMED_QUERY", "unexpected token: <EOF>");
        return new SoqlParser(SoqlLexer.Tokenize(soql)).ParseQuery();
    }

    private Token Peek => _tokens[_pos];
    private Token Next() => _tokens[_pos++];

    private static SoqlException Unexpected(Token t) => new("MALFORMED_QUERY", $"unexpected token: '{t}'");

    private void ExpectKeyword(string keyword)
    {
        if (!Peek.Is(keyword)) throw Unexpected(Peek);
        _pos++;
    }

    private void ExpectSymbol(string symbol)
    {
        if (!Peek.IsSymbol(symbol)) throw Unexpected(Peek);
        _pos++;
    }

    private static readonly HashSet<string> Reserved = new(StringComparer.OrdinalIgnoreCase)
    {
        "SELECT", "FROM", "WHERE", "ORDER", "BY", "LIMIT", "OFFSET", "AND", "OR", "NOT", "IN", "LIKE", "ASC", "DESC", "NULLS",
        "TRUE", "FALSE", "NULL", "GROUP", "HAVING",
    };

    private string Identifier()
    {
        var t = Peek;
        if (t.Kind != TokenKind.Ident || Reserved.Contains(t.Text)) throw Unexpected(t);
        _pos++;
        return t.Text;
    }

    private SoqlQuery ParseQuery()
    {
        ExpectKeyword("SELECT");
        var fields = new List<string>();
        var countOnly = false;
        if (Peek.Is("COUNT") && _tokens[_pos + 1].IsSymbol("("))
        {
            _pos++;
            ExpectSymbol("(");
            ExpectSymbol(")");
            countOnly = true;
        }
        else
        {
            fields.Add(Identifier());
            while (Peek.IsSymbol(",")) { _pos++; fields.Add(Identifier()); }
        }
        ExpectKeyword("FROM");
        var obj = Identifier();
        SoqlCondition? where = null;
        if (Peek.Is("WHERE")) { _pos++; where = ParseCondition(); }
        var orderBy = new List<(string, bool, bool)>();
        if (Peek.Is("ORDER"))
        {
            _pos++;
            ExpectKeyword("BY");
            do
            {
                if (orderBy.Count > 0) _pos++;
                var field = Identifier();
                var descending = false;
                if (Peek.Is("ASC")) _pos++;
                else if (Peek.Is("DESC")) { _pos++; descending = true; }
                var nullsLast = descending; // Salesforce: NULLS FIRST for ASC, NULLS LAST for DESC
                if (Peek.Is("NULLS"))
                {
                    _pos++;
                    if (Peek.Is("FIRST")) nullsLast = false;
                    else if (Peek.Is("LAST")) nullsLast = true;
                    else throw Unexpected(Peek);
                    _pos++;
                }
                orderBy.Add((field, descending, nullsLast));
            } while (Peek.IsSymbol(","));
        }
        int? limit = null, offset = null;
        if (Peek.Is("LIMIT")) { _pos++; limit = NonNegativeInt(); }
        if (Peek.Is("OFFSET")) { _pos++; offset = NonNegativeInt(); }
        if (Peek.Kind != TokenKind.End) throw Unexpected(Peek);
        return new SoqlQuery { Object = obj, Fields = fields, CountOnly = countOnly, Where = where, OrderBy = orderBy, Limit = limit, Offset = offset };
    }

    private int NonNegativeInt()
    {
        var t = Next();
        if (t.Kind != TokenKind.Number || t.Text.Contains('.') || t.Text.StartsWith('-') || !int.TryParse(t.Text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n))
            throw Unexpected(t);
        return n;
    }

    // condition := unary { (AND | OR) unary }   — one operator kind per level
    private SoqlCondition ParseCondition()
    {
        var first = ParseUnary();
        if (!Peek.Is("AND") && !Peek.Is("OR")) return first;
        var op = Peek.Text.ToUpperInvariant();
        var parts = new List<SoqlCondition> { first };
        while (Peek.Is("AND") || Peek.Is("OR"))
        {
            if (!Peek.Is(op)) throw Unexpected(Peek); // a AND b OR c: Salesforce wants parentheses
            _pos++;
            parts.Add(ParseUnary());
        }
        return op == "AND" ? new AndCondition(parts) : new OrCondition(parts);
    }

    private SoqlCondition ParseUnary()
    {
        if (Peek.Is("NOT")) { _pos++; return new NotCondition(ParseUnary()); }
        if (Peek.IsSymbol("("))
        {
            _pos++;
            var inner = ParseCondition();
            ExpectSymbol(")");
            return inner;
        }
        var field = Identifier();
        if (Peek.Is("NOT") && _tokens[_pos + 1].Is("IN")) { _pos += 2; return new InCondition(field, true, LiteralList()); }
        if (Peek.Is("IN")) { _pos++; return new InCondition(field, false, LiteralList()); }
        if (Peek.Is("LIKE"))
        {
            _pos++;
            var t = Next();
            if (t.Kind != TokenKind.String) throw Unexpected(t);
            return new LikeCondition(field, (string)t.Value!);
        }
        var opToken = Next();
        if (opToken.Kind != TokenKind.Symbol || opToken.Text is "," or "(" or ")") throw Unexpected(opToken);
        var op = opToken.Text == "<>" ? "!=" : opToken.Text;
        return new CompareCondition(field, op, Literal());
    }

    private List<Token> LiteralList()
    {
        ExpectSymbol("(");
        var list = new List<Token> { Literal() };
        while (Peek.IsSymbol(",")) { _pos++; list.Add(Literal()); }
        ExpectSymbol(")");
        return list;
    }

    private Token Literal()
    {
        var t = Next();
        if (t.Kind is TokenKind.String or TokenKind.Number or TokenKind.DateTime) return t;
        if (t.Is("true") || t.Is("false") || t.Is("null")) return t;
        throw Unexpected(t);
    }
}
