using System;
using System.IO;
using System.Runtime.InteropServices;

namespace ChatterConnector.Engine.Targets
{
    /// <summary>
    /// Hard links, as Maildir delivery agents (Dovecot's LDA, maildrop) use them to put one message
    /// into many mailboxes: a staged message is immutable, so each mailbox can get a link to it
    /// instead of a copy. Falls back to nothing (the caller copies) across file systems or where
    /// links are not supported.
    /// </summary>
    internal static class HardLink
    {
        private static bool _unsupported;

        /// <summary>Links <paramref name="newPath"/> to <paramref name="existing"/>; false when the caller should copy instead.</summary>
        public static bool TryCreate(string existing, string newPath)
        {
            if (_unsupported) return false;
            try
            {
                return RuntimeInformation.IsOSPlatform(OSPlatform.Windows)
                    ? CreateHardLinkW(newPath, existing, IntPtr.Zero)
                    : link(Utf8(existing), Utf8(newPath)) == 0;
            }
            catch (Exception ex) when (ex is DllNotFoundException || ex is EntryPointNotFoundException)
            {
                _unsupported = true;
                return false;
            }
        }

        /// <summary>A path as the C library takes it: UTF-8, NUL-terminated.</summary>
        private static byte[] Utf8(string path)
        {
            var bytes = new byte[System.Text.Encoding.UTF8.GetByteCount(path) + 1];
            System.Text.Encoding.UTF8.GetBytes(path, 0, path.Length, bytes, 0);
            return bytes;
        }

        [DllImport("libc", SetLastError = true)]
        private static extern int link(byte[] oldpath, byte[] newpath);

        [DllImport("kernel32", CharSet = CharSet.Unicode, SetLastError = true)]
        [return: MarshalAs(UnmanagedType.Bool)]
        private static extern bool CreateHardLinkW(string fileName, string existingFileName, IntPtr securityAttributes);
    }
}
