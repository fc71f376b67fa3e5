using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Text;
using ChatterConnector.Engine.Model;
using MimeKit;

namespace ChatterConnector.Engine.Conversion
{
    /// <summary>
    /// Turns a <see cref="ChatterItem"/> into a <see cref="ChatterMessage"/>. Pure and deterministic:
    /// the same item (and the same attachment bytes) gives the same message bytes on any machine
    /// and in any run. Thread-safe: the converter holds no mutable state.
    /// </summary>
    public sealed class MessageConverter
    {
        private const string DateFormat = "yyyy-MM-dd HH:mm:ss zzz";
        private readonly string domain;
        private readonly int subjectWords;
        private readonly int subjectMaxChars;

        public MessageConverter(MessageConverterOptions? options = null)
        {
            options ??= new MessageConverterOptions();
            string d = (options.MessageIdDomain ?? "").Trim().Trim('.', '@');
            domain = d.Length == 0 ? "chatter.salesforce.com" : d;
            subjectWords = options.SubjectWords > 0 ? options.SubjectWords : 8;
            subjectMaxChars = options.SubjectMaxChars > 0 ? options.SubjectMaxChars : 60;
        }

        public ChatterMessage Convert(ChatterItem item)
        {
            if (item == null) throw new ArgumentNullException(nameof(item));
            if (string.IsNullOrEmpty(item.Key)) throw new ArgumentException("The item has no Key.", nameof(item));

            var warnings = new List<string>(item.Warnings.Where(w => !string.IsNullOrEmpty(w)));
            string kind = item.CommentId != null ? "comment" : "post";
            string author = AuthorName(item);
            string? parent = OneLine(item.ParentName);
            if (parent != null && parent.Length == 0) parent = null;
            string? title = OneLine(item.Title);
            if (title != null && title.Length == 0) title = null;

            // Body: sanitized HTML and its plain text.
            string bodyHtml = "", bodyText = "";
            if (!string.IsNullOrWhiteSpace(item.Body))
            {
                string body = CleanText(item.Body!);
                if (item.IsRichText)
                {
                    (bodyHtml, bodyText) = HtmlBody.Sanitize(body);
                    bodyText = CleanText(bodyText);
                }
                else
                {
                    bodyText = body.Trim('\n');
                    bodyHtml = string.Join("<br>\n", bodyText.Split('\n').Select(Encode));
                }
            }

            // Files.
            var attachments = new List<MimePart>();
            var fileLines = new List<(string Name, string Note)>();
            bool partial = false;
            foreach (var file in item.Files)
            {
                if (file == null) continue;
                string name = SafeFileName.For(file);
                string size = file.ContentSize > 0 ? SafeFileName.FormatSize(file.ContentSize) : "";
                if (string.IsNullOrEmpty(file.ContentPath) || !File.Exists(file.ContentPath))
                {
                    partial = true;
                    warnings.Add("File '" + name + "' (" + file.Id + ") is listed but its bytes are missing");
                    fileLines.Add((name, "not attached: its bytes are missing"));
                    continue;
                }
                var part = new MimePart(ContentType.Parse(MimeTypes.GetMimeType(name)))
                {
                    Content = new MimeContent(new LazyFileStream(file.ContentPath!), ContentEncoding.Default),
                    ContentDisposition = new ContentDisposition(ContentDisposition.Attachment),
                    ContentTransferEncoding = ContentEncoding.Base64,
                };
                // RFC 2231 when not ASCII: MimeKit writes Latin-1 names as iso-8859-1 and anything else as UTF-8.
                part.ContentType.Parameters.Add(Encoding.UTF8, "name", name);
                part.ContentDisposition.Parameters.Add(Encoding.UTF8, "filename", name);
                attachments.Add(part);
                fileLines.Add((name, size));
            }

            string subject = Subject(item, kind, author, parent, title, bodyText, fileLines);

            // The information block shared by both bodies.
            string headline = Headline(item, kind, author, parent);
            string date = item.CreatedDate.ToString(DateFormat, CultureInfo.InvariantCulture);
            string? notice = Notice(item, kind);
            string? link = SafeUrl(item.LinkUrl);
            string? rawLink = OneLine(item.LinkUrl);
            string? url = SafeUrl(item.Url);
            var from = Mailbox(item.Author, item.AuthorId);
            var to = Recipients(item);
            string? toNames = item.ItemType == ChatterItemType.PrivateMessage && to.Count > 0
                ? string.Join(", ", to.Select(m => string.IsNullOrEmpty(m.Name) ? m.Address : m.Name))
                : null;

            string text = BuildText(headline, date, toNames, notice, title, bodyText, link ?? rawLink, fileLines, url);
            string html = BuildHtml(subject, headline, date, toNames, notice, title, bodyHtml, link, rawLink, fileLines, url);

            // The message, header by header in a fixed order.
            var message = new MimeMessage();
            message.Headers.Clear();
            message.From.Add(from);
            message.To.AddRange(to);
            message.Date = item.CreatedDate;
            message.Subject = subject;
            string messageId = MsgId(item.Key);
            message.MessageId = messageId;

            var references = References(item);
            if (references.Count > 0)
            {
                message.InReplyTo = references[references.Count - 1];
                foreach (var r in references) message.References.Add(r);
            }
            message.Headers.Add(HeaderId.MimeVersion, "1.0");
            AddHeader(message, "X-Chatter-Id", item.Id);
            AddHeader(message, "X-Chatter-Action", item.ItemType.ToString());
            AddHeader(message, "X-Chatter-Revision", item.Revision.ToString(CultureInfo.InvariantCulture));
            AddHeader(message, "X-Chatter-ThreadId", item.ThreadId);
            AddHeader(message, "X-Chatter-ParentId", item.ParentId);
            AddHeader(message, "X-Chatter-CommentId", item.CommentId);
            AddHeader(message, "X-Chatter-Type", item.FeedType);
            AddHeader(message, "X-Chatter-Url", item.Url);

            var textPart = new TextPart(MimeKit.Text.TextFormat.Plain);
            textPart.SetText(Encoding.UTF8, ToCrLf(text));
            textPart.ContentTransferEncoding = ContentEncoding.QuotedPrintable;
            var htmlPart = new TextPart(MimeKit.Text.TextFormat.Html);
            htmlPart.SetText(Encoding.UTF8, ToCrLf(html));
            htmlPart.ContentTransferEncoding = ContentEncoding.QuotedPrintable;

            var alternative = new MultipartAlternative { Boundary = Boundary(item.Key, 0) };
            alternative.Add(textPart);
            alternative.Add(htmlPart);
            if (attachments.Count == 0)
            {
                message.Body = alternative;
            }
            else
            {
                var mixed = new Multipart("mixed") { Boundary = Boundary(item.Key, 1) };
                mixed.Add(alternative);
                foreach (var a in attachments) mixed.Add(a);
                message.Body = mixed;
            }

            var result = new ChatterMessage(message)
            {
                MessageId = messageId,
                ItemKey = item.Key,
                Action = item.ItemType,
                Subject = subject,
                From = from.ToString(),
                To = to.Select(m => m.ToString()).ToArray(),
                Date = item.CreatedDate,
                AttachmentCount = attachments.Count,
                Warnings = warnings.Distinct(StringComparer.Ordinal).ToArray(),
                IsPartial = partial,
            };
            return result;
        }

        // ---- Subject and text blocks ----

        private string Subject(ChatterItem item, string kind, string author, string? parent, string? title, string bodyText, List<(string Name, string Note)> files)
        {
            string inParent = parent != null ? " in " + parent : "";
            string head;
            switch (item.ItemType)
            {
                case ChatterItemType.Comment:
                    head = "Chatter comment by " + author + " on post" + inParent; break;
                case ChatterItemType.PrivateMessage:
                    head = "Chatter private message from " + author; break;
                case ChatterItemType.Edit:
                    head = "Chatter " + kind + " edited by " + author + " (revision " + item.Revision.ToString(CultureInfo.InvariantCulture) + ")"; break;
                case ChatterItemType.Delete:
                    head = "Chatter " + kind + " deleted"; break;
                default:
                    head = "Chatter post by " + author + inParent; break;
            }
            string source = bodyText.Trim().Length > 0 ? bodyText : title ?? (files.Count > 0 ? files[0].Name : "");
            string words = FirstWords(source);
            return words.Length > 0 ? head + ": " + words : head;
        }

        internal string FirstWords(string text)
        {
            var words = text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (words.Length == 0) return "";
            bool truncated = words.Length > subjectWords;
            string s = string.Join(" ", words.Take(subjectWords));
            if (s.Length > subjectMaxChars)
            {
                truncated = true;
                int cut = subjectMaxChars;
                if (char.IsLowSurrogate(s[cut]) && cut > 0) cut--;
                int space = s.LastIndexOf(' ', cut);
                if (space >= subjectMaxChars / 2) cut = space;
                s = s.Substring(0, cut).TrimEnd();
            }
            return truncated ? s.TrimEnd(',', ';', ':', '-', ' ') + "\u2026" : s;
        }

        private static string Headline(ChatterItem item, string kind, string author, string? parent)
        {
            string inParent = parent != null ? " in " + parent : "";
            switch (item.ItemType)
            {
                case ChatterItemType.Comment: return author + " commented on a post" + inParent;
                case ChatterItemType.PrivateMessage: return "Private message from " + author;
                case ChatterItemType.Edit: return author + " edited a " + kind + inParent;
                case ChatterItemType.Delete: return "A " + kind + " by " + author + inParent + " was deleted";
                default: return author + " posted" + inParent;
            }
        }

        private static string? Notice(ChatterItem item, string kind)
        {
            string rev = item.Revision.ToString(CultureInfo.InvariantCulture);
            switch (item.ItemType)
            {
                case ChatterItemType.Edit:
                    string? attr = OneLine(item.EditedAttribute);
                    return "This " + kind + " was edited (revision " + rev + (string.IsNullOrEmpty(attr) ? "" : ", changed: " + attr) + "). The earlier versions stay archived.";
                case ChatterItemType.Delete:
                    return "This " + kind + " was deleted in Salesforce. The original message stays archived; this message records the deletion.";
                default:
                    return null;
            }
        }

        private static string BuildText(string headline, string date, string? toNames, string? notice, string? title, string body,
            string? link, List<(string Name, string Note)> files, string? url)
        {
            var sb = new StringBuilder();
            sb.Append(headline).Append('\n');
            if (toNames != null) sb.Append("To: ").Append(toNames).Append('\n');
            sb.Append(date).Append('\n');
            if (notice != null) sb.Append('\n').Append(notice).Append('\n');
            if (title != null) sb.Append('\n').Append(title).Append('\n');
            if (body.Length > 0) sb.Append('\n').Append(body).Append('\n');
            if (link != null) sb.Append('\n').Append("Link: ").Append(link).Append('\n');
            if (files.Count > 0)
            {
                sb.Append('\n').Append("Files:\n");
                foreach (var f in files)
                    sb.Append("- ").Append(f.Name).Append(f.Note.Length > 0 ? " (" + f.Note + ")" : "").Append('\n');
            }
            if (url != null) sb.Append('\n').Append("Open in Salesforce: ").Append(url).Append('\n');
            return sb.ToString();
        }

        private static string BuildHtml(string subject, string headline, string date, string? toNames, string? notice, string? title,
            string body, string? link, string? rawLink, List<(string Name, string Note)> files, string? url)
        {
            var sb = new StringBuilder();
            sb.Append("<!DOCTYPE html>\n<html>\n<head>\n<meta charset=\"utf-8\">\n<title>").Append(Encode(subject)).Append("</title>\n</head>\n<body>\n");
            sb.Append("<div class=\"chatter-header\" style=\"font-family:sans-serif;font-size:small;color:#555555;border-bottom:1px solid #dddddd;padding-bottom:6px;margin-bottom:12px\">\n");
            sb.Append("<div>").Append(Encode(headline)).Append("</div>\n");
            if (toNames != null) sb.Append("<div>To: ").Append(Encode(toNames)).Append("</div>\n");
            sb.Append("<div>").Append(Encode(date)).Append("</div>\n");
            sb.Append("</div>\n");
            if (notice != null) sb.Append("<p class=\"chatter-notice\"><i>").Append(Encode(notice)).Append("</i></p>\n");
            if (title != null) sb.Append("<h3 class=\"chatter-title\">").Append(Encode(title)).Append("</h3>\n");
            if (body.Length > 0) sb.Append("<div class=\"chatter-body\">\n").Append(body).Append("\n</div>\n");
            if (link != null)
                sb.Append("<p class=\"chatter-link\">Link: <a href=\"").Append(Encode(link)).Append("\">").Append(Encode(link)).Append("</a></p>\n");
            else if (rawLink != null && rawLink.Length > 0)
                sb.Append("<p class=\"chatter-link\">Link: ").Append(Encode(rawLink)).Append("</p>\n");
            if (files.Count > 0)
            {
                sb.Append("<div class=\"chatter-files\">\n<p>Files:</p>\n<ul>\n");
                foreach (var f in files)
                    sb.Append("<li>").Append(Encode(f.Name)).Append(f.Note.Length > 0 ? " (" + Encode(f.Note) + ")" : "").Append("</li>\n");
                sb.Append("</ul>\n</div>\n");
            }
            if (url != null) sb.Append("<p class=\"chatter-url\"><a href=\"").Append(Encode(url)).Append("\">Open in Salesforce</a></p>\n");
            sb.Append("</body>\n</html>\n");
            return sb.ToString();
        }

        // ---- Addresses and ids ----

        private static string AuthorName(ChatterItem item)
        {
            var u = item.Author;
            string? name = OneLine(u?.Name);
            if (string.IsNullOrEmpty(name)) name = OneLine(u?.Username);
            if (string.IsNullOrEmpty(name)) name = OneLine(item.AuthorId);
            return string.IsNullOrEmpty(name) ? "unknown user" : name!;
        }

        private MailboxAddress Mailbox(ChatterUser? user, string fallbackId)
        {
            string name = OneLine(user?.Name) ?? "";
            string? email = user?.Email?.Trim();
            if (!string.IsNullOrEmpty(email) && email!.IndexOf('@') > 0
                && MailboxAddress.TryParse(ParserOptions.Default, email, out var parsed)
                && parsed.Address.IndexOf('@') > 0)
            {
                return new MailboxAddress(name, parsed.Address);
            }
            string id = !string.IsNullOrEmpty(user?.Id) ? user!.Id : fallbackId;
            return new MailboxAddress(name, LocalPart(string.IsNullOrEmpty(id) ? "unknown" : id) + "@users." + domain);
        }

        private List<MailboxAddress> Recipients(ChatterItem item)
        {
            var list = new List<MailboxAddress>();
            var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            foreach (var user in item.Participants)
            {
                if (user == null) continue;
                var m = Mailbox(user, user.Id);
                if (seen.Add(m.Address)) list.Add(m);
            }
            return list;
        }

        private List<string> References(ChatterItem item)
        {
            var refs = new List<string>();
            string thread = item.ThreadId ?? "";
            if (thread.Length > 0 && !string.Equals(thread, item.Key, StringComparison.Ordinal))
                refs.Add(MsgId(thread));
            bool aboutComment = item.CommentId != null
                && (item.ItemType == ChatterItemType.Edit || item.ItemType == ChatterItemType.Delete);
            if (aboutComment && item.CommentId!.Length > 0 && item.CommentId != thread)
                refs.Add(MsgId(item.CommentId));
            return refs;
        }

        private string MsgId(string key) => LocalPart(key) + "@" + domain;

        /// <summary>A dot-atom local part: letters, digits, '-', '_' and single inner dots kept; anything else as "=XX" (UTF-8 hex), so distinct keys stay distinct.</summary>
        internal static string LocalPart(string key)
        {
            var sb = new StringBuilder(key.Length);
            foreach (byte b in Encoding.UTF8.GetBytes(key))
            {
                char c = (char)b;
                bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
                bool dotOk = c == '.' && sb.Length > 0 && sb[sb.Length - 1] != '.';
                if (plain || dotOk) sb.Append(c);
                else sb.Append('=').Append(((int)b).ToString("X2", CultureInfo.InvariantCulture));
            }
            if (sb.Length > 0 && sb[sb.Length - 1] == '.') { sb.Length--; sb.Append("=2E"); }
            return sb.ToString();
        }

        private static string Boundary(string key, int index)
        {
            using (var sha = SHA256.Create())
            {
                var hash = sha.ComputeHash(Encoding.UTF8.GetBytes(key + "/" + index.ToString(CultureInfo.InvariantCulture)));
                return "=_cc_" + HashingStream.ToHex(hash).Substring(0, 24);
            }
        }

        private static void AddHeader(MimeMessage message, string field, string? value)
        {
            string? v = OneLine(value);
            if (!string.IsNullOrEmpty(v)) message.Headers.Add(field, v!);
        }

        // ---- Text helpers ----

        private static string? SafeUrl(string? url)
        {
            string? u = OneLine(url);
            if (string.IsNullOrEmpty(u)) return null;
            if (!Uri.TryCreate(u, UriKind.Absolute, out var parsed)) return null;
            string scheme = parsed.Scheme.ToLowerInvariant();
            return scheme == "http" || scheme == "https" || scheme == "mailto" ? u : null;
        }

        /// <summary>Newlines as "\n", no control characters but tab and newline, no trailing blanks on lines.</summary>
        private static string CleanText(string s)
        {
            s = s.Replace("\r\n", "\n").Replace('\r', '\n');
            var sb = new StringBuilder(s.Length);
            foreach (char c in s)
            {
                if (c == '\n' || c == '\t' || !(c < 0x20 || c == 0x7F || (c >= 0x80 && c <= 0x9F))) sb.Append(c);
            }
            var lines = sb.ToString().Split('\n').Select(l => l.TrimEnd(' ', '\t'));
            return string.Join("\n", lines);
        }

        /// <summary>One line of text: control characters and runs of white space become one space.</summary>
        private static string? OneLine(string? s)
        {
            if (s == null) return null;
            var sb = new StringBuilder(s.Length);
            bool space = false;
            foreach (char c in s)
            {
                if (char.IsWhiteSpace(c) || char.IsControl(c)) { space = sb.Length > 0; continue; }
                if (space) { sb.Append(' '); space = false; }
                sb.Append(c);
            }
            return sb.ToString();
        }

        private static string ToCrLf(string s) => s.Replace("\r\n", "\n").Replace("\n", "\r\n");

        /// <summary>HTML-encodes text (and attribute values) the same way on every runtime.</summary>
        internal static string Encode(string s)
        {
            var sb = new StringBuilder(s.Length + 16);
            foreach (char c in s)
            {
                switch (c)
                {
                    case '&': sb.Append("&amp;"); break;
                    case '<': sb.Append("&lt;"); break;
                    case '>': sb.Append("&gt;"); break;
                    case '"': sb.Append("&quot;"); break;
                    case '\'': sb.Append("&#39;"); break;
                    default: sb.Append(c); break;
                }
            }
            return sb.ToString();
        }
    }
}
