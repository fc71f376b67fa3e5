using System;
using System.Collections.Generic;

namespace ChatterConnector.Engine.Targets.Graph
{
    /// <summary>The byte ranges of an attachment upload session: chunks are multiples of 320 KiB and under 4 MiB; the last takes the rest.</summary>
    public static class UploadChunks
    {
        public const int Unit = 320 * 1024;
        public const int MaxChunk = 4 * 1024 * 1024;
        /// <summary>12 × 320 KiB = 3,932,160 bytes, the largest multiple under 4 MiB.</summary>
        public const int DefaultChunkSize = (MaxChunk - 1) / Unit * Unit;

        /// <summary>Checks a chunk size; returns it.</summary>
        public static int Validate(int chunkSize)
        {
            if (chunkSize <= 0 || chunkSize % Unit != 0 || chunkSize >= MaxChunk)
                throw new ArgumentOutOfRangeException(nameof(chunkSize), chunkSize, "An upload chunk must be a positive multiple of 320 KiB (327,680 bytes) under 4 MiB.");
            return chunkSize;
        }

        /// <summary>The inclusive ranges (first, last byte) that upload <paramref name="size"/> bytes.</summary>
        public static IEnumerable<(long First, long Last)> Ranges(long size, int chunkSize)
        {
            Validate(chunkSize);
            if (size < 0) throw new ArgumentOutOfRangeException(nameof(size));
            for (long first = 0; first < size; first += chunkSize)
                yield return (first, Math.Min(size, first + chunkSize) - 1);
        }

        /// <summary>The Content-Range header value of one chunk: "bytes 0-327679/5000000".</summary>
        public static string ContentRange(long first, long last, long total) =>
            "bytes " + first.ToString(System.Globalization.CultureInfo.InvariantCulture) + "-" + last.ToString(System.Globalization.CultureInfo.InvariantCulture)
            + "/" + total.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }
}
