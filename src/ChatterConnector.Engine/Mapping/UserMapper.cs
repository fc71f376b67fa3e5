using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using System.Threading;
using System.Threading.Tasks;
using ChatterConnector.Engine.Model;
using ChatterConnector.Engine.Sources;
using CsvHelper;
using CsvHelper.Configuration;

namespace ChatterConnector.Engine.Mapping
{
    /// <summary>A problem found in a mapping file or a mailbox setting: an error id, what to fix, and the line or value.</summary>
    public sealed class MappingProblem
    {
        public MappingProblem(string errorId, string message, string target)
        {
            ErrorId = errorId; Message = message; Target = target;
        }
        public string ErrorId { get; }
        public string Message { get; }
        public string Target { get; }
    }

    /// <summary>
    /// Resolves Salesforce users to mailboxes: the mapping file first (by user Id, Username or
    /// Email), then the user's own Email when automatic mapping is on, then the default mailbox.
    /// A mailbox outside the accepted domains is not used; the next rule is tried.
    /// </summary>
    public sealed class UserMapper
    {
        private static readonly Regex Address = new Regex(@"^[^\s@<>()\[\]\\,;:""/]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$",
            RegexOptions.Compiled | RegexOptions.CultureInvariant);

        private readonly ChatterConnectorInfo _connector;
        private readonly SourceDirectory _directory;
        private readonly Dictionary<string, string> _rules = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        private readonly Dictionary<string, ChatterUserMappingEntry> _cache = new Dictionary<string, ChatterUserMappingEntry>(StringComparer.Ordinal);

        private readonly Func<string, Task<string?>>? _checkMailbox;
        /// <summary>The target's word on each mailbox asked about so far: null when it can receive messages, else why not.</summary>
        private readonly Dictionary<string, string?> _checked = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);

        /// <param name="connector">The connector whose mapping file, automatic mapping, default mailbox and accepted domains apply.</param>
        /// <param name="directory">The source's users.</param>
        /// <param name="checkMailbox">The target's word on a mailbox: null when it can receive messages, else why not.</param>
        public UserMapper(ChatterConnectorInfo connector, SourceDirectory directory, Func<string, Task<string?>>? checkMailbox = null)
        {
            _connector = connector;
            _directory = directory;
            _checkMailbox = checkMailbox;
            foreach (var rule in connector.MappingRules)
                if (!_rules.ContainsKey(rule.SalesforceUser.Trim())) _rules[rule.SalesforceUser.Trim()] = NormalizeMailbox(rule.Mailbox);
        }

        /// <summary>
        /// How many mailboxes <see cref="Prefetch"/> asks the target about at once (its parallelism):
        /// looking up thousands of participants one after another would take longer than delivering.
        /// </summary>
        public int CheckParallelism { get; set; } = 1;

        /// <summary>True when <paramref name="mailbox"/> is a plain address (local@domain) that is safe as a folder name.</summary>
        public static bool IsValidMailbox(string? mailbox) => mailbox != null && mailbox.Length <= 254 && Address.IsMatch(mailbox.Trim());

        public static string NormalizeMailbox(string mailbox) => mailbox.Trim().ToLowerInvariant();

        public static bool IsAccepted(string mailbox, string[] acceptedDomains)
        {
            if (acceptedDomains == null || acceptedDomains.Length == 0) return true;
            var domain = mailbox.Substring(mailbox.LastIndexOf('@') + 1);
            return acceptedDomains.Any(d => string.Equals(d.Trim().TrimStart('@'), domain, StringComparison.OrdinalIgnoreCase));
        }

        /// <summary>Resolves a user by id; an id the export does not know is unmapped unless a rule or the default catches it.</summary>
        public ChatterUserMappingEntry Resolve(string userId)
        {
            if (_cache.TryGetValue(userId, out var hit)) return hit;
            var (entry, mailbox, source, reason) = Decide(userId);
            if (mailbox != null) Mapped(entry, mailbox, source, reason);
            _cache[userId] = entry;
            return entry;
        }

        /// <summary>
        /// Asks the target, up to <see cref="CheckParallelism"/> at once, about the mailboxes these
        /// users map to and it was not asked about yet; resolving them then waits for nothing.
        /// </summary>
        public void Prefetch(IEnumerable<string> userIds, CancellationToken cancellationToken = default)
        {
            if (_checkMailbox == null) return;
            var mailboxes = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            foreach (var id in userIds)
            {
                if (_cache.ContainsKey(id)) continue;
                var mailbox = Decide(id).Mailbox;
                if (mailbox != null && !_checked.ContainsKey(mailbox)) mailboxes.Add(mailbox);
            }
            if (mailboxes.Count == 0) return;
            if (mailboxes.Count == 1 || CheckParallelism <= 1)
            {
                foreach (var m in mailboxes) Check(m);
                return;
            }
            var checks = CheckAllAsync(mailboxes.ToList(), cancellationToken).GetAwaiter().GetResult();
            foreach (var (mailbox, refused) in checks) _checked[mailbox] = refused;
        }

        private async Task<(string Mailbox, string? Refused)[]> CheckAllAsync(List<string> mailboxes, CancellationToken cancellationToken)
        {
            using var slots = new SemaphoreSlim(CheckParallelism);
            return await Task.WhenAll(mailboxes.Select(async m =>
            {
                await slots.WaitAsync(cancellationToken).ConfigureAwait(false);
                try { return (m, await _checkMailbox!(m).ConfigureAwait(false)); }
                finally { slots.Release(); }
            })).ConfigureAwait(false);
        }

        private string? Check(string mailbox)
        {
            if (_checkMailbox == null) return null;
            if (!_checked.TryGetValue(mailbox, out var refused))
                _checked[mailbox] = refused = _checkMailbox(mailbox).GetAwaiter().GetResult();
            return refused;
        }

        /// <summary>
        /// The mapping of a user before the target is asked: the entry (unmapped, with the reasons,
        /// when no rule gives a mailbox), or the mailbox a rule gives and which rule, for the target to accept.
        /// </summary>
        private (ChatterUserMappingEntry Entry, string? Mailbox, MappingSource Source, string Reason) Decide(string userId)
        {
            var known = _directory.FindUser(userId);
            var user = known ?? new ChatterUser { Id = userId, Name = userId, IsActive = false };
            bool unknown = known == null;
            var entry = new ChatterUserMappingEntry
            {
                ConnectorName = _connector.Name, SalesforceUserId = user.Id, Name = user.Name, Username = user.Username,
                Email = user.Email, IsActive = user.IsActive, Source = MappingSource.Unmapped,
            };
            var reasons = new List<string>();

            string? fromFile = null;
            foreach (var key in new[] { user.Id, user.Username, user.Email })
                if (!string.IsNullOrEmpty(key) && _rules.TryGetValue(key!, out fromFile)) break;
            if (fromFile != null)
            {
                if (IsAccepted(fromFile, _connector.AcceptedDomain)) return (entry, fromFile, MappingSource.File, "mapping file");
                reasons.Add($"the mapping file's mailbox {fromFile} is outside the accepted domains");
            }

            if (_connector.AutomaticMapping)
            {
                if (unknown) reasons.Add("the user is not in the export's User.csv");
                else if (string.IsNullOrWhiteSpace(user.Email)) reasons.Add("the user has no email address");
                else if (!IsValidMailbox(user.Email)) reasons.Add($"the user's email '{user.Email}' is not a valid address");
                else if (!IsAccepted(NormalizeMailbox(user.Email!), _connector.AcceptedDomain)) reasons.Add($"the user's email domain is not accepted ({user.Email})");
                else return (entry, NormalizeMailbox(user.Email!), MappingSource.Automatic, "user's email");
            }
            else if (fromFile == null)
            {
                reasons.Add("no mapping file entry and automatic mapping is off");
            }

            if (!string.IsNullOrEmpty(_connector.DefaultMailbox))
                return (entry, NormalizeMailbox(_connector.DefaultMailbox!), MappingSource.Default, "default mailbox: " + string.Join("; ", reasons));

            entry.Reason = reasons.Count == 0 ? "no mapping" : string.Join("; ", reasons);
            return (entry, null, MappingSource.Unmapped, entry.Reason);
        }

        private void Mapped(ChatterUserMappingEntry e, string mailbox, MappingSource source, string reason)
        {
            var refused = Check(mailbox);
            if (refused != null)
            {
                e.Source = MappingSource.Unmapped;
                e.Reason = $"{mailbox} ({reason}) cannot receive messages: {refused}";
                return;
            }
            e.Mailbox = mailbox;
            e.Source = source;
            e.Reason = reason;
        }

        /// <summary>
        /// Every user of the directory with its resolution, in the order of the export; the target is
        /// asked about a page of users at a time, so the first ones come out before all are looked up.
        /// </summary>
        public IEnumerable<ChatterUserMappingEntry> ResolveAll(CancellationToken cancellationToken = default)
        {
            const int Page = 200;
            var ids = _directory.Users.Keys.ToList();
            for (int i = 0; i < ids.Count; i += Page)
            {
                var page = ids.Skip(i).Take(Page).ToList();
                Prefetch(page, cancellationToken);
                foreach (var id in page) yield return Resolve(id);
            }
        }

        // ---- mapping files -------------------------------------------------------------------

        /// <summary>
        /// Reads a mapping file (CSV with columns SalesforceUser,Mailbox). Throws when the file cannot
        /// be read or lacks the columns; returns the good rules and reports each bad line as a problem.
        /// </summary>
        public static List<UserMappingRule> ReadMappingFile(string path, List<MappingProblem> problems)
        {
            if (!File.Exists(path))
                throw new ChatterException("ChatterMapping.FileNotFound", ChatterErrorKind.ObjectNotFound,
                    $"The mapping file '{path}' does not exist.", path);
            var rules = new List<UserMappingRule>();
            try
            {
                using var reader = new StreamReader(path, detectEncodingFromByteOrderMarks: true);
                using var csv = new CsvReader(reader, new CsvConfiguration(CultureInfo.InvariantCulture) { MissingFieldFound = null, BadDataFound = null });
                if (!csv.Read() || !csv.ReadHeader())
                    throw MissingColumns(path);
                var header = csv.HeaderRecord!.Select(h => h.Trim()).ToList();
                var userCol = header.FindIndex(h => h.Equals("SalesforceUser", StringComparison.OrdinalIgnoreCase));
                var mailboxCol = header.FindIndex(h => h.Equals("Mailbox", StringComparison.OrdinalIgnoreCase));
                if (userCol < 0 || mailboxCol < 0) throw MissingColumns(path);
                while (csv.Read())
                {
                    var line = csv.Parser.RawRow;
                    var user = (csv.Parser.Record?.ElementAtOrDefault(userCol) ?? "").Trim();
                    var mailbox = (csv.Parser.Record?.ElementAtOrDefault(mailboxCol) ?? "").Trim();
                    var where = $"{Path.GetFileName(path)}:{line}";
                    if (user.Length == 0 && mailbox.Length == 0) continue;
                    if (user.Length == 0)
                        problems.Add(new MappingProblem("ChatterMapping.MissingUser", $"Line {line} of '{path}' names no SalesforceUser.", where));
                    else if (!IsValidMailbox(mailbox))
                        problems.Add(new MappingProblem("ChatterMapping.InvalidMailbox", $"Line {line} of '{path}' maps '{user}' to '{mailbox}', which is not a valid mailbox address (name@domain).", where));
                    else
                        rules.Add(new UserMappingRule { SalesforceUser = user, Mailbox = NormalizeMailbox(mailbox) });
                }
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException)
            {
                throw new ChatterException("ChatterMapping.FileUnreadable", ChatterErrorKind.ReadError,
                    $"The mapping file '{path}' cannot be read: {ex.Message}", path, ex);
            }
            return rules;
        }

        private static ChatterException MissingColumns(string path) =>
            new ChatterException("ChatterMapping.MissingColumns", ChatterErrorKind.InvalidData,
                $"The mapping file '{path}' must have a header row with the columns SalesforceUser and Mailbox.", path);

        /// <summary>Rules that name no user of the export, and mailboxes outside the accepted domains.</summary>
        public static List<MappingProblem> Check(IEnumerable<UserMappingRule> rules, SourceDirectory directory, string[] acceptedDomains)
        {
            var known = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            foreach (var u in directory.Users.Values)
            {
                known.Add(u.Id);
                if (!string.IsNullOrEmpty(u.Username)) known.Add(u.Username!);
                if (!string.IsNullOrEmpty(u.Email)) known.Add(u.Email!);
            }
            var problems = new List<MappingProblem>();
            foreach (var r in rules)
            {
                if (!known.Contains(r.SalesforceUser))
                    problems.Add(new MappingProblem("ChatterMapping.UnknownUser",
                        $"The mapping file names '{r.SalesforceUser}', which is no user Id, Username or Email in the Salesforce export. The rule is kept in case the user appears later.", r.SalesforceUser));
                if (!IsAccepted(r.Mailbox, acceptedDomains))
                    problems.Add(new MappingProblem("ChatterMapping.DomainNotAccepted",
                        $"The mailbox '{r.Mailbox}' for '{r.SalesforceUser}' is outside the accepted domains ({string.Join(", ", acceptedDomains)}); it will not be used.", r.Mailbox));
            }
            return problems;
        }
    }
}
