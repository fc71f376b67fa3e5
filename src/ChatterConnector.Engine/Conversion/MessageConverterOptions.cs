namespace ChatterConnector.Engine.Conversion
{
    /// <summary>Settings of a <see cref="MessageConverter"/>.</summary>
    public sealed class MessageConverterOptions
    {
        /// <summary>Domain of the Message-IDs ("{Key}@{domain}") and of the fallback addresses of users without an email.</summary>
        public string MessageIdDomain { get; set; } = "chatter.salesforce.com";

        /// <summary>At most this many words of the body go into the subject.</summary>
        public int SubjectWords { get; set; } = 8;

        /// <summary>At most this many characters of the body go into the subject.</summary>
        public int SubjectMaxChars { get; set; } = 60;
    }
}
