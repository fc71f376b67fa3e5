using System;
using System.IO;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.OpenSsl;
using Org.BouncyCastle.Security;

namespace ChatterConnector.Engine.Sources.Salesforce
{
    /// <summary>
    /// Reads an RSA private key (PKCS#1, PKCS#8, or encrypted PKCS#8) and the certificate from a PEM
    /// file. netstandard2.0 has no PEM import, so BouncyCastle (already here through MimeKit) parses it.
    /// </summary>
    internal static class PemKey
    {
        public static bool LooksLikePem(byte[] bytes)
        {
            var head = Encoding.ASCII.GetString(bytes, 0, Math.Min(bytes.Length, 4096));
            return head.IndexOf("-----BEGIN ", StringComparison.Ordinal) >= 0;
        }

        /// <summary>The first RSA private key in the file, or null when it holds none.</summary>
        public static RSA? ReadRsaPrivateKey(byte[] bytes, string? password, string path)
        {
            using var reader = new StringReader(Encoding.ASCII.GetString(bytes));
            var pem = new PemReader(reader, password == null ? null : new Password(password));
            while (true)
            {
                object? obj;
                try { obj = pem.ReadObject(); }
                catch (Exception e) when (!(e is OutOfMemoryException)) // BouncyCastle throws several kinds for bad PEM or a wrong password
                {
                    throw new ChatterException("ChatterSource.CertificateInvalid", ChatterErrorKind.InvalidData,
                        $"The PEM file '{path}' cannot be read (an encrypted key needs the right -SalesforceCertificatePassword): {e.Message}", path, e);
                }
                if (obj == null) return null;
                var key = obj switch
                {
                    AsymmetricCipherKeyPair pair => pair.Private as RsaPrivateCrtKeyParameters,
                    RsaPrivateCrtKeyParameters k => k,
                    _ => null,
                };
                if (key != null)
                {
                    var rsa = RSA.Create();
                    rsa.ImportParameters(DotNetUtilities.ToRSAParameters(key));
                    return rsa;
                }
            }
        }

        /// <summary>The first certificate in the file, or null.</summary>
        public static X509Certificate2? ReadCertificate(byte[] bytes)
        {
            const string begin = "-----BEGIN CERTIFICATE-----", end = "-----END CERTIFICATE-----";
            var text = Encoding.ASCII.GetString(bytes);
            int b = text.IndexOf(begin, StringComparison.Ordinal);
            if (b < 0) return null;
            int e = text.IndexOf(end, b, StringComparison.Ordinal);
            if (e < 0) return null;
            try { return new X509Certificate2(Convert.FromBase64String(text.Substring(b + begin.Length, e - b - begin.Length).Trim())); }
            catch (Exception ex) when (ex is FormatException || ex is CryptographicException) { return null; }
        }

        private sealed class Password : IPasswordFinder
        {
            private readonly string _password;
            public Password(string password) => _password = password;
            public char[] GetPassword() => _password.ToCharArray();
        }
    }
}
