using System;
using System.IO;
using System.Security.Cryptography;
using System.Text;

namespace ChatterConnector.Engine.Targets
{
    /// <summary>What a delivery did.</summary>
    public enum DeliveryOutcome
    {
        Delivered,
        AlreadyPresent,
    }

    /// <summary>
    /// A local Maildir archive: &lt;root&gt;/&lt;mailbox&gt;/ is a Maildir++ mailbox, and the archive
    /// folder is its subfolder ".&lt;FolderName&gt;" with cur, new and tmp. A message is put into tmp
    /// (a hard link to the immutable staged file where the file system allows, else a copy) and
    /// renamed into cur (as already seen), so no client ever sees half a message. Its file name is
    /// derived from the Message-ID, so a message already delivered is recognised.
    /// </summary>
    public sealed class MaildirTarget : IMessageTarget
    {
        private const string Flags = ":2,S";
        private readonly string _root;
        private readonly string _folderName;

        public MaildirTarget(string root, string folderName)
        {
            _root = root ?? throw new ArgumentNullException(nameof(root));
            _folderName = ValidateFolderName(folderName);
        }

        public string Location => _root;

        /// <summary>File copies and renames: one at a time is as fast as the disk.</summary>
        public int MaxParallelism => 1;

        /// <summary>Any address that can name a folder can receive mail here.</summary>
        public System.Threading.Tasks.Task<string?> CheckMailboxAsync(string mailbox, System.Threading.CancellationToken cancellationToken)
        {
            try { MailboxPath(mailbox); return System.Threading.Tasks.Task.FromResult<string?>(null); }
            catch (ChatterException ex) { return System.Threading.Tasks.Task.FromResult<string?>(ex.Message); }
        }

        public void Recover(System.Collections.Generic.IEnumerable<string> mailboxesInFlight, System.Threading.CancellationToken cancellationToken)
        {
            foreach (var mailbox in mailboxesInFlight) CleanTemporaryFiles(mailbox);
        }

        public DeliveryResult Deliver(string mailbox, OutgoingMessage message, bool checkFirst, System.Threading.CancellationToken cancellationToken) =>
            Deliver(mailbox, message.MessageId, message.StagedPath, checkFirst) == DeliveryOutcome.AlreadyPresent ? DeliveryResult.AlreadyPresent : DeliveryResult.Delivered;

        /// <summary>File work is quick and local: done at once, on the caller's thread.</summary>
        public System.Threading.Tasks.Task<DeliveryResult> DeliverAsync(string mailbox, OutgoingMessage message, bool checkFirst, System.Threading.CancellationToken cancellationToken) =>
            System.Threading.Tasks.Task.FromResult(Deliver(mailbox, message, checkFirst, cancellationToken));

        public void Dispose() { }

        /// <summary>Checks a folder name is usable as a Maildir++ folder; returns it.</summary>
        public static string ValidateFolderName(string folderName)
        {
            if (string.IsNullOrWhiteSpace(folderName) || folderName.IndexOfAny(new[] { '/', '\\', '\0' }) >= 0 || folderName.StartsWith(".", StringComparison.Ordinal)
                || folderName.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0)
                throw new ChatterException("ChatterTarget.InvalidFolderName", ChatterErrorKind.InvalidArgument,
                    $"'{folderName}' cannot be a mail folder name: use a name without slashes, a leading dot or control characters.", folderName);
            return folderName;
        }

        /// <summary>The Maildir folder that receives the archive for <paramref name="mailbox"/>.</summary>
        public string FolderPath(string mailbox) => Path.Combine(MailboxPath(mailbox), "." + _folderName);

        public string MailboxPath(string mailbox)
        {
            var name = mailbox.Trim().ToLowerInvariant();
            if (name.Length == 0 || name.IndexOfAny(new[] { '/', '\\', '\0' }) >= 0 || name == "." || name == ".." || name.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0)
                throw new ChatterException("ChatterTarget.InvalidMailbox", ChatterErrorKind.InvalidArgument,
                    $"'{mailbox}' is not a mailbox address that can name a Maildir folder.", mailbox);
            return Path.Combine(_root, name);
        }

        /// <summary>The Maildir file name (without flags) for a Message-ID.</summary>
        public static string UniqueName(string messageId)
        {
            using var sha = SHA256.Create();
            var hash = sha.ComputeHash(Encoding.UTF8.GetBytes(messageId));
            var hex = new StringBuilder(40);
            for (var i = 0; i < 16; i++) hex.Append(hash[i].ToString("x2", System.Globalization.CultureInfo.InvariantCulture));
            return "chatter-" + hex + ".chatterconnector";
        }

        /// <summary>True when the message is in the folder. With <paramref name="thorough"/>, also finds it after a client changed its flags.</summary>
        public bool Contains(string mailbox, string messageId, bool thorough)
        {
            var folder = FolderPath(mailbox);
            var unique = UniqueName(messageId);
            if (File.Exists(Path.Combine(folder, "cur", unique + Flags)) || File.Exists(Path.Combine(folder, "new", unique))) return true;
            if (!thorough) return false;
            foreach (var sub in new[] { "cur", "new" })
            {
                var dir = Path.Combine(folder, sub);
                if (Directory.Exists(dir) && Directory.GetFiles(dir, unique + "*").Length > 0) return true;
            }
            return false;
        }

        /// <summary>
        /// Delivers a staged message. With <paramref name="checkFirst"/> (a delivery a killed run
        /// may have finished), looks for it first; the normal path makes no extra lookup.
        /// </summary>
        public DeliveryOutcome Deliver(string mailbox, string messageId, string stagedPath, bool checkFirst)
        {
            var folder = FolderPath(mailbox);
            EnsureMaildir(folder, isSubfolder: true);
            var unique = UniqueName(messageId);
            var final = Path.Combine(folder, "cur", unique + Flags);
            if (File.Exists(final) || (checkFirst && Contains(mailbox, messageId, thorough: true))) return DeliveryOutcome.AlreadyPresent;
            var tmp = Path.Combine(folder, "tmp", unique + "." + Guid.NewGuid().ToString("N"));
            try
            {
                if (!HardLink.TryCreate(stagedPath, tmp)) File.Copy(stagedPath, tmp, overwrite: false);
                File.Move(tmp, final);
            }
            catch (IOException) when (File.Exists(final))
            {
                TryDelete(tmp);
                return DeliveryOutcome.AlreadyPresent;
            }
            catch
            {
                TryDelete(tmp);
                throw;
            }
            return DeliveryOutcome.Delivered;
        }

        private readonly System.Collections.Generic.HashSet<string> _ready = new System.Collections.Generic.HashSet<string>(StringComparer.Ordinal);

        private void EnsureMaildir(string folder, bool isSubfolder)
        {
            if (_ready.Contains(folder)) return;
            if (isSubfolder) EnsureMaildir(Path.GetDirectoryName(folder)!, isSubfolder: false);
            foreach (var sub in new[] { "cur", "new", "tmp" }) Directory.CreateDirectory(Path.Combine(folder, sub));
            if (isSubfolder)
            {
                var marker = Path.Combine(folder, "maildirfolder");
                if (!File.Exists(marker)) File.WriteAllBytes(marker, new byte[0]);
            }
            _ready.Add(folder);
        }

        /// <summary>Removes temporary files of ours that a killed run left in a folder's tmp.</summary>
        public void CleanTemporaryFiles(string mailbox)
        {
            var tmp = Path.Combine(FolderPath(mailbox), "tmp");
            if (!Directory.Exists(tmp)) return;
            foreach (var f in Directory.EnumerateFiles(tmp, "chatter-*")) TryDelete(f);
        }

        private static void TryDelete(string path)
        {
            try { File.Delete(path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }
}
