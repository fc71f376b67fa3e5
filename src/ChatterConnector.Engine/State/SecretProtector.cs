using System;
using System.IO;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using ChatterConnector.Engine.Model;

namespace ChatterConnector.Engine.State
{
    /// <summary>
    /// Keeps the secrets of connector definitions out of the store in plain text. On Windows a secret
    /// is protected with DPAPI for the current user; elsewhere with AES-256-CBC and HMAC-SHA256
    /// (encrypt-then-MAC) under a key in &lt;store&gt;/keys/secrets.key that only the owner can read.
    /// Secrets can also come from an environment variable at run time.
    /// </summary>
    public sealed class SecretProtector
    {
        /// <summary>Prefix of a blob protected with the key file (AES-256-CBC + HMAC-SHA256).</summary>
        internal const string KeyFilePrefix = "v1:";
        /// <summary>Prefix of a blob protected with DPAPI for the current user.</summary>
        internal const string DpapiPrefix = "w1:";
        /// <summary>Prefix of a blob protected with the shared store key of an Azure store (AES-256-CBC + HMAC-SHA256).</summary>
        internal const string SharedKeyPrefix = "s1:";

        /// <summary>The environment variable holding the key of a shared (Azure) store: base64 of 32 or 64 random bytes.</summary>
        public const string SharedKeyVariable = "CHATTERCONNECTOR_STORE_KEY";

        private const int KeyLength = 32;
        private const int IvLength = 16;
        private const int MacLength = 32;
        private static readonly byte[] DpapiEntropy = Encoding.UTF8.GetBytes("ChatterConnector.StoredSecret.v1");

        private readonly object _gate = new object();
        private readonly bool _useDpapi;
        private byte[]? _key; // 32 bytes for AES, then 32 for HMAC

        private readonly bool _shared;

        private SecretProtector(string storePath, bool useDpapi, bool shared = false)
        {
            StorePath = storePath;
            _useDpapi = useDpapi;
            _shared = shared;
        }

        /// <summary>
        /// A protector for a store that many workers share (an Azure store): AES-256 + HMAC under the key in
        /// $env:CHATTERCONNECTOR_STORE_KEY, which every worker is given (an Azure Automation encrypted
        /// variable, a Key Vault secret). The key is read when a secret is first protected or revealed.
        /// </summary>
        public static SecretProtector ForSharedStore(string storeLocation) => new SecretProtector(storeLocation, useDpapi: false, shared: true);

        /// <summary>The store this protector keeps its key in (when it needs a key file).</summary>
        public string StorePath { get; }

        /// <summary>The key file: &lt;store&gt;/keys/secrets.key.</summary>
        public string KeyFilePath => Path.Combine(StorePath, "keys", "secrets.key");

        /// <summary>A protector for the store at <paramref name="storePath"/>: DPAPI on Windows, else the store's key file (created on first use).</summary>
        public static SecretProtector ForStore(string storePath)
        {
            if (string.IsNullOrWhiteSpace(storePath)) throw new ArgumentException("A store path is required.", nameof(storePath));
            return new SecretProtector(Path.GetFullPath(storePath), RuntimeInformation.IsOSPlatform(OSPlatform.Windows));
        }

        /// <summary>Only for tests: the key-file scheme even on Windows.</summary>
        internal static SecretProtector ForStoreWithKeyFile(string storePath) => new SecretProtector(Path.GetFullPath(storePath), useDpapi: false);

        /// <summary>Encrypts <paramref name="plainText"/> for the store.</summary>
        public StoredSecret Protect(string plainText)
        {
            if (plainText == null) throw new ArgumentNullException(nameof(plainText));
            var plain = Encoding.UTF8.GetBytes(plainText);
            try
            {
                string value = _shared
                    ? SharedKeyPrefix + Convert.ToBase64String(Encrypt(plain, SharedKey()))
                    : _useDpapi
                    ? DpapiPrefix + Convert.ToBase64String(ProtectedData.Protect(plain, DpapiEntropy, DataProtectionScope.CurrentUser))
                    : KeyFilePrefix + Convert.ToBase64String(Encrypt(plain, GetKey(create: true)!));
                return new StoredSecret { Kind = StoredSecret.ProtectedKind, Value = value };
            }
            finally
            {
                Array.Clear(plain, 0, plain.Length);
            }
        }

        /// <summary>A secret read at run time from the environment variable <paramref name="variableName"/>.</summary>
        public static StoredSecret FromEnvironment(string variableName)
        {
            if (string.IsNullOrWhiteSpace(variableName)) throw new ArgumentException("An environment variable name is required.", nameof(variableName));
            var name = variableName.Trim();
            if (name.StartsWith("$env:", StringComparison.OrdinalIgnoreCase)) name = name.Substring(5);
            return new StoredSecret { Kind = StoredSecret.EnvironmentKind, Value = name };
        }

        /// <summary>
        /// For a shared store: checks that $env:CHATTERCONNECTOR_STORE_KEY holds a usable key (ChatterStore.KeyMissing,
        /// ChatterStore.KeyInvalid), so a caller can fail before it writes anything. Other protectors need nothing checked.
        /// </summary>
        public void CheckKey()
        {
            if (_shared) SharedKey();
        }

        /// <summary>The secret in plain text, for the moment it is sent to a service.</summary>
        public string Reveal(StoredSecret secret)
        {
            if (secret == null) throw new ArgumentNullException(nameof(secret));
            if (string.Equals(secret.Kind, StoredSecret.EnvironmentKind, StringComparison.OrdinalIgnoreCase))
            {
                var value = string.IsNullOrEmpty(secret.Value) ? null : Environment.GetEnvironmentVariable(secret.Value);
                if (string.IsNullOrEmpty(value))
                    throw new ChatterException("ChatterSecret.EnvironmentVariableMissing", ChatterErrorKind.ObjectNotFound,
                        $"The environment variable '{secret.Value}' that holds a secret of this connector is not set or is empty. Set it before the run, or store the secret with Set-ChatterConnector.",
                        secret.Value);
                return value!;
            }
            if (!string.Equals(secret.Kind, StoredSecret.ProtectedKind, StringComparison.OrdinalIgnoreCase))
                throw CannotDecrypt($"The stored secret is of an unknown kind '{secret.Kind}'.");

            var blob = secret.Value ?? "";
            if (blob.StartsWith(DpapiPrefix, StringComparison.Ordinal))
            {
                if (!RuntimeInformation.IsOSPlatform(OSPlatform.Windows))
                    throw CannotDecrypt("The secret was protected with Windows DPAPI and cannot be read on this system.");
                byte[] plain;
                try { plain = ProtectedData.Unprotect(FromBase64(blob.Substring(DpapiPrefix.Length)), DpapiEntropy, DataProtectionScope.CurrentUser); }
                catch (CryptographicException) { throw CannotDecrypt("It was protected by another Windows user or on another computer, or it was changed."); }
                return Decode(plain);
            }
            if (blob.StartsWith(SharedKeyPrefix, StringComparison.Ordinal))
            {
                var plain = Decrypt(FromBase64(blob.Substring(SharedKeyPrefix.Length)), SharedKey())
                    ?? throw CannotDecrypt($"It was protected with another store key than the one in ${SharedKeyVariable}, or it was changed.");
                return Decode(plain);
            }
            if (_shared)
                throw CannotDecrypt("It was protected for one computer (a local store) and cannot be read from a shared store.");
            if (blob.StartsWith(KeyFilePrefix, StringComparison.Ordinal))
            {
                var key = GetKey(create: false)
                    ?? throw CannotDecrypt($"The key file '{KeyFilePath}' it was protected with is not there (was the store copied from another computer?).");
                var plain = Decrypt(FromBase64(blob.Substring(KeyFilePrefix.Length)), key)
                    ?? throw CannotDecrypt("It was protected with another key (another computer or store), or it was changed.");
                return Decode(plain);
            }
            throw CannotDecrypt("The stored value is not in a format this version understands.");
        }

        private static string Decode(byte[] plain)
        {
            try { return new UTF8Encoding(false, true).GetString(plain); }
            catch (ArgumentException) { throw CannotDecrypt("It decrypted to something that is not text."); }
            finally { Array.Clear(plain, 0, plain.Length); }
        }

        private static byte[] FromBase64(string text)
        {
            try { return Convert.FromBase64String(text); }
            catch (FormatException) { throw CannotDecrypt("The stored value is not valid base64."); }
        }

        private static ChatterException CannotDecrypt(string why) =>
            new ChatterException("ChatterSecret.CannotDecrypt", ChatterErrorKind.InvalidData,
                "A stored secret of this connector cannot be decrypted. " + why + " Set the secret again with Set-ChatterConnector.");

        // --- AES-256-CBC + HMAC-SHA256, encrypt-then-MAC: blob = IV(16) || ciphertext || HMAC(IV || ciphertext)(32)

        internal static byte[] Encrypt(byte[] plain, byte[] key)
        {
            using var aes = Aes.Create();
            aes.KeySize = 256;
            aes.Mode = CipherMode.CBC;
            aes.Padding = PaddingMode.PKCS7;
            aes.Key = Slice(key, 0, KeyLength);
            aes.GenerateIV();
            byte[] cipher;
            using (var enc = aes.CreateEncryptor()) cipher = enc.TransformFinalBlock(plain, 0, plain.Length);
            var blob = new byte[IvLength + cipher.Length + MacLength];
            Buffer.BlockCopy(aes.IV, 0, blob, 0, IvLength);
            Buffer.BlockCopy(cipher, 0, blob, IvLength, cipher.Length);
            using var hmac = new HMACSHA256(Slice(key, KeyLength, KeyLength));
            var mac = hmac.ComputeHash(blob, 0, IvLength + cipher.Length);
            Buffer.BlockCopy(mac, 0, blob, IvLength + cipher.Length, MacLength);
            return blob;
        }

        /// <summary>The plain bytes, or null when the MAC does not match or the blob is malformed.</summary>
        internal static byte[]? Decrypt(byte[] blob, byte[] key)
        {
            if (blob.Length < IvLength + 16 + MacLength || (blob.Length - IvLength - MacLength) % 16 != 0) return null;
            int cipherLength = blob.Length - IvLength - MacLength;
            byte[] mac;
            using (var hmac = new HMACSHA256(Slice(key, KeyLength, KeyLength))) mac = hmac.ComputeHash(blob, 0, IvLength + cipherLength);
            int diff = 0;
            for (int i = 0; i < MacLength; i++) diff |= mac[i] ^ blob[IvLength + cipherLength + i];
            if (diff != 0) return null;
            using var aes = Aes.Create();
            aes.KeySize = 256;
            aes.Mode = CipherMode.CBC;
            aes.Padding = PaddingMode.PKCS7;
            aes.Key = Slice(key, 0, KeyLength);
            aes.IV = Slice(blob, 0, IvLength);
            try
            {
                using var dec = aes.CreateDecryptor();
                return dec.TransformFinalBlock(blob, IvLength, cipherLength);
            }
            catch (CryptographicException) { return null; }
        }

        private static byte[] Slice(byte[] source, int offset, int count)
        {
            var result = new byte[count];
            Buffer.BlockCopy(source, offset, result, 0, count);
            return result;
        }

        // --- The shared key

        private byte[] SharedKey()
        {
            lock (_gate)
            {
                if (_key != null) return _key;
                var text = Environment.GetEnvironmentVariable(SharedKeyVariable);
                if (string.IsNullOrWhiteSpace(text))
                    throw new ChatterException("ChatterStore.KeyMissing", ChatterErrorKind.ObjectNotFound,
                        $"The shared store '{StorePath}' protects secrets with the key in $env:{SharedKeyVariable}, and it is not set. " +
                        $"Give every worker the same key (for example from an Azure Automation encrypted variable); make one with " +
                        "[Convert]::ToBase64String([Security.Cryptography.RandomNumberGenerator]::GetBytes(32)).", SharedKeyVariable);
                byte[] raw;
                try { raw = Convert.FromBase64String(text!.Trim()); }
                catch (FormatException) { raw = new byte[0]; }
                if (raw.Length != KeyLength && raw.Length != 2 * KeyLength)
                    throw new ChatterException("ChatterStore.KeyInvalid", ChatterErrorKind.InvalidData,
                        $"$env:{SharedKeyVariable} must be the base64 of 32 (or 64) random bytes.", SharedKeyVariable);
                if (raw.Length == 2 * KeyLength) return _key = raw;
                // 32 bytes: an encryption key and a MAC key derived from it, each under its own label.
                var key = new byte[2 * KeyLength];
                using (var h = new HMACSHA256(raw))
                {
                    Buffer.BlockCopy(h.ComputeHash(Encoding.UTF8.GetBytes("ChatterConnector.SharedStore.Encryption")), 0, key, 0, KeyLength);
                    Buffer.BlockCopy(h.ComputeHash(Encoding.UTF8.GetBytes("ChatterConnector.SharedStore.Mac")), 0, key, KeyLength, KeyLength);
                }
                Array.Clear(raw, 0, raw.Length);
                return _key = key;
            }
        }

        // --- The key file

        private byte[]? GetKey(bool create)
        {
            lock (_gate)
            {
                if (_key != null) return _key;
                var path = KeyFilePath;
                if (!File.Exists(path))
                {
                    if (!create) return null;
                    CreateKeyFile(path);
                }
                CheckNotExposed(path);
                var key = File.ReadAllBytes(path);
                if (key.Length != 2 * KeyLength)
                    throw new ChatterException("ChatterStore.KeyFileInvalid", ChatterErrorKind.InvalidData,
                        $"The key file '{path}' is not a key this module wrote ({key.Length} bytes instead of {2 * KeyLength}). Restore it, or delete it and set every secret again with Set-ChatterConnector.", path);
                return _key = key;
            }
        }

        private static void CreateKeyFile(string path)
        {
            var folder = Path.GetDirectoryName(path)!;
            Directory.CreateDirectory(folder);
            Unix.Chmod(folder, Unix.OwnerAll); // 0700

            var key = new byte[2 * KeyLength];
            using (var rng = RandomNumberGenerator.Create()) rng.GetBytes(key);

            // Write a temporary file that is 0600 before it holds the key, then move it into place;
            // if another process made the key meanwhile, theirs wins and ours is thrown away.
            var temp = Path.Combine(folder, "secrets.key." + Guid.NewGuid().ToString("N") + ".tmp");
            try
            {
                using (var fs = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
                {
                    Unix.Chmod(temp, Unix.OwnerReadWrite); // 0600
                    fs.Write(key, 0, key.Length);
                    fs.Flush(true);
                }
                try { File.Move(temp, path); }
                catch (IOException) when (File.Exists(path)) { /* another process created it first */ }
            }
            finally
            {
                Array.Clear(key, 0, key.Length);
                try { if (File.Exists(temp)) File.Delete(temp); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            }
        }

        private static void CheckNotExposed(string path)
        {
            var mode = Unix.GetMode(path);
            if (mode is int m && (m & 0x3F) != 0) // any of group/other rwx (0077)
                throw new ChatterException("ChatterStore.KeyFileExposed", ChatterErrorKind.PermissionDenied,
                    $"The key file '{path}' that protects this store's secrets can be read by other users (mode {Convert.ToString(m & 0x1FF, 8)}). " +
                    $"Make it private (chmod 600 '{path}'), and set the secrets again with Set-ChatterConnector if someone else may have read it.",
                    path);
        }

        /// <summary>Unix file modes, which netstandard2.0 has no API for.</summary>
        internal static class Unix
        {
            public const uint OwnerAll = 0x1C0;       // 0700
            public const uint OwnerReadWrite = 0x180; // 0600

            [DllImport("libc", EntryPoint = "chmod", SetLastError = true)]
            private static extern int chmod_native(string path, uint mode);

            public static void Chmod(string path, uint mode)
            {
                if (RuntimeInformation.IsOSPlatform(OSPlatform.Windows)) return;
                if (chmod_native(path, mode) != 0)
                {
                    int errno = Marshal.GetLastWin32Error();
                    throw new ChatterException("ChatterStore.CannotSecureKeyFile", ChatterErrorKind.PermissionDenied,
                        $"Cannot restrict the permissions of '{path}' to its owner (chmod failed, errno {errno}).", path);
                }
            }

            private static readonly MethodInfo? GetUnixFileMode =
                typeof(File).GetMethod("GetUnixFileMode", BindingFlags.Public | BindingFlags.Static, null, new[] { typeof(string) }, null);

            /// <summary>The permission bits of <paramref name="path"/>, or null on Windows or a runtime without File.GetUnixFileMode (before .NET 7).</summary>
            public static int? GetMode(string path)
            {
                if (RuntimeInformation.IsOSPlatform(OSPlatform.Windows) || GetUnixFileMode == null) return null;
                try { return Convert.ToInt32(GetUnixFileMode.Invoke(null, new object[] { path })); }
                catch (TargetInvocationException e) when (e.InnerException != null)
                {
                    System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerException).Throw();
                    throw;
                }
            }
        }
    }
}
