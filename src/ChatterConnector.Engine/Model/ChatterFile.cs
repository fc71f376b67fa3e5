namespace ChatterConnector.Engine.Model
{
    /// <summary>A file shared on an item (a ContentVersion), with where its bytes can be read.</summary>
    public sealed class ChatterFile
    {
        /// <summary>The ContentVersion id (068…).</summary>
        public string Id { get; set; } = "";
        public string? Title { get; set; }
        /// <summary>PathOnClient as Salesforce stored it; not safe as a file name until sanitized.</summary>
        public string? PathOnClient { get; set; }
        public string? FileExtension { get; set; }
        public long ContentSize { get; set; }
        /// <summary>MD5 of the bytes, hex, as Salesforce reports it.</summary>
        public string? Checksum { get; set; }
        /// <summary>Where the bytes are on disk (export folder or staging), or null when they are missing.</summary>
        public string? ContentPath { get; set; }
    }
}
