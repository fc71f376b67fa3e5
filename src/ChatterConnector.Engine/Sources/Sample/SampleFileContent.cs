using System;
using System.IO;
using System.Security.Cryptography;
using System.Text;

namespace ChatterConnector.Engine.Sources.Sample
{
    /// <summary>What is needed to regenerate one ContentVersion's bytes: its size, kind and own seed.</summary>
    internal sealed class SampleFileSpec
    {
        public SampleFileSpec(string extension, long size, ulong seed)
        {
            Extension = extension;
            Size = size;
            Seed = seed;
        }

        public string Extension { get; }
        public long Size { get; }
        public ulong Seed { get; }
    }

    /// <summary>
    /// Produces a file's bytes chunk by chunk from its seed: a magic header for binary types (PDF,
    /// PNG, JPEG, Office/zip) then pseudo-random bytes; words for text types. Never holds more than
    /// one chunk.
    /// </summary>
    internal sealed class SampleFileContent
    {
        public const int ChunkSize = 64 * 1024;

        private static readonly byte[][] WordBytes = BuildWords();
        private static readonly byte[] Space = { (byte)' ' };
        private static readonly byte[] Comma = { (byte)',' };
        private static readonly byte[] Lf = { (byte)'\n' };
        private static readonly byte[] CrLf = { (byte)'\r', (byte)'\n' };

        private readonly SampleRandom _rng;
        private readonly byte[] _header;
        private readonly int _textMode; // 0 binary, 1 text, 2 csv
        private long _remaining;
        private int _headerPos;
        private byte[]? _token;
        private int _tokenPos;
        private ulong _bits;
        private int _bitsLeft;

        public SampleFileContent(SampleFileSpec spec)
        {
            _rng = new SampleRandom(spec.Seed);
            _remaining = spec.Size;
            switch (spec.Extension)
            {
                case "txt": _textMode = 1; _header = Encoding.UTF8.GetBytes("Sample Chatter file – généré\n"); break;
                case "csv": _textMode = 2; _header = Encoding.ASCII.GetBytes("Id,Name,Amount,Notes\r\n"); break;
                case "pdf": _header = Encoding.ASCII.GetBytes("%PDF-1.7\n%\u00e2\u00e3\u00cf\u00d3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n"); break;
                case "png": _header = new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0x0D, 0x49, 0x48, 0x44, 0x52 }; break;
                case "jpg": _header = new byte[] { 0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, 0x4A, 0x46, 0x49, 0x46, 0x00 }; break;
                case "docx":
                case "xlsx":
                case "pptx":
                case "zip": _header = new byte[] { 0x50, 0x4B, 0x03, 0x04, 0x14, 0x00, 0x06, 0x00 }; break;
                default: _header = Array.Empty<byte>(); break;
            }
        }

        /// <summary>Fills buffer[0..n) with the next bytes; returns 0 at the end.</summary>
        public int Read(byte[] buffer)
        {
            var n = (int)Math.Min(buffer.Length, _remaining);
            var i = 0;
            while (i < n && _headerPos < _header.Length) buffer[i++] = _header[_headerPos++];
            if (_textMode != 0)
            {
                while (i < n)
                {
                    if (_token == null || _tokenPos == _token.Length) { _token = NextToken(); _tokenPos = 0; }
                    var c = Math.Min(_token.Length - _tokenPos, n - i);
                    Buffer.BlockCopy(_token, _tokenPos, buffer, i, c);
                    _tokenPos += c;
                    i += c;
                }
            }
            else
            {
                while (i < n && _bitsLeft > 0) { buffer[i++] = (byte)_bits; _bits >>= 8; _bitsLeft--; }
                while (i + 8 <= n)
                {
                    var v = _rng.NextUInt64();
                    buffer[i] = (byte)v; buffer[i + 1] = (byte)(v >> 8); buffer[i + 2] = (byte)(v >> 16); buffer[i + 3] = (byte)(v >> 24);
                    buffer[i + 4] = (byte)(v >> 32); buffer[i + 5] = (byte)(v >> 40); buffer[i + 6] = (byte)(v >> 48); buffer[i + 7] = (byte)(v >> 56);
                    i += 8;
                }
                if (i < n)
                {
                    _bits = _rng.NextUInt64();
                    _bitsLeft = 8;
                    while (i < n) { buffer[i++] = (byte)_bits; _bits >>= 8; _bitsLeft--; }
                }
            }
            _remaining -= n;
            return n;
        }

        private bool _separatorNext;

        private byte[] NextToken()
        {
            _separatorNext = !_separatorNext;
            if (!_separatorNext)
            {
                var r = _rng.Next(100);
                if (_textMode == 2) return r < 80 ? Comma : CrLf;
                return r < 88 ? Space : Lf;
            }
            return WordBytes[_rng.Next(WordBytes.Length)];
        }

        /// <summary>Streams the file into a stream.</summary>
        public static long WriteTo(SampleFileSpec spec, Stream target, byte[] buffer)
        {
            var content = new SampleFileContent(spec);
            long total = 0;
            int n;
            while ((n = content.Read(buffer)) > 0)
            {
                target.Write(buffer, 0, n);
                total += n;
            }
            return total;
        }

        /// <summary>The MD5 of the file's bytes as lowercase hex, computed while streaming.</summary>
        public static string Md5Hex(SampleFileSpec spec, byte[] buffer)
        {
            using var md5 = MD5.Create();
            var content = new SampleFileContent(spec);
            int n;
            while ((n = content.Read(buffer)) > 0) md5.TransformBlock(buffer, 0, n, null, 0);
            md5.TransformFinalBlock(Array.Empty<byte>(), 0, 0);
            var hash = md5.Hash!;
            var sb = new StringBuilder(32);
            foreach (var b in hash) sb.Append(b.ToString("x2", System.Globalization.CultureInfo.InvariantCulture));
            return sb.ToString();
        }

        private static byte[][] BuildWords()
        {
            var words = SampleText.Words;
            var result = new byte[words.Length + 3][];
            for (var i = 0; i < words.Length; i++) result[i] = Encoding.ASCII.GetBytes(words[i]);
            result[words.Length] = Encoding.ASCII.GetBytes("42");
            result[words.Length + 1] = Encoding.ASCII.GetBytes("1234.50");
            result[words.Length + 2] = Encoding.ASCII.GetBytes("Contoso");
            return result;
        }
    }

    /// <summary>A forward-only read stream over <see cref="SampleFileContent"/>, one chunk in memory.</summary>
    internal sealed class SampleFileStream : Stream
    {
        private readonly SampleFileContent _content;
        private readonly byte[] _chunk = new byte[SampleFileContent.ChunkSize];
        private readonly long _length;
        private int _pos;
        private int _len;
        private long _position;

        public SampleFileStream(SampleFileSpec spec)
        {
            _content = new SampleFileContent(spec);
            _length = spec.Size;
        }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => _length;
        public override long Position { get => _position; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            if (buffer == null) throw new ArgumentNullException(nameof(buffer));
            if (offset < 0 || count < 0 || offset + count > buffer.Length) throw new ArgumentOutOfRangeException(nameof(count));
            if (count == 0) return 0;
            if (_pos == _len)
            {
                // Always whole chunks, as WriteExport reads them, so the bytes are the same.
                _len = _content.Read(_chunk);
                _pos = 0;
                if (_len == 0) return 0;
            }
            var n = Math.Min(count, _len - _pos);
            Buffer.BlockCopy(_chunk, _pos, buffer, offset, n);
            _pos += n;
            _position += n;
            return n;
        }

        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
