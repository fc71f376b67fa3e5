using System.Collections.Generic;

namespace ChatterConnector.Engine.Sources
{
    /// <summary>
    /// Where a connector reads Chatter: a data-export folder, or (later) the org's REST API.
    /// A source never knows a target: it yields items, and the pipeline does the rest.
    /// </summary>
    public interface IChatterSource
    {
        /// <summary>Where it reads, for messages (a folder, an org URL).</summary>
        string Location { get; }

        /// <summary>Users, groups and conversation members, read whole. Throws a ChatterException saying what to fix when the source cannot be read.</summary>
        SourceDirectory ReadDirectory();

        /// <summary>
        /// The items whose rows are new against the watermarks. Within one run it may be enumerated
        /// more than once and must yield the same records each time.
        /// </summary>
        IEnumerable<SourceRecord> ReadItems(SourceDirectory directory, SourceWatermarks watermarks);
    }
}
