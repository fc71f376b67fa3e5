using System;
using System.Collections.Generic;

namespace ChatterConnector.Engine.Model
{
    /// <summary>
    /// One archivable Chatter item: a post, a comment, a private message, an edit (one revision
    /// of a post or comment) or a deletion notice. Each becomes exactly one message.
    /// </summary>
    public sealed class ChatterItem
    {
        /// <summary>
        /// Unique key of the item within the org: the Salesforce id for posts, comments and
        /// private messages; "{Id}.r{Revision}" for an edit; "{Id}.deleted" for a deletion.
        /// </summary>
        public string Key { get; set; } = "";

        /// <summary>The Salesforce id of the post, comment or private message the item is about.</summary>
        public string Id { get; set; } = "";

        public ChatterItemType ItemType { get; set; }

        /// <summary>FeedItem.Type for posts (TextPost, LinkPost, ContentPost, …), CommentType for comments.</summary>
        public string? FeedType { get; set; }

        /// <summary>The thread: the FeedItem id for feed items, the conversation id for private messages.</summary>
        public string ThreadId { get; set; } = "";

        /// <summary>The feed the item is on (a user, group or record), or the conversation.</summary>
        public string? ParentId { get; set; }
        public string? ParentName { get; set; }

        /// <summary>For a comment, an edit or a deletion of a comment: the FeedComment id; else null.</summary>
        public string? CommentId { get; set; }

        public string AuthorId { get; set; } = "";
        public ChatterUser? Author { get; set; }

        public DateTimeOffset CreatedDate { get; set; }
        public DateTimeOffset SystemModstamp { get; set; }

        public string? Title { get; set; }
        public string? Body { get; set; }
        public bool IsRichText { get; set; }
        public string? LinkUrl { get; set; }
        public int Revision { get; set; } = 1;

        /// <summary>For an edit: which attribute changed (Body, Title, LinkUrl…).</summary>
        public string? EditedAttribute { get; set; }

        /// <summary>A link back to the item in Salesforce (X-Chatter-Url).</summary>
        public string? Url { get; set; }

        public List<ChatterFile> Files { get; set; } = new List<ChatterFile>();

        /// <summary>Users @mentioned in the body (an @ followed by exactly one user's full Name).</summary>
        public List<ChatterUser> Mentions { get; set; } = new List<ChatterUser>();

        /// <summary>
        /// Everyone the message goes to: for feed items the thread's post author, commenters and
        /// mentioned users; for private messages the sender and every conversation member.
        /// </summary>
        public List<ChatterUser> Participants { get; set; } = new List<ChatterUser>();

        /// <summary>Problems found while reading the item (a file listed but missing…); the item is still archived.</summary>
        public List<string> Warnings { get; set; } = new List<string>();

        public override string ToString() => ItemType + " " + Key;
    }
}
