using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using MimeKit;

namespace ChatterConnector.Engine.Targets.Graph
{
    /// <summary>
    /// A staged .eml parsed with MimeKit's persistent parser: the parts' content stays in the file
    /// (read on demand), so a large attachment is never held in memory whole. Keep it open while
    /// the content is read.
    /// </summary>
    internal sealed class StagedMessage : IDisposable
    {
        private readonly Stream _file;

        private StagedMessage(Stream file, MimeMessage message)
        {
            _file = file;
            Message = message;
            Attachments = message.BodyParts.OfType<MimePart>().Where(p => p.IsAttachment).Select(p => new StagedAttachment(p)).ToList();
        }

        public MimeMessage Message { get; }
        public IReadOnlyList<StagedAttachment> Attachments { get; }

        public static StagedMessage Open(string path, CancellationToken cancellationToken)
        {
            Stream file;
            // A small buffer: the parser reads in blocks of its own, and a large one per message (most
            // are a few KB) would be garbage the size of the message many times over.
            try { file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 4096); }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            {
                throw new ChatterException("ChatterTarget.StagedMessageMissing", ChatterErrorKind.ReadError,
                    $"The staged message '{path}' cannot be read: {e.Message}", path, e);
            }
            try
            {
                var parser = new MimeParser(file, MimeFormat.Entity, persistent: true);
                return new StagedMessage(file, parser.ParseMessage(cancellationToken));
            }
            catch (FormatException e)
            {
                file.Dispose();
                throw new ChatterException("ChatterTarget.StagedMessageInvalid", ChatterErrorKind.InvalidData,
                    $"The staged message '{path}' is not a MIME message: {e.Message}", path, e);
            }
            catch
            {
                file.Dispose();
                throw;
            }
        }

        public void Dispose()
        {
            Message.Dispose();
            _file.Dispose();
        }
    }

    /// <summary>One file of a staged message; its decoded size is measured by streaming it once.</summary>
    internal sealed class StagedAttachment
    {
        private long? _size;

        public StagedAttachment(MimePart part) { Part = part; }

        public MimePart Part { get; }
        public string Name => string.IsNullOrEmpty(Part.FileName) ? "attachment" : Part.FileName!;
        public string ContentType => Part.ContentType?.MimeType ?? "application/octet-stream";

        /// <summary>The decoded size in bytes.</summary>
        public long Size
        {
            get
            {
                if (_size == null)
                {
                    if (Part.Content == null) _size = 0;
                    else
                    {
                        var counter = new CountingStream();
                        Part.Content.DecodeTo(counter);
                        _size = counter.Length;
                    }
                }
                return _size.Value;
            }
        }

        /// <summary>The decoded bytes (for a file small enough to send inline).</summary>
        public byte[] ReadAll()
        {
            if (Part.Content == null) return new byte[0];
            using var ms = new MemoryStream(Size > int.MaxValue ? 0 : (int)Size);
            Part.Content.DecodeTo(ms);
            return ms.ToArray();
        }

        /// <summary>A stream of the decoded bytes, read from the staged file.</summary>
        public Stream OpenRead() => Part.Content?.Open() ?? new MemoryStream(new byte[0], false);

        private sealed class CountingStream : Stream
        {
            private long _length;
            public override bool CanRead => false;
            public override bool CanSeek => false;
            public override bool CanWrite => true;
            public override long Length => _length;
            public override long Position { get => _length; set => throw new NotSupportedException(); }
            public override void Flush() { }
            public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
            public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
            public override void SetLength(long value) => throw new NotSupportedException();
            public override void Write(byte[] buffer, int offset, int count) => _length += count;
        }
    }
}
