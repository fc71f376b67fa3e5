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

        /// <summary>The message to create. <paramref name="messageClass"/> overrides the class derived from <paramref name="type"/>.</summary>
        public static Message Build(MimeMessage mime, ChatterItemType type, string? messageId = null, IEnumerable<FileAttachment>? inline = null, string? messageClass = null)
        {
            var id = (string.IsNullOrWhiteSpace(messageId) ? mime.MessageId : messageId)?.Trim().Trim('<', '>');
            var date = mime.Date == DateTimeOffset.MinValue ? DateTimeOffset.UtcNow : mime.Date;
            string time = date.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

            var props = new List<SingleValueLegacyExtendedProperty>
            {
                new SingleValueLegacyExtendedProperty { Id = FlagsProperty, Value = "1" },
                new SingleValueLegacyExtendedProperty { Id = ReceivedTimeProperty, Value = time },
                new SingleValueLegacyExtendedProperty { Id = SentTimeProperty, Value = time },
                new SingleValueLegacyExtendedProperty { Id = MessageClassProperty, Value = messageClass ?? MessageClass(type, mime) },
            };
            if (!string.IsNullOrWhiteSpace(mime.InReplyTo))
                props.Add(new SingleValueLegacyExtendedProperty { Id = InReplyToProperty, Value = "<" + mime.InReplyTo!.Trim('<', '>') + ">" });
            if (mime.References.Count > 0)
                props.Add(new SingleValueLegacyExtendedProperty { Id = ReferencesProperty, Value = string.Join(" ", mime.References.Select(r => "<" + r + ">")) });

            var html = mime.HtmlBody;
            var message = new Message
            {
                Subject = mime.Subject ?? "",
                Body = html != null
                    ? new ItemBody { ContentType = BodyType.Html, Content = html }
                    : new ItemBody { ContentType = BodyType.Text, Content = mime.TextBody ?? "" },
                SingleValueExtendedProperties = props,
                InternetMessageHeaders = Headers(mime),
                ToRecipients = mime.To.Mailboxes.Take(MaxRecipients).Select(Recipient).ToList(),
            };
            var from = mime.From.Mailboxes.FirstOrDefault();
            if (from != null) message.From = Recipient(from);
            if (!string.IsNullOrEmpty(id)) message.InternetMessageId = "<" + id + ">";
            var files = inline?.Cast<Attachment>().ToList();
            if (files != null && files.Count > 0) message.Attachments = files;
            return message;
        }

        /// <summary>The X-Chatter-* headers, names lower-cased, within <see cref="MaxHeaderBytes"/>.</summary>
        internal static List<InternetMessageHeader> Headers(MimeMessage mime)
        {
            var list = new List<InternetMessageHeader>();
            int bytes = 0;
            foreach (var h in mime.Headers)
            {
                if (!h.Field.StartsWith("X-Chatter-", StringComparison.OrdinalIgnoreCase)) continue;
                var value = (h.Value ?? "").Trim();
                int cost = h.Field.Length + System.Text.Encoding.UTF8.GetByteCount(value) + 4;
                if (bytes + cost > MaxHeaderBytes) continue;
                bytes += cost;
                list.Add(new InternetMessageHeader { Name = h.Field.ToLowerInvariant(), Value = value });
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
