using System;
using System.IO;
using System.Net;
using System.Net.Http;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Threading.Tasks;

namespace ChatterConnector.Engine.Targets.Graph
{
    /// <summary>A file sent as base64 text (importMime), encoded while it is sent: never in memory whole.</summary>
    internal sealed class Base64FileContent : HttpContent
    {
        private readonly string _path;
        private readonly long _length;

        public Base64FileContent(string path)
        {
            _path = path;
            _length = GraphMessageBuilder.Base64Length(new FileInfo(path).Length);
            Headers.ContentType = new MediaTypeHeaderValue("text/plain");
        }

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            using var file = new FileStream(_path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 81920, useAsync: true);
            using var transform = new ToBase64Transform();
            var input = new byte[3 * 16384];
            var output = new byte[4 * 16384];
            int filled = 0;
            while (true)
            {
                int n = await file.ReadAsync(input, filled, input.Length - filled).ConfigureAwait(false);
                if (n == 0) break;
                filled += n;
                if (filled < input.Length) continue;
                int written = 0;
                for (int i = 0; i < filled; i += 3) written += transform.TransformBlock(input, i, 3, output, written);
                await stream.WriteAsync(output, 0, written).ConfigureAwait(false);
                filled = 0;
            }
            int w = 0;
            int whole = filled / 3 * 3;
            for (int i = 0; i < whole; i += 3) w += transform.TransformBlock(input, i, 3, output, w);
            var last = transform.TransformFinalBlock(input, whole, filled - whole);
            Buffer.BlockCopy(last, 0, output, w, last.Length);
            w += last.Length;
            if (w > 0) await stream.WriteAsync(output, 0, w).ConfigureAwait(false);
        }

        protected override bool TryComputeLength(out long length)
        {
            length = _length;
            return true;
        }
    }
}
