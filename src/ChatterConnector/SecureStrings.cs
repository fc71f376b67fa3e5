using System;
using System.Runtime.InteropServices;
using System.Security;

namespace ChatterConnector.Commands
{
    /// <summary>Reads a SecureString for the moment it takes to protect it for the store.</summary>
    internal static class SecureStrings
    {
        public static string ToPlainText(SecureString secret)
        {
            var ptr = Marshal.SecureStringToGlobalAllocUnicode(secret);
            try { return Marshal.PtrToStringUni(ptr) ?? ""; }
            finally { Marshal.ZeroFreeGlobalAllocUnicode(ptr); }
        }
    }
}
