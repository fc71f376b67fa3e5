namespace ChatterConnector.Engine.Sources.Sample
{
    /// <summary>What <see cref="SampleOrg.WriteExport"/> wrote.</summary>
    public sealed class SampleExportSummary
    {
        /// <summary>Full path of the export folder.</summary>
        public string Path { get; set; } = "";
        public int Users { get; set; }
        public int Groups { get; set; }
        /// <summary>FeedItem rows, deleted ones included.</summary>
        public int Posts { get; set; }
        /// <summary>FeedComment rows, deleted ones included.</summary>
        public int Comments { get; set; }
        /// <summary>FeedRevision rows.</summary>
        public int Edits { get; set; }
        /// <summary>FeedItem and FeedComment rows with IsDeleted = true.</summary>
        public int Deletions { get; set; }
        /// <summary>ChatterMessage rows.</summary>
        public int PrivateMessages { get; set; }
        /// <summary>ContentVersion rows (the one listed-but-missing file included).</summary>
        public int Files { get; set; }
        /// <summary>Bytes written under ContentVersion/.</summary>
        public long FileBytes { get; set; }
        /// <summary>Archivable items: Posts + Comments + Edits + Deletions + PrivateMessages.</summary>
        public int Items { get; set; }
    }
}
