using System;
using System.IO;
using ChatterConnector.Engine.Model;
using MimeKit;

namespace ChatterConnector.Engine.Conversion
{
    /// <summary>
    /// One Chatter item as a MIME message, ready to be written. The bytes are the same every time
    /// they are written (attachments are read from disk again at each write, never held in memory).
    /// </summary>
    public sealed class ChatterMessage
    {
        private readonly object writeLock = new object();

        internal ChatterMessage(MimeMessage mime)
        {
            Mime = mime;
        }

        /// <summary>The MimeKit message (internal: MimeKit types are not part of the public API).</summary>
        internal MimeMessage Mime { get; }

        /// <summary>The Message-ID, without angle brackets: "{ItemKey}@{domain}".</summary>
        public string MessageId { get; internal set; } = "";

        /// <summary>The key of the item (ChatterItem.Key).</summary>
        public string ItemKey { get; internal set; } = "";

        public ChatterItemType Action { get; internal set; }

        public string Subject { get; internal set; } = "";

        /// <summary>The From address as written in the header ("Ann Lee &lt;ann@example.com&gt;").</summary>
        public string From { get; internal set; } = "";

        /// <summary>The To addresses, in order, as written in the header.</summary>
        public string[] To { get; internal set; } = Array.Empty<string>();

        public DateTimeOffset Date { get; internal set; }

        private long? size;
        private string? sha256;

        /// <summary>Number of bytes of the message (worked out on first use, by writing it once to a hash).</summary>
        public long Size
        {
            get { Measure(); return size!.Value; }
        }

        /// <summary>SHA-256 of the bytes of the message, lowercase hex (worked out on first use).</summary>
        public string Sha256
        {
            get { Measure(); return sha256!; }
        }

        /// <summary>Records what a writer measured while writing the message, so it is not written again to measure it.</summary>
        internal void SetMeasured(long length, string hash)
        {
            lock (writeLock)
            {
                size = length;
                sha256 = hash;
            }
        }

        private void Measure()
        {
            lock (writeLock)
            {
                if (size != null) return;
                using (var hashing = new HashingStream())
                {
                    Mime.WriteTo(Format, hashing);
                    size = hashing.Length;
                    sha256 = hashing.GetHashHex();
                }
            }
        }

        /// <summary>Number of files attached.</summary>
        public int AttachmentCount { get; internal set; }

        /// <summary>Problems of the item and of the conversion (a file listed but missing…).</summary>
        public string[] Warnings { get; internal set; } = Array.Empty<string>();

        /// <summary>True when a file of the item could not be attached.</summary>
        public bool IsPartial { get; internal set; }

        /// <summary>The format every message is written with: CRLF line ends, 78-column folding, RFC 2231 parameters.</summary>
        internal static FormatOptions Format { get; } = CreateFormat();

        private static FormatOptions CreateFormat()
        {
            var options = new FormatOptions
            {
                NewLineFormat = NewLineFormat.Dos,
                International = false,
                AllowMixedHeaderCharsets = false,
                ParameterEncodingMethod = ParameterEncodingMethod.Rfc2231,
                AlwaysQuoteParameterValues = false,
                EnsureNewLine = false,
                MaxLineLength = 78,
            };
            return options;
        }

        /// <summary>Writes the exact bytes of the message; can be called any number of times.</summary>
        public void WriteTo(Stream stream)
        {
            if (stream == null) throw new ArgumentNullException(nameof(stream));
            lock (writeLock)
            {
                Mime.WriteTo(Format, stream);
            }
        }

        /// <summary>The exact bytes of the message (in memory: for large messages prefer <see cref="WriteTo"/>).</summary>
        public byte[] GetBytes()
        {
            using (var memory = new MemoryStream(size > 0 && size < int.MaxValue ? (int)size.Value : 4096))
            {
                WriteTo(memory);
                return memory.ToArray();
            }
        }

        public override string ToString() => Action + " " + MessageId;
    }
}
