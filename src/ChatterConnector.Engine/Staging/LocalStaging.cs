using System;
using System.IO;
using System.Security.Cryptography;
using ChatterConnector.Engine.Conversion;

namespace ChatterConnector.Engine.Staging
{
    /// <summary>What staging holds for one message.</summary>
    public sealed class StagedMessage
    {
        public string Path { get; set; } = "";
        public string Sha256 { get; set; } = "";
        public long Size { get; set; }
    }

    /// <summary>
    /// A local staging folder: one .eml per message, named by the SHA-256 of its bytes, written to
    /// a temporary file and renamed into place, so a reader never sees half a message and staging
    /// the same message twice leaves one file.
    /// </summary>
    public sealed class LocalStaging
    {
        private readonly string _root;

        public LocalStaging(string root)
        {
            _root = root;
        }

        public string Root => _root;

        public StagedMessage Stage(ChatterMessage message)
        {
            var tmpDir = Path.Combine(_root, "tmp");
            Directory.CreateDirectory(tmpDir);
            var tmp = Path.Combine(tmpDir, Guid.NewGuid().ToString("N") + ".tmp");
            string hash;
            long size;
            try
            {
                using (var sha = SHA256.Create())
                using (var file = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 81920))
                {
                    using (var hashing = new CryptoStream(file, sha, CryptoStreamMode.Write))
                    {
                        message.WriteTo(hashing);
                        hashing.FlushFinalBlock();
                        size = file.Length;
                    }
                    hash = ToHex(sha.Hash!);
                }
                message.SetMeasured(size, hash);
                var final = PathFor(hash);
                Directory.CreateDirectory(Path.GetDirectoryName(final)!);
                if (File.Exists(final)) File.Delete(tmp);
                else File.Move(tmp, final);
                return new StagedMessage { Path = final, Sha256 = hash, Size = size };
            }
            catch
            {
                TryDelete(tmp);
                throw;
            }
        }

        public string PathFor(string sha256) => Path.Combine(_root, sha256.Substring(0, 2), sha256 + ".eml");

        /// <summary>Removes temporary files a killed run left behind.</summary>
        public void CleanTemporaryFiles()
        {
            var tmpDir = Path.Combine(_root, "tmp");
            if (!Directory.Exists(tmpDir)) return;
            foreach (var f in Directory.EnumerateFiles(tmpDir, "*.tmp")) TryDelete(f);
        }

        private static void TryDelete(string path)
        {
            try { File.Delete(path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }

        internal static string ToHex(byte[] bytes)
        {
            var c = new char[bytes.Length * 2];
            for (var i = 0; i < bytes.Length; i++)
            {
                c[2 * i] = "0123456789abcdef"[bytes[i] >> 4];
                c[2 * i + 1] = "0123456789abcdef"[bytes[i] & 15];
            }
            return new string(c);
        }
    }
}
