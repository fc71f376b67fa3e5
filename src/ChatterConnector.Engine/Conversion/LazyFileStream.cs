using System;
using System.IO;

namespace ChatterConnector.Engine.Conversion
{
    /// <summary>
    /// A read-only, seekable view of a file that opens the file only while it is being read: the
    /// file is opened on the first read, and closed again at its end or on a seek back to the
    /// start (MimeKit rewinds the content before and after writing it). So a converted message
    /// holds no file handle between writes, and it can be written any number of times.
    /// </summary>
    internal sealed class LazyFileStream : Stream
    {
        private readonly string path;
        private FileStream? file;
        private long position;

        public LazyFileStream(string path)
        {
            this.path = path;
        }

        public string FilePath => path;

        public override bool CanRead => true;
        public override bool CanSeek => true;
        public override bool CanWrite => false;
        public override long Length => file != null ? file.Length : new FileInfo(path).Length;

        public override long Position
        {
            get => position;
            set => Seek(value, SeekOrigin.Begin);
        }

        public override int Read(byte[] buffer, int offset, int count)
        {
            if (file == null)
            {
                file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 81920, FileOptions.SequentialScan);
                if (position != 0) file.Seek(position, SeekOrigin.Begin);
            }
            int n = file.Read(buffer, offset, count);
            position += n;
            if (n == 0 && count > 0) Close(true);
            return n;
        }

        public override long Seek(long offset, SeekOrigin origin)
        {
            long target;
            switch (origin)
            {
                case SeekOrigin.Begin: target = offset; break;
                case SeekOrigin.Current: target = position + offset; break;
                case SeekOrigin.End: target = Length + offset; break;
                default: throw new ArgumentOutOfRangeException(nameof(origin));
            }
            if (target < 0) throw new IOException("Cannot seek before the start of the file.");
            if (target == 0) Close(true);
            else file?.Seek(target, SeekOrigin.Begin);
            position = target;
            return position;
        }

        private void Close(bool _)
        {
            file?.Dispose();
            file = null;
        }

        public override void Flush() { }
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing) Close(true);
            base.Dispose(disposing);
        }
    }
}
