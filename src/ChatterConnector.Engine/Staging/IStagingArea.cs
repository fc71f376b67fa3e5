using System;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using ChatterConnector.Engine.Conversion;
using ChatterConnector.Engine.Model;

namespace ChatterConnector.Engine.Staging
{
    /// <summary>
    /// Where converted messages wait between conversion and delivery: a local folder
    /// (<see cref="LocalStaging"/>) or an Azure Blob container (<see cref="BlobStaging"/>). Staging the
    /// same message twice leaves one copy. Called from several threads at once.
    /// </summary>
    public interface IStagingArea : IDisposable
    {
        /// <summary>Where messages are staged, without any credential (for messages).</summary>
        string Location { get; }

        /// <summary>
        /// Readies the area for a run (tidies what a killed run left) and checks it can be written;
        /// a <see cref="ChatterException"/> when it cannot (no delivery could read it either).
        /// </summary>
        void Prepare(CancellationToken cancellationToken);

        /// <summary>Checks the area can be written without staging anything; returns what it found (Test-ChatterConnector).</summary>
        string Check(CancellationToken cancellationToken);

        /// <summary>Stages the message of <paramref name="item"/>; <see cref="StagedMessage.Path"/> is what the ledger keeps.</summary>
        StagedMessage Stage(ChatterMessage message, ChatterItem item, CancellationToken cancellationToken);

        /// <summary>
        /// A local file with the staged bytes for the time of one delivery (disposed after it). A staged
        /// message that is gone is a <see cref="ChatterException"/> with id ChatterImport.StagedMessageMissing.
        /// </summary>
        Task<StagedCopy> FetchAsync(string stagedPath, string sha256, CancellationToken cancellationToken);

        /// <summary>
        /// Removes staged messages staged before <paramref name="stagedBefore"/> whose item
        /// <paramref name="isDone"/> says no delivery needs any more; returns how many.
        /// </summary>
        int RemoveExpired(DateTimeOffset stagedBefore, Func<string, bool> isDone, CancellationToken cancellationToken);
    }

    /// <summary>A staged message as a local file, for one delivery; disposing it tells the staging area the delivery is done with it.</summary>
    public sealed class StagedCopy : IDisposable
    {
        private Action? _release;

        public StagedCopy(string path, Action? release = null)
        {
            Path = path;
            _release = release;
        }

        public string Path { get; }

        public void Dispose()
        {
            System.Threading.Interlocked.Exchange(ref _release, null)?.Invoke();
        }
    }

    /// <summary>File steps both staging areas share.</summary>
    internal static class StagingFiles
    {
        /// <summary>Writes <paramref name="message"/> to a new file, measuring its size and SHA-256 as it streams; records both on the message.</summary>
        public static (string Sha256, long Size) WriteHashed(ChatterMessage message, string path)
        {
            string hash;
            long size;
            using (var sha = System.Security.Cryptography.SHA256.Create())
            // 16 KB: most messages are a few KB, and every message gets a buffer of its own.
            using (var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 16384))
            {
                using (var hashing = new System.Security.Cryptography.CryptoStream(file, sha, System.Security.Cryptography.CryptoStreamMode.Write))
                {
                    message.WriteTo(hashing);
                    hashing.FlushFinalBlock();
                    size = file.Length;
                }
                hash = HashingStream.ToHex(sha.Hash!);
            }
            message.SetMeasured(size, hash);
            return (hash, size);
        }

        public static void TryDelete(string path)
        {
            try { File.Delete(path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }
}
