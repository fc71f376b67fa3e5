using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using ChatterConnector.Engine.Model;
using Microsoft.Graph.Models;
using Microsoft.Kiota.Serialization.Json;
using MimeKit;

namespace ChatterConnector.Engine.Targets.Graph
{
    /// <summary>Where a file of a message goes in Exchange.</summary>
    public enum AttachmentRoute
    {
        /// <summary>In the create request (contentBytes).</summary>
        Inline,
        /// <summary>After the create, POST …/attachments (a file under 3 MB that did not fit inline).</summary>
        Post,
        /// <summary>After the create, through an upload session in chunks.</summary>
        Upload,
        /// <summary>Over Exchange's 150 MB limit: left out.</summary>
        TooLarge,
    }

    /// <summary>
    /// Builds the JSON message Graph creates as a received, read, non-draft item from a staged MIME
    /// message: the MAPI properties of a received item (0x0E07 flags, 0x0E06/0x0039 dates, 0x001A
    /// message class, 0x1042/0x1039 threading), the Internet Message-ID and the X-Chatter-* headers.
    /// Pure: a fresh model each call (a Kiota model that was already sent serialises as {}).
    /// </summary>
    public static class GraphMessageBuilder
    {
        public const int MaxRecipients = 500;
        /// <summary>Exchange keeps at most 256 KB of Internet headers; ours stay well under.</summary>
        public const int MaxHeaderBytes = 200 * 1024;
        /// <summary>Exchange Online's message (and so file) size limit: 150 MB.</summary>
        public const long MaxFileBytes = 150L * 1024 * 1024;
        /// <summary>A file under this can be POSTed as an attachment after the create; larger ones need an upload session.</summary>
        public const long SmallFileBytes = 3L * 1000 * 1000;
        /// <summary>What a fileAttachment costs in the JSON besides its base64 bytes and name.</summary>
        public const int AttachmentOverhead = 200;

        public const string PostClass = "IPM.ExternalData.Chatter.Post";
        public const string CommentClass = "IPM.ExternalData.Chatter.Comment";
        public const string NoteClass = "IPM.Note";

        public const string FlagsProperty = "Integer 0x0E07";
        public const string ReceivedTimeProperty = "SystemTime 0x0E06";
        public const string SentTimeProperty = "SystemTime 0x0039";
        public const string MessageClassProperty = "String 0x001A";
        public const string InReplyToProperty = "String 0x1042";
        public const string ReferencesProperty = "String 0x1039";

        /// <summary>
        /// The item class Purview's Chatter connector uses: posts (and edits and deletions of posts)
        /// are .Post, comments (and their edits and deletions) .Comment, private messages IPM.Note.
        /// </summary>
        public static string MessageClass(ChatterItemType type, bool aboutComment)
        {
            switch (type)
            {
                case ChatterItemType.PrivateMessage: return NoteClass;
                case ChatterItemType.Comment: return CommentClass;
                case ChatterItemType.Edit:
                case ChatterItemType.Delete: return aboutComment ? CommentClass : PostClass;
                default: return PostClass;
            }
        }

        /// <summary>The message class of a parsed staged message: X-Chatter-CommentId tells a comment's edit or deletion from a post's.</summary>
        public static string MessageClass(ChatterItemType type, MimeMessage mime) =>
            MessageClass(type, !string.IsNullOrWhiteSpace(mime.Headers["X-Chatter-CommentId"]));

        /// <summary>What the message to create holds, read once from the staged MIME message; <see cref="Build"/> and <see cref="WriteJson"/> render it.</summary>
        internal sealed class Parts
        {
            public string Subject = "";
            public bool Html;
            public string Body = "";
            public List<(string Id, string Value)> Properties = new List<(string, string)>();
            public List<(string Name, string Value)> Headers = new List<(string, string)>();
            public List<MailboxAddress> To = new List<MailboxAddress>();
            public MailboxAddress? From;
            public string? InternetMessageId;
        }

        /// <summary>Reads what the message to create holds. <paramref name="messageClass"/> overrides the class derived from <paramref name="type"/>.</summary>
        internal static Parts Read(MimeMessage mime, ChatterItemType type, string? messageId = null, string? messageClass = null)
        {
            var id = (string.IsNullOrWhiteSpace(messageId) ? mime.MessageId : messageId)?.Trim().Trim('<', '>');
            var date = mime.Date == DateTimeOffset.MinValue ? DateTimeOffset.UtcNow : mime.Date;
            string time = date.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

            var parts = new Parts { Subject = mime.Subject ?? "" };
            parts.Properties.Add((FlagsProperty, "1"));
            parts.Properties.Add((ReceivedTimeProperty, time));
            parts.Properties.Add((SentTimeProperty, time));
            parts.Properties.Add((MessageClassProperty, messageClass ?? MessageClass(type, mime)));
            if (!string.IsNullOrWhiteSpace(mime.InReplyTo))
                parts.Properties.Add((InReplyToProperty, "<" + mime.InReplyTo!.Trim('<', '>') + ">"));
            if (mime.References.Count > 0)
                parts.Properties.Add((ReferencesProperty, string.Join(" ", mime.References.Select(r => "<" + r + ">"))));

            var html = mime.HtmlBody;
            parts.Html = html != null;
            parts.Body = html ?? mime.TextBody ?? "";
            parts.Headers = Headers(mime);
            parts.To = mime.To.Mailboxes.Take(MaxRecipients).ToList();
            parts.From = mime.From.Mailboxes.FirstOrDefault();
            if (!string.IsNullOrEmpty(id)) parts.InternetMessageId = "<" + id + ">";
            return parts;
        }

        /// <summary>The message to create. <paramref name="messageClass"/> overrides the class derived from <paramref name="type"/>.</summary>
        public static Message Build(MimeMessage mime, ChatterItemType type, string? messageId = null, IEnumerable<FileAttachment>? inline = null, string? messageClass = null) =>
            Build(Read(mime, type, messageId, messageClass), inline);

        internal static Message Build(Parts parts, IEnumerable<FileAttachment>? inline = null)
        {
            var message = new Message
            {
                Subject = parts.Subject,
                Body = new ItemBody { ContentType = parts.Html ? BodyType.Html : BodyType.Text, Content = parts.Body },
                SingleValueExtendedProperties = parts.Properties.Select(p => new SingleValueLegacyExtendedProperty { Id = p.Id, Value = p.Value }).ToList(),
                InternetMessageHeaders = parts.Headers.Select(h => new InternetMessageHeader { Name = h.Name, Value = h.Value }).ToList(),
                ToRecipients = parts.To.Select(Recipient).ToList(),
            };
            if (parts.From != null) message.From = Recipient(parts.From);
            if (parts.InternetMessageId != null) message.InternetMessageId = parts.InternetMessageId;
            var files = inline?.Cast<Attachment>().ToList();
            if (files != null && files.Count > 0) message.Attachments = files;
            return message;
        }

        /// <summary>
        /// The JSON of the message to create, written directly: the same document as
        /// <c>ToJson(Build(…))</c> without a Kiota model (whose backing stores cost tens of KB a
        /// message). Used for the small creates that go into JSON batches.
        /// </summary>
        internal static string WriteJson(Parts parts, IReadOnlyList<(string Name, string ContentType, byte[] Bytes)>? inline = null)
        {
            using var buffer = new MemoryStream(1024 + parts.Body.Length * 2);
            using (var w = new System.Text.Json.Utf8JsonWriter(buffer, RelaxedJson))
            {
                w.WriteStartObject();
                w.WriteString("@odata.type", "#microsoft.graph.message");
                if (inline != null && inline.Count > 0)
                {
                    w.WriteStartArray("attachments");
                    foreach (var (name, contentType, bytes) in inline)
                    {
                        w.WriteStartObject();
                        w.WriteString("@odata.type", "#microsoft.graph.fileAttachment");
                        w.WriteString("contentType", contentType);
                        w.WriteBoolean("isInline", false);
                        w.WriteString("name", name);
                        w.WriteBase64String("contentBytes", bytes);
                        w.WriteEndObject();
                    }
                    w.WriteEndArray();
                }
                w.WriteStartObject("body");
                w.WriteString("content", parts.Body);
                w.WriteString("contentType", parts.Html ? "html" : "text");
                w.WriteEndObject();
                if (parts.From != null) { w.WritePropertyName("from"); WriteRecipient(w, parts.From); }
                w.WriteStartArray("internetMessageHeaders");
                foreach (var (name, value) in parts.Headers)
                {
                    w.WriteStartObject();
                    w.WriteString("name", name);
                    w.WriteString("value", value);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                if (parts.InternetMessageId != null) w.WriteString("internetMessageId", parts.InternetMessageId);
                w.WriteStartArray("singleValueExtendedProperties");
                foreach (var (id, value) in parts.Properties)
                {
                    w.WriteStartObject();
                    w.WriteString("id", id);
                    w.WriteString("value", value);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                w.WriteString("subject", parts.Subject);
                w.WriteStartArray("toRecipients");
                foreach (var to in parts.To) WriteRecipient(w, to);
                w.WriteEndArray();
                w.WriteEndObject();
            }
            return System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
        }

        /// <summary>Escapes only what JSON requires, as the SDK's serializer does (HTML bodies stay readable and small).</summary>
        private static readonly System.Text.Json.JsonWriterOptions RelaxedJson =
            new System.Text.Json.JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

        private static void WriteRecipient(System.Text.Json.Utf8JsonWriter w, MailboxAddress m)
        {
            w.WriteStartObject();
            w.WriteStartObject("emailAddress");
            w.WriteString("address", m.Address);
            w.WriteString("name", string.IsNullOrEmpty(m.Name) ? m.Address : m.Name);
            w.WriteEndObject();
            w.WriteEndObject();
        }

        /// <summary>The X-Chatter-* headers, names lower-cased, within <see cref="MaxHeaderBytes"/>.</summary>
        internal static List<(string Name, string Value)> Headers(MimeMessage mime)
        {
            var list = new List<(string Name, string Value)>();
            int bytes = 0;
            foreach (var h in mime.Headers)
            {
                if (!h.Field.StartsWith("X-Chatter-", StringComparison.OrdinalIgnoreCase)) continue;
                var value = (h.Value ?? "").Trim();
                int cost = h.Field.Length + System.Text.Encoding.UTF8.GetByteCount(value) + 4;
                if (bytes + cost > MaxHeaderBytes) continue;
                bytes += cost;
                list.Add((h.Field.ToLowerInvariant(), value));
            }
            return list;
        }

        private static Recipient Recipient(MailboxAddress m) =>
            new Recipient { EmailAddress = new EmailAddress { Address = m.Address, Name = string.IsNullOrEmpty(m.Name) ? m.Address : m.Name } };

        /// <summary>A fileAttachment with its bytes.</summary>
        public static FileAttachment FileAttachment(string name, string contentType, byte[] bytes) =>
            new FileAttachment { OdataType = "#microsoft.graph.fileAttachment", Name = name, ContentType = contentType, ContentBytes = bytes, IsInline = false };

        /// <summary>The JSON Graph receives for <paramref name="message"/> (serialising marks a Kiota model as sent: don't send it afterwards).</summary>
        public static string ToJson(Message message)
        {
            using var writer = new JsonSerializationWriter();
            writer.WriteObjectValue(null, message);
            using var stream = writer.GetSerializedContent();
            using var reader = new StreamReader(stream);
            return reader.ReadToEnd();
        }

        /// <summary>The bytes <paramref name="size"/> bytes take in base64.</summary>
        public static long Base64Length(long size) => (size + 2) / 3 * 4;

        /// <summary>
        /// Where each file goes: inline, in order, while the create request stays under
        /// <paramref name="inlineLimit"/>; a file that does not fit is POSTed after the create when
        /// small, else uploaded in chunks; over 150 MB it is left out.
        /// </summary>
        public static AttachmentRoute[] Plan(IReadOnlyList<(string Name, long Size)> files, long baseRequestBytes, long inlineLimit, long maxFileBytes = MaxFileBytes)
        {
            var routes = new AttachmentRoute[files.Count];
            long total = baseRequestBytes;
            for (int i = 0; i < files.Count; i++)
            {
                var (name, size) = files[i];
                long cost = Base64Length(size) + AttachmentOverhead + 2L * System.Text.Encoding.UTF8.GetByteCount(name ?? "");
                if (size > maxFileBytes) routes[i] = AttachmentRoute.TooLarge;
                else if (total + cost < inlineLimit) { routes[i] = AttachmentRoute.Inline; total += cost; }
                else routes[i] = size < SmallFileBytes ? AttachmentRoute.Post : AttachmentRoute.Upload;
            }
            return routes;
        }
    }
}
