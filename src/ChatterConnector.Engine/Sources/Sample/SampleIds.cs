using System;
using System.Collections.Generic;

namespace ChatterConnector.Engine.Sources.Sample
{
    /// <summary>
    /// 18-character Salesforce ids: 3-character key prefix, 2-character pod, a 10-character base-62
    /// number, and the 3-character case-safe suffix computed as Salesforce does. The numbers start at
    /// an offset derived from the seed and count up per prefix.
    /// </summary>
    internal sealed class SampleIds
    {
        private const string Base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
        private const string SuffixChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345";

        public const string User = "005";
        public const string Group = "0F9";
        public const string FeedItem = "0D5";
        public const string FeedComment = "0D7";
        public const string FeedRevision = "0D6";
        public const string FeedAttachment = "0D8";
        public const string ContentVersion = "068";
        public const string ContentDocument = "069";
        public const string Conversation = "0J0";
        public const string ChatterMessage = "0J1";
        public const string Account = "001";

        private readonly long _offset;
        private readonly Dictionary<string, long> _counters = new Dictionary<string, long>(StringComparer.Ordinal);

        public SampleIds(long offset) => _offset = offset;

        public string Next(string prefix)
        {
            _counters.TryGetValue(prefix, out var n);
            n++;
            _counters[prefix] = n;
            // A per-prefix salt, so that a user and an account are not numbered alike.
            var salt = ((prefix[0] * 131L + prefix[1]) * 131L + prefix[2]) * 104_729L;
            return Make(prefix, _offset + salt + n);
        }

        public static string Make(string prefix, long number)
        {
            var c = new char[18];
            c[0] = prefix[0]; c[1] = prefix[1]; c[2] = prefix[2];
            c[3] = '5'; c[4] = 'g';
            for (var i = 14; i >= 5; i--)
            {
                c[i] = Base62[(int)(number % 62)];
                number /= 62;
            }
            for (var chunk = 0; chunk < 3; chunk++)
            {
                var flags = 0;
                for (var j = 0; j < 5; j++)
                {
                    var ch = c[chunk * 5 + j];
                    if (ch >= 'A' && ch <= 'Z') flags |= 1 << j;
                }
                c[15 + chunk] = SuffixChars[flags];
            }
            return new string(c);
        }
    }
}
