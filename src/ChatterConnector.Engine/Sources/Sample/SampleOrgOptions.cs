using System;

namespace ChatterConnector.Engine.Sources.Sample
{
    /// <summary>The size and seed of a generated sample org.</summary>
    public sealed class SampleOrgOptions
    {
        /// <summary>Number of users (at least 1).</summary>
        public int Users { get; set; } = 25;

        /// <summary>Number of feed items (0 or more); comments, edits, deletions and files scale with it.</summary>
        public int Posts { get; set; } = 200;

        /// <summary>The same seed gives the same org, byte for byte.</summary>
        public int Seed { get; set; } = 1;

        /// <summary>The earliest CreatedDate; activity spreads over the following four months.</summary>
        public DateTimeOffset Start { get; set; } = new DateTimeOffset(2024, 1, 1, 0, 0, 0, TimeSpan.Zero);
    }
}
