using System;
using System.Collections.Generic;
using System.Net;
using System.Text.RegularExpressions;
using ChatterConnector.Engine.Model;

namespace ChatterConnector.Engine.Sources
{
    /// <summary>
    /// Finds @mentions in a body: an '@' followed by exactly one user's full Name. The longest
    /// name that matches wins; a name two users share mentions nobody.
    /// </summary>
    public sealed class MentionResolver
    {
        private static readonly Regex Tags = new Regex("<[^>]*>", RegexOptions.Compiled | RegexOptions.CultureInvariant);
        private readonly Dictionary<string, List<ChatterUser>> _byName = new Dictionary<string, List<ChatterUser>>(StringComparer.OrdinalIgnoreCase);
        private readonly int _maxWords;

        public MentionResolver(IEnumerable<ChatterUser> users)
        {
            foreach (var u in users)
            {
                var name = Normalize(u.Name);
                if (name.Length == 0) continue;
                if (!_byName.TryGetValue(name, out var list)) _byName[name] = list = new List<ChatterUser>();
                list.Add(u);
                _maxWords = Math.Max(_maxWords, name.Split(' ').Length);
            }
        }

        public List<ChatterUser> Resolve(string? body, bool isRichText)
        {
            var found = new List<ChatterUser>();
            if (string.IsNullOrEmpty(body) || body!.IndexOf('@') < 0) return found;
            var text = isRichText ? WebUtility.HtmlDecode(Tags.Replace(body, " ")) : body;
            for (var at = text.IndexOf('@'); at >= 0; at = text.IndexOf('@', at + 1))
            {
                // "ann@contoso.com" is an address, not a mention.
                if (at > 0 && char.IsLetterOrDigit(text[at - 1])) continue;
                var user = Longest(text, at + 1);
                if (user != null && !found.Contains(user)) found.Add(user);
            }
            return found;
        }

        private ChatterUser? Longest(string text, int start)
        {
            var words = new List<int>(); // end index of each successive word
            var i = start;
            while (words.Count < _maxWords && i < text.Length)
            {
                if (char.IsWhiteSpace(text[i])) break;
                while (i < text.Length && !char.IsWhiteSpace(text[i])) i++;
                words.Add(i);
                // one space between words, as in a Name
                if (i < text.Length && text[i] == ' ' && i + 1 < text.Length && !char.IsWhiteSpace(text[i + 1])) i++;
                else break;
            }
            for (var n = words.Count; n >= 1; n--)
            {
                var candidate = text.Substring(start, words[n - 1] - start);
                // Trailing punctuation after a name ("@Ann Lee," or "@Ann Lee.") is not part of it.
                var trimmed = candidate.TrimEnd('.', ',', ';', ':', '!', '?', ')', '\'', '"');
                foreach (var c in trimmed == candidate ? new[] { candidate } : new[] { candidate, trimmed })
                    if (_byName.TryGetValue(c, out var users))
                        return users.Count == 1 ? users[0] : null;
            }
            return null;
        }

        private static string Normalize(string? name) =>
            string.IsNullOrWhiteSpace(name) ? "" : Regex.Replace(name!.Trim(), @"\s+", " ");
    }
}
