using System;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using ChatterConnector.Engine.Conversion;
using ChatterConnector.Engine.Model;

namespace ChatterConnector.Engine.Staging
{
    /// <summary>What staging holds for one message.</summary>
    public sealed class StagedMessage
    {
        /// <summary>Where the message is: a file path (local staging) or a blob name (blob staging).</summary>
        public string Path { get; set; } = "";
        public string Sha256 { get; set; } = "";
        public long Size { get; set; }
    }

    /// <summary>
    /// A local staging folder: one .eml per message, named by the SHA-256 of its bytes, written to
    /// a temporary file and renamed into place, so a reader never sees half a message and staging
    /// the same message twice leaves one file.
    /// </summary>
    public sealed class LocalStaging : IStagingArea
    {
        private readonly string _root;

        public LocalStaging(string root)
        {
            _root = root;
        }

        public string Root => _root;

        public string Location => _root;

        public StagedMessage Stage(ChatterMessage message)
        {
            var tmpDir = Path.Combine(_root, "tmp");
            Directory.CreateDirectory(tmpDir);
            var tmp = Path.Combine(tmpDir, Guid.NewGuid().ToString("N") + ".tmp");
            try
            {
                var (hash, size) = StagingFiles.WriteHashed(message, tmp);
                var final = PathFor(hash);
                Directory.CreateDirectory(Path.GetDirectoryName(final)!);
                if (File.Exists(final)) File.Delete(tmp);
                else File.Move(tmp, final);
                return new StagedMessage { Path = final, Sha256 = hash, Size = size };
            }
            catch
            {
                StagingFiles.TryDelete(tmp);
                throw;
            }
        }

        StagedMessage IStagingArea.Stage(ChatterMessage message, ChatterItem item, CancellationToken cancellationToken) => Stage(message);

        public string PathFor(string sha256) => Path.Combine(_root, sha256.Substring(0, 2), sha256 + ".eml");

        /// <summary>Removes temporary files a killed run left behind.</summary>
        public void CleanTemporaryFiles()
        {
            var tmpDir = Path.Combine(_root, "tmp");
            if (!Directory.Exists(tmpDir)) return;
            foreach (var f in Directory.EnumerateFiles(tmpDir, "*.tmp")) StagingFiles.TryDelete(f);
        }

        void IStagingArea.Prepare(CancellationToken cancellationToken) => CleanTemporaryFiles();

        /// <summary>Probes that a file can be created in the folder, or, when it does not exist yet, in the nearest folder above it that does (creating nothing).</summary>
        public string Check(CancellationToken cancellationToken) => Writable(_root);

        public static string Writable(string folder)
        {
            if (folder.Length == 0) throw new IOException("No folder is set.");
            var existing = folder;
            while (!Directory.Exists(existing))
            {
                if (File.Exists(existing)) throw new IOException($"'{existing}' is a file, so '{folder}' cannot be created.");
                existing = Path.GetDirectoryName(existing) ?? throw new IOException($"No part of '{folder}' exists.");
            }
            var probe = Path.Combine(existing, ".chatterconnector-probe-" + Guid.NewGuid().ToString("N"));
            File.WriteAllText(probe, "probe");
            File.Delete(probe);
            return existing == folder ? $"'{folder}' can be written." : $"'{folder}' does not exist yet; it can be created in '{existing}'.";
        }

        /// <summary>The staged file itself: targets read it (the Maildir target hard-links it) and nothing is copied.</summary>
        public Task<StagedCopy> FetchAsync(string stagedPath, string sha256, CancellationToken cancellationToken)
        {
            if (!File.Exists(stagedPath))
                throw new ChatterException("ChatterImport.StagedMessageMissing", ChatterErrorKind.ObjectNotFound,
                    $"The staged message '{stagedPath}' is missing; restore the staging folder.", stagedPath);
            return Task.FromResult(new StagedCopy(stagedPath));
        }

        /// <summary>Local staging keeps every message: files named by content may be shared by items, and the folder is the admin's.</summary>
        public int RemoveExpired(DateTimeOffset stagedBefore, Func<string, bool> isDone, CancellationToken cancellationToken) => 0;

        public void Dispose() { }
    }
}
