using System;
using System.Globalization;
using System.Text;
using ChatterConnector.Engine.Model;

namespace ChatterConnector.Engine.Conversion
{
    /// <summary>Makes a file name from Salesforce metadata that is safe on Windows and Unix.</summary>
    internal static class SafeFileName
    {
        public const int MaxLength = 200;

        private static readonly string[] ReservedNames =
        {
            "CON", "PRN", "AUX", "NUL", "CLOCK$", "CONIN$", "CONOUT$",
            "COM0", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8", "COM9",
            "LPT0", "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9",
            "COM\u00B9", "COM\u00B2", "COM\u00B3", "LPT\u00B9", "LPT\u00B2", "LPT\u00B3",
        };

        /// <summary>The attachment name of a file: PathOnClient, else Title + "." + FileExtension, made safe; "{Id}.bin" when nothing is left.</summary>
        public static string For(ChatterFile file)
        {
            string? name = Clean(file.PathOnClient);
            if (name == null)
            {
                string? title = file.Title;
                string? ext = file.FileExtension?.Trim().TrimStart('.');
                if (!string.IsNullOrWhiteSpace(title) && !string.IsNullOrEmpty(ext)
                    && !title!.EndsWith("." + ext, StringComparison.OrdinalIgnoreCase))
                    title = title + "." + ext;
                name = Clean(title);
            }
            if (name == null)
            {
                string id = Clean(file.Id) ?? "file";
                name = Clean(id + ".bin") ?? "file.bin";
            }
            return name;
        }

        /// <summary>The safe form of a name, or null when nothing usable is left.</summary>
        public static string? Clean(string? raw)
        {
            if (raw == null) return null;
            string s = raw;
            try { s = s.Normalize(NormalizationForm.FormC); } catch (ArgumentException) { /* invalid surrogates: keep as is, cleaned below */ }

            // Only the last path segment.
            int slash = Math.Max(s.LastIndexOf('/'), s.LastIndexOf('\\'));
            if (slash >= 0) s = s.Substring(slash + 1);

            var sb = new StringBuilder(s.Length);
            for (int i = 0; i < s.Length; i++)
            {
                char c = s[i];
                if (char.IsHighSurrogate(c))
                {
                    if (i + 1 < s.Length && char.IsLowSurrogate(s[i + 1])) { sb.Append(c).Append(s[i + 1]); i++; }
                    continue; // lone surrogate: drop
                }
                if (char.IsLowSurrogate(c)) continue;
                if (c < 0x20 || (c >= 0x7F && c <= 0x9F)) continue;
                if (c == '\u200E' || c == '\u200F' || (c >= '\u202A' && c <= '\u202E') || (c >= '\u2066' && c <= '\u2069')) continue; // bidi controls
                switch (c)
                {
                    case '<': case '>': case ':': case '"': case '/': case '\\': case '|': case '?': case '*':
                        continue;
                }
                if (char.IsWhiteSpace(c)) c = ' ';
                sb.Append(c);
            }
            s = sb.ToString();

            // No leading dots or spaces; no trailing dots or spaces (Windows drops them).
            s = s.TrimStart('.', ' ').TrimEnd('.', ' ');
            while (s.Contains("  ")) s = s.Replace("  ", " ");
            if (s.Length == 0) return null;

            // Reserved device names, with or without an extension ("CON", "nul.txt").
            int dot = s.IndexOf('.');
            string stem = (dot < 0 ? s : s.Substring(0, dot)).TrimEnd(' ');
            foreach (var reserved in ReservedNames)
            {
                if (string.Equals(stem, reserved, StringComparison.OrdinalIgnoreCase))
                {
                    s = "_" + s;
                    break;
                }
            }

            if (s.Length > MaxLength) s = Shorten(s);
            return s.Length == 0 ? null : s;
        }

        private static string Shorten(string s)
        {
            int dot = s.LastIndexOf('.');
            string ext = dot > 0 && s.Length - dot <= 16 ? s.Substring(dot) : "";
            int keep = MaxLength - ext.Length;
            // Do not split a surrogate pair.
            if (keep > 0 && char.IsHighSurrogate(s[keep - 1])) keep--;
            string stem = s.Substring(0, keep).TrimEnd('.', ' ');
            return stem + ext;
        }

        internal static string FormatSize(long bytes)
        {
            var ci = CultureInfo.InvariantCulture;
            if (bytes < 1024) return bytes.ToString(ci) + " bytes";
            if (bytes < 1024 * 1024) return (bytes / 1024.0).ToString("0.#", ci) + " KB";
            if (bytes < 1024L * 1024 * 1024) return (bytes / (1024.0 * 1024)).ToString("0.#", ci) + " MB";
            return (bytes / (1024.0 * 1024 * 1024)).ToString("0.##", ci) + " GB";
        }
    }
}
